"""Count the distinct NAS-Bench-101 cells (graph hashes) with this package's rules.

The paper (Ying et al. 2019, section 2.2) states 423,624 unique cells: valid cells (input
reaches output, at most 9 edges after pruning) with up to 7 vertices, counted by the
benchmark's graph hash. Enumerating the 2^21 x 3^5 raw cells is far too slow in Python, so
this counts the way the released ``generate_graphs.py`` does: every pruned cell is a *full*
DAG (each vertex on an input -> output path) of 2 to 7 vertices, so it enumerates those with
at most 9 edges, groups them by the hash of the unlabelled graph (isomorphic structures share
it), and hashes every labelling of one structure per group.

Usage: ``python tests/bench/nb101_unique_count.py [MAX_VERTICES] [--workers N]``; prints the
count per vertex number and the total. 7 vertices is the paper's space.
"""

from __future__ import annotations

import argparse
import itertools
import time
from concurrent.futures import ProcessPoolExecutor

from nasbench.spaces.nb101_graph import (
    INPUT_LABEL,
    OUTPUT_LABEL,
    graph_hash,
    matrix_from_bits,
    prune,
    upper_edges,
)

MAX_EDGES = 9
N_OPS = 3


def full_dags(n: int, max_edges: int) -> list[tuple[tuple[int, ...], ...]]:
    """Matrices of ``n`` vertices with at most ``max_edges`` edges where pruning removes
    nothing."""
    edges = upper_edges(n)
    labels = list(range(n))
    out = []
    for k in range(max_edges + 1):
        for chosen in itertools.combinations(range(len(edges)), k):
            bits = [0] * len(edges)
            for e in chosen:
                bits[e] = 1
            matrix = matrix_from_bits(bits, n)
            pruned = prune(matrix, labels)
            if pruned is not None and len(pruned[1]) == n:
                out.append(matrix)
    return out


def labelled_hashes(matrix: tuple[tuple[int, ...], ...]) -> set[str]:
    n = len(matrix)
    return {
        graph_hash(matrix, (INPUT_LABEL, *ops, OUTPUT_LABEL))
        for ops in itertools.product(range(N_OPS), repeat=n - 2)
    }


def count(n: int, workers: int) -> int:
    structures: dict[str, tuple[tuple[int, ...], ...]] = {}
    for matrix in full_dags(n, MAX_EDGES):
        structures.setdefault(graph_hash(matrix, [0] * n), matrix)
    seen: set[str] = set()
    reps = list(structures.values())
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for hashes in pool.map(labelled_hashes, reps, chunksize=64):
                seen |= hashes
    else:
        for matrix in reps:
            seen |= labelled_hashes(matrix)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("max_vertices", type=int, nargs="?", default=7)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    total = 0
    for n in range(2, args.max_vertices + 1):
        start = time.perf_counter()
        c = count(n, args.workers)
        total += c
        print(f"{n} vertices: {c:,} unique cells ({time.perf_counter() - start:.1f} s)",
              flush=True)
    print(f"total (2..{args.max_vertices} vertices): {total:,}")


if __name__ == "__main__":
    main()
