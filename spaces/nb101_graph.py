"""Graph rules of the NAS-Bench-101 cell: pruning, validity and the isomorphism-invariant hash.

NAS-Bench-101 (Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture Search",
ICML 2019; code and data: https://github.com/google-research/nasbench) describes a cell by an
upper-triangular adjacency matrix over ``V`` vertices (vertex 0 the input, vertex ``V - 1`` the
output) and one operation label per interior vertex. Three rules of the released code are
reimplemented here, from their description in the paper and in ``nasbench/lib/model_spec.py``
and ``nasbench/lib/graph_util.py``:

* **Pruning** (``ModelSpec._prune``): a vertex that is not on some path from the input to the
  output computes nothing that reaches the output; it is deleted with its edges. When the input
  does not reach the output at all, the cell is invalid.
* **Validity** (``NASBench._check_spec``): after pruning, at most ``V`` vertices and at most
  ``max_edges`` (9) edges.
* **Hash** (``graph_util.hash_module``): every vertex starts with the MD5 of the text of its
  ``(out-degree, in-degree, label)`` triple (label -1 for the input, -2 for the output, the
  operation's index otherwise); then, ``V`` times, every vertex's hash becomes the MD5 of its
  sorted in-neighbour hashes, ``|``, its sorted out-neighbour hashes, ``|`` and its own hash;
  the cell's hash is the MD5 of the text of the sorted list of vertex hashes. Isomorphic cells
  get the same hash: it is the key of the released dataset, and so this space's ``arch_key``.

Matrices here are tuples of row tuples of 0/1 ints; functions take any vertex count, so that
tests can check small sub-spaces against a brute-force isomorphism test.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence

Matrix = tuple[tuple[int, ...], ...]

INPUT_LABEL = -1
OUTPUT_LABEL = -2


def upper_edges(vertices: int) -> tuple[tuple[int, int], ...]:
    """The possible edges ``(i, j)``, ``i < j``, in row-major order of the matrix."""
    return tuple((i, j) for i in range(vertices) for j in range(i + 1, vertices))


def matrix_from_bits(bits: Sequence[int], vertices: int) -> Matrix:
    """The adjacency matrix whose upper triangle, read row by row, is ``bits``."""
    rows = [[0] * vertices for _ in range(vertices)]
    for (i, j), b in zip(upper_edges(vertices), bits, strict=True):
        rows[i][j] = int(b)
    return tuple(tuple(r) for r in rows)


def prune(matrix: Matrix, labels: Sequence[int]) -> tuple[Matrix, tuple[int, ...]] | None:
    """Delete the vertices that are not on an input -> output path.

    Returns:
        the pruned matrix and labels, or ``None`` when the input does not reach the output.
    """
    n = len(matrix)
    forward = {0}
    frontier = [0]
    while frontier:
        v = frontier.pop()
        for w in range(v + 1, n):
            if matrix[v][w] and w not in forward:
                forward.add(w)
                frontier.append(w)
    backward = {n - 1}
    frontier = [n - 1]
    while frontier:
        v = frontier.pop()
        for w in range(v):
            if matrix[w][v] and w not in backward:
                backward.add(w)
                frontier.append(w)
    keep = sorted(forward & backward)
    if len(keep) < 2 or keep[0] != 0 or keep[-1] != n - 1:
        return None
    pruned = tuple(tuple(matrix[a][b] for b in keep) for a in keep)
    return pruned, tuple(labels[v] for v in keep)


def num_edges(matrix: Matrix) -> int:
    return sum(sum(row) for row in matrix)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def graph_hash(matrix: Matrix, labels: Sequence[int]) -> str:
    """NAS-Bench-101's isomorphism-invariant MD5 fingerprint of a (pruned) labelled DAG."""
    n = len(matrix)
    ins = [sum(matrix[w][v] for w in range(n)) for v in range(n)]
    outs = [sum(matrix[v]) for v in range(n)]
    hashes = [_md5(str((outs[v], ins[v], int(labels[v])))) for v in range(n)]
    preds = [[w for w in range(n) if matrix[w][v]] for v in range(n)]
    succs = [[w for w in range(n) if matrix[v][w]] for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5("".join(sorted(hashes[w] for w in preds[v])) + "|"
                 + "".join(sorted(hashes[w] for w in succs[v])) + "|" + hashes[v])
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


def cell_hash(matrix: Matrix, labels: Sequence[int], max_edges: int) -> str | None:
    """The hash of a raw cell after pruning, or ``None`` when it is invalid (the input does
    not reach the output, or more than ``max_edges`` edges remain)."""
    pruned = prune(matrix, labels)
    if pruned is None or num_edges(pruned[0]) > max_edges:
        return None
    return graph_hash(*pruned)


def isomorphic(a: tuple[Matrix, Sequence[int]], b: tuple[Matrix, Sequence[int]]) -> bool:
    """Exhaustive isomorphism test of two labelled DAGs (for checks on small graphs)."""
    (ma, la), (mb, lb) = a, b
    n = len(ma)
    if n != len(mb) or sorted(la) != sorted(lb) or num_edges(ma) != num_edges(mb):
        return False
    for perm in itertools.permutations(range(n)):
        if all(la[v] == lb[perm[v]] for v in range(n)) and all(
            ma[i][j] == mb[perm[i]][perm[j]] for i in range(n) for j in range(n)
        ):
            return True
    return False
