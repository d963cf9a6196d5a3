"""Pareto ranks and crowding distances of objective vectors, every objective maximised.

Small and dependency-free on purpose: multi-objective strategies rank a handful of vectors per
proposal, where calling into a library costs more than the ranking. Hypervolumes, which the
report computes, come from pymoo (:mod:`nasbench.results.pareto`).
"""

from __future__ import annotations

from collections.abc import Sequence

Vector = Sequence[float]


def dominates(a: Vector, b: Vector) -> bool:
    """Whether ``a`` is at least as good as ``b`` everywhere and better somewhere."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(
        x > y for x, y in zip(a, b, strict=True))


def pareto_ranks(points: Sequence[Vector]) -> list[int]:
    """Non-dominated sorting (Deb et al. 2002): 0 for the front, 1 for the next, ..."""
    n = len(points)
    dominated_by = [0] * n
    dominating: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(points[i], points[j]):
                dominating[i].append(j)
                dominated_by[j] += 1
            elif dominates(points[j], points[i]):
                dominating[j].append(i)
                dominated_by[i] += 1
    ranks = [0] * n
    front = [i for i in range(n) if dominated_by[i] == 0]
    rank = 0
    while front:
        nxt = []
        for i in front:
            ranks[i] = rank
            for j in dominating[i]:
                dominated_by[j] -= 1
                if dominated_by[j] == 0:
                    nxt.append(j)
        front, rank = nxt, rank + 1
    return ranks


def crowding_distances(points: Sequence[Vector]) -> list[float]:
    """NSGA-II's crowding distance of each point among ``points`` (boundaries infinite)."""
    n = len(points)
    if n == 0:
        return []
    dist = [0.0] * n
    for m in range(len(points[0])):
        order = sorted(range(n), key=lambda i: (points[i][m], i))
        lo, hi = points[order[0]][m], points[order[-1]][m]
        dist[order[0]] = dist[order[-1]] = float("inf")
        if hi == lo:
            continue
        for k in range(1, n - 1):
            dist[order[k]] += (points[order[k + 1]][m] - points[order[k - 1]][m]) / (hi - lo)
    return dist


def non_dominated(points: Sequence[Vector]) -> list[int]:
    """Indices of the points no other point dominates (duplicates all kept)."""
    return [i for i, r in enumerate(pareto_ranks(points)) if r == 0]
