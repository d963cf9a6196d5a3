"""Fixtures for the strategy tests: the NAS-Bench-201 reward, and a space whose later decisions
depend on earlier ones."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import InvalidArchitectureError

_FILTERS = ("1", "3", "5", "7")


class LayeredSpace(SearchSpace):
    """A NAS-RL-style macro space in miniature: a depth, then per layer a filter size and one
    skip-connection anchor per earlier layer (Zoph & Le 2017). How many decisions follow, and
    which, depends on the depth and layer chosen before them: 4 + 32 + 512 = 548 networks of at
    most three layers."""

    name: ClassVar[str] = "layered_test_space"
    capabilities: ClassVar[frozenset[str]] = frozenset({"enumerate"})

    def __init__(self, params: Any = None, max_depth: int = 3,
                 distinct_filters: bool = False, walk_excludes: bool = False) -> None:
        super().__init__(params)
        self.max_depth = max_depth
        self.distinct_filters = distinct_filters or walk_excludes
        """A rule (like DARTS' two distinct inputs): two consecutive layers may not share a
        filter size."""
        self.walk_excludes = walk_excludes
        """Whether the decision walk expresses the rule (``Decision.excluded``)."""

    def next_decision(self, prefix: Architecture) -> Decision | None:
        if not prefix:
            return Decision("depth", tuple(str(d) for d in range(1, self.max_depth + 1)))
        depth = prefix[0] + 1
        position = 1
        for layer in range(depth):
            if len(prefix) == position:
                if self.walk_excludes and layer > 0:
                    previous = 1 + (layer - 1) + (layer - 1) * (layer - 2) // 2
                    return Decision(f"layer{layer}/filter", _FILTERS,
                                    excluded=(prefix[previous],))
                return Decision(f"layer{layer}/filter", _FILTERS)
            position += 1
            for anchor in range(layer):
                if len(prefix) == position:
                    return Decision(f"layer{layer}/skip_from{anchor}", ("no", "yes"))
                position += 1
        return None

    def _walk_length(self, depth: int) -> int:
        return 1 + depth + depth * (depth - 1) // 2

    def validate(self, arch: Architecture) -> None:
        if not isinstance(arch, tuple) or not arch:
            raise InvalidArchitectureError(f"expected a non-empty tuple, got {arch!r}")
        for t, choice in enumerate(arch):
            decision = self.next_decision(arch[:t])
            if decision is None or not isinstance(choice, int) or not (
                0 <= choice < len(decision.choices)
            ) or choice in decision.excluded:
                raise InvalidArchitectureError(f"{arch!r} leaves the space at position {t}")
        if self.next_decision(arch) is not None:
            raise InvalidArchitectureError(f"{arch!r} ends before its decisions do")
        if self.distinct_filters:
            filters = [arch[1 + layer + layer * (layer - 1) // 2] for layer in range(arch[0] + 1)]
            if any(a == b for a, b in itertools.pairwise(filters)):
                raise InvalidArchitectureError(f"{arch!r}: consecutive layers share a filter")

    def sample(self, rng: np.random.Generator) -> Architecture:
        while True:
            arch: Architecture = ()
            while (decision := self.next_decision(arch)) is not None:
                arch = (*arch, int(rng.integers(len(decision.choices))))
            if self.is_valid(arch):
                return arch

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        neighbours = self.neighbours(arch)
        return neighbours[int(rng.integers(len(neighbours)))]

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        out = []
        for t in range(len(arch)):
            decision = self.next_decision(arch[:t])
            assert decision is not None
            for c in range(len(decision.choices)):
                if c == arch[t]:
                    continue
                candidate = (*arch[:t], c, *arch[t + 1:])
                if t == 0:  # a new depth: keep what fits, complete with zeros
                    length = self._walk_length(c + 1)
                    candidate = (c, *arch[1:length])
                    candidate = candidate + (0,) * (length - len(candidate))
                if self.is_valid(candidate):
                    out.append(candidate)
        return list(dict.fromkeys(out))

    def size(self) -> int:
        if self.distinct_filters:
            return sum(1 for _ in self.enumerate())
        return sum(4**d * 2 ** (d * (d - 1) // 2) for d in range(1, self.max_depth + 1))

    def enumerate(self) -> Iterator[Architecture]:
        def extend(prefix: Architecture) -> Iterator[Architecture]:
            decision = self.next_decision(prefix)
            if decision is None:
                if self.is_valid(prefix):
                    yield prefix
                return
            for c in range(len(decision.choices)):
                yield from extend((*prefix, c))

        return extend(())

    def arch_key(self, arch: Architecture) -> str:
        return self.to_string(arch)

    def to_string(self, arch: Architecture) -> str:
        return "-".join(map(str, arch))

    def from_string(self, text: str) -> Architecture:
        try:
            arch = tuple(int(p) for p in text.split("-"))
        except ValueError:
            raise InvalidArchitectureError(f"cannot parse {text!r}") from None
        self.validate(arch)
        return arch


@pytest.fixture
def layered_space() -> LayeredSpace:
    return LayeredSpace()


@pytest.fixture
def constrained_space() -> LayeredSpace:
    """The layered space with a rule its decision walk does not express."""
    return LayeredSpace(distinct_filters=True)


@pytest.fixture
def excluding_space() -> LayeredSpace:
    """The constrained space whose decision walk expresses its rule: a layer's filter
    excludes the filter of the layer before."""
    return LayeredSpace(walk_excludes=True)


@pytest.fixture(scope="session")
def nb201_valid(plugins: Any) -> Callable[[Architecture], float]:
    """CIFAR-10 12-epoch validation accuracy of a NAS-Bench-201 cell: the benchmark's reward."""
    table = plugins.benchmarks.get("nb201")().load(None, ("cifar10",))
    column = table.column("cifar10/valid_12ep")
    return lambda arch: column[table.row(arch)]

