"""Operations shared by the networks of the cell spaces (NAS-Bench-201, DARTS).

Definitions follow the released code of NAS-Bench-201 (Dong & Yang, ICLR 2020) and DARTS (Liu
et al., ICLR 2019), so that parameter and FLOP counts match the published ones. Two departures,
both exact: average pooling that ignores padding is computed as a depthwise convolution
divided by a precomputed count map (much faster than ``nn.AvgPool2d`` on CPUs, same result),
and :class:`FactorizedReduce` pads its shifted path so that it also works on odd sizes (on even
sizes it computes exactly what DARTS computes).

This module imports torch: spaces import it inside ``build()`` only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, batch normalisation."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 dilation: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, dilation=dilation,
                      bias=False),
            nn.BatchNorm2d(c_out),
        )


class AvgPool3x3(nn.AvgPool2d):
    """``nn.AvgPool2d(3, stride, padding=1, count_include_pad=False)``, computed faster.

    The window sums come from a depthwise convolution with a constant kernel of ones; each sum
    is divided by the number of input positions inside its window (a count map computed once
    per input size). Being an ``nn.AvgPool2d``, it is counted as one by FLOP counters.
    """

    def __init__(self, channels: int, stride: int = 1) -> None:
        super().__init__(3, stride=stride, padding=1, count_include_pad=False)
        self.register_buffer("ones", torch.ones(channels, 1, 3, 3), persistent=False)
        self._counts: dict[tuple[int, int, torch.device, torch.dtype], torch.Tensor] = {}

    def _count_map(self, x: torch.Tensor) -> torch.Tensor:
        key = (x.shape[-2], x.shape[-1], x.device, x.dtype)
        counts = self._counts.get(key)
        if counts is None:
            plane = torch.ones(1, 1, *key[:2], device=x.device, dtype=x.dtype)
            counts = F.conv2d(plane, self.ones[:1], stride=self.stride, padding=1)
            self._counts[key] = counts
        return counts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = F.conv2d(x, self.ones, stride=self.stride, padding=1, groups=x.shape[1])
        return sums / self._count_map(x)


class Zero(nn.Module):
    """The ``none`` operation: zeros shaped like the (strided) input."""

    def __init__(self, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return torch.zeros_like(x)
        return torch.zeros_like(x[:, :, :: self.stride, :: self.stride])


class FactorizedReduce(nn.Module):
    """Halve the resolution with two 1x1 stride-2 convolutions on offset grids (DARTS)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


class DilConv(nn.Sequential):
    """ReLU, depthwise (dilated) convolution, pointwise convolution, batch norm (DARTS)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 dilation: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=padding, dilation=dilation,
                      groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )


class SepConv(nn.Sequential):
    """Two stacked depthwise-separable convolutions, the first one strided (DARTS)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            DilConv(c_in, c_in, kernel, stride, padding, 1),
            DilConv(c_in, c_out, kernel, 1, padding, 1),
        )


def drop_path(x: torch.Tensor, prob: float) -> torch.Tensor:
    """Zero whole examples with probability ``prob`` and rescale the rest (DARTS)."""
    if prob <= 0.0:
        return x
    keep = 1.0 - prob
    mask = torch.empty(x.shape[0], *([1] * (x.dim() - 1)), device=x.device, dtype=x.dtype)
    return x * mask.bernoulli_(keep) / keep
