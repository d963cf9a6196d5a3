"""The network of a NAS-RL macro architecture (Zoph & Le, ICLR 2017).

Each layer is a convolution with "same" padding and the layer's stride, batch norm and ReLU.
A layer reads the channel-wise concatenation of the layers its anchor selected (the image when
it selected none); feature maps of different sizes are zero-padded at the bottom and right to
the largest. The layers nobody reads are concatenated the same way, globally average-pooled
and classified by a linear layer (the paper leaves the classifier unspecified; global pooling
makes the network work on any input size).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .nasrl_macro import Layer


def concat_padded(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """Concatenate feature maps along channels, zero-padding smaller ones to the largest."""
    if len(tensors) == 1:
        return tensors[0]
    height = max(t.shape[-2] for t in tensors)
    width = max(t.shape[-1] for t in tensors)
    return torch.cat(
        [F.pad(t, (0, width - t.shape[-1], 0, height - t.shape[-2])) for t in tensors], dim=1
    )


class ConvLayer(nn.Sequential):
    """Convolution ('same' padding), batch norm, ReLU."""

    def __init__(self, c_in: int, layer: Layer) -> None:
        super().__init__(
            nn.Conv2d(c_in, layer.filters, (layer.height, layer.width), stride=layer.stride,
                      padding=(layer.height // 2, layer.width // 2), bias=False),
            nn.BatchNorm2d(layer.filters),
            nn.ReLU(inplace=False),
        )


class NasRlNetwork(nn.Module):
    """Layers wired by their anchors; loose ends feed the classifier."""

    def __init__(self, layers: Sequence[Layer], *, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.sources = [tuple(j - 1 for j in layer.reads) for layer in layers]
        self.layers = nn.ModuleList(
            ConvLayer(sum(layers[j].filters for j in src) if src else in_channels, layer)
            for layer, src in zip(layers, self.sources, strict=True)
        )
        read = {j for src in self.sources for j in src}
        self.loose_ends = [i for i in range(len(layers)) if i not in read]
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(sum(layers[i].filters for i in self.loose_ends), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs: list[torch.Tensor] = []
        for layer, src in zip(self.layers, self.sources, strict=True):
            outputs.append(layer(concat_padded([outputs[j] for j in src]) if src else x))
        features = concat_padded([outputs[i] for i in self.loose_ends])
        return self.classifier(self.global_pooling(features).flatten(1))
