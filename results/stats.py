"""Bootstrap confidence intervals, vectorised over resamples.

Every interval in nasbench's reports is a percentile bootstrap interval (Efron & Tibshirani,
*An Introduction to the Bootstrap*, 1993, ch. 13): the statistic is recomputed on ``B``
resamples drawn with replacement, and the interval is the ``(1 - c)/2`` and ``(1 + c)/2``
quantiles of those replicates. A resample is represented by its *counts* (how many copies of
each observation it holds), so a statistic that is a weighted sum becomes one matrix product
over all resamples at once.

Resamples come from a generator on a named stream (``bootstrap_generator``), derived from the
analysis seed with :mod:`nasbench.seeding`: the same inputs always give the same interval, and
adding a strategy to a report never changes another strategy's interval.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nasbench import seeding

RESAMPLES = 1000
"""Default number of bootstrap resamples."""
CONFIDENCE = 0.95
"""Default confidence level of every interval."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its bootstrap interval (``nan`` bounds when undefined)."""

    value: float
    low: float
    high: float

    def covers(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True, slots=True)
class BootstrapOptions:
    """How intervals are computed.

    Attributes:
        resamples: bootstrap resamples ``B``.
        confidence: coverage of the percentile interval.
        seed: root of the resampling streams; the analysis is a pure function of it.
    """

    resamples: int = RESAMPLES
    confidence: float = CONFIDENCE
    seed: int = 0

    def generator(self, *path: str | int) -> np.random.Generator:
        """The resampling stream named by ``path`` (e.g. study hash, strategy, metric)."""
        return seeding.generator(self.seed, "bootstrap", *path)


def resample_indices(rng: np.random.Generator, n: int, resamples: int) -> np.ndarray:
    """``resamples x n`` indices drawn uniformly with replacement from ``range(n)``.

    They are drawn as ``intp``, the type numpy converts index arrays to, so the several
    gathers a resample block serves do not each pay for a conversion.
    """
    return rng.integers(0, n, size=(resamples, n), dtype=np.intp)


def counts_from_indices(indices: np.ndarray, n: int) -> np.ndarray:
    """Per-resample counts (``B x n``) of each observation in ``indices`` (``B x n``)."""
    b = indices.shape[0]
    offsets = (np.arange(b, dtype=np.int64) * n)[:, None]
    flat = np.bincount((indices + offsets).ravel(), minlength=b * n)
    return flat.reshape(b, n).astype(np.float64)


def resample_counts(rng: np.random.Generator, n: int, resamples: int) -> np.ndarray:
    """``resamples x n`` multinomial counts: the classical (Efron) bootstrap."""
    return counts_from_indices(resample_indices(rng, n, resamples), n)


RESAMPLE_BLOCK = 64
"""Resamples drawn and averaged at a time by :func:`resampled_means`: the counts of a block
are ``RESAMPLE_BLOCK x n``, so memory stays bounded with tens of thousands of runs."""


def resampled_means(rng: np.random.Generator, values: np.ndarray,
                    resamples: int) -> np.ndarray:
    """``resamples x m`` bootstrap means of the columns of ``values`` (``n x m``), drawn from
    ``rng`` exactly as ``weighted_means(resample_counts(rng, n, resamples), values)`` would
    be (the generator fills the same indices block after block), in blocks of
    :data:`RESAMPLE_BLOCK` resamples."""
    n = values.shape[0]
    parts = []
    for start in range(0, resamples, RESAMPLE_BLOCK):
        counts = resample_counts(rng, n, min(RESAMPLE_BLOCK, resamples - start))
        parts.append(weighted_means(counts, values))
    return np.concatenate(parts) if parts else np.empty((0, values.shape[1]))


def percentile_interval(
    replicates: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds along axis 0 of ``replicates`` (``nan`` replicates are ignored)."""
    alpha = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():  # an all-nan column has no interval: nan
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(replicates, [alpha, 1.0 - alpha], axis=0)
    return lo, hi


def mean_estimates(
    values: np.ndarray, options: BootstrapOptions, *stream: str | int
) -> list[Estimate]:
    """Mean of each column of ``values`` (``n x m``) with its bootstrap interval.

    All columns share the resamples (rows are resampled whole), so the intervals of several
    metrics of the same runs are computed jointly. ``nan`` entries (a failed run) are left out
    of the mean of their column.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    n, m = values.shape
    if n == 0:
        return [Estimate(np.nan, np.nan, np.nan)] * m
    replicates = resampled_means(options.generator(*stream), values, options.resamples)
    point = np.nanmean(values, axis=0) if np.isfinite(values).any() else np.full(m, np.nan)
    lo, hi = percentile_interval(replicates, options.confidence)
    if n < 2:
        lo = hi = np.full(m, np.nan)
    return [Estimate(float(point[j]), float(lo[j]), float(hi[j])) for j in range(m)]


def weighted_means(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of each column of ``values`` under each row of ``counts`` (whole numbers: bootstrap
    draws per row of ``values``; ``nan`` left out)."""
    finite = np.isfinite(values)
    total = counts @ np.where(finite, values, 0.0)
    # a column without nan weighs each resample's draws, its row sum: the same integers the
    # product with a column of ones gives, for half the work on the usual complete columns
    weight = np.repeat(counts.sum(axis=1, keepdims=True), values.shape[1], axis=1)
    gaps = ~finite.all(axis=0)
    if gaps.any():
        weight[:, gaps] = counts @ finite[:, gaps].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / weight


def relative_improvement(mean_method: np.ndarray | float, mean_baseline: np.ndarray | float,
                         higher_is_better: bool = True) -> np.ndarray | float:
    """RI = 100 (m - r) / r (Yang et al., ICLR 2020); sign flipped when lower is better."""
    sign = 1.0 if higher_is_better else -1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return sign * 100.0 * (np.asarray(mean_method) - mean_baseline) / np.abs(mean_baseline)


def ri_estimate(
    method: np.ndarray,
    baseline: np.ndarray,
    higher_is_better: bool,
    options: BootstrapOptions,
    *stream: str | int,
) -> Estimate:
    """Relative improvement of ``method`` over ``baseline`` with a two-sample bootstrap.

    The method's runs and the baseline's samples are resampled independently (they come from
    independent random streams), and RI is recomputed from the two resampled means.
    """
    method = np.asarray(method, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    method = method[np.isfinite(method)]
    baseline = baseline[np.isfinite(baseline)]
    if method.size == 0 or baseline.size == 0:
        return Estimate(np.nan, np.nan, np.nan)
    point = float(relative_improvement(method.mean(), baseline.mean(), higher_is_better))
    if method.size < 2 or baseline.size < 2:
        return Estimate(point, np.nan, np.nan)
    rng = options.generator(*stream)
    b = options.resamples
    m_rep = resampled_means(rng, method[:, None], b)[:, 0]
    r_rep = resampled_means(rng, baseline[:, None], b)[:, 0]
    lo, hi = percentile_interval(relative_improvement(m_rep, r_rep, higher_is_better),
                                 options.confidence)
    return Estimate(point, float(lo), float(hi))

