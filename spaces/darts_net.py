"""DARTS's evaluation network (``NetworkCIFAR`` of the released code), for any size and input.

A 3x3 convolution stem with ``3C`` channels; ``layers`` cells, the ones at a third and two
thirds of the depth being reduction cells that double the channels and halve the resolution;
each cell reads the outputs of the two previous cells through 1x1 ReLU-conv-BN preprocessing
(a factorized reduction when the previous cell reduced); global average pooling and a linear
classifier. Training conventions of DARTS:

* ``drop_path_prob`` (set by the trainer every epoch) drops each non-identity edge of a cell
  per example during training;
* with ``auxiliary=True``, an auxiliary classifier reads the cell at two thirds of the depth;
  in training mode the network returns ``(logits, aux_logits)``. The released head pools its
  8x8 input (CIFAR's size there) with a 5x5 window of stride 3; for other sizes it pools
  adaptively to the same 2x2.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .darts import STEPS, Genotype
from .ops import (
    AvgPool3x3,
    DilConv,
    FactorizedReduce,
    ReLUConvBN,
    SepConv,
    Zero,
    drop_path,
)

STEM_MULTIPLIER = 3


def darts_op(name: str, channels: int, stride: int) -> nn.Module:
    """The module of a DARTS primitive."""
    if name == "none":
        return Zero(stride)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return AvgPool3x3(channels, stride)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels)
    kind, _, size = name.rpartition("_")
    kernel = int(size.split("x")[0])
    if kind == "sep_conv":
        return SepConv(channels, channels, kernel, stride, kernel // 2)
    if kind == "dil_conv":
        return DilConv(channels, channels, kernel, stride, kernel - 1, 2)
    raise ValueError(f"no module for DARTS operation {name!r}")


class DartsCell(nn.Module):
    """A normal or reduction cell: node k sums two operations on earlier nodes."""

    def __init__(self, edges: list[tuple[str, int]], c_prev_prev: int, c_prev: int,
                 channels: int, *, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.preprocess0 = (FactorizedReduce(c_prev_prev, channels) if reduction_prev
                            else ReLUConvBN(c_prev_prev, channels, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, 1, 0)
        self.ops = nn.ModuleList(
            darts_op(op, channels, 2 if reduction and index < 2 else 1) for op, index in edges
        )
        self.indices = [index for _, index in edges]
        self.out_channels = STEPS * channels

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for step in range(STEPS):
            total = None
            for e in (2 * step, 2 * step + 1):
                op = self.ops[e]
                h = op(states[self.indices[e]])
                if self.training and drop_prob > 0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                total = h if total is None else total + h
            assert total is not None
            states.append(total)
        return torch.cat(states[2:], dim=1)


class AuxiliaryHead(nn.Module):
    """DARTS's auxiliary classifier (``AuxiliaryHeadCIFAR``)."""

    def __init__(self, channels: int, num_classes: int, spatial: int) -> None:
        super().__init__()
        pool = (nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False) if spatial == 8
                else nn.AdaptiveAvgPool2d(2))
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            pool,
            nn.Conv2d(channels, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class DartsNetwork(nn.Module):
    """Stem, ``layers`` cells with two reductions, optional auxiliary head, classifier."""

    def __init__(self, genotype: Genotype, *, input_shape: tuple[int, ...], num_classes: int,
                 C: int, layers: int, auxiliary: bool) -> None:
        super().__init__()
        self.drop_path_prob = 0.0
        self.auxiliary_at = 2 * layers // 3
        c_curr = STEM_MULTIPLIER * C
        self.stem = nn.Sequential(
            nn.Conv2d(input_shape[0], c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr)
        )
        c_prev_prev, c_prev, c_curr = c_curr, c_curr, C
        spatial = input_shape[1]
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
                spatial = math.ceil(spatial / 2)
            key = "reduce" if reduction else "normal"
            cell = DartsCell(genotype[key], c_prev_prev, c_prev, c_curr,
                             reduction=reduction, reduction_prev=reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, cell.out_channels
            if i == self.auxiliary_at and auxiliary:
                self.auxiliary_head = AuxiliaryHead(c_prev, num_classes, spatial)
        self.auxiliary = auxiliary
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        s0 = s1 = self.stem(x)
        aux_logits = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.auxiliary_at and self.auxiliary and self.training:
                aux_logits = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        return (logits, aux_logits) if aux_logits is not None else logits
