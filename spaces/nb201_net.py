"""The NAS-Bench-201 network (Dong & Yang, ICLR 2020), for any width, depth and input.

Layout of the benchmark's ``TinyNetwork``: a 3x3 convolution stem with ``C`` channels and batch
norm; three stages of ``N`` cells at ``C``, ``2C`` and ``4C`` channels; between stages a
residual reduction block (two ReLU-conv-BN 3x3, the first of stride 2, plus a 2x2 average pool
and 1x1 convolution on the shortcut); batch norm and ReLU, global average pooling and a linear
classifier. With ``C=16, N=5`` on 32x32 inputs and 10 classes it has exactly the parameter
count and FLOPs that NAS-Bench-201 publishes for every cell.

A cell node sums its incoming edges. ``none`` edges are not computed (they add zeros); a node
without any other edge is zero, and operations reading it are still applied (a ReLU-conv-BN of
zeros is the batch norm's shift), as in the benchmark's code.
"""

from __future__ import annotations

import torch
from torch import nn

from nasbench.api import Architecture

from .nb201 import EDGES, OPS
from .ops import AvgPool3x3, ReLUConvBN


def edge_op(op: str, channels: int) -> nn.Module:
    """The module of a NAS-Bench-201 edge operation (not ``none``) at stride 1."""
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if op == "avg_pool_3x3":
        return AvgPool3x3(channels)
    raise ValueError(f"no module for NAS-Bench-201 operation {op!r}")


class Nb201Cell(nn.Module):
    """One cell: node j sums op_ij(node i) over its non-``none`` incoming edges."""

    def __init__(self, arch: Architecture, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleDict()
        self._inputs: list[list[tuple[int, str]]] = [[] for _ in range(4)]
        for (i, j), choice in zip(EDGES, arch, strict=True):
            if OPS[choice] == "none":
                continue
            key = f"edge_{j}_{i}"
            self.edges[key] = edge_op(OPS[choice], channels)
            self._inputs[j].append((i, key))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x]
        for inputs in self._inputs[1:]:
            total: torch.Tensor | None = None
            for i, key in inputs:
                source = nodes[i]
                out = self.edges[key](source if source is not None else torch.zeros_like(x))
                total = out if total is None else total + out
            nodes.append(total)
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


class ResidualReduction(nn.Module):
    """NAS-Bench-201's ``ResNetBasicblock`` of stride 2 between stages.

    The shortcut's 2x2 average pool uses ``ceil_mode`` so that odd sizes work; on even sizes
    (every size the benchmark used) it is the benchmark's pooling.
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=True),
            nn.Conv2d(c_in, c_out, kernel_size=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


class Nb201Network(nn.Module):
    """Stem, three stages of ``N`` cells separated by residual reductions, classifier."""

    def __init__(self, arch: Architecture, *, in_channels: int, num_classes: int, C: int,
                 N: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, C, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(C),
        )
        blocks: list[nn.Module] = []
        for stage, width in enumerate((C, 2 * C, 4 * C)):
            if stage:
                blocks.append(ResidualReduction(width // 2, width))
            blocks.extend(Nb201Cell(arch, width) for _ in range(N))
        self.cells = nn.Sequential(*blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * C, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.global_pooling(features).flatten(1))
