"""BOHB: Hyperband's brackets over the offered fidelities, TPE proposals, and an honest refusal
where the benchmark has one validation fidelity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from nasbench.spaces.nb201 import Nb201Space
from nasbench.strategies.bohb import Bohb, BohbParams

from nasbench.api import Architecture, Budget, Observation, Strategy, StrategyContext
from nasbench.errors import ConfigError
from nasbench.protocol import study_from_dict
from nasbench.testing import check_strategy


def _drive(strategy: Strategy, objective: Callable[[Architecture], float],
           n: int) -> list[tuple[Architecture, float | None, float]]:
    """(architecture, fidelity, value) of n trials; the landscape is NAS-Bench-201's 12-epoch
    validation accuracy at every fidelity, which is all the schedule needs to be checked."""
    out = []
    for _ in range(n):
        trial = strategy.ask()
        value = objective(trial.arch)
        strategy.tell(trial, Observation(value, 1.0, fidelity=trial.fidelity))
        out.append((trial.arch, trial.fidelity, value))
    return out


def _bohb(fidelities: tuple[float, ...], **params: Any) -> Bohb:
    strategy = Bohb(BohbParams(**params))
    strategy.setup(Nb201Space(), np.random.default_rng(0),
                   StrategyContext(budget=Budget(evaluations=100), fidelities=fidelities))
    return strategy


def test_hyperband_brackets_over_three_fidelities(nb201_valid):
    """Li et al. (2018), R = 9, eta = 3: brackets of 9-3-1, 5-1 and 3 architectures."""
    trials = _drive(_bohb((1.0, 3.0, 9.0)), nb201_valid, 9 + 3 + 1 + 5 + 1 + 3)
    fidelities = [f for _, f, _ in trials]
    assert fidelities == [1.0] * 9 + [3.0] * 3 + [9.0] + [3.0] * 5 + [9.0] + [9.0] * 3
    # Promotions keep the best third of a rung, in their original order.
    first_rung = trials[:9]
    best_three = sorted(first_rung, key=lambda t: -t[2])[:3]
    assert [t[0] for t in trials[9:12]] == [t[0] for t in first_rung if t in best_three]
    assert trials[12][0] == max(trials[9:12], key=lambda t: t[2])[0]


def test_recommends_from_the_highest_fidelity(nb201_valid):
    strategy = _bohb((12.0, 200.0))
    trials = _drive(strategy, nb201_valid, 12)
    top = [t for t in trials if t[1] == 200.0]
    assert strategy.recommend() == max(top, key=lambda t: t[2])[0]


def test_model_proposals_once_a_fidelity_has_enough_points(nb201_valid):
    strategy = _bohb((12.0, 200.0), random_fraction=0.0, min_points_in_model=5)
    _drive(strategy, nb201_valid, 30)
    # Proposals drawn from a model are closed as failed trials in that fidelity's study.
    from_model = sum(t.state.name == "FAIL" for s in strategy._studies for t in s.trials)
    assert from_model > 0


def test_without_fidelities_it_runs_one_rung_at_the_default_fidelity(nb201_valid):
    trials = _drive(_bohb(()), nb201_valid, 20)
    assert {f for _, f, _ in trials} == {None}


def test_conforms_with_fidelities(nb201_valid):
    context = StrategyContext(budget=Budget(evaluations=40), fidelities=(12.0, 200.0))
    check_strategy(Bohb, Nb201Space(), objective=nb201_valid, context=context)


def test_conforms_on_a_conditional_space(layered_space):
    check_strategy(Bohb, layered_space)


def test_refused_on_nb201_where_only_12_epochs_have_a_validation_metric(plugins, data_dir):
    raw = {
        "study": {"seeds": 1},
        "space": {"name": "nb201"},
        "evaluator": {"name": "tabular", "dataset": "cifar10", "search_metric": "valid_12ep",
                      "report_metrics": ["test_200ep"]},
        "budget": {"evaluations": 10},
        "strategies": [{"name": "bohb"}],
    }
    with pytest.raises(ConfigError, match="several fidelities"):
        study_from_dict(raw, plugins)
