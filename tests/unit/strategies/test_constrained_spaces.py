"""Every learning strategy proposes only architectures the space accepts, also where the
space's rules go beyond its decision walk (as DARTS' two distinct inputs do)."""

from __future__ import annotations

import pytest
from nasbench.strategies.bayesian import BayesianOptimisation
from nasbench.strategies.bohb import Bohb
from nasbench.strategies.local_search import LocalSearch
from nasbench.strategies.reinforce import Reinforce
from nasbench.strategies.reinforce_logits import ReinforceLogits

from nasbench.testing import check_space, check_strategy


def test_the_constrained_space_conforms(constrained_space):
    check_space(constrained_space)


@pytest.mark.parametrize("cls", [Reinforce, ReinforceLogits, BayesianOptimisation, Bohb,
                                 LocalSearch])
def test_conforms_on_a_space_with_rules_beyond_its_walk(cls, constrained_space):
    check_strategy(cls, constrained_space)


@pytest.mark.parametrize("cls", [Reinforce, ReinforceLogits, BayesianOptimisation, Bohb,
                                 LocalSearch])
def test_conforms_on_a_space_whose_walk_excludes_choices(cls, excluding_space):
    check_strategy(cls, excluding_space)


def test_the_logits_policy_never_draws_an_excluded_choice(excluding_space):
    import numpy as np

    from nasbench.api import Budget, StrategyContext

    strategy = ReinforceLogits(None)
    strategy.setup(excluding_space, np.random.default_rng(0),
                   StrategyContext(budget=Budget(evaluations=50)))
    walks = [strategy._walk(None)[0] for _ in range(300)]
    assert all(excluding_space.is_valid(a) for a in walks)
    assert excluding_space.is_valid(strategy.recommend() or walks[0])
