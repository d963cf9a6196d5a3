"""Canonical keys of small labelled DAGs, for spaces whose architectures are graphs.

Two architectures of a cell or macro space compute the same function (up to a permutation of
channels that the next layer absorbs) when their graphs are isomorphic: same node labels, same
labelled edges, once the free nodes are renumbered. :func:`canonical_dag_key` returns a string
that is equal exactly for isomorphic graphs, so spaces can use it as their ``arch_key``.

The algorithm is the standard one for canonical labelling (as in nauty, in miniature): colour
refinement over in- and out-neighbourhoods, then, while colour classes remain ambiguous,
individualise each member of the first ambiguous class in turn and keep the smallest
certificate. Nodes with identical labelled neighbourhoods are interchangeable, so only one of
them is tried. Graphs here have at most a few dozen nodes.
"""

from __future__ import annotations

from collections.abc import Sequence

Inputs = Sequence[Sequence[tuple[int, str]]]
"""For each node, its incoming edges as ``(source node, edge label)``."""


def canonical_dag_key(labels: Sequence[str], inputs: Inputs, fixed: int = 0) -> str:
    """A string equal for two graphs exactly when they are isomorphic.

    Args:
        labels: one label per node (what the node computes).
        inputs: for each node, its incoming edges ``(source, edge label)``.
        fixed: the first ``fixed`` nodes are distinguished (e.g. the cell's input nodes) and
            keep their identity; the others may be renumbered.

    Returns:
        The graph written in its canonical numbering: ``label<edge@source,...`` per node,
        joined by ``;``.
    """
    n = len(labels)
    outputs: list[list[tuple[int, str]]] = [[] for _ in range(n)]
    for v, edges in enumerate(inputs):
        for u, edge in edges:
            outputs[u].append((v, edge))
    search = _Search(labels, [sorted(e, key=lambda p: (p[1], p[0])) for e in inputs],
                     [sorted(e, key=lambda p: (p[1], p[0])) for e in outputs])
    initial = [(i, labels[i]) if i < fixed else (fixed, labels[i]) for i in range(n)]
    search.run(search.refine(_rank(initial)), ())
    assert search.best is not None
    return search.best


def _rank(signatures: Sequence[object]) -> list[int]:
    order = {s: r for r, s in enumerate(sorted(set(signatures)))}  # type: ignore[type-var]
    return [order[s] for s in signatures]


class _Search:
    """Individualisation-refinement over colourings, pruned by the automorphisms it finds.

    Two leaves with equal certificates give an automorphism (node at position i of one ->
    node at position i of the other). At a search node, a candidate in the same orbit as one
    already tried, under the found automorphisms that fix the individualised nodes, leads to
    the same certificates and is skipped; so are exact twins (same labelled neighbours).
    """

    def __init__(self, labels: Sequence[str], ins: Inputs, outs: Inputs) -> None:
        self.labels, self.ins, self.outs = labels, ins, outs
        self.best: str | None = None
        self.best_order: list[int] = []
        self.automorphisms: list[list[int]] = []

    def refine(self, colours: list[int]) -> list[int]:
        while True:
            signatures = [
                (colours[v],
                 tuple(sorted((e, colours[u]) for u, e in self.ins[v])),
                 tuple(sorted((e, colours[w]) for w, e in self.outs[v])))
                for v in range(len(colours))
            ]
            refined = _rank(signatures)
            if len(set(refined)) == len(set(colours)):
                return refined
            colours = refined

    def run(self, colours: list[int], prefix: tuple[int, ...]) -> None:
        classes: dict[int, list[int]] = {}
        for v, c in enumerate(colours):
            classes.setdefault(c, []).append(v)
        ambiguous = [members for _, members in sorted(classes.items()) if len(members) > 1]
        if not ambiguous:
            self._leaf(colours)
            return
        tried: list[int] = []
        twins: set[tuple[object, ...]] = set()
        for v in ambiguous[0]:
            twin_key = (tuple(self.ins[v]), tuple(self.outs[v]))
            if twin_key in twins or self._equivalent(v, tried, prefix):
                continue
            twins.add(twin_key)
            tried.append(v)
            split = _rank([(c, 0 if u == v else 1) for u, c in enumerate(colours)])
            self.run(self.refine(split), (*prefix, v))

    def _leaf(self, colours: list[int]) -> None:
        order = sorted(range(len(colours)), key=colours.__getitem__)
        position = {v: i for i, v in enumerate(order)}
        certificate = ";".join(
            self.labels[v] + "<" + ",".join(sorted(f"{e}@{position[u]}" for u, e in self.ins[v]))
            for v in order
        )
        if self.best is None or certificate < self.best:
            self.best, self.best_order = certificate, order
        elif certificate == self.best:
            mapping = [0] * len(order)
            for a, b in zip(self.best_order, order, strict=True):
                mapping[a] = b
            self.automorphisms.append(mapping)

    def _equivalent(self, v: int, tried: list[int], prefix: tuple[int, ...]) -> bool:
        """Whether an automorphism fixing ``prefix`` maps ``v`` to a tried candidate."""
        if not tried:
            return False
        parent = list(range(len(self.labels)))

        def root(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for gamma in self.automorphisms:
            if all(gamma[p] == p for p in prefix):
                for a, b in enumerate(gamma):
                    parent[root(a)] = root(b)
        return any(root(v) == root(u) for u in tried)
