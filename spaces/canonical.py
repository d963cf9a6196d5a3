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
    ins = [sorted(e, key=lambda p: (p[1], p[0])) for e in inputs]
    initial = [(i, labels[i]) if i < fixed else (fixed, labels[i]) for i in range(n)]
    colours = _refine(_rank(initial), ins, outputs)
    return _search(colours, labels, ins, outputs)


def _rank(signatures: Sequence[object]) -> list[int]:
    order = {s: r for r, s in enumerate(sorted(set(signatures)))}  # type: ignore[type-var]
    return [order[s] for s in signatures]


def _refine(colours: list[int], ins: Inputs, outs: Inputs) -> list[int]:
    while True:
        signatures = [
            (colours[v],
             tuple(sorted((e, colours[u]) for u, e in ins[v])),
             tuple(sorted((e, colours[w]) for w, e in outs[v])))
            for v in range(len(colours))
        ]
        refined = _rank(signatures)
        if len(set(refined)) == len(set(colours)):
            return refined
        colours = refined


def _search(colours: list[int], labels: Sequence[str], ins: Inputs, outs: Inputs) -> str:
    classes: dict[int, list[int]] = {}
    for v, c in enumerate(colours):
        classes.setdefault(c, []).append(v)
    ambiguous = [members for _, members in sorted(classes.items()) if len(members) > 1]
    if not ambiguous:
        return _certificate(colours, labels, ins)
    best: str | None = None
    seen_twins: set[tuple[object, ...]] = set()
    for v in ambiguous[0]:
        twin_key = (tuple(ins[v]), tuple(sorted(outs[v])))
        if twin_key in seen_twins:
            continue
        seen_twins.add(twin_key)
        split = _rank([(c, 0 if u == v else 1) for u, c in enumerate(colours)])
        key = _search(_refine(split, ins, outs), labels, ins, outs)
        if best is None or key < best:
            best = key
    assert best is not None
    return best


def _certificate(colours: list[int], labels: Sequence[str], ins: Inputs) -> str:
    order = sorted(range(len(colours)), key=colours.__getitem__)
    position = {v: i for i, v in enumerate(order)}
    return ";".join(
        labels[v] + "<" + ",".join(sorted(f"{e}@{position[u]}" for u, e in ins[v]))
        for v in order
    )
