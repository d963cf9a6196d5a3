"""The NAS-Bench-101 cell space (Ying et al., "NAS-Bench-101: Towards Reproducible Neural
Architecture Search", ICML 2019).

A cell is a DAG of 7 vertices: vertex 0 the input, vertex 6 the output, and five interior
vertices that each apply one of ``conv3x3-bn-relu``, ``conv1x1-bn-relu`` or ``maxpool3x3``.
Edges go from lower to higher vertices (an upper-triangular adjacency matrix, 21 possible
edges). Decisions: the 21 edges in row-major order (``edge_0->1``, ``edge_0->2``, ...; choice
``off``/``on``), then the five interior operations (``op_1`` .. ``op_5``):
2^21 x 3^5 = 509,607,936 raw cells.

Validity is the released code's: vertices that are not on an input -> output path are pruned
(they compute nothing the output sees); the input must reach the output, and at most 9 edges
may remain (:mod:`nasbench.spaces.nb101_graph`). The key (:meth:`Nb101Space.arch_key`) is the
benchmark's own MD5 graph hash of the pruned cell, so isomorphic cells, and raw cells that
prune to the same graph, share it; it is also the ``module_hash`` of the released dataset.
The paper counts 423,624 unique cells (:data:`UNIQUE_CELLS`; recomputed by
``tests/bench/nb101_unique_count.py``).

String format: the 7x7 adjacency rows separated by ``/``, then ``|`` and the seven vertex
labels as the released ``ModelSpec`` lists them::

    0111010/0000001/0000001/0000100/0000001/0000001/0000000|input,conv1x1-bn-relu,...,output

:meth:`Nb101Space.from_string` also reads smaller matrices (the dataset stores pruned cells
of 2 to 7 vertices): their interior vertices are placed first, the output last, and the unused
vertices are left unconnected (``conv3x3-bn-relu``, pruned away).

Sampling and mutation are those of the released example notebook (``NASBench.ipynb``):
uniform bits and operations, redrawn until valid; a mutation flips each edge with
probability 1/7 and changes each operation to a different one with probability 1/5, redrawn
until the child is valid and differs from its parent. :meth:`neighbours` flips one edge or
changes one operation.

Networks: :meth:`Nb101Space.build` returns the benchmark's CIFAR network
(:mod:`nasbench.spaces.nb101_net`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.hookspecs import hookimpl

from .nb101_graph import (
    INPUT_LABEL,
    OUTPUT_LABEL,
    Matrix,
    cell_hash,
    matrix_from_bits,
    num_edges,
    prune,
    upper_edges,
)

if TYPE_CHECKING:
    import numpy as np

NUM_VERTICES = 7
MAX_EDGES = 9
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
"""Interior operations, in the order of the released ``config['available_ops']`` (the hash's
labels are these indices)."""
INPUT, OUTPUT = "input", "output"
EDGES = upper_edges(NUM_VERTICES)
N_EDGES = len(EDGES)
N_OPS = NUM_VERTICES - 2

UNIQUE_CELLS = 423_624
"""Distinct graph hashes of valid cells, as the paper states (Ying et al. 2019, section 2.2);
``tests/bench/nb101_unique_count.py`` recomputes it from this module's rules."""
RAW_CELLS = 2**N_EDGES * len(OPS) ** N_OPS

_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_DECISIONS = (
    *(Decision(f"edge_{i}->{j}", ("off", "on")) for i, j in EDGES),
    *(Decision(f"op_{v}", OPS) for v in range(1, NUM_VERTICES - 1)),
)


def split(arch: Architecture) -> tuple[Matrix, tuple[int, ...]]:
    """The raw matrix and vertex labels (-1 input, op index, -2 output) of ``arch``."""
    matrix = matrix_from_bits(arch[:N_EDGES], NUM_VERTICES)
    return matrix, (INPUT_LABEL, *arch[N_EDGES:], OUTPUT_LABEL)


@lru_cache(maxsize=1 << 16)
def _key(arch: Architecture) -> str | None:
    return cell_hash(*split(arch), MAX_EDGES)


def pruned_cell(arch: Architecture) -> tuple[Matrix, tuple[str, ...]]:
    """The pruned matrix and operation names (``input`` .. ``output``) of a valid ``arch``."""
    pruned = prune(*split(arch))
    if pruned is None:
        raise InvalidArchitectureError("nb101: the input does not reach the output")
    matrix, labels = pruned
    names = tuple(INPUT if v == INPUT_LABEL else OUTPUT if v == OUTPUT_LABEL else OPS[v]
                  for v in labels)
    return matrix, names


def from_spec(matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> Architecture:
    """The architecture of a ``ModelSpec``-like ``(matrix, ops)`` with 2 to 7 vertices.

    Raises:
        InvalidArchitectureError: for a matrix that is not square and upper triangular with
            0/1 entries, or labels that are not ``input``, interior operations, ``output``.
    """
    n = len(matrix)
    if not 2 <= n <= NUM_VERTICES or any(len(row) != n for row in matrix):
        raise InvalidArchitectureError(
            f"nb101: expected a square matrix of 2 to {NUM_VERTICES} rows, got {n} rows"
        )
    if len(ops) != n or ops[0] != INPUT or ops[-1] != OUTPUT:
        raise InvalidArchitectureError(
            f"nb101: expected {n} labels from 'input' to 'output', got {list(ops)!r}"
        )
    bad = [op for op in ops[1:-1] if op not in _OP_INDEX]
    if bad:
        raise InvalidArchitectureError(
            f"nb101: unknown operation {bad[0]!r}; expected one of {', '.join(OPS)}"
        )
    where = [*range(n - 1), NUM_VERTICES - 1]
    full = [[0] * NUM_VERTICES for _ in range(NUM_VERTICES)]
    for a in range(n):
        for b in range(n):
            value = matrix[a][b]
            if value not in (0, 1) or (value and b <= a):
                raise InvalidArchitectureError(
                    "nb101: the adjacency matrix must be upper triangular with 0/1 entries"
                )
            full[where[a]][where[b]] = int(value)
    interior = [_OP_INDEX[op] for op in ops[1:-1]]
    interior += [0] * (N_OPS - len(interior))
    return (*(full[i][j] for i, j in EDGES), *interior)


class Nb101Space(SearchSpace):
    """NAS-Bench-101's cell: a 7-vertex DAG, 3 operations, at most 9 edges."""

    name: ClassVar[str] = "nb101"
    summary: ClassVar[str] = (
        "NAS-Bench-101 cell: 7-vertex DAG, 3 ops, <= 9 edges; 423,624 unique (Ying et al. 2019)"
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"build"})
    data_kind: ClassVar[str | None] = "image"

    ops = OPS

    def decisions(self) -> tuple[Decision, ...]:
        return _DECISIONS

    def validate(self, arch: Architecture) -> None:
        super().validate(arch)
        pruned = prune(*split(arch))
        if pruned is None:
            raise InvalidArchitectureError(
                f"nb101: the input does not reach the output in {self.to_string(arch)}"
            )
        edges = num_edges(pruned[0])
        if edges > MAX_EDGES:
            raise InvalidArchitectureError(
                f"nb101: {edges} edges remain after pruning {self.to_string(arch)}; at most "
                f"{MAX_EDGES} are allowed"
            )

    def is_valid(self, arch: Architecture) -> bool:
        if not (isinstance(arch, tuple) and len(arch) == N_EDGES + N_OPS):
            return False
        if any(b not in (0, 1) for b in arch[:N_EDGES]) or any(
            o not in (0, 1, 2) for o in arch[N_EDGES:]
        ):
            return False
        return _key(arch) is not None

    def sample(self, rng: np.random.Generator) -> Architecture:
        """Uniform edge bits and operations, redrawn until valid (the released notebook's
        ``random_spec``)."""
        while True:
            bits = rng.integers(2, size=N_EDGES).tolist()
            ops = rng.integers(len(OPS), size=N_OPS).tolist()
            arch = (*bits, *ops)
            if self.is_valid(arch):
                return arch

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Flip each edge with probability 1/7 and change each operation with probability
        1/5 (``mutate_spec`` of the released notebook, mutation rate 1), until the child is
        valid and differs from ``arch``."""
        while True:
            u = rng.random(N_EDGES + 2 * N_OPS).tolist()
            bits = [1 - b if u[k] < 1 / NUM_VERTICES else b
                    for k, b in enumerate(arch[:N_EDGES])]
            ops = list(arch[N_EDGES:])
            for v in range(N_OPS):
                if u[N_EDGES + v] < 1 / N_OPS:
                    other = int(u[N_EDGES + N_OPS + v] * (len(OPS) - 1))
                    ops[v] = other + 1 if other >= ops[v] else other
            child = (*bits, *ops)
            if child != arch and self.is_valid(child):
                return child

    def size(self) -> int:
        return RAW_CELLS

    def arch_key(self, arch: Architecture) -> str:
        key = _key(arch)
        if key is None:
            self.validate(arch)
        return key  # type: ignore[return-value]

    def to_string(self, arch: Architecture) -> str:
        matrix, labels = split(tuple(arch))
        names = [INPUT, *(OPS[o] if 0 <= o < len(OPS) else str(o) for o in labels[1:-1]),
                 OUTPUT]
        rows = "/".join("".join(str(b) for b in row) for row in matrix)
        return f"{rows}|{','.join(names)}"

    def from_string(self, text: str) -> Architecture:
        rows, sep, names = text.strip().partition("|")
        if not sep:
            raise InvalidArchitectureError(
                f"nb101: expected 'adjacency rows separated by / | input,op,...,output', "
                f"got {text!r}"
            )
        matrix = []
        for row in rows.split("/"):
            if not row or any(c not in "01" for c in row):
                raise InvalidArchitectureError(f"nb101: bad adjacency row {row!r} in {text!r}")
            matrix.append([int(c) for c in row])
        arch = from_spec(matrix, names.split(","))
        self.validate(arch)
        return arch

    def size_defaults(self) -> dict[str, Any]:
        """``stem_channels``: the stem's output channels; ``stacks``: stacks of cells, each
        after the first preceded by a 2x2 max-pool that halves the resolution and doubles
        the channels; ``cells_per_stack`` (the benchmark: 128, 3, 3)."""
        return {"stem_channels": 128, "stacks": 3, "cells_per_stack": 3}

    def build(
        self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int, **size: Any
    ) -> Any:
        """The NAS-Bench-101 network of ``arch`` (see :mod:`nasbench.spaces.nb101_net`)."""
        from nasbench.spaces.nb101_net import Nb101Network

        self.validate(arch)
        self.check_input(input_shape, num_classes)
        dims = self.resolve_size(size)
        if dims["stem_channels"] < 1 or dims["stacks"] < 1 or dims["cells_per_stack"] < 0:
            raise ConfigError(
                "size", f"nb101 needs stem_channels >= 1, stacks >= 1 and cells_per_stack >= 0, "
                f"got {dims}"
            )
        matrix, names = pruned_cell(arch)
        return Nb101Network(matrix, names, in_channels=input_shape[0],
                            num_classes=num_classes, **dims)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["unique"] = UNIQUE_CELLS
        out["unique_note"] = (
            "distinct graph hashes of valid cells (pruned, <= 9 edges), as stated by Ying et "
            "al. 2019; 'size' counts raw cells (2^21 edge bits x 3^5 operations); recomputed "
            "by tests/bench/nb101_unique_count.py"
        )
        out["max_edges"] = MAX_EDGES
        out["string_format"] = "adjacency rows joined by '/' | input,op_1,...,op_5,output"
        out["example"] = self.to_string(from_spec(
            [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
             [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
             [0, 0, 0, 0, 0, 0, 0]],
            [INPUT, "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
             "maxpool3x3", OUTPUT],
        ))
        return out


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(Nb101Space)
