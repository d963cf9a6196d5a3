"""The top of a ranking on bootstrap resamples: precision@k and the regret of the top-1.

Both statistics only look at the best few architectures of each scoring, so a resample is
reduced to its counts on a *region*: the leading architectures of each scoring, extended to
whole tie groups and grown until every resample holds at least ``k`` copies in it. That keeps
the work per resample proportional to ``k``, not to the number of architectures.

Ties are shared, not broken: when a tie group straddles the ``k``-th place, each member counts
for the fraction of the group that fits (the expected overlap under random tie-breaking, up
to the rounding of each member's share); the regret of a tied top-1 is the mean regret of
the tied architectures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Ranking:
    """One scoring's order, best first, and its tie groups."""

    order: np.ndarray
    group_starts: np.ndarray
    group_of: np.ndarray  # group index of each position in ``order``

    @classmethod
    def of(cls, values: np.ndarray) -> _Ranking:
        order = np.argsort(-values, kind="stable")
        ordered = values[order]
        new = np.r_[True, ordered[1:] != ordered[:-1]]
        return cls(order, np.flatnonzero(new), np.cumsum(new) - 1)

    def region(self, m: int) -> int:
        """Length of the leading ``m`` positions extended to the end of their tie group."""
        n = self.order.size
        if m >= n:
            return n
        last_group = self.group_of[m - 1]
        ends = np.r_[self.group_starts[1:], n]
        return int(ends[last_group])


@dataclass(frozen=True)
class TopStatistics:
    """Per resample: precision@k for each ``k``, and the regret of the top-1."""

    precision: dict[int, np.ndarray]
    regret: np.ndarray


def _shares(counts: np.ndarray, ranking: _Ranking, length: int, k: int) -> np.ndarray:
    """Copies of each region member inside the top ``k`` of each resample (ties shared)."""
    starts = ranking.group_starts[ranking.group_starts < length]
    groups = np.add.reduceat(counts, starts, axis=1)
    before = np.cumsum(groups, axis=1) - groups
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip((k - before) / groups, 0.0, 1.0)
    fraction = np.nan_to_num(fraction, nan=0.0)
    return counts * fraction[:, ranking.group_of[:length]]


def _top_group_mean(counts: np.ndarray, ranking: _Ranking, length: int,
                    values: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over the resampled copies of the best present tie group."""
    starts = ranking.group_starts[ranking.group_starts < length]
    groups = np.add.reduceat(counts, starts, axis=1)
    sums = np.add.reduceat(counts * values[None, :], starts, axis=1)
    first = np.argmax(groups > 0, axis=1)
    rows = np.arange(counts.shape[0])
    return sums[rows, first] / groups[rows, first]


class TopOfRankings:
    """Precision@k and top-1 regret of a proxy ``x`` against a ground truth ``y``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, ks: tuple[int, ...]) -> None:
        self.x, self.y = x, y
        self.ks = ks
        self.rank_x, self.rank_y = _Ranking.of(x), _Ranking.of(y)
        self.k_max = max((*ks, 1))
        self.m = min(x.size, self.k_max + int(6 * np.sqrt(self.k_max)) + 20)

    def point(self) -> TopStatistics:
        """The statistics of the data themselves (every count 1)."""
        n = self.x.size
        return self._evaluate(lambda cols: np.ones((1, cols.size)), n)

    def resampled(self, indices: np.ndarray) -> TopStatistics:
        """The statistics of each resample (rows of ``indices``, ``B x n``)."""
        n = self.x.size

        def counts_of(columns: np.ndarray) -> np.ndarray:
            position = np.full(n, -1, dtype=np.int32)
            position[columns] = np.arange(columns.size, dtype=np.int32)
            hit = position[indices]
            rows, cols = np.nonzero(hit >= 0)
            b, u = indices.shape[0], columns.size
            flat = rows.astype(np.int64) * u + hit[rows, cols]
            return np.bincount(flat, minlength=b * u).reshape(b, u).astype(np.float64)

        while True:
            stats = self._evaluate(counts_of, self.m)
            if stats is not None:
                return stats
            self.m = min(n, 2 * self.m)

    def _evaluate(self, counts_of: Callable[[np.ndarray], np.ndarray],
                  m: int) -> TopStatistics | None:
        len_x, len_y = self.rank_x.region(m), self.rank_y.region(m)
        region_x, region_y = self.rank_x.order[:len_x], self.rank_y.order[:len_y]
        union = np.union1d(region_x, region_y)
        counts = counts_of(union)
        at_x = np.searchsorted(union, region_x)
        at_y = np.searchsorted(union, region_y)
        cx, cy = counts[:, at_x], counts[:, at_y]
        n = self.x.size
        complete = len_x == n and len_y == n
        if not complete and (cx.sum(axis=1).min() < self.k_max
                             or cy.sum(axis=1).min() < self.k_max):
            return None
        precision = {}
        for k in self.ks:
            in_x = np.zeros_like(counts)
            in_y = np.zeros_like(counts)
            in_x[:, at_x] = _shares(cx, self.rank_x, len_x, k)
            in_y[:, at_y] = _shares(cy, self.rank_y, len_y, k)
            precision[k] = np.minimum(in_x, in_y).sum(axis=1) / k
        chosen = _top_group_mean(cx, self.rank_x, len_x, self.y[region_x])
        best = _top_group_mean(cy, self.rank_y, len_y, self.y[region_y])
        # Rounding in the group means must not show as a (tiny) negative regret.
        return TopStatistics(precision, np.maximum(best - chosen, 0.0))
