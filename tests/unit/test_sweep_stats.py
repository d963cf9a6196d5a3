"""Kendall's tau of the sweep view, against scipy, and the verdict wording."""

from __future__ import annotations

import numpy as np
from nasbench.results.sweep import _ranks, _tau_b
from scipy.stats import kendalltau

from nasbench.sweep import resolve_key, toml_value


def test_tau_b_matches_scipy_with_ties() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        x = rng.integers(0, 4, size=7).astype(float)
        y = rng.integers(0, 4, size=7).astype(float)
        expected = kendalltau(x, y).statistic
        got = _tau_b(x[None], y[None])[0]
        assert np.isclose(got, expected) or (np.isnan(expected) and np.isnan(got))


def test_ranks_put_the_best_first_for_either_orientation() -> None:
    means = np.array([0.5, 0.9, 0.1])
    assert _ranks(means, higher=True).tolist() == [2.0, 1.0, 3.0]
    assert _ranks(means, higher=False).tolist() == [2.0, 3.0, 1.0]


def test_keys_address_strategies_by_label_then_name() -> None:
    raw = {"strategies": [{"name": "random_search"}, {"name": "reinforce", "label": "r1"},
                          {"name": "reinforce"}]}
    assert resolve_key(raw, "strategies.r1.learning_rate") == "strategies[1].learning_rate"
    assert resolve_key(raw, "strategies.random_search.x") == "strategies[0].x"
    assert resolve_key(raw, "strategies.reinforce.x") == "strategies[2].x"  # its label
    assert resolve_key(raw, "budget.evaluations") == "budget.evaluations"
    assert toml_value([1, "a", True, 0.5]) == '[1, "a", true, 0.5]'
