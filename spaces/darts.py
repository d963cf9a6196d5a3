"""The DARTS cell space (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019).

An architecture is a normal cell and a reduction cell. Each cell has two input nodes (the
outputs of the two previous cells, ``c_{k-2}`` and ``c_{k-1}``) and four intermediate nodes;
intermediate node ``k`` (numbered 2..5, as in DARTS) sums two operations applied to two
*different* earlier nodes; the cell outputs the concatenation of the four intermediate nodes.
Decisions, per cell and node: ``input_a``, ``op_a``, ``input_b``, ``op_b`` (32 in all);
in the decision walk (:meth:`DartsSpace.next_decision`) ``input_b`` excludes ``input_a``.

Operations: DARTS's eight primitives. ``none`` is part of the continuous relaxation but never
of a derived cell (derivation keeps the strongest non-zero operation), so by default the
discrete space has the other seven; ``allow_none = true`` adds it back.

Canonical key: a cell is a DAG over its two fixed inputs and four free intermediate nodes.
Swapping a node's two inputs, or renumbering intermediate nodes in any order that keeps the
graph, computes the same function up to a permutation of the concatenated channels, which the
next cell's 1x1 preprocessing (and the classifier) absorbs. The key is the canonical form of
both graphs (:mod:`nasbench.spaces.canonical`).

String format: DARTS's ``Genotype`` (``genotypes.py`` of the released code)::

    Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5],
             reduce=[('max_pool_3x3', 0), ...], reduce_concat=[2, 3, 4, 5])

listing ``(op, input)`` for node 2's two edges, then node 3's, and so on.

Networks: :meth:`DartsSpace.build` returns DARTS's ``NetworkCIFAR`` (:mod:`.darts_net`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.hookspecs import hookimpl
from nasbench.params import param

from .canonical import canonical_dag_key

if TYPE_CHECKING:
    import numpy as np

PRIMITIVES: tuple[str, ...] = (
    "none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
    "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
)
"""DARTS's operations, in its order."""

CELLS = ("normal", "reduce")
STEPS = 4
"""Intermediate nodes per cell."""
_PER_NODE = 4
_PER_CELL = STEPS * _PER_NODE
_CONCAT = list(range(2, 2 + STEPS))

EDGE_OFFSETS = tuple(sum(k + 2 for k in range(step)) for step in range(STEPS))
"""In the supernet, index of the first edge into each intermediate node: node ``k`` (from 0)
has an edge from each of the ``k + 2`` earlier states."""
EDGES_PER_CELL = EDGE_OFFSETS[-1] + STEPS + 1
"""Edges of a supernet cell (14)."""
_NONE = PRIMITIVES.index("none")

Genotype = dict[str, list[tuple[str, int]]]
"""``{"normal": [(op, input), ...], "reduce": [...]}``: two edges per intermediate node."""


@dataclass(frozen=True)
class DartsParams:
    allow_none: bool = param(
        False, doc="offer the 'none' operation (derived DARTS cells never contain it)",
        published="Liu et al. 2019: 8 primitives in the relaxation, 'none' excluded at "
                  "derivation",
    )


def _node_input_names(node: int) -> tuple[str, ...]:
    return ("c_{k-2}", "c_{k-1}", *(f"node{i}" for i in range(2, node)))


class DartsSpace(SearchSpace):
    """DARTS's normal and reduction cells: four nodes, two inputs each."""

    name: ClassVar[str] = "darts"
    summary: ClassVar[str] = "DARTS cells: normal + reduction, 4 nodes x 2 inputs (Liu et al. 2019)"
    capabilities: ClassVar[frozenset[str]] = frozenset({"build", "supernet"})
    data_kind: ClassVar[str | None] = "image"
    Params: ClassVar[type] = DartsParams

    @cached_property
    def ops(self) -> tuple[str, ...]:
        """The operations of this space, in DARTS's order."""
        return PRIMITIVES if self.params.allow_none else PRIMITIVES[1:]

    @cached_property
    def _decisions(self) -> tuple[Decision, ...]:
        out = []
        for cell in CELLS:
            for node in range(2, 2 + STEPS):
                inputs = _node_input_names(node)
                for edge in ("a", "b"):
                    out.append(Decision(f"{cell}.node{node}.input_{edge}", inputs))
                    out.append(Decision(f"{cell}.node{node}.op_{edge}", self.ops))
        return tuple(out)

    def decisions(self) -> tuple[Decision, ...]:
        return self._decisions

    def next_decision(self, prefix: Architecture) -> Decision | None:
        """The decisions in order; a node's second input excludes its first, so that every
        walk a controller takes ends in a valid cell."""
        i = len(prefix)
        if i >= len(self._decisions):
            return None
        decision = self._decisions[i]
        if i % _PER_NODE == 2:
            return Decision(decision.name, decision.choices, excluded=(prefix[i - 2],))
        return decision

    def validate(self, arch: Architecture) -> None:
        super().validate(arch)
        for cell in range(len(CELLS)):
            for step in range(STEPS):
                k = cell * _PER_CELL + step * _PER_NODE
                if arch[k] == arch[k + 2]:
                    raise InvalidArchitectureError(
                        f"darts: {CELLS[cell]} node {step + 2} reads "
                        f"{_node_input_names(step + 2)[arch[k]]} twice; its two inputs must "
                        "be different nodes"
                    )

    def size(self) -> int:
        per_cell = 1
        for node in range(2, 2 + STEPS):
            per_cell *= node * (node - 1) * len(self.ops) ** 2
        return per_cell ** len(CELLS)

    # -- sampling and neighbourhoods ------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        """Uniform over valid architectures: per node, two distinct inputs and two ops."""
        n_ops = float(len(self.ops))
        draws = iter(rng.random(len(CELLS) * STEPS * _PER_NODE).tolist())
        arch: list[int] = []
        for _ in CELLS:
            for node in range(2, 2 + STEPS):
                a = int(next(draws) * node)
                b = int(next(draws) * (node - 1))
                b += b >= a
                arch += [a, int(next(draws) * n_ops), b, int(next(draws) * n_ops)]
        return tuple(arch)

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one edge's operation, or move one edge to a different earlier node.

        The kind of mutation is drawn with equal odds (Real et al. 2019's op and hidden-state
        mutations); a node whose inputs cannot move (node 2 reads both cell inputs) gets an
        operation mutation.
        """
        u_kind, u_edge, u_choice = rng.random(3).tolist()
        edge = int(u_edge * len(CELLS) * STEPS * 2)
        node = 2 + (edge // 2) % STEPS
        k = (edge // 2) * _PER_NODE + (edge % 2) * 2
        other = arch[k + 2] if edge % 2 == 0 else arch[k - 2]
        free = [i for i in range(node) if i not in (arch[k], other)]
        if u_kind < 0.5 and free:
            choice = free[int(u_choice * len(free))]
            return (*arch[:k], choice, *arch[k + 1:])
        op = int(u_choice * (len(self.ops) - 1))
        op += op >= arch[k + 1]
        return (*arch[: k + 1], op, *arch[k + 2:])

    # -- names --------------------------------------------------------------------------------
    def genotype(self, arch: Architecture) -> Genotype:
        """The ``(op, input)`` pairs of each cell, in DARTS's order."""
        self.validate(arch)
        out: Genotype = {}
        for c, cell in enumerate(CELLS):
            chunk = arch[c * _PER_CELL:(c + 1) * _PER_CELL]
            out[cell] = [(self.ops[chunk[i + 1]], chunk[i]) for i in range(0, _PER_CELL, 2)]
        return out

    def arch_key(self, arch: Architecture) -> str:
        keys = []
        for cell, edges in self.genotype(arch).items():
            inputs = [[], [], *([(src, op) for op, src in edges[2 * s:2 * s + 2]]
                                for s in range(STEPS))]
            labels = ["c_{k-2}", "c_{k-1}", *["node"] * STEPS]
            keys.append(f"{cell}:{canonical_dag_key(labels, inputs, fixed=2)}")
        return " | ".join(keys)

    def to_string(self, arch: Architecture) -> str:
        g = self.genotype(arch)
        return (f"Genotype(normal={g['normal']!r}, normal_concat={_CONCAT!r}, "
                f"reduce={g['reduce']!r}, reduce_concat={_CONCAT!r})")

    def from_string(self, text: str) -> Architecture:
        fields = _parse_genotype(text)
        arch: list[int] = []
        for cell in CELLS:
            edges = fields.get(cell)
            if not isinstance(edges, list) or len(edges) != 2 * STEPS:
                raise InvalidArchitectureError(
                    f"darts: '{cell}' must list {2 * STEPS} (op, input) pairs, got {edges!r}"
                )
            concat = fields.get(f"{cell}_concat", _CONCAT)
            if list(concat) != _CONCAT:
                raise InvalidArchitectureError(
                    f"darts: {cell}_concat must be {_CONCAT} (every intermediate node), got "
                    f"{concat!r}"
                )
            for i, edge in enumerate(edges):
                node = 2 + i // 2
                if (not isinstance(edge, tuple) or len(edge) != 2 or edge[0] not in self.ops
                        or not isinstance(edge[1], int) or not 0 <= edge[1] < node):
                    raise InvalidArchitectureError(
                        f"darts: bad edge {edge!r} of {cell} node {node}; expected (op, input) "
                        f"with op in {', '.join(self.ops)} and input in 0..{node - 1}"
                    )
                arch += [edge[1], self.ops.index(edge[0])]
        out = tuple(arch)
        self.validate(out)
        return out

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["string_format"] = ("Genotype(normal=[(op, input), ...8], normal_concat=[2, 3, 4, 5], "
                                "reduce=[...8], reduce_concat=[2, 3, 4, 5])")
        out["example"] = self.to_string(self.from_string(DARTS_V2))
        return out

    # -- networks ----------------------------------------------------------------------------
    def size_defaults(self) -> dict[str, Any]:
        """``C``: initial channels; ``layers``: cells; ``auxiliary``: auxiliary head.

        The defaults are DARTS's search network (16 channels, 8 cells); its evaluation network
        has 36 channels and 20 cells, trained with an auxiliary head (weight 0.4) and
        drop-path (0.2); see :data:`EVAL_SIZE`.
        """
        return {"C": 16, "layers": 8, "auxiliary": False}

    def build(
        self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int, **size: Any
    ) -> Any:
        """DARTS's ``NetworkCIFAR`` for ``arch`` (see :mod:`nasbench.spaces.darts_net`)."""
        from nasbench.spaces.darts_net import DartsNetwork

        genotype = self.genotype(arch)
        self.check_input(input_shape, num_classes)
        dims = self.resolve_size(size)
        if dims["C"] < 1 or dims["layers"] < 1:
            raise ConfigError("size", f"darts needs C >= 1 and layers >= 1, got {dims}")
        return DartsNetwork(genotype, input_shape=input_shape, num_classes=num_classes, **dims)

    # -- weight sharing ----------------------------------------------------------------------
    def supernet_size_defaults(self) -> dict[str, Any]:
        """DARTS's search network: 16 channels, 8 cells, non-affine batch norm tracking
        running statistics in cells, a batch norm after each pooling operation (the released
        ``model_search.py``)."""
        return {"C": 16, "layers": 8, "affine": False, "track_running_stats": True,
                "pool_bn": True}

    def build_supernet(self, *, input_shape: tuple[int, ...], num_classes: int,
                       **size: Any) -> Any:
        """All eight operations on all 14 edges of each cell
        (:mod:`nasbench.spaces.darts_supernet`)."""
        from nasbench.spaces.darts_supernet import DartsSupernet

        self.check_input(input_shape, num_classes)
        dims = self.resolve_supernet_size(size)
        if dims["C"] < 1 or dims["layers"] < 1:
            raise ConfigError("size", f"darts needs C >= 1 and layers >= 1, got {dims}")
        return DartsSupernet(self, input_shape=input_shape, num_classes=num_classes, **dims)

    def relaxation_shapes(self) -> tuple[tuple[int, int], ...]:
        """One (14 edges, 8 operations) matrix for normal cells, one for reduction cells;
        ``none`` is part of the relaxation whether or not the discrete space offers it."""
        return tuple((EDGES_PER_CELL, len(PRIMITIVES)) for _ in CELLS)

    def derive(self, weights: Any) -> Architecture:
        """DARTS's ``genotype()``: per node, each incoming edge's strongest operation other
        than ``none``, and the two edges whose such operation is strongest (ties: the earlier
        edge)."""
        arch: list[int] = []
        for matrix in weights:
            for step in range(STEPS):
                rows = matrix[EDGE_OFFSETS[step]:EDGE_OFFSETS[step] + step + 2]
                best = [max((k for k in range(len(PRIMITIVES)) if k != _NONE),
                            key=lambda k, row=row: (row[k], -k)) for row in rows]
                strength = [float(row[k]) for row, k in zip(rows, best, strict=True)]
                top = sorted(range(len(rows)), key=lambda i: (-strength[i], i))[:2]
                for source in top:
                    arch += [source, self.ops.index(PRIMITIVES[best[source]])]
        return tuple(arch)


EVAL_SIZE: dict[str, Any] = {"C": 36, "layers": 20, "auxiliary": True}
"""DARTS's evaluation network on CIFAR-10 (Liu et al. 2019, section 3.3)."""

DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
"""The cell DARTS (second order) found on CIFAR-10, from its released ``genotypes.py``."""

_RANGE = re.compile(r"range\(\s*(\d+)\s*,\s*(\d+)\s*\)")


def _parse_genotype(text: str) -> dict[str, Any]:
    """The keyword fields of a ``Genotype(...)`` expression, read without evaluating code."""
    source = _RANGE.sub(lambda m: repr(list(range(int(m[1]), int(m[2])))), text.strip())
    try:
        call = ast.parse(source, mode="eval").body
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id == "Genotype" and not call.args):
            raise ValueError("not a Genotype(...) call with keyword fields")
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    except (SyntaxError, ValueError) as err:
        raise InvalidArchitectureError(
            f"darts: cannot read {text!r} as a DARTS genotype ({err}); expected "
            "Genotype(normal=[(op, input), ...], normal_concat=[2, 3, 4, 5], reduce=[...], "
            "reduce_concat=[2, 3, 4, 5])"
        ) from None


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(DartsSpace)
