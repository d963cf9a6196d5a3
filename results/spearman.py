"""Spearman's rho on bootstrap resamples of many architectures, to first order.

A resample with counts ``w`` ranks its copies by mid-rank: architecture ``j`` gets
``R_j(w) = sum_k w_k [x_k < x_j] + (W_g + 1) / 2`` with ``W_g`` the resampled size of its tie
group, and rho(w) is the ``w``-weighted Pearson correlation of the two mid-rank vectors.
Re-ranking every resample costs a sort each; :func:`rho_influence` instead gives the exact
derivative ``psi_i = d rho(w) / d w_i`` at ``w = 1``, so that

    rho(w) ~ rho + sum_i (w_i - 1) psi_i

and each replicate is one dot product. With ``a``, ``b`` the mid-ranks and ``C`` the centred
cross-products, ``dC_ab/dw_i = a'_i b'_i + sum_j dR^x_j/dw_i b'_j + sum_j a'_j dR^y_j/dw_i``
where ``dR^x_j/dw_i = [x_i < x_j] + [x_i = x_j] / 2``: sums over the architectures ranked
above ``i``, one cumulative sum in sorted order (``O(n log n)``).
"""

from __future__ import annotations

import numpy as np


def _above_sums(key: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per element ``i``: ``sum_j values_j ([key_j > key_i] + [key_j = key_i] / 2)``."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    cumulative = np.concatenate([[0.0], np.cumsum(values[order])])
    start = np.searchsorted(ordered, key, side="left")
    end = np.searchsorted(ordered, key, side="right")
    total = cumulative[-1]
    tied = cumulative[end] - cumulative[start]
    return (total - cumulative[end]) + 0.5 * tied


def rho_influence(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Spearman's rho and its influence ``psi_i = d rho(w) / d w_i`` at ``w = 1``."""
    from scipy.stats import rankdata

    a = rankdata(x) - (x.size + 1) / 2.0
    b = rankdata(y) - (y.size + 1) / 2.0
    c_ab, c_aa, c_bb = float(a @ b), float(a @ a), float(b @ b)
    if c_aa == 0.0 or c_bb == 0.0:
        return np.nan, np.zeros(x.size)
    rho = c_ab / np.sqrt(c_aa * c_bb)
    d_ab = a * b + _above_sums(x, b) + _above_sums(y, a)
    d_aa = a * a + 2.0 * _above_sums(x, a)
    d_bb = b * b + 2.0 * _above_sums(y, b)
    psi = rho * (d_ab / c_ab - 0.5 * (d_aa / c_aa + d_bb / c_bb))
    return float(rho), psi
