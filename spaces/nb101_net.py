"""The NAS-Bench-101 network (Ying et al., ICML 2019), rebuilt in PyTorch.

Layout of the released ``nasbench/lib/model_builder.py`` (TensorFlow): a 3x3 conv-BN-ReLU stem
with 128 channels; three stacks of three cells; before the second and third stacks a 2x2
max-pool of stride 2 halves the resolution and the cells double the channels; global average
pooling and a dense layer. Convolutions have no bias; batch norm uses momentum 0.997 and epsilon
1e-5 (TensorFlow's convention; PyTorch's momentum is 1 - 0.997).

Inside a cell (``build_module``), on the pruned graph:

* the output channels ``C`` are split among the vertices that feed the output (concatenated):
  ``C // k`` each, the first ``C % k`` of them one more; any other interior vertex gets the
  largest channel count among its successors (``compute_vertex_channels``);
* a vertex sums its inputs: each interior predecessor sliced to the vertex's channels (it has
  at most one more), and the cell input through a 1x1 conv-BN-ReLU projection when the input
  feeds it; then applies its operation (``maxpool3x3`` keeps its channels);
* the output concatenates its interior predecessors and adds a projection of the cell input
  when the input feeds the output directly (or is that projection alone).

With the benchmark's sizes on 32x32 CIFAR-10, the trainable parameter count equals the
dataset's ``trainable_parameters`` (checked in the tests against the Inception-like cell of the
released notebook: 2,694,282).
"""

from __future__ import annotations

import torch
from torch import nn

_BN_MOMENTUM = 1 - 0.997
_BN_EPS = 1e-5


class ConvBnRelu(nn.Sequential):
    """Convolution (no bias, 'same' padding), batch norm, ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=_BN_EPS, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def vertex_channels(c_in: int, c_out: int, matrix: tuple[tuple[int, ...], ...]) -> list[int]:
    """Channels of every vertex of a pruned cell (the released ``compute_vertex_channels``)."""
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[n - 1] = c_in, c_out
    if n == 2:
        return channels
    fan_in = sum(matrix[v][n - 1] for v in range(1, n - 1))
    base, extra = divmod(c_out, fan_in) if fan_in else (0, 0)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            channels[v] = base + (1 if extra else 0)
            extra = max(extra - 1, 0)
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            for w in range(v + 1, n - 1):
                if matrix[v][w]:
                    channels[v] = max(channels[v], channels[w])
    return channels


def _op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return ConvBnRelu(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBnRelu(channels, channels, 1)
    if name == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"no module for NAS-Bench-101 operation {name!r}")


class Nb101Cell(nn.Module):
    """One cell of a pruned NAS-Bench-101 graph."""

    def __init__(self, matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...], c_in: int,
                 c_out: int) -> None:
        super().__init__()
        n = len(matrix)
        self.matrix = matrix
        self.channels = vertex_channels(c_in, c_out, matrix)
        self.proj = nn.ModuleDict()
        self.ops = nn.ModuleDict()
        for t in range(1, n - 1):
            if matrix[0][t]:
                self.proj[str(t)] = ConvBnRelu(c_in, self.channels[t], 1)
            self.ops[str(t)] = _op(ops[t], self.channels[t])
        if matrix[0][n - 1]:
            self.proj[str(n - 1)] = ConvBnRelu(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.matrix)
        values: list[torch.Tensor] = [x]
        concat = []
        for t in range(1, n - 1):
            width = self.channels[t]
            inputs = [values[s][:, :width] for s in range(1, t) if self.matrix[s][t]]
            if self.matrix[0][t]:
                inputs.append(self.proj[str(t)](x))
            total = inputs[0]
            for extra in inputs[1:]:
                total = total + extra
            values.append(self.ops[str(t)](total))
            if self.matrix[t][n - 1]:
                concat.append(values[t])
        if not concat:
            return self.proj[str(n - 1)](x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if self.matrix[0][n - 1]:
            out = out + self.proj[str(n - 1)](x)
        return out


class Nb101Network(nn.Module):
    """Stem, ``stacks`` stacks of ``cells_per_stack`` cells, global pooling, dense layer."""

    def __init__(self, matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...], *,
                 in_channels: int, num_classes: int, stem_channels: int = 128, stacks: int = 3,
                 cells_per_stack: int = 3) -> None:
        super().__init__()
        self.stem = ConvBnRelu(in_channels, stem_channels, 3)
        layers: list[nn.Module] = []
        channels = stem_channels
        for stack in range(stacks):
            c_out = channels
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                c_out = channels * 2
            for _ in range(cells_per_stack):
                layers.append(Nb101Cell(matrix, ops, channels, c_out))
                channels = c_out
        self.cells = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem(x))
        return self.classifier(x.mean(dim=(2, 3)))
