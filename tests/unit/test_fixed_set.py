"""The fixed_set strategy: the same architectures in every run, whatever the run's seed."""

from __future__ import annotations

import numpy as np
import pytest
from nasbench.spaces.nb201 import Nb201Space
from nasbench.strategies.fixed_set import FixedSet, FixedSetParams, architecture_sample

from nasbench.api import Budget, Observation, StrategyContext
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.params import build_params

SPACE = Nb201Space()
CONTEXT = StrategyContext(budget=Budget(evaluations=100))


def _proposals(params: dict, rng_seed: int) -> list[tuple[int, ...]]:
    strategy = FixedSet(build_params(FixedSetParams, params))
    strategy.setup(SPACE, np.random.default_rng(rng_seed), CONTEXT)
    out = []
    while (trial := strategy.ask()) is not None:
        out.append(trial.arch)
        strategy.tell(trial, Observation(float(sum(trial.arch)), 1.0))
    return out


def test_every_run_proposes_the_same_distinct_sample_then_stops() -> None:
    first = _proposals({"sample": 30, "sample_seed": 4}, rng_seed=0)
    assert len(first) == 30
    assert _proposals({"sample": 30, "sample_seed": 4}, rng_seed=99) == first
    assert len({SPACE.arch_key(a) for a in first}) == 30, "isomorphic cells drawn twice"
    assert _proposals({"sample": 30, "sample_seed": 5}, rng_seed=0) != first
    assert first == architecture_sample(SPACE, 30, 4)


def test_listed_architectures_come_in_order_and_the_best_is_recommended() -> None:
    archs = [SPACE.to_string(a) for a in architecture_sample(SPACE, 5, 0)]
    strategy = FixedSet(build_params(FixedSetParams, {"archs": archs}))
    strategy.setup(SPACE, np.random.default_rng(0), CONTEXT)
    seen = []
    while (trial := strategy.ask()) is not None:
        seen.append(SPACE.to_string(trial.arch))
        strategy.tell(trial, Observation(float(len(seen) == 3), 1.0))
    assert seen == archs
    assert SPACE.to_string(strategy.recommend()) == archs[2]


def test_impossible_sets_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="asks for 20000 architectures, and space 'nb201' "
                       "holds 15625"):
        architecture_sample(SPACE, 20_000, 0)
    with pytest.raises(ConfigError, match="asks for 7000 distinct architectures, and space "
                       "'nb201' holds 6466"):
        architecture_sample(SPACE, 7000, 0)
    strategy = FixedSet(build_params(FixedSetParams, {"archs": ["|conv~0|"]}))
    with pytest.raises(InvalidArchitectureError):
        strategy.setup(SPACE, np.random.default_rng(0), CONTEXT)
