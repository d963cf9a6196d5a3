"""Significance tests for comparing strategies.

* Two strategies: the Wilcoxon signed-rank test when their runs are paired (the same
  repetition seeds of one study, which share evaluation seeds), the Mann-Whitney U test when
  they are not (e.g. a strategy against a random-sampling baseline drawn on other seeds).
* Several strategies over several blocks (seeds of one study, or benchmarks): the Friedman
  test on within-block ranks, followed by a post-hoc comparison of every pair, either
  Nemenyi's test on mean ranks with its critical difference (Demšar, JMLR 2006) or pairwise
  Wilcoxon signed-rank tests with Holm's step-down correction (Benavoli, Corani & Mangili,
  JMLR 2016, who argue the mean-rank tests depend on the other strategies in the comparison).

All tests are two-sided and come from :mod:`scipy.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

PostHoc = Literal["nemenyi", "holm"]
POST_HOCS: tuple[str, ...] = ("nemenyi", "holm")


@dataclass(frozen=True, slots=True)
class TestResult:
    """Outcome of a two-sample test."""

    test: str
    statistic: float
    p_value: float
    n: int


def compare(a: np.ndarray, b: np.ndarray, *, paired: bool) -> TestResult:
    """Whether ``a`` and ``b`` differ in location (two-sided).

    Paired samples (same length, element ``i`` of each from the same block) use the Wilcoxon
    signed-rank test; zero differences are dropped (scipy's default ``zero_method="wilcox"``)
    and a comparison whose differences are all zero has p = 1. Unpaired samples use the
    Mann-Whitney U test. ``nan`` entries are left out (pairwise when paired).
    """
    from scipy import stats

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if paired:
        if a.shape != b.shape:
            raise ValueError("paired samples must have the same length")
        keep = np.isfinite(a) & np.isfinite(b)
        diff = a[keep] - b[keep]
        if diff.size == 0:
            return TestResult("wilcoxon", np.nan, np.nan, 0)
        if not np.any(diff):
            return TestResult("wilcoxon", 0.0, 1.0, int(diff.size))
        res = stats.wilcoxon(diff)
        return TestResult("wilcoxon", float(res.statistic), float(res.pvalue), int(diff.size))
    a = a[np.isfinite(a)]
    b = b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return TestResult("mann-whitney", np.nan, np.nan, int(min(a.size, b.size)))
    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    return TestResult("mann-whitney", float(res.statistic), float(res.pvalue),
                      int(a.size + b.size))


def within_block_ranks(scores: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """Rank of each column within each row (1 = best, ties averaged)."""
    from scipy.stats import rankdata

    oriented = -scores if higher_is_better else scores
    return rankdata(oriented, axis=1, method="average")


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (Holm, 1979)."""
    p = np.asarray(p_values, dtype=np.float64)
    flat = p.ravel()
    finite = np.flatnonzero(np.isfinite(flat))
    out = np.full_like(flat, np.nan)
    m = finite.size
    if m:
        order = finite[np.argsort(flat[finite], kind="stable")]
        scaled = (m - np.arange(m)) * flat[order]
        out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out.reshape(p.shape)


def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """Critical value q_alpha of Nemenyi's test for ``k`` strategies (Demšar 2006, Table 5a)."""
    from scipy.stats import studentized_range

    return float(studentized_range.ppf(1.0 - alpha, k, np.inf) / np.sqrt(2.0))


def critical_difference(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Least difference of mean ranks that Nemenyi's test calls significant."""
    return nemenyi_q(k, alpha) * float(np.sqrt(k * (k + 1) / (6.0 * n_blocks)))


@dataclass(frozen=True)
class RankComparison:
    """Friedman test and post-hoc comparison of ``k`` strategies over ``n`` blocks.

    Attributes:
        labels: the strategies, in the order of ``mean_ranks``.
        mean_ranks: average within-block rank (1 = best).
        n_blocks: blocks every strategy has a value for.
        statistic, p_value: Friedman's chi-square and its p-value (``nan`` for fewer than 3
            strategies, where the test is not defined; use the pairwise test).
        post_hoc: ``nemenyi`` or ``holm``.
        pairwise_p: ``k x k`` post-hoc p-values (Holm-adjusted for ``holm``).
        critical_difference: Nemenyi's CD at ``alpha`` (reported for both post-hocs).
        alpha: the significance level.
    """

    labels: tuple[str, ...]
    mean_ranks: np.ndarray
    n_blocks: int
    statistic: float
    p_value: float
    post_hoc: str
    pairwise_p: np.ndarray
    critical_difference: float
    alpha: float

    @property
    def different(self) -> np.ndarray:
        """``k x k`` booleans: the post-hoc rejects equal performance of the pair."""
        return np.nan_to_num(self.pairwise_p, nan=1.0) < self.alpha

    def cliques(self) -> list[tuple[int, ...]]:
        """Maximal runs of strategies, ordered by mean rank, with no pair told apart.

        These are the bars of a critical-difference diagram; single strategies are omitted.
        """
        order = np.argsort(self.mean_ranks, kind="stable")
        diff = self.different[np.ix_(order, order)]
        k = len(order)
        runs: list[tuple[int, int]] = []
        for i in range(k):
            j = i
            while j + 1 < k and not diff[i: j + 2, i: j + 2].any():
                j += 1
            if j > i and not any(a <= i and j <= b for a, b in runs):
                runs.append((i, j))
        return [tuple(int(order[t]) for t in range(a, b + 1)) for a, b in runs]


def compare_ranks(
    scores: np.ndarray,
    labels: tuple[str, ...] | list[str],
    *,
    higher_is_better: bool = True,
    post_hoc: PostHoc = "nemenyi",
    alpha: float = 0.05,
) -> RankComparison:
    """Friedman test and post-hoc over ``scores`` (``blocks x strategies``).

    Rows with a missing value are dropped, so every block ranks every strategy.
    """
    from scipy import stats

    if post_hoc not in POST_HOCS:
        raise ValueError(f"post_hoc must be one of {POST_HOCS}, got {post_hoc!r}")
    scores = np.asarray(scores, dtype=np.float64)
    scores = scores[np.isfinite(scores).all(axis=1)]
    n, k = scores.shape
    labels = tuple(labels)
    if n == 0:
        nan_k = np.full((k, k), np.nan)
        return RankComparison(labels, np.full(k, np.nan), 0, np.nan, np.nan, post_hoc, nan_k,
                              np.nan, alpha)
    ranks = within_block_ranks(scores, higher_is_better)
    mean_ranks = ranks.mean(axis=0)
    statistic = p_value = np.nan
    if k >= 3 and n >= 2:
        if np.ptp(scores, axis=1).any():
            res = stats.friedmanchisquare(*scores.T)
            statistic, p_value = float(res.statistic), float(res.pvalue)
        else:  # every block ties every strategy: no evidence of any difference
            statistic, p_value = 0.0, 1.0
    cd = critical_difference(k, n, alpha) if k >= 2 else np.nan
    pairwise = np.full((k, k), np.nan)
    iu = np.triu_indices(k, 1)
    if post_hoc == "nemenyi":
        se = np.sqrt(k * (k + 1) / (6.0 * n))
        z = np.abs(mean_ranks[:, None] - mean_ranks[None, :]) / se
        pairwise = stats.studentized_range.sf(z * np.sqrt(2.0), k, np.inf)
        np.fill_diagonal(pairwise, 1.0)
    else:
        raw = np.array([compare(scores[:, i], scores[:, j], paired=True).p_value
                        for i, j in zip(*iu, strict=True)])
        adjusted = holm(raw)
        pairwise[iu] = adjusted
        pairwise[(iu[1], iu[0])] = adjusted
        np.fill_diagonal(pairwise, 1.0)
    return RankComparison(labels, mean_ranks, n, statistic, p_value, post_hoc, pairwise, cd,
                          alpha)


def smallest_p(test: str, n_a: int, n_b: int = 0) -> float:
    """The smallest two-sided p-value ``test`` can give on samples of these sizes.

    With few runs a rank test cannot reach a small p whatever the data: the Wilcoxon
    signed-rank test on ``n_a`` non-zero paired differences gives at least ``2 / 2**n_a``
    (0.0625 for five pairs), the Mann-Whitney U test at least ``2 / C(n_a + n_b, n_a)``. A
    leaderboard says so instead of printing a p-value that could never have been small.
    """
    from math import comb, ldexp

    if test == "wilcoxon":  # ldexp: thousands of runs underflow to 0 instead of overflowing
        return min(1.0, ldexp(2.0, -n_a)) if n_a > 0 else 1.0
    if n_a < 1 or n_b < 1:
        return 1.0
    ways = comb(n_a + n_b, n_a)
    return min(1.0, 2.0 / ways) if ways.bit_length() < 1000 else 0.0
