"""Kendall's tau-b on bootstrap resamples, without a Python loop over resamples.

A resample is a vector of counts ``w`` (copies of each architecture). With
``s_ij = sign(x_i - x_j) sign(y_i - y_j)``, tau-b of the resample is

    tau_b(w) = (1/2 w'Sw) / sqrt((n0 - Tx)(n0 - Ty)),
    n0 = N(N-1)/2,  Tx = sum_g (W_g^2 - W_g)/2 over groups g of tied x (Ty likewise),

where ``N = sum w`` and ``W_g`` is the count of resampled members of group ``g`` (copies of
one architecture are tied with each other). Two ways to evaluate it for ``B`` resamples:

* :func:`tau_b_resampled` evaluates it exactly through the ``n x n`` matrix ``S``,
  with the tie terms from group sums (one matrix product per resample block): ``O(B n^2)``,
  the choice for a few thousand architectures or fewer.
* :func:`tau_b_influence` gives the first-order expansion
  ``tau_b(w) ~ tau_b + sum_i (w_i - 1) psi_i`` (the empirical influence function of tau-b,
  the Hajek projection of the U-statistic), so each replicate is one dot product: ``O(B n)``
  after an ``O(n log n)`` computation of every architecture's concordance count. Its error is
  of relative order ``n^-1/2`` of the replicate spread (measured in ``tests/bench``).
"""

from __future__ import annotations

import numpy as np


def dense_ranks(values: np.ndarray) -> np.ndarray:
    """0-based dense ranks (equal values share a rank)."""
    return np.unique(values, return_inverse=True)[1].astype(np.int64)


def _prefix_less(values: np.ndarray, limits: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each query q, ``#{p < limits[q] : values[p] < thresholds[q]}``.

    ``values`` are non-negative integers in position order. The prefix ``[0, L)`` splits into
    the aligned blocks given by the bits of ``L``; every block is sorted once per level, so
    all queries are answered with one ``searchsorted`` per level: ``O(n log n)`` in total.
    """
    n = values.size
    levels = max(1, int(np.ceil(np.log2(max(n, 1)))))
    size = 1 << levels
    big = int(max(values.max(initial=0), thresholds.max(initial=0))) + 1
    padded = np.full(size, big, dtype=np.int64)
    padded[:n] = values
    stride = big + 1
    counts = np.zeros(limits.size, dtype=np.int64)
    for k in range(levels + 1):
        block = 1 << k
        keys = np.sort(padded.reshape(-1, block), axis=1)
        keys += (np.arange(size // block, dtype=np.int64) * stride)[:, None]
        keys = keys.ravel()
        hit = np.flatnonzero((limits >> k) & 1)
        if hit.size == 0:
            continue
        index = (limits[hit] >> (k + 1)) << 1
        counts[hit] += np.searchsorted(keys, index * stride + thresholds[hit]) - index * block
    return counts


def _tie_counts(primary: np.ndarray, secondary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per element: members of its ``primary`` tie group with smaller / larger ``secondary``."""
    stride = int(secondary.max(initial=0)) + 2
    keys = primary * stride + secondary
    ordered = np.sort(keys)
    group_lo = np.searchsorted(ordered, primary * stride)
    group_hi = np.searchsorted(ordered, primary * stride + stride)
    smaller = np.searchsorted(ordered, keys, side="left") - group_lo
    larger = group_hi - np.searchsorted(ordered, keys, side="right")
    return smaller, larger


def concordance_counts(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``c_i = sum_j sign(x_i - x_j) sign(y_i - y_j)`` for every ``i``, in ``O(n log n)``.

    ``sum(c) / 2`` is the numerator of tau-b (concordant minus discordant pairs).
    """
    rx, ry = dense_ranks(x), dense_ranks(y)
    n = rx.size
    order = np.lexsort((ry, rx))
    x_sorted = rx[order]
    # Elements strictly below in x occupy the positions before the element's x-group.
    group_start = np.searchsorted(x_sorted, rx)
    lower_left = _prefix_less(ry[order], group_start, ry)  # x_j < x_i and y_j < y_i
    below_x = group_start
    above_x = n - np.searchsorted(x_sorted, rx, side="right")
    y_sorted = np.sort(ry)
    below_y = np.searchsorted(y_sorted, ry)
    same_y_below_x, same_y_above_x = _tie_counts(ry, rx)
    same_x_below_y, _ = _tie_counts(rx, ry)
    upper_left = below_x - lower_left - same_y_below_x  # x_j < x_i, y_j > y_i
    lower_right = below_y - lower_left - same_x_below_y  # x_j > x_i, y_j < y_i
    upper_right = above_x - lower_right - same_y_above_x  # x_j > x_i, y_j > y_i
    return (lower_left + upper_right - upper_left - lower_right).astype(np.float64)


def _group_sizes(ranks: np.ndarray) -> np.ndarray:
    return np.bincount(ranks)[ranks].astype(np.float64)


def tau_b_influence(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Tau-b and its influence ``psi_i = d tau_b(w) / d w_i`` at ``w = 1``."""
    n = x.size
    c = concordance_counts(x, y)
    gx, gy = _group_sizes(dense_ranks(x)), _group_sizes(dense_ranks(y))
    ax = 0.5 * (n * n - float(np.sum(gx)))  # n0 - Tx: sum of squared group sizes = sum of gx
    ay = 0.5 * (n * n - float(np.sum(gy)))
    den = np.sqrt(ax * ay)
    if den == 0.0:
        return np.nan, np.zeros(n)
    tau = 0.5 * float(c.sum()) / den
    psi = c / den - 0.5 * tau * ((n - gx) / ax + (n - gy) / ay)
    return tau, psi


def tau_b_resampled(x: np.ndarray, y: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Exact tau-b of each resample (rows of ``counts``, ``B x n``); ``O(B n^2)``."""
    # Counts and signs are small integers: float32 products are exact and twice as fast.
    sign = (_signs(x) * _signs(y)).astype(np.float32)
    product = (counts.astype(np.float32) @ sign).astype(np.float64)
    numerator = 0.5 * np.einsum("bi,bi->b", product, counts)
    total = counts.sum(axis=1)
    n0 = 0.5 * (total * total - total)
    tx = 0.5 * (_squared_group_counts(counts, x) - total)
    ty = 0.5 * (_squared_group_counts(counts, y) - total)
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / np.sqrt((n0 - tx) * (n0 - ty))


def _signs(values: np.ndarray) -> np.ndarray:
    """``sign(v_i - v_j)`` for every pair, as int8."""
    above = values[:, None] > values[None, :]
    below = values[:, None] < values[None, :]
    return above.view(np.int8) - below.view(np.int8)


def _squared_group_counts(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per resample, the sum over tie groups of ``values`` of (resampled group size)^2."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    groups = np.add.reduceat(counts[:, order], starts, axis=1)
    return np.einsum("bg,bg->b", groups, groups)
