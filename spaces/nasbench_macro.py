"""The NAS-Bench-Macro space (Su et al., "Prioritized Architecture Sampling with Monte-Carlo
Tree Search", CVPR 2021).

A network has eight searchable layers in three stages of 2, 3 and 3 layers; each layer is an
identity, a MobileNetV2 block with kernel 3 and expansion 3, or one with kernel 5 and expansion
6: 3^8 = 6,561 architectures. The first layer of each stage halves the resolution and doubles
the channels (its "identity" is then a strided 1x1 convolution with batch norm).

String format: the benchmark's own, one digit per layer (``0`` identity, ``1`` MB k3 e3, ``2``
MB k5 e6), e.g. ``01201120``.

Canonical key: within a stage, an identity layer after the first one can move to the end of
the stage without changing the function. The key is the benchmark's ``get_real_arch`` (identity
layers of a stage moved last), which leaves 3,969 distinct networks; the benchmark trained
those and gives every encoding its canonical network's record.

Networks: :meth:`NasBenchMacroSpace.build` returns the benchmark's network (``nasbench_macro_net``):
3x3 stem of 32 channels, the eight layers, a 1x1 convolution to 1280 channels, global
pooling and a linear classifier; with its defaults on 32x32 images and 10 classes it has the
published parameter count and FLOPs of all 6,561 entries.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.hookspecs import hookimpl

if TYPE_CHECKING:
    import numpy as np

OPS: tuple[str, ...] = ("identity", "mb3_k3", "mb6_k5")
"""Layer choices, in the benchmark's encoding order (digits 0, 1, 2)."""

STAGES: tuple[int, ...] = (2, 3, 3)
"""Searchable layers per stage; each stage starts by halving the resolution."""

_LAYERS = sum(STAGES)
_DECISIONS = tuple(Decision(f"layer{i}", OPS) for i in range(1, _LAYERS + 1))
_IDENTITY = OPS.index("identity")


def canonical_code(arch: Architecture) -> str:
    """NAS-Bench-Macro's ``get_real_arch``: each stage's later identity layers moved last."""
    out, k = [], 0
    for stage in STAGES:
        first, rest = arch[k], arch[k + 1:k + stage]
        kept = [op for op in rest if op != _IDENTITY]
        out += [first, *kept, *[_IDENTITY] * (len(rest) - len(kept))]
        k += stage
    return "".join(map(str, out))


class NasBenchMacroSpace(SearchSpace):
    """NAS-Bench-Macro: eight layers of identity or MobileNetV2 blocks."""

    name: ClassVar[str] = "nasbench_macro"
    summary: ClassVar[str] = (
        "NAS-Bench-Macro: 8 layers x {identity, MB k3e3, MB k5e6} = 6,561 (Su et al. 2021)"
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"enumerate", "build"})
    data_kind: ClassVar[str | None] = "image"

    def decisions(self) -> tuple[Decision, ...]:
        return _DECISIONS

    def sample(self, rng: np.random.Generator) -> Architecture:
        return tuple([int(u * 3.0) for u in rng.random(_LAYERS).tolist()])

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one layer to a different choice."""
        u, v = rng.random(2).tolist()
        layer, op = int(u * _LAYERS), int(v * 2.0)
        op += op >= arch[layer]
        return (*arch[:layer], op, *arch[layer + 1:])

    def size(self) -> int:
        return 3 ** _LAYERS

    def enumerate(self) -> Iterator[Architecture]:
        return itertools.product(range(3), repeat=_LAYERS)

    def arch_key(self, arch: Architecture) -> str:
        return canonical_code(arch)

    def to_string(self, arch: Architecture) -> str:
        return "".join(map(str, arch))

    def from_string(self, text: str) -> Architecture:
        code = text.strip()
        if len(code) != _LAYERS or any(c not in "012" for c in code):
            raise InvalidArchitectureError(
                f"nasbench_macro: expected {_LAYERS} digits from 0 (identity), 1 (MB k3 e3), "
                f"2 (MB k5 e6), got {text!r}"
            )
        return tuple(int(c) for c in code)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["string_format"] = "8 digits: 0 identity, 1 MobileNetV2 k3 e3, 2 MobileNetV2 k5 e6"
        out["stages"] = list(STAGES)
        return out

    def size_defaults(self) -> dict[str, Any]:
        """``C``: stem channels (doubled by each stage); ``head``: channels of the final 1x1
        convolution. The benchmark's network: 32 and 1280."""
        return {"C": 32, "head": 1280}

    def build(
        self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int, **size: Any
    ) -> Any:
        """The benchmark's network for ``arch`` (see :mod:`.nasbench_macro_net`)."""
        from .nasbench_macro_net import NasBenchMacroNetwork

        self.validate(arch)
        self.check_input(input_shape, num_classes)
        dims = self.resolve_size(size)
        if dims["C"] < 1 or dims["head"] < 1:
            raise ConfigError("size", f"nasbench_macro needs positive C and head, got {dims}")
        ops = [OPS[op] for op in arch]
        return NasBenchMacroNetwork(ops, in_channels=input_shape[0], num_classes=num_classes,
                                    **dims)


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(NasBenchMacroSpace)
