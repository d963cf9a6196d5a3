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
