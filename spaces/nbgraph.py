"""The NAS-Bench-Graph space (Qin et al., NeurIPS 2022 Datasets & Benchmarks).

A GNN of four layers: a link pattern says which earlier node each layer reads (0 is the input),
and each layer applies one of nine operations. The nine link patterns and nine operations are
those of the benchmark (``nas-bench-graph`` on PyPI, Apache-2.0). Cells whose four layers are
all ``skip`` are not architectures. That leaves 9 x 9^4 - 9 = 59,040 encodings of 26,206
distinct architectures; the canonical key is the benchmark's own isomorphism hash, so that
every encoding of one architecture maps to the benchmark's single entry for it.

Public string format: ``<link pattern>|<op1>,<op2>,<op3>,<op4>``, e.g. ``0,0,1,2|gcn,gat,skip,fc``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import InvalidArchitectureError
from nasbench.hookspecs import hookimpl

if TYPE_CHECKING:
    import numpy as np

LINKS: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
"""The benchmark's link patterns: entry i is the node layer i+1 reads (0 = input)."""

OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
"""The benchmark's operations, in its order."""

_SKIP = OPS.index("skip")
_LINK_LABELS = tuple(",".join(map(str, lk)) for lk in LINKS)
_DECISIONS = (
    Decision("links", _LINK_LABELS),
    *(Decision(f"op_{i}", OPS) for i in range(1, 5)),
)


@cache
def benchmark_hash(arch: Architecture) -> int:
    """The benchmark's key for ``arch`` (its isomorphism-aware ``valid_hash``)."""
    from nas_bench_graph.architecture import Arch

    return int(Arch(list(LINKS[arch[0]]), [OPS[o] for o in arch[1:]]).valid_hash())


class NbGraphSpace(SearchSpace):
    """NAS-Bench-Graph: a link pattern and four GNN layer operations."""

    name: ClassVar[str] = "nbgraph"
    summary: ClassVar[str] = (
        "NAS-Bench-Graph GNNs: 9 link patterns x 9^4 ops, 26,206 distinct (Qin et al. 2022)"
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"enumerate"})

    def decisions(self) -> tuple[Decision, ...]:
        return _DECISIONS

    def validate(self, arch: Architecture) -> None:
        super().validate(arch)
        if all(o == _SKIP for o in arch[1:]):
            raise InvalidArchitectureError(
                "nbgraph: a network whose four layers are all 'skip' is not an architecture"
            )

    def sample(self, rng: np.random.Generator) -> Architecture:
        while True:
            arch = tuple([int(u * 9.0) for u in rng.random(5).tolist()])
            if any(o != _SKIP for o in arch[1:]):
                return arch

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change the link pattern, or one layer's operation, to a different choice."""
        while True:
            u, v = rng.random(2).tolist()
            pos = int(u * 5.0)
            choice = int(v * 8.0)
            if choice >= arch[pos]:
                choice += 1
            child = (*arch[:pos], choice, *arch[pos + 1 :])
            if any(o != _SKIP for o in child[1:]):
                return child

    def size(self) -> int:
        return 9 * 9**4 - 9

    def enumerate(self) -> Iterator[Architecture]:
        for arch in itertools.product(range(9), repeat=5):
            if any(o != _SKIP for o in arch[1:]):
                yield arch

    def arch_key(self, arch: Architecture) -> str:
        return str(benchmark_hash(arch))

    def to_string(self, arch: Architecture) -> str:
        return f"{_LINK_LABELS[arch[0]]}|{','.join(OPS[o] for o in arch[1:])}"

    def from_string(self, text: str) -> Architecture:
        links, sep, ops = text.strip().partition("|")
        names = ops.split(",")
        if not sep or links not in _LINK_LABELS or len(names) != 4 or not set(names) <= set(OPS):
            raise InvalidArchitectureError(
                f"nbgraph: cannot parse {text!r}; expected '<links>|op,op,op,op' with links "
                f"one of {'; '.join(_LINK_LABELS)} and ops from {', '.join(OPS)}"
            )
        arch = (_LINK_LABELS.index(links), *(OPS.index(n) for n in names))
        self.validate(arch)
        return arch

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["string_format"] = "<links>|<op1>,<op2>,<op3>,<op4>"
        out["example"] = self.to_string((3, 1, 0, 8, 7))
        return out


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(NbGraphSpace)
