"""Dense networks for vector inputs: depth, and a width and an activation per layer.

The defaults are the value-network space of the DQN study in PROTOCOLS.md: two hidden layers,
each 64, 128, 256, 1024 or 2048 units wide with a ReLU or sigmoid, 100 networks. Offering
several depths (``depths = [1, 2, 3]``) makes the depth the first decision; the layers'
decisions follow it.

String format: the hidden layers in order, ``<width>:<activation>`` joined by ``|``, e.g.
``256:relu|1024:sigmoid``. Layers are ordered, so the string is also the canonical key.

Networks: :meth:`MlpSpace.build` returns the multilayer perceptron (``mlp_net``) mapping
``(batch, F)`` vectors to ``num_classes`` outputs (class logits, or Q-values per action).
:meth:`MlpSpace.build_supernet` returns the weight-sharing supernet (``mlp_supernet``: every
layer's weights sliced from the widest, activation switched), for a single depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.hookspecs import hookimpl
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np

ACTIVATIONS: tuple[str, ...] = ("relu", "sigmoid", "tanh", "elu", "gelu", "leaky_relu",
                                "identity")
"""Activations a layer may use."""


@dataclass(frozen=True)
class MlpParams:
    depths: tuple[int, ...] = param(
        (2,), doc="numbers of hidden layers on offer; several make the depth a decision",
        published="DQN value-network study (PROTOCOLS.md): 2",
    )
    widths: tuple[int, ...] = param(
        (64, 128, 256, 1024, 2048), doc="layer widths on offer",
        published="DQN value-network study (PROTOCOLS.md)",
    )
    activations: tuple[str, ...] = param(
        ("relu", "sigmoid"), doc=f"activations on offer, from {', '.join(ACTIVATIONS)}",
        published="DQN value-network study (PROTOCOLS.md)",
    )

    def check(self) -> None:
        for key in ("depths", "widths", "activations"):
            values = getattr(self, key)
            if not values or len(set(values)) != len(values):
                raise ConfigError(key, f"expected distinct values, got {values!r}")
        if min(self.depths) < 1 or min(self.widths) < 1:
            raise ConfigError("depths", "depths and widths must be positive integers")
        unknown = [a for a in self.activations if a not in ACTIVATIONS]
        if unknown:
            raise ConfigError("activations", f"unknown activations {unknown}",
                              f"Available: {', '.join(ACTIVATIONS)}.")


class MlpSpace(SearchSpace):
    """Multilayer perceptrons: a width and an activation per hidden layer."""

    name: ClassVar[str] = "mlp"
    summary: ClassVar[str] = "dense networks: width and activation per layer (DQN value nets)"
    capabilities: ClassVar[frozenset[str]] = frozenset({"build", "supernet"})
    data_kind: ClassVar[str | None] = "vector"
    Params: ClassVar[type] = MlpParams

    @property
    def _variable_depth(self) -> bool:
        return len(self.params.depths) > 1

    def _layer_decisions(self, depth: int) -> tuple[Decision, ...]:
        widths = tuple(map(str, self.params.widths))
        return tuple(
            d for i in range(1, depth + 1)
            for d in (Decision(f"layer{i}.width", widths),
                      Decision(f"layer{i}.activation", self.params.activations))
        )

    @cached_property
    def _depth_decision(self) -> Decision:
        return Decision("depth", tuple(map(str, self.params.depths)))

    def decisions(self) -> tuple[Decision, ...] | None:
        return None if self._variable_depth else self._layer_decisions(self.params.depths[0])

    def next_decision(self, prefix: Architecture) -> Decision | None:
        if not self._variable_depth:
            return super().next_decision(prefix)
        if not prefix:
            return self._depth_decision
        depth = self.params.depths[prefix[0]]
        return self._layer_decisions(depth)[len(prefix) - 1] if len(prefix) <= 2 * depth else None

    def size(self) -> int:
        per_layer = len(self.params.widths) * len(self.params.activations)
        return sum(per_layer ** d for d in self.params.depths)

    def layers(self, arch: Architecture) -> list[tuple[int, str]]:
        """``(width, activation)`` of each hidden layer."""
        self.validate(arch)
        body = arch[1:] if self._variable_depth else arch
        p = self.params
        return [(p.widths[body[k]], p.activations[body[k + 1]]) for k in range(0, len(body), 2)]

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one layer's width or activation; the depth stays."""
        start = 1 if self._variable_depth else 0
        sizes = (len(self.params.widths), len(self.params.activations))
        open_positions = [k for k in range(start, len(arch)) if sizes[(k - start) % 2] > 1]
        if not open_positions:
            raise InvalidArchitectureError(
                f"mlp: {self.to_string(arch)!r} has no layer setting with an alternative"
            )
        u_pos, u_choice = rng.random(2).tolist()
        k = open_positions[int(u_pos * len(open_positions))]
        choice = int(u_choice * (sizes[(k - start) % 2] - 1))
        choice += choice >= arch[k]
        return (*arch[:k], choice, *arch[k + 1:])

    def arch_key(self, arch: Architecture) -> str:
        return self.to_string(arch)

    def to_string(self, arch: Architecture) -> str:
        return "|".join(f"{width}:{act}" for width, act in self.layers(arch))

    def from_string(self, text: str) -> Architecture:
        p = self.params
        arch: list[int] = []
        parts = [part.strip() for part in text.split("|")]
        for i, part in enumerate(parts, start=1):
            width, _, act = part.partition(":")
            if not width.isdigit() or int(width) not in p.widths or act not in p.activations:
                raise InvalidArchitectureError(
                    f"mlp: layer {i} is {part!r} in {text!r}; expected '<width>:<activation>' "
                    f"with width in {list(p.widths)} and activation in {list(p.activations)}"
                )
            arch += [p.widths.index(int(width)), p.activations.index(act)]
        if len(parts) not in p.depths:
            raise InvalidArchitectureError(
                f"mlp: {text!r} has {len(parts)} layers; depths on offer: {list(p.depths)}"
            )
        if self._variable_depth:
            arch.insert(0, p.depths.index(len(parts)))
        return tuple(arch)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["string_format"] = "<width>:<activation>|... (one per hidden layer)"
        return out

    def build(
        self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int, **size: Any
    ) -> Any:
        """The perceptron of ``arch`` (see :mod:`nasbench.spaces.mlp_net`)."""
        from .mlp_net import Mlp

        layers = self.layers(arch)
        self.check_input(input_shape, num_classes)
        self.resolve_size(size)
        return Mlp(layers, in_features=input_shape[0], num_classes=num_classes)

    def build_supernet(self, *, input_shape: tuple[int, ...], num_classes: int,
                       **size: Any) -> Any:
        """The supernet (see :mod:`nasbench.spaces.mlp_supernet`); one depth only."""
        from .mlp_supernet import MlpSupernet

        if self._variable_depth:
            raise ConfigError("space.depths", "the mlp supernet shares weights between widths "
                              "and activations of one depth; several depths are on offer",
                              "Offer a single depth (depths = [2]).")
        self.check_input(input_shape, num_classes)
        self.resolve_supernet_size(size)
        return MlpSupernet(self, in_features=input_shape[0], num_classes=num_classes)

    def relaxation_shapes(self) -> tuple[tuple[int, int], ...]:
        """One row per layer: over the widths, and over the activations."""
        depth = max(self.params.depths)
        return ((depth, len(self.params.widths)), (depth, len(self.params.activations)))

    def derive(self, weights: Any) -> Architecture:
        """Each layer's strongest width and activation."""
        import numpy as np

        widths, activations = (np.asarray(w) for w in weights)
        arch: list[int] = []
        for i in range(len(widths)):
            arch += [int(np.argmax(widths[i])), int(np.argmax(activations[i]))]
        return tuple(arch)


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(MlpSpace)
