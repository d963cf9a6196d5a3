"""The forest plot draws estimates that lie outside their own bootstrap interval."""

from __future__ import annotations

from nasbench.results.plots import interval_figure
from nasbench.results.stats import Estimate


def test_an_estimate_outside_its_interval_is_drawn() -> None:
    inside = Estimate(0.5, 0.2, 0.8)
    outside = Estimate(1.0, 0.4, 0.9)  # a percentile interval of a few points can miss it
    svg = interval_figure(["inside", "outside"], [inside, outside], "rho", "Spearman rho")
    assert "<svg" in svg and svg.count("<path") > 2
