"""Kendall's tau of the sweep view, against scipy, and the verdict wording."""

from __future__ import annotations

from pathlib import Path

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


def _point(name: str, budget: int, means: dict[str, float]):
    import pandas as pd
    from nasbench.results.schema import Results
    from nasbench.results.sweep import SweepPointResults

    rng = np.random.default_rng(budget)
    rows = [{"run_id": f"{label}-{s}", "strategy": label, "seed": s,
             "acc": mean + rng.normal(0, 0.01)}
            for label, mean in means.items() for s in range(6)]
    manifest = {"study": "s", "search_metric": "v", "report_metrics": ["acc"],
                "metrics": {"acc": {"higher_is_better": True}},
                "config": {"strategies": [{"label": m} for m in means
                                          if m != "random_sampling"]}}
    results = Results(Path(name), manifest, pd.DataFrame(rows), None)
    return SweepPointResults(name, {"budget.evaluations": budget}, results)


def test_verdict_names_where_the_winner_changes_and_how_the_others_agree() -> None:
    from nasbench.results.stats import BootstrapOptions
    from nasbench.results.sweep import axis_verdict, metric_view

    base = {"c": 80.0, "d": 79.0, "e": 78.0, "random_sampling": 70.0}
    points = [_point("evaluations=25", 25, {"a": 85.0, "b": 86.0, **base}),
              _point("evaluations=50", 50, {"a": 86.0, "b": 85.0, **base}),
              _point("evaluations=100", 100, {"a": 87.0, "b": 85.5, **base})]
    view = metric_view(points, "acc", BootstrapOptions(resamples=100))
    assert view.labels == ["a", "b", "c", "d", "e"]
    text = axis_verdict(points, view, "budget.evaluations")
    assert text.startswith("a wins at most values of evaluations; the winner changes at "
                           "evaluations 25 (b); ranks of the other 3 strategies agree at "
                           "tau >= 1.00")
    tau = {(t.a, t.b): t for t in view.taus}
    low = tau[("evaluations=25", "evaluations=50")]
    assert np.isclose(low.tau, 0.8) and low.lo <= low.tau <= low.hi
    assert np.isclose(view.ri["evaluations=100"][0], 100 * (87 - 70) / 70, atol=0.05)
