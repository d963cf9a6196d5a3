"""Figures of the reports, drawn with matplotlib's Agg backend and returned as inline SVG.

Every function returns one ``<svg>`` element as text, ready to be placed in an HTML page that
needs no network. Text stays text (searchable, selectable); dense point clouds are
rasterised inside the SVG so a scatter of 15,625 architectures stays small.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nasbench.results.anytime import AnytimeCurve
    from nasbench.results.correlation import Correlation
    from nasbench.results.significance import RankComparison
    from nasbench.results.stats import Estimate

DENSITY_ABOVE = 3000
"""Scatter plots of more architectures than this are drawn as a density image."""
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt


def _svg(fig: Any, name: str) -> str:
    """The figure as one ``<svg>`` element; element ids are salted with ``name`` so several
    figures can share a page."""
    import matplotlib

    plt = _pyplot()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", dpi=110, metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    start = text.index("<svg")
    svg = text[start:]
    return re.sub(r"<svg ", f'<svg role="img" aria-label="{_escape(name)}" ', svg, count=1)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def color(i: int) -> str:
    return _PALETTE[i % len(_PALETTE)]


def anytime_figure(curves: Sequence[AnytimeCurve], title: str, ylabel: str,
                   baseline: tuple[str, Estimate] | None = None) -> str:
    """Mean incumbent metric per strategy with its band; the baseline as a dashed line.

    The vertical range follows the curves after their first tenth, where strategies differ;
    a baseline outside it is named in the legend instead of drawn.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.6, 4.2))
    tails = []
    for i, c in enumerate(curves):
        ax.plot(c.x, c.mean, color=color(i), lw=1.5, label=f"{c.strategy} ({c.n_runs} runs)")
        ax.fill_between(c.x, c.low, c.high, color=color(i), alpha=0.18, lw=0)
        tail = slice(c.x.size // 10, None)
        tails += [c.low[tail], c.high[tail]]
    values = np.concatenate(tails) if tails else np.array([])
    values = values[np.isfinite(values)]
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        pad = 0.08 * (hi - lo or 1.0)
        lo, hi = lo - pad, hi + pad
        ax.set_ylim(lo, hi)
    if baseline is not None:
        label, est = baseline
        text = f"{label}: {est.value:.2f} [{est.low:.2f}, {est.high:.2f}]"
        inside = not values.size or lo <= est.value <= hi
        ax.axhline(est.value if inside else np.nan, color="#555555", ls="--", lw=1,
                   label=text if inside else f"{text}, below the range shown"
                   if est.value < lo else f"{text}, above the range shown")
    if curves and curves[0].axis == "cost":
        ax.set_xscale("log")
        ax.set_xlabel("evaluation cost (s)")
    else:
        ax.set_xlabel("evaluations")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return _svg(fig, title)


def cd_diagram(ranks: RankComparison, title: str) -> str:
    """Critical-difference diagram (Demšar, JMLR 2006): mean ranks on an axis, strategies
    that the post-hoc cannot tell apart joined by a bar, Nemenyi's CD drawn above."""
    plt = _pyplot()
    k = len(ranks.labels)
    order = list(np.argsort(ranks.mean_ranks, kind="stable"))
    half = (k + 1) // 2
    cliques = ranks.cliques()
    bar_depth = 0.1 + 0.1 * len(cliques)
    rows = max(half, k - half)
    label_top = -bar_depth - 0.25
    bottom = label_top - 0.25 * rows
    fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.55 * (0.9 - bottom)))
    ax.set_xlim(0.5, k + 0.5)
    ax.set_ylim(bottom - 0.05, 0.9)
    ax.axis("off")
    ax.hlines(0, 1, k, color="black", lw=1)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.08, color="black", lw=1)
        ax.text(r, 0.12, str(r), ha="center", va="bottom", fontsize=8)
    cd = ranks.critical_difference
    if np.isfinite(cd):
        ax.hlines(0.6, 1, 1 + cd, color="black", lw=1.5)
        ax.vlines([1, 1 + cd], 0.54, 0.66, color="black", lw=1.5)
        ax.text(1 + cd / 2, 0.7, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    for pos, idx in enumerate(order):
        rank = ranks.mean_ranks[idx]
        left = pos < half
        row = pos if left else k - 1 - pos
        y = label_top - 0.25 * row
        x_end = 0.9 if left else k + 0.1
        ax.plot([rank, rank, x_end], [0, y, y], color="#444444", lw=0.8)
        ax.text(x_end + (-0.05 if left else 0.05), y, f"{ranks.labels[idx]} ({rank:.2f})",
                ha="right" if left else "left", va="center", fontsize=8)
    for j, clique in enumerate(cliques):
        values = [ranks.mean_ranks[i] for i in clique]
        y = -0.1 - 0.1 * j
        ax.hlines(y, min(values) - 0.03, max(values) + 0.03, color="black", lw=3)
    ax.set_title(title, fontsize=9)
    return _svg(fig, title)


def distribution_figure(values: dict[str, np.ndarray], title: str, ylabel: str) -> str:
    """Box plots of each strategy's final metric over its runs, the runs drawn as dots."""
    plt = _pyplot()
    labels = list(values)
    fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.35 * len(labels)))
    data = [v[np.isfinite(v)] for v in values.values()]
    ax.boxplot(data, vert=False, tick_labels=labels, showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)  # jitter only: the figure's layout, no statistic
    for i, v in enumerate(data):
        ax.scatter(v, i + 1 + rng.uniform(-0.15, 0.15, v.size), s=4, alpha=0.35,
                   color=color(i), rasterized=True)
    ax.invert_yaxis()
    ax.set_xlabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, title)


def interval_figure(labels: Sequence[str], estimates: Sequence[Estimate], title: str,
                    xlabel: str, reference: float | None = 0.0) -> str:
    """Point estimates with their intervals, one line each (a forest plot)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.8 + 0.26 * len(labels)))
    y = np.arange(len(labels))
    values = np.array([e.value for e in estimates])
    err = np.array([[e.value - e.low for e in estimates], [e.high - e.value for e in estimates]])
    # A percentile bootstrap interval need not contain its point estimate (a skewed statistic
    # on a few points). The side that would be negative gets no length, so the bar reaches
    # from the point to the interval's farther end and covers the whole interval.
    err = np.clip(np.nan_to_num(err), 0.0, None)
    ax.errorbar(values, y, xerr=err, fmt="o", color=color(0), ms=4, capsize=2)
    if reference is not None:
        ax.axvline(reference, color="#555555", lw=0.8, ls="--")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, title)


def scatter_figure(corr: Correlation, title: str | None = None) -> str:
    """The two scorings of every shared architecture (as a density image when there are more
    than :data:`DENSITY_ABOVE`), with rho and tau in the title."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    n = corr.n
    if n > DENSITY_ABOVE:
        # Thousands of points: a density image reads better and draws in a fraction of the time.
        counts, xe, ye = np.histogram2d(corr.x_values, corr.y_values, bins=120)
        image = ax.imshow(np.ma.masked_equal(np.log1p(counts.T), 0.0), origin="lower",
                          aspect="auto", cmap="Blues", vmin=0.0,
                          extent=(xe[0], xe[-1], ye[0], ye[-1]), interpolation="nearest")
        fig.colorbar(image, ax=ax, shrink=0.8, label="log(1 + architectures)")
    else:
        ax.scatter(corr.x_values, corr.y_values, s=12 if n < 100 else 4, alpha=0.7,
                   color=color(0), lw=0, rasterized=n > 200)
    ax.set_xlabel(corr.x)
    ax.set_ylabel(corr.y)
    rho, tau = corr.estimates["spearman"], corr.estimates["kendall"]
    heading = title or f"{corr.x} vs {corr.y}"
    ax.set_title(f"{heading}\nρ = {rho.value:.3f} [{rho.low:.3f}, {rho.high:.3f}], "
                 f"τ = {tau.value:.3f}, n = {n}", fontsize=8)
    ax.grid(alpha=0.3)
    return _svg(fig, heading)


def protocol_figure(matrix: np.ndarray, protocols: Sequence[str]) -> str:
    """Accuracy of each architecture (rows of ``matrix``) across protocols (columns)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    x = np.arange(len(protocols))
    for i, row in enumerate(matrix):
        ax.plot(x, row, marker="o", ms=3, lw=1, color=color(i), alpha=0.8)
    ax.set_xticks(x, protocols, rotation=35, ha="right")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Architectures across training protocols")
    ax.grid(alpha=0.3)
    return _svg(fig, "Architectures across training protocols")


def heatmap_figure(matrix: np.ndarray, labels: Sequence[str], title: str,
                   vmin: float = -1.0, vmax: float = 1.0) -> str:
    """A symmetric matrix of correlations with the values written in the cells."""
    plt = _pyplot()
    k = len(labels)
    fig, ax = plt.subplots(figsize=(1.2 + 0.62 * k, 1.0 + 0.55 * k))
    im = ax.imshow(matrix, vmin=vmin, vmax=vmax, cmap="RdBu_r")
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    for i in range(k):
        for j in range(k):
            if np.isfinite(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(matrix[i, j]) > 0.6 else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title)
    ax.spines[:].set_visible(False)
    return _svg(fig, title)
