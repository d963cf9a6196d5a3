"""Canonical DAG keys: equal exactly for isomorphic graphs (checked against brute force)."""

from __future__ import annotations

import itertools

import numpy as np
from nasbench.spaces.canonical import canonical_dag_key

Graph = tuple[list[str], list[list[tuple[int, str]]]]


def _random_dag(rng: np.random.Generator, free: int, fixed: int = 1, node_labels: str = "ab",
                edge_labels: str = "xy") -> Graph:
    labels = [f"in{i}" for i in range(fixed)] + [str(rng.choice(list(node_labels)))
                                                 for _ in range(free)]
    inputs: list[list[tuple[int, str]]] = [[] for _ in range(fixed)]
    for v in range(fixed, fixed + free):
        sources = rng.choice(v, size=int(rng.integers(1, min(v, 3) + 1)), replace=False)
        inputs.append([(int(u), str(rng.choice(list(edge_labels)))) for u in sources])
    return labels, inputs


def _relabel(labels: list[str], inputs: list[list[tuple[int, str]]], perm: dict[int, int]
             ) -> Graph:
    n = len(labels)
    new_labels = [""] * n
    new_inputs: list[list[tuple[int, str]]] = [[] for _ in range(n)]
    for v in range(n):
        new_labels[perm[v]] = labels[v]
        new_inputs[perm[v]] = [(perm[u], e) for u, e in inputs[v]]
    return new_labels, new_inputs


def _edge_set(labels: list[str], inputs: list[list[tuple[int, str]]]) -> tuple[object, ...]:
    return (tuple(labels), frozenset((u, v, e) for v, es in enumerate(inputs) for u, e in es))


def _isomorphic(a: Graph, b: Graph, fixed: int) -> bool:
    n = len(a[0])
    target = _edge_set(*b)
    for order in itertools.permutations(range(fixed, n)):
        perm = {**{i: i for i in range(fixed)}, **dict(zip(range(fixed, n), order, strict=True))}
        if _edge_set(*_relabel(*a, perm)) == target:
            return True
    return False


def test_renumbering_free_nodes_keeps_the_key() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        labels, inputs = _random_dag(rng, free=int(rng.integers(2, 9)), fixed=2)
        free = list(range(2, len(labels)))
        shuffled = [int(i) for i in rng.permutation(free)]
        perm = {0: 0, 1: 1, **dict(zip(free, shuffled, strict=True))}
        assert canonical_dag_key(labels, inputs, fixed=2) == canonical_dag_key(
            *_relabel(labels, inputs, perm), fixed=2)


def test_keys_are_equal_exactly_for_isomorphic_graphs() -> None:
    """Every pair among small random graphs: key equality agrees with brute-force search."""
    rng = np.random.default_rng(1)
    graphs = [_random_dag(rng, free=4, node_labels="a", edge_labels="x") for _ in range(80)]
    keys = [canonical_dag_key(*g, fixed=1) for g in graphs]
    equal_pairs = 0
    for i, j in itertools.combinations(range(len(graphs)), 2):
        same = keys[i] == keys[j]
        assert same == _isomorphic(graphs[i], graphs[j], fixed=1), (graphs[i], graphs[j])
        equal_pairs += same
    assert equal_pairs > 10


def test_shared_and_duplicated_layers_differ() -> None:
    """Same multiset of paths, different sharing: C and D both read A, or one each A and B."""
    labels = ["img", "p", "p", "q", "q", "s"]
    shared = [[], [(0, "")], [(0, "")], [(1, "")], [(1, "")], [(1, ""), (2, "")]]
    split = [[], [(0, "")], [(0, "")], [(1, "")], [(2, "")], [(1, ""), (2, "")]]
    assert canonical_dag_key(labels, shared, fixed=1) != canonical_dag_key(labels, split, fixed=1)


def test_fixed_nodes_are_not_interchangeable() -> None:
    labels = ["in0", "in1", "n"]
    assert canonical_dag_key(labels, [[], [], [(0, "x")]], fixed=2) != canonical_dag_key(
        labels, [[], [], [(1, "x")]], fixed=2)


def test_symmetric_graphs_are_keyed_through_their_automorphisms() -> None:
    """Eight identical two-layer branches: 8! orderings collapse under automorphism pruning."""
    chains = 8
    labels = ["img"] + ["a"] * chains + ["b"] * chains
    inputs = [[]] + [[(0, "")] for _ in range(chains)] + [[(1 + i, "")] for i in range(chains)]
    rng = np.random.default_rng(2)
    perm = {0: 0, **dict(zip(range(1, 2 * chains + 1),
                              (int(i) for i in rng.permutation(range(1, 2 * chains + 1))),
                              strict=True))}
    assert canonical_dag_key(labels, inputs, fixed=1) == canonical_dag_key(
        *_relabel(labels, inputs, perm), fixed=1)
    crossed = [*inputs[:-2], [(chains, "")], [(chains - 1, "")]]
    assert canonical_dag_key(labels, crossed, fixed=1) == canonical_dag_key(labels, inputs, fixed=1)
    shared = [*inputs[:-1], [(1, "")]]
    assert canonical_dag_key(labels, shared, fixed=1) != canonical_dag_key(labels, inputs, fixed=1)
