"""The NAS-Bench-Macro network (Su et al., CVPR 2021; the benchmark's ``train/model.py``).

Stem: 3x3 convolution, batch norm, ReLU. Three stages of 2, 3 and 3 layers; the first layer of
a stage has stride 2 and doubles the channels. A MobileNetV2 block (Sandler et al. 2018) with
expansion ``t`` and kernel ``k`` is a 1x1 expansion to ``t`` times the channels, a ``k x k``
depthwise convolution, a linear 1x1 projection (each followed by batch norm, ReLU after the
first two), plus the input when the shape is kept. An identity layer that must change the
shape is a strided 1x1 convolution with batch norm. Head: 1x1 convolution to ``head``
channels, batch norm, ReLU, global average pooling, linear classifier.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .nasbench_macro import STAGES


class MobileNetV2Block(nn.Module):
    """Inverted residual block: expand, depthwise, project; residual when shapes match."""

    def __init__(self, c_in: int, c_out: int, *, stride: int, expansion: int,
                 kernel: int) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.conv = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, hidden, kernel, stride, padding=kernel // 2, groups=hidden,
                      bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return out + x if self.residual else out


def macro_layer(op: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    """The module of a NAS-Bench-Macro layer choice."""
    if op == "identity":
        if stride == 1 and c_in == c_out:
            return nn.Identity()
        return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                             nn.BatchNorm2d(c_out))
    if op == "mb3_k3":
        return MobileNetV2Block(c_in, c_out, stride=stride, expansion=3, kernel=3)
    if op == "mb6_k5":
        return MobileNetV2Block(c_in, c_out, stride=stride, expansion=6, kernel=5)
    raise ValueError(f"no module for NAS-Bench-Macro layer {op!r}")


class NasBenchMacroNetwork(nn.Module):
    """Stem, eight searchable layers in three stages, 1x1 head, classifier."""

    def __init__(self, ops: Sequence[str], *, in_channels: int, num_classes: int, C: int,
                 head: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C), nn.ReLU())
        layers: list[nn.Module] = []
        channels, k = C, 0
        for stage in STAGES:
            for i in range(stage):
                stride = 2 if i == 0 else 1
                out = channels * 2 if i == 0 else channels
                layers.append(macro_layer(ops[k], channels, out, stride))
                channels, k = out, k + 1
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Conv2d(channels, head, 1, bias=False),
                                  nn.BatchNorm2d(head), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(head, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.features(self.stem(x))).flatten(1))
