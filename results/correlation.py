"""How well one scoring of architectures ranks them like another, with bootstrap intervals.

A *scoring* (:class:`~nasbench.results.scorings.Scoring`) is any number per architecture: a
benchmark column, a zero-cost proxy, a training run, one seed of several. :func:`correlate`
aligns two scorings on the architectures they share and reports (Sciuto et al., ICLR 2020;
Yang et al., ICLR 2020; Ning et al., NeurIPS 2021 for precision@k):

* ``spearman``: Spearman's rho, the Pearson correlation of the ranks (ties averaged);
* ``kendall``: Kendall's tau-b (scipy's default, which corrects for ties);
* ``sparse_kendall``: tau-b after rounding every percent-valued scoring to ``threshold``
  (0.1 percentage points by default), so differences at the level of training noise become
  ties (Sciuto et al.'s "sparse Kendall tau");
* ``p@k``: precision@k, the share of the first scoring's top ``k`` that is also in the second
  scoring's top ``k`` (``k`` a count, or a percentage of the architectures);
* ``regret``: how much worse, in the second scoring's units, the first scoring's top-1 is than
  the second scoring's best (0 = it picks the best). The first scoring is the *proxy* (what a
  search would select on), the second the *ground truth*.

Point estimates are computed on the data (Spearman and Kendall by :mod:`scipy.stats`, so
they equal scipy's); intervals are percentile bootstrap intervals over architectures, all
statistics sharing the same resamples. Up to ``exact_max_n`` architectures every replicate
is exact; above it (a bootstrap of 15,625 cells) Spearman's replicates use the ranks of the
whole sample ("rank once") and Kendall's use the first-order expansion of
:mod:`~nasbench.results.kendall`, which keeps a 1,000-resample interval under a second. The
method used is reported with every result.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from nasbench.results.kendall import tau_b_influence, tau_b_resampled
from nasbench.results.stats import (
    BootstrapOptions,
    Estimate,
    counts_from_indices,
    percentile_interval,
    resample_indices,
)
from nasbench.results.topk import TopOfRankings

from nasbench.errors import UserError

if TYPE_CHECKING:
    from nasbench.results.scorings import Scoring

STATISTICS = ("spearman", "kendall", "sparse_kendall")
"""The rank correlations, in report order (then ``p@k`` for each k, then ``regret``)."""
EXACT_MAX_N = 1000
"""Largest number of architectures whose replicates are computed exactly by default."""
_BLOCK_ELEMENTS = 2_000_000
"""Resamples are processed in blocks of about this many indices, to bound memory."""


@dataclass(frozen=True)
class CorrelationOptions:
    """What :func:`correlate` computes and how.

    Attributes:
        bootstrap: resamples, confidence and seed of the intervals.
        tops: the ``k`` of precision@k: counts (``"10"``) or percentages (``"5%"``).
        threshold: rounding unit of the sparse Kendall tau, applied to percent scorings.
        exact_max_n: above this many architectures, replicates use rank-once Spearman and
            linearised Kendall (see the module docstring).
    """

    bootstrap: BootstrapOptions = field(default_factory=BootstrapOptions)
    tops: tuple[str, ...] = ("10", "5%")
    threshold: float = 0.1
    exact_max_n: int = EXACT_MAX_N

    def ks(self, n: int) -> dict[str, int]:
        """Top label -> k for ``n`` architectures (tops with ``k >= n`` are dropped)."""
        out = {}
        for top in self.tops:
            k = parse_top(top, n)
            if 0 < k < n:
                out[f"p@{top}"] = k
        return out


def parse_top(top: str, n: int) -> int:
    """``"10"`` -> 10; ``"5%"`` -> ceil(5% of n)."""
    text = str(top).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1])
            if not 0 < share <= 100:
                raise ValueError
            return max(1, math.ceil(share / 100.0 * n))
        k = int(text)
        if k < 1:
            raise ValueError
        return k
    except ValueError:
        raise UserError(
            f"--top {top!r} is neither a positive count (e.g. 10) nor a percentage (e.g. 5%)."
        ) from None


@dataclass(frozen=True)
class Correlation:
    """The statistics of one pair of scorings."""

    x: str
    y: str
    n: int
    estimates: dict[str, Estimate]
    ks: dict[str, int]
    method: str
    x_values: np.ndarray = field(repr=False)
    y_values: np.ndarray = field(repr=False)

    def row(self) -> dict[str, object]:
        """A flat record for tables: value, low and high of every statistic."""
        out: dict[str, object] = {"x": self.x, "y": self.y, "n": self.n}
        for name, est in self.estimates.items():
            out[name] = est.value
            out[f"{name} low"] = est.low
            out[f"{name} high"] = est.high
        out["method"] = self.method
        return out


def _oriented(s: Scoring, values: np.ndarray) -> np.ndarray:
    return values if s.higher_is_better else -values


def _rounded(s: Scoring, values: np.ndarray, threshold: float) -> np.ndarray:
    if s.unit == "%" and threshold > 0:
        return np.round(values / threshold)
    return values


def correlate(x: Scoring, y: Scoring, options: CorrelationOptions | None = None) -> Correlation:
    """Every statistic of :data:`STATISTICS`, precision@k and regret, with intervals.

    Raises:
        UserError: when the scorings share fewer than 3 architectures.
    """
    from scipy import stats

    options = options or CorrelationOptions()
    xv, yv = x.aligned(y)
    n = xv.size
    if n < 3:
        raise UserError(
            f"'{x.name}' and '{y.name}' share {n} architectures with finite values; a rank "
            "correlation needs at least 3. Check that both scorings name architectures the "
            "same way (see docs/analysis.md, 'Scorings')."
        )
    ox, oy = _oriented(x, xv), _oriented(y, yv)
    sx, sy = _rounded(x, ox, options.threshold), _rounded(y, oy, options.threshold)
    ks = options.ks(n)
    point = {
        "spearman": float(stats.spearmanr(ox, oy).statistic),
        "kendall": float(stats.kendalltau(ox, oy).statistic),
        "sparse_kendall": float(stats.kendalltau(sx, sy).statistic),
    }
    top = TopOfRankings(ox, oy, tuple(ks.values()))
    top_point = top.point()
    for label, k in ks.items():
        point[label] = float(top_point.precision[k][0])
    point["regret"] = float(top_point.regret[0])

    exact = n <= options.exact_max_n
    replicates = _replicates(ox, oy, sx, sy, top, ks, exact, options.bootstrap, x.name, y.name)
    estimates = {}
    for name, value in point.items():
        lo, hi = percentile_interval(replicates[name], options.bootstrap.confidence)
        estimates[name] = Estimate(value, float(lo), float(hi))
    method = "exact" if exact else "rank-once spearman, linearised kendall"
    return Correlation(x.name, y.name, n, estimates, ks, method, xv, yv)


def _blocks(rng: np.random.Generator, n: int, resamples: int) -> Iterator[np.ndarray]:
    size = max(1, min(resamples, _BLOCK_ELEMENTS // n))
    for start in range(0, resamples, size):
        yield resample_indices(rng, n, min(size, resamples - start))


def _replicates(
    ox: np.ndarray, oy: np.ndarray, sx: np.ndarray, sy: np.ndarray, top: TopOfRankings,
    ks: dict[str, int], exact: bool, boot: BootstrapOptions, *stream: str,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of every statistic, on shared resamples."""
    from scipy.stats import rankdata

    n = ox.size
    rng = boot.generator("correlation", *stream)
    parts: dict[str, list[np.ndarray]] = {}

    def add(name: str, values: np.ndarray) -> None:
        parts.setdefault(name, []).append(values)

    if exact:
        midranks_x, midranks_y = _MidRanks(ox), _MidRanks(oy)
    else:
        tau, psi = tau_b_influence(ox, oy)
        sparse_tau, sparse_psi = tau_b_influence(sx, sy)
        # Gathered in float32: numpy sums contiguous float32 rows pairwise, which keeps the
        # relative error near 1e-6, far below the spread of the replicates.
        rx = (rankdata(ox) - (n + 1) / 2.0).astype(np.float32)
        ry = (rankdata(oy) - (n + 1) / 2.0).astype(np.float32)
        psi32, sparse_psi32 = psi.astype(np.float32), sparse_psi.astype(np.float32)
    for indices in _blocks(rng, n, boot.resamples):
        if exact:
            counts = counts_from_indices(indices, n)
            add("spearman", _weighted_pearson(counts, midranks_x(counts), midranks_y(counts)))
            add("kendall", tau_b_resampled(ox, oy, counts))
            add("sparse_kendall", tau_b_resampled(sx, sy, counts))
        else:
            add("spearman", _pearson_of_ranks(rx[indices], ry[indices]))
            add("kendall", tau - psi.sum() + psi32[indices].sum(axis=1).astype(np.float64))
            add("sparse_kendall", sparse_tau - sparse_psi.sum()
                + sparse_psi32[indices].sum(axis=1).astype(np.float64))
        top_stats = top.resampled(indices)
        for label, k in ks.items():
            add(label, top_stats.precision[k])
        add("regret", top_stats.regret)
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


class _MidRanks:
    """Average ranks of each architecture within a resample, from the resample's counts."""

    def __init__(self, values: np.ndarray) -> None:
        self.order = np.argsort(values, kind="stable")
        ordered = values[self.order]
        new = np.r_[True, ordered[1:] != ordered[:-1]]
        self.starts = np.flatnonzero(new)
        group = np.cumsum(new) - 1
        self.group_of = np.empty_like(group)
        self.group_of[self.order] = group

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        groups = np.add.reduceat(counts[:, self.order], self.starts, axis=1)
        below = np.cumsum(groups, axis=1) - groups
        return (below + (groups + 1.0) / 2.0)[:, self.group_of]


def _weighted_pearson(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1, keepdims=True)
    ma = (w * a).sum(axis=1, keepdims=True) / total
    mb = (w * b).sum(axis=1, keepdims=True) / total
    da, db = a - ma, b - mb
    cov = (w * da * db).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.sqrt((w * da * da).sum(axis=1) * (w * db * db).sum(axis=1))


def _pearson_of_ranks(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of centred ranks ``a`` and ``b`` (``B x n``)."""
    n = a.shape[1]
    sa, sb = a.sum(axis=1).astype(np.float64), b.sum(axis=1).astype(np.float64)
    cov = (a * b).sum(axis=1) - sa * sb / n
    var_a = (a * a).sum(axis=1) - sa * sa / n
    var_b = (b * b).sum(axis=1) - sb * sb / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.sqrt(var_a * var_b)
