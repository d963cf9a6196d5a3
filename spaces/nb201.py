"""The NAS-Bench-201 cell space (Dong & Yang, ICLR 2020).

A cell is a DAG of four nodes (0 = input, 3 = output) with an edge i -> j for every i < j; each
of the six edges carries one of five operations, and a node sums its incoming edges: 5^6 =
15,625 cells. Decisions are the edges in the order of the public string format
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (node 1, node 2, node 3).

Canonical key: NAS-Bench-201's own folding of isomorphic cells. Node 0 is ``0``; an edge from
node i contributes ``#`` (zero) when its op is ``none`` or node i is exactly ``#``, node i's
expression itself when its op is ``skip_connect``, and ``(expr_i)@op`` otherwise; a node is
the ``+``-join of its sorted contributions; the key is node 3's expression. It reproduces the
benchmark's ``unique_str`` column exactly (15,625 cells, 6,466 keys).

Networks: :meth:`Nb201Space.build` returns the benchmark's network (``nb201_net``) for any
width ``C``, cells per stage ``N``, input size and number of classes; ``C=16, N=5`` is the
benchmark's own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.hookspecs import hookimpl

if TYPE_CHECKING:
    import numpy as np

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""Operation labels, in NAS-Bench-201's order."""

EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""(source, target) of each decision, in the string format's order."""

_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_OP = "(" + "|".join(OPS) + ")"
_CANONICAL = re.compile(
    rf"\|{_OP}~0\|\+\|{_OP}~0\|{_OP}~1\|\+\|{_OP}~0\|{_OP}~1\|{_OP}~2\|")
"""A cell string exactly as :func:`_to_string` writes it (parsed in one match; anything else
goes through the checks of :meth:`Nb201Space.from_string`)."""
_DECISIONS = tuple(Decision(f"edge_{j}<-{i}", OPS) for i, j in EDGES)

NASLIB_OPS: tuple[str, ...] = (
    "skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3"
)
"""Operation order of NASLib's NAS-Bench-201 encoding."""
NASLIB_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
"""(source, target) of each position in NASLib's NAS-Bench-201 encoding."""


def from_naslib(ops: Sequence[int]) -> Architecture:
    """The cell NASLib writes as six op indices (NAS-Bench-Suite-Zero's keys, e.g.
    ``(0, 2, 3, 2, 3, 1)``), on its own edge and operation orders."""
    if len(ops) != len(NASLIB_EDGES) or not all(0 <= o < len(NASLIB_OPS) for o in ops):
        raise InvalidArchitectureError(
            f"nb201: a NASLib cell is six op indices in 0..4, got {tuple(ops)!r}"
        )
    by_edge = {edge: NASLIB_OPS[o] for edge, o in zip(NASLIB_EDGES, ops, strict=True)}
    return tuple(_OP_INDEX[by_edge[edge]] for edge in EDGES)


@cache
def _to_string(arch: Architecture) -> str:
    nodes = []
    k = 0
    for j in (1, 2, 3):
        nodes.append("|" + "|".join(f"{OPS[arch[k + i]]}~{i}" for i in range(j)) + "|")
        k += j
    return "+".join(nodes)


@cache
def _unique_str(arch: Architecture) -> str:
    exprs = ["0"]
    k = 0
    for j in (1, 2, 3):
        terms = []
        for i in range(j):
            op = OPS[arch[k + i]]
            src = exprs[i]
            if op == "none" or src == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(src)
            else:
                terms.append(f"({src})@{op}")
        exprs.append("+".join(sorted(terms)))
        k += j
    return exprs[3]


class Nb201Space(SearchSpace):
    """NAS-Bench-201's cell: six edges, five operations each."""

    name: ClassVar[str] = "nb201"
    summary: ClassVar[str] = "NAS-Bench-201 cell: 6 edges x 5 ops = 15,625 cells (Dong & Yang 2020)"
    capabilities: ClassVar[frozenset[str]] = frozenset({"enumerate", "build", "supernet"})
    data_kind: ClassVar[str | None] = "image"

    ops = OPS
    edges = EDGES

    def decisions(self) -> tuple[Decision, ...]:
        return _DECISIONS

    def sample(self, rng: np.random.Generator) -> Architecture:
        # floor(5u) of a double is uniform over 0..4 (bias below 2^-50), and several times
        # faster than Generator.integers on small draws.
        return tuple([int(u * 5.0) for u in rng.random(6).tolist()])

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one edge to a different operation (NAS-Bench-201's evolution baseline)."""
        u, v = rng.random(2).tolist()
        edge = int(u * 6.0)
        op = int(v * 4.0)
        if op >= arch[edge]:
            op += 1
        return (*arch[:edge], op, *arch[edge + 1 :])

    def size(self) -> int:
        return 5**6

    def enumerate(self) -> Iterator[Architecture]:
        return itertools.product(range(5), repeat=6)

    def arch_key(self, arch: Architecture) -> str:
        return _unique_str(arch)

    def to_string(self, arch: Architecture) -> str:
        return _to_string(arch)

    def from_string(self, text: str) -> Architecture:
        canonical = _CANONICAL.fullmatch(text)
        if canonical is not None:  # a table's 15,625 cells are parsed once per process
            return tuple(map(_OP_INDEX.__getitem__, canonical.groups()))
        nodes = text.strip().split("+")
        if len(nodes) != 3:
            raise InvalidArchitectureError(
                f"nb201: expected three nodes '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|', got {text!r}"
            )
        arch: list[int] = []
        for j, node in enumerate(nodes, start=1):
            parts = [p for p in node.split("|") if p]
            if len(parts) != j:
                raise InvalidArchitectureError(
                    f"nb201: node {j} must list {j} inputs, got {node!r} in {text!r}"
                )
            for i, part in enumerate(parts):
                op, _, src = part.partition("~")
                if op not in _OP_INDEX or src != str(i):
                    raise InvalidArchitectureError(
                        f"nb201: bad edge {part!r} in {text!r}; expected 'op~{i}' with op in "
                        f"{', '.join(OPS)}"
                    )
                arch.append(_OP_INDEX[op])
        return tuple(arch)

    def size_defaults(self) -> dict[str, Any]:
        """``C``: channels of the first stage; ``N``: cells per stage (the benchmark: 16, 5)."""
        return {"C": 16, "N": 5}

    def build(
        self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int, **size: Any
    ) -> Any:
        """The NAS-Bench-201 network of ``arch`` (see :mod:`nasbench.spaces.nb201_net`)."""
        from nasbench.spaces.nb201_net import Nb201Network

        self.validate(arch)
        self.check_input(input_shape, num_classes)
        dims = self.resolve_size(size)
        if dims["C"] < 1 or dims["N"] < 0:
            raise ConfigError("size", f"nb201 needs C >= 1 and N >= 0, got {dims}")
        return Nb201Network(arch, in_channels=input_shape[0], num_classes=num_classes, **dims)

    # -- weight sharing -----------------------------------------------------------------------
    def supernet_size_defaults(self) -> dict[str, Any]:
        """The network's size keys, and how cells normalise: non-affine batch norm that tracks
        running statistics (NAS-Bench-201's search code for its weight-sharing baselines)."""
        return {**self.size_defaults(), "affine": False, "track_running_stats": True}

    def build_supernet(self, *, input_shape: tuple[int, ...], num_classes: int,
                       **size: Any) -> Any:
        """Every edge holds all five operations (:mod:`nasbench.spaces.nb201_supernet`)."""
        from nasbench.spaces.nb201_supernet import Nb201Supernet

        self.check_input(input_shape, num_classes)
        dims = self.resolve_supernet_size(size)
        if dims["C"] < 1 or dims["N"] < 0:
            raise ConfigError("size", f"nb201 needs C >= 1 and N >= 0, got {dims}")
        return Nb201Supernet(in_channels=input_shape[0], num_classes=num_classes, **dims)

    def relaxation_shapes(self) -> tuple[tuple[int, int], ...]:
        """One row per edge, one column per operation (shared by every cell)."""
        return ((len(EDGES), len(OPS)),)

    def derive(self, weights: Any) -> Architecture:
        """Every edge keeps its strongest operation, ``none`` included (NAS-Bench-201's
        derivation for DARTS)."""
        (matrix,) = weights
        return tuple(int(row.argmax()) for row in matrix)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["string_format"] = "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"
        out["example"] = self.to_string((3, 3, 4, 1, 3, 1))
        return out


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(Nb201Space)
