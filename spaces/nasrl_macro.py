"""The NAS-RL macro space (Zoph & Le, "Neural Architecture Search with Reinforcement
Learning", ICLR 2017).

A network is a stack of convolutional layers. For each layer the controller picks a filter
height and width, a number of filters and (in the variant that predicts them) a stride; then,
at the layer's anchor point, one yes/no decision per earlier layer says whether that layer's
output feeds this one (the paper's sigmoid per previous layer). Layer ``i`` therefore has
``i - 1`` connection decisions: decisions depend on the depth and on the position, and
:meth:`NasRlMacroSpace.next_decision` walks them. With ``min_depth`` set, the depth itself is
the first decision.

The paper's rules make every sampled graph compile: a layer's inputs are concatenated along
the channels, smaller feature maps zero-padded to the largest; a layer without input reads the
image; outputs that no layer reads are concatenated (padded likewise) into the classifier.

String format: layers in order, joined by ``" | "``; a layer is ``<h>x<w>:<filters>``, then
``:s<stride>`` when strides are decisions, then ``<i,j`` listing the layers (numbered from 1)
it reads, e.g. ``3x3:36 | 5x7:48<1 | 1x1:24<1,2``.

Canonical key: the network is a DAG over the image and its layers; renumbering layers in any
order that keeps the graph computes the same function up to a permutation of concatenated
channels, which the consuming convolution absorbs. The key is the DAG's canonical form
(:mod:`nasbench.spaces.canonical`).
"""

from __future__ import annotations

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

_NO_YES = ("no", "yes")
_LAYER = re.compile(r"^(\d+)x(\d+):(\d+)(?::s(\d+))?(?:<(\d+(?:,\d+)*))?$")


@dataclass(frozen=True)
class NasRlMacroParams:
    depth: int = param(
        6, ge=1, le=64, doc="number of layers; the largest depth when min_depth is set",
        published="Zoph & Le 2017 grow the depth during search; their CIFAR-10 networks have "
                  "15 (no stride), 20 (strides) and 39 layers",
    )
    min_depth: int | None = param(
        None, ge=1, doc="when set, the depth is the first decision, from min_depth to depth"
    )
    filter_sizes: tuple[int, ...] = param(
        (1, 3, 5, 7), doc="filter heights and widths on offer (odd, for 'same' padding)",
        published="Zoph & Le 2017",
    )
    filters: tuple[int, ...] = param((24, 36, 48, 64), doc="numbers of filters on offer",
                                     published="Zoph & Le 2017")
    strides: tuple[int, ...] = param(
        (1,), doc="strides on offer; one value fixes it ([1] is the main experiment), several "
                  "make it a decision ([1, 2, 3] in the paper's variant that predicts strides)",
        published="Zoph & Le 2017",
    )

    def check(self) -> None:
        if self.min_depth is not None and self.min_depth > self.depth:
            raise ConfigError("min_depth", f"{self.min_depth} exceeds depth {self.depth}")
        for key in ("filter_sizes", "filters", "strides"):
            values = getattr(self, key)
            if not values or len(set(values)) != len(values) or min(values) < 1:
                raise ConfigError(key, f"expected distinct positive integers, got {values!r}")
        if any(k % 2 == 0 for k in self.filter_sizes):
            raise ConfigError("filter_sizes", f"sizes must be odd, got {self.filter_sizes!r}",
                              "'Same' padding needs odd filters.")


@dataclass(frozen=True, slots=True)
class Layer:
    """One decoded layer: filter size, filters, stride and the layers it reads (from 1)."""

    height: int
    width: int
    filters: int
    stride: int
    reads: tuple[int, ...]


class NasRlMacroSpace(SearchSpace):
    """NAS-RL's convolutional macro space with anchor-point skip connections."""

    name: ClassVar[str] = "nasrl_macro"
    summary: ClassVar[str] = (
        "NAS-RL macro CNNs: filter sizes, filters, strides, skip anchors (Zoph & Le 2017)"
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"build"})
    data_kind: ClassVar[str | None] = "image"
    Params: ClassVar[type] = NasRlMacroParams

    # -- decisions ------------------------------------------------------------------------
    @cached_property
    def _depths(self) -> tuple[int, ...]:
        p = self.params
        return tuple(range(p.min_depth, p.depth + 1)) if p.min_depth else (p.depth,)

    @property
    def _variable_depth(self) -> bool:
        return self.params.min_depth is not None

    @cached_property
    def _per_layer(self) -> int:
        return 4 if len(self.params.strides) > 1 else 3

    def _layer_decisions(self, i: int) -> tuple[Decision, ...]:
        p = self.params
        sizes = tuple(map(str, p.filter_sizes))
        out = [Decision(f"layer{i}.filter_height", sizes),
               Decision(f"layer{i}.filter_width", sizes),
               Decision(f"layer{i}.filters", tuple(map(str, p.filters)))]
        if self._per_layer == 4:
            out.append(Decision(f"layer{i}.stride", tuple(map(str, p.strides))))
        out += [Decision(f"layer{i}.reads_layer{j}", _NO_YES) for j in range(1, i)]
        return tuple(out)

    @cached_property
    def _layouts(self) -> dict[int, tuple[Decision, ...]]:
        return {}

    def layout(self, depth: int) -> tuple[Decision, ...]:
        """The decisions of a network of ``depth`` layers, after the depth decision if any."""
        if depth not in self._layouts:
            self._layouts[depth] = tuple(
                d for i in range(1, depth + 1) for d in self._layer_decisions(i)
            )
        return self._layouts[depth]

    def decisions(self) -> tuple[Decision, ...] | None:
        return None if self._variable_depth else self.layout(self.params.depth)

    def next_decision(self, prefix: Architecture) -> Decision | None:
        if not self._variable_depth:
            return super().next_decision(prefix)
        if not prefix:
            return Decision("depth", tuple(map(str, self._depths)))
        layout = self.layout(self._depths[prefix[0]])
        return layout[len(prefix) - 1] if len(prefix) - 1 < len(layout) else None

    def size(self) -> int:
        p = self.params
        per_layer = len(p.filter_sizes) ** 2 * len(p.filters) * len(p.strides)
        return sum(per_layer ** d * 2 ** (d * (d - 1) // 2) for d in self._depths)

    # -- decoding -------------------------------------------------------------------------------
    def layers(self, arch: Architecture) -> list[Layer]:
        """The layers of ``arch``, decoded."""
        self.validate(arch)
        p = self.params
        body = arch[1:] if self._variable_depth else arch
        depth = self._depths[arch[0]] if self._variable_depth else p.depth
        out, k = [], 0
        for i in range(1, depth + 1):
            height, width, filters = (p.filter_sizes[body[k]], p.filter_sizes[body[k + 1]],
                                      p.filters[body[k + 2]])
            stride = p.strides[body[k + 3]] if self._per_layer == 4 else p.strides[0]
            k += self._per_layer
            reads = tuple(j for j in range(1, i) if body[k + j - 1])
            k += i - 1
            out.append(Layer(height, width, filters, stride, reads))
        return out

    def _encode(self, layers: list[Layer]) -> Architecture:
        p = self.params
        arch: list[int] = []
        if self._variable_depth:
            arch.append(self._depths.index(len(layers)))
        for i, layer in enumerate(layers, start=1):
            arch += [p.filter_sizes.index(layer.height), p.filter_sizes.index(layer.width),
                     p.filters.index(layer.filters)]
            if self._per_layer == 4:
                arch.append(p.strides.index(layer.stride))
            arch += [int(j in layer.reads) for j in range(1, i)]
        return tuple(arch)

    # -- sampling and mutation ----------------------------------------------------------------
    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one layer setting, or add or remove one connection (equal odds).

        The depth is not mutated: a child keeps its parent's layers.
        """
        self.validate(arch)
        start = 1 if self._variable_depth else 0
        settings, links = [], []
        for i in range(start, len(arch)):
            d = self.next_decision(arch[:i])
            assert d is not None
            if len(d.choices) > 1:
                (links if d.choices == _NO_YES else settings).append((i, len(d.choices)))
        if not (links or settings):
            raise InvalidArchitectureError(
                f"nasrl_macro: {self.to_string(arch)!r} has no decision with an alternative"
            )
        u_kind, u_pos, u_choice = rng.random(3).tolist()
        pool = links if (u_kind < 0.5 and links) or not settings else settings
        i, n = pool[int(u_pos * len(pool))]
        choice = int(u_choice * (n - 1))
        choice += choice >= arch[i]
        return (*arch[:i], choice, *arch[i + 1:])

    # -- names ---------------------------------------------------------------------------------
    def arch_key(self, arch: Architecture) -> str:
        layers = self.layers(arch)
        labels = ["image"] + [f"{x.height}x{x.width}:{x.filters}:s{x.stride}" for x in layers]
        inputs = [[]] + [[(j, "") for j in x.reads] or [(0, "")] for x in layers]
        return canonical_dag_key(labels, inputs, fixed=1)

    def to_string(self, arch: Architecture) -> str:
        parts = []
        for layer in self.layers(arch):
            text = f"{layer.height}x{layer.width}:{layer.filters}"
            if self._per_layer == 4:
                text += f":s{layer.stride}"
            if layer.reads:
                text += "<" + ",".join(map(str, layer.reads))
            parts.append(text)
        return " | ".join(parts)

    def from_string(self, text: str) -> Architecture:
        p = self.params
        layers = []
        for i, part in enumerate(text.split("|"), start=1):
            m = _LAYER.match(part.strip())
            if m is None:
                raise InvalidArchitectureError(
                    f"nasrl_macro: cannot read layer {i} {part.strip()!r} of {text!r}; expected "
                    "'<h>x<w>:<filters>[:s<stride>][<i,j,...]'"
                )
            height, width, filters = int(m[1]), int(m[2]), int(m[3])
            stride = int(m[4]) if m[4] else p.strides[0]
            reads = tuple(int(j) for j in m[5].split(",")) if m[5] else ()
            problems = [
                f"filter size {s} not in {list(p.filter_sizes)}"
                for s in (height, width) if s not in p.filter_sizes
            ]
            if filters not in p.filters:
                problems.append(f"{filters} filters not in {list(p.filters)}")
            if self._per_layer == 4 and (m[4] is None or stride not in p.strides):
                problems.append(f"strides are decisions: give ':s<n>' with n in {list(p.strides)}")
            if self._per_layer == 3 and m[4] is not None:
                problems.append(f"the stride is fixed at {p.strides[0]}: drop ':s{m[4]}'")
            if list(reads) != sorted(set(reads)) or any(not 1 <= j < i for j in reads):
                problems.append(f"it may read only earlier layers 1..{i - 1}, in order")
            if problems:
                raise InvalidArchitectureError(
                    f"nasrl_macro: layer {i} of {text!r}: {'; '.join(problems)}"
                )
            layers.append(Layer(height, width, filters, stride, reads))
        if len(layers) not in self._depths:
            raise InvalidArchitectureError(
                f"nasrl_macro: {len(layers)} layers in {text!r}; this space has depth "
                f"{' to '.join(map(str, sorted({self._depths[0], self._depths[-1]})))}"
            )
        return self._encode(layers)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["string_format"] = "<h>x<w>:<filters>[:s<stride>][<i,j,...] | ... (one per layer)"
        out["depths"] = list(self._depths)
        return out

    # -- networks ---------------------------------------------------------------------------
    def build(
        self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int, **size: Any
    ) -> Any:
        """The convolutional network of ``arch`` (see :mod:`nasbench.spaces.nasrl_net`)."""
        from .nasrl_net import NasRlNetwork

        layers = self.layers(arch)
        self.check_input(input_shape, num_classes)
        self.resolve_size(size)
        return NasRlNetwork(layers, in_channels=input_shape[0], num_classes=num_classes)


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(NasRlMacroSpace)
