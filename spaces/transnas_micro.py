"""The TransNAS-Bench-101 micro (cell-level) space (Duan et al., CVPR 2021).

A cell is NAS-Bench-201's: four nodes, six edges, each edge one operation, but with four
operations instead of five (no average pooling): ``none``, ``skip_connect``, ``nor_conv_1x1``,
``nor_conv_3x3``, so 4^6 = 4,096 cells. TransNAS-Bench-101 trained every cell on seven
Taskonomy tasks (object and scene classification, room layout, jigsaw, autoencoding, surface
normals, semantic segmentation); the shipped table ``transnas101_micro`` holds each task's final
validation metric.

String format: NAS-Bench-201's, ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``. The benchmark's own
code ``64-41414-a_bc_def`` lists the same six edges in the same order, with the digit of each
operation equal to its index here (0 none, 1 skip, 2 conv 1x1, 3 conv 3x3).

The cell's operations and edges, its string format and its isomorphism key are NAS-Bench-201's
(:mod:`nasbench.spaces.nb201`); only the operation set differs. The space builds no network:
TransNAS-Bench-101's task-specific encoders and decoders are not part of nasbench.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.spaces.nb201 import EDGES, Nb201Space

from nasbench.api import Architecture, Decision
from nasbench.errors import InvalidArchitectureError
from nasbench.hookspecs import hookimpl

if TYPE_CHECKING:
    import numpy as np

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
"""The four operations, in TransNAS-Bench-101's digit order (NAS-Bench-201's first four)."""

_DECISIONS = tuple(Decision(f"edge_{j}<-{i}", OPS) for i, j in EDGES)


class TransNasMicroSpace(Nb201Space):
    """TransNAS-Bench-101's cell: NAS-Bench-201's six edges with four operations each."""

    name: ClassVar[str] = "transnas_micro"
    summary: ClassVar[str] = (
        "TransNAS-Bench-101 micro cell: 6 edges x 4 ops = 4,096 cells (Duan et al. 2021)"
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"enumerate"})
    data_kind: ClassVar[str | None] = None

    ops = OPS

    def decisions(self) -> tuple[Decision, ...]:
        return _DECISIONS

    def sample(self, rng: np.random.Generator) -> Architecture:
        return tuple([int(u * 4.0) for u in rng.random(6).tolist()])

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one edge to a different operation."""
        u, v = rng.random(2).tolist()
        edge = int(u * 6.0)
        op = int(v * 3.0)
        if op >= arch[edge]:
            op += 1
        return (*arch[:edge], op, *arch[edge + 1 :])

    def size(self) -> int:
        return 4**6

    def enumerate(self) -> Iterator[Architecture]:
        return itertools.product(range(4), repeat=6)

    def from_string(self, text: str) -> Architecture:
        arch = super().from_string(text)
        if any(op >= len(OPS) for op in arch):
            raise InvalidArchitectureError(
                f"transnas_micro: {text!r} uses an operation outside {', '.join(OPS)}"
            )
        return arch

    def build(self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int,
              **size: Any) -> Any:
        raise NotImplementedError("transnas_micro builds no network (see its module docstring)")

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["example"] = self.to_string((3, 3, 2, 1, 3, 1))
        return out


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(TransNasMicroSpace)
