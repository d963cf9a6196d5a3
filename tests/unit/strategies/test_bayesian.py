"""Bayesian optimisation through optuna: transparent to the sampler, resumable, conditional
spaces, and better than random search on NAS-Bench-201."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from nasbench.spaces.nb201 import Nb201Space
from nasbench.strategies.bayesian import BayesianOptimisation, BayesianParams
from nasbench.strategies.optuna_bridge import make_sampler, new_study
from nasbench.strategies.random_search import RandomSearch

from nasbench.api import Architecture, Budget, Observation, Strategy, StrategyContext
from nasbench.testing import check_strategy

CONTEXT = StrategyContext(budget=Budget(evaluations=100))


def _best_after(strategy: Strategy, objective: Callable[[Architecture], float], n: int,
                seed: int) -> float:
    """The best objective seen in ``n`` trials (the incumbent the harness would track)."""
    strategy.setup(Nb201Space(), np.random.default_rng(seed), CONTEXT)
    best = -np.inf
    for _ in range(n):
        trial = strategy.ask()
        value = objective(trial.arch)
        strategy.tell(trial, Observation(value, 1.0))
        best = max(best, value)
    return best


@pytest.mark.parametrize("multivariate", [True, False])
def test_proposes_what_optuna_proposes_with_the_same_sampler(nb201_valid, multivariate):
    """The strategy adds nothing between optuna and the space: driving the same seeded TPE
    sampler (joint, the default, or independent) by hand over the same lookups gives the same
    architectures."""
    space = Nb201Space()
    strategy = BayesianOptimisation(BayesianParams(multivariate=multivariate))
    rng = np.random.default_rng(11)
    strategy.setup(space, rng, CONTEXT)
    seed = int(np.random.default_rng(11).integers(2**31))
    study = new_study(make_sampler("tpe", seed, n_startup_trials=10, multivariate=multivariate))
    for _ in range(40):
        ours = strategy.ask()
        trial = study.ask()
        theirs = tuple(trial.suggest_categorical(d.name, tuple(range(5)))
                       for d in space.decisions())
        assert ours.arch == theirs
        value = nb201_valid(theirs)
        strategy.tell(ours, Observation(value, 1.0))
        study.tell(trial, value)


def test_tpe_beats_random_search_on_nb201(nb201_valid):
    seeds = range(8)
    tpe = [_best_after(BayesianOptimisation(), nb201_valid, 100, s) for s in seeds]
    rs = [_best_after(RandomSearch(), nb201_valid, 100, s) for s in seeds]
    assert np.mean(tpe) > np.mean(rs) + 0.2, (np.mean(tpe), np.mean(rs))


def test_conforms_on_a_conditional_space(layered_space):
    check_strategy(BayesianOptimisation, layered_space)


@pytest.mark.slow
def test_gp_sampler_conforms(nb201_valid):
    check_strategy(BayesianOptimisation, Nb201Space(),
                   params=BayesianParams(sampler="gp", n_startup_trials=4),
                   objective=nb201_valid, n_trials=10)


def test_failed_evaluations_reach_optuna_as_failures(nb201_valid):
    strategy = BayesianOptimisation()
    strategy.setup(Nb201Space(), np.random.default_rng(3), CONTEXT)
    for i in range(6):
        trial = strategy.ask()
        failed = i % 2 == 0
        strategy.tell(trial, Observation(None if failed else nb201_valid(trial.arch), 1.0,
                                         "failed" if failed else "ok"))
    states = [t.state.name for t in strategy._study.trials]
    assert states == ["FAIL", "COMPLETE"] * 3


def test_optuna_strategies_are_resumed_by_replay_not_by_a_saved_sampler():
    from nasbench.strategies.bohb import Bohb

    for cls in (BayesianOptimisation, Bohb):
        assert cls.checkpoints is False
        assert cls.state_dict is Strategy.state_dict  # nothing of optuna's is ever saved
