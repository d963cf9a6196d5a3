"""The weight-sharing supernet of the ``mlp`` space (fixed depth).

Every hidden layer holds the weights of the widest choice; a path of width ``w`` uses the
first ``w`` rows of its layer (and the first columns of the next layer that the previous
width leaves), the way slimmable and once-for-all networks share dense weights. The
activation of each layer is switched, not weighted: activations have no parameters.

Single path (:meth:`MlpSupernet.set_path`) computes exactly the stand-alone network of the
architecture with the sliced weights (:meth:`MlpSupernet.extract` copies them out).
Relaxation (:meth:`MlpSupernet.set_relaxation`, rows: one per layer): a layer's output is the
softmax-weighted sum of its activations, masked by the softmax-weighted sum of the width masks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nasbench.api import Architecture
from nasbench.supernet.module import SupernetModule

from .mlp_net import Mlp

ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "elu": F.elu,
    "gelu": F.gelu, "leaky_relu": F.leaky_relu, "identity": lambda x: x,
}
"""The functions of :data:`nasbench.spaces.mlp_net._MODULES`, as the supernet applies them."""


class MlpSupernet(SupernetModule):
    """Dense layers at the widest width, sliced per path."""

    def __init__(self, space: Any, *, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.space = space
        p = space.params
        self.depth = p.depths[0]
        self.widths = tuple(p.widths)
        self.activations = tuple(p.activations)
        self.in_features = in_features
        self.num_classes = num_classes
        widest = max(self.widths)
        sizes = [in_features] + [widest] * self.depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.out = nn.Linear(widest, num_classes)
        self._layers: list[tuple[int, str]] | None = None
        self._relaxation: Sequence[torch.Tensor] | None = None
        masks = torch.stack([(torch.arange(widest) < w).float() for w in self.widths])
        self.register_buffer("_masks", masks, persistent=False)

    def set_path(self, arch: Architecture) -> None:
        self._layers = self.space.layers(arch)
        self._relaxation = None

    def set_relaxation(self, weights: Sequence[torch.Tensor]) -> None:
        self._relaxation = weights
        self._layers = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._layers is not None:
            h = x
            for layer, (width, activation) in zip(self.hidden, self._layers, strict=True):
                h = ACTIVATION_FUNCTIONS[activation](self.sliced_linear(
                    h, layer.weight[:width, :h.shape[-1]], layer.bias[:width]))
            return self.sliced_linear(h, self.out.weight[:, :h.shape[-1]], self.out.bias)
        if self._relaxation is None:
            raise RuntimeError("call set_path(arch) or set_relaxation(weights) first")
        width_weights, activation_weights = self._relaxation
        h = x
        for i, layer in enumerate(self.hidden):
            z = layer(h)
            mixed = sum(activation_weights[i, k] * ACTIVATION_FUNCTIONS[a](z)
                        for k, a in enumerate(self.activations))
            h = mixed * (width_weights[i] @ self._masks)
        return self.out(h)

    def standalone(self, arch: Architecture) -> nn.Module:
        return Mlp(self.space.layers(arch), in_features=self.in_features,
                   num_classes=self.num_classes)

    def shared_name(self, arch: Architecture, name: str) -> str:
        index, _, leaf = name.partition(".")
        layer = int(index) // 2
        return f"out.{leaf}" if layer == self.depth else f"hidden.{layer}.{leaf}"

    def extract(self, arch: Architecture) -> nn.Module:
        """The stand-alone network of ``arch`` with the sliced shared weights."""
        network = self.standalone(arch).to(self.out.weight.device)
        shared = self.state_dict()
        values = {}
        for name, tensor in network.state_dict().items():
            source = shared[self.shared_name(arch, name)]
            values[name] = source[tuple(slice(0, n) for n in tensor.shape)].clone()
        network.load_state_dict(values)
        return network
