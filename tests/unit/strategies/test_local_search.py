"""Local search on NAS-Bench-201: the best of the initial samples, whole neighbourhoods, moves
to the best neighbour, restarts at local optima."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from nasbench.spaces.nb201 import Nb201Space
from nasbench.strategies.local_search import LocalSearch, LocalSearchParams

from nasbench.api import Architecture, Budget, Observation, StrategyContext
from nasbench.testing import check_strategy


def _trace(nb201_valid: Callable[[Architecture], float], n: int, initial: int = 5,
           seed: int = 0) -> tuple[Nb201Space, LocalSearch, list[Architecture]]:
    space = Nb201Space()
    strategy = LocalSearch(LocalSearchParams(initial_samples=initial))
    strategy.setup(space, np.random.default_rng(seed), StrategyContext(Budget(evaluations=n)))
    archs = []
    for _ in range(n):
        trial = strategy.ask()
        archs.append(trial.arch)
        strategy.tell(trial, Observation(nb201_valid(trial.arch), 1.0))
    return space, strategy, archs


def test_climbs_from_the_best_initial_sample_through_whole_neighbourhoods(nb201_valid):
    space, _, archs = _trace(nb201_valid, 5 + 24 + 24)
    start = max(archs[:5], key=nb201_valid)
    first_neighbourhood = archs[5:29]
    assert set(first_neighbourhood) == set(space.neighbours(start)) - set(archs[:5])
    best = max([start, *space.neighbours(start)], key=nb201_valid)
    if best != start:  # moved: the next proposals are the new neighbourhood
        assert set(archs[29:29 + 5]) <= set(space.neighbours(best))


def test_restarts_at_a_local_optimum_and_never_repeats_itself(nb201_valid):
    space = Nb201Space()
    strategy = LocalSearch(LocalSearchParams(initial_samples=5))
    strategy.setup(space, np.random.default_rng(1), StrategyContext(Budget(evaluations=400)))
    archs = []
    for _ in range(400):
        trial = strategy.ask()
        archs.append(trial.arch)
        strategy.tell(trial, Observation(nb201_valid(trial.arch), 1.0))
    assert len(set(archs)) == len(archs)
    assert strategy.local_optima, "400 evaluations on NAS-Bench-201 reach a local optimum"
    for optimum in strategy.local_optima:
        assert all(nb201_valid(n) <= nb201_valid(optimum) for n in space.neighbours(optimum))


def test_conforms_on_a_conditional_space(layered_space):
    check_strategy(LocalSearch, layered_space)
