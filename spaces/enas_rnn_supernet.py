"""The ENAS recurrent supernet: one shared matrix per pair of nodes (Pham et al., ICML 2018).

Node 1 reads ``(x_t, h_{t-1})`` through ``W_x`` and ``W_h``; node j may read any earlier node
i through its own matrix ``W_ij`` (ENAS's shared weights). On one path the cell is exactly
:class:`~nasbench.spaces.enas_rnn_net.EnasCell` with ``W_{src(j) j}`` as node j's matrix. The
relaxation is DARTS's recurrent cell (Liu et al., ICLR 2019): node j sums
``softmax(alpha)_i,a * f_a(k_i W_ij)`` over every earlier node i and activation a (node 1 over
activations only), and the new state averages every node.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from torch import nn

from nasbench.api import Architecture
from nasbench.supernet.module import SupernetModule

from .enas_rnn import ACTIVATIONS, EnasRnnSpace
from .enas_rnn_net import (
    EnasRnnClassifier,
    EnasRnnLanguageModel,
    node_output,
)

_NODE_PROJ = re.compile(r"(.*cell)\.node_proj\.(\d+)\.")
"""Node j's matrix in the stand-alone network: ``cell.node_proj.<j - 2>.``"""


class EnasSuperCell(nn.Module):
    """``(x_t, h_{t-1}) -> h_t`` for any cell of ``nodes`` nodes, with shared matrices."""

    def __init__(self, nodes: int, *, in_features: int, hidden: int, highway: bool) -> None:
        super().__init__()
        self.highway = highway
        self.nodes = nodes
        width = 2 * hidden if highway else hidden
        self.x_proj = nn.Linear(in_features, width, bias=False)
        self.h_proj = nn.Linear(hidden, width, bias=False)
        self.pairs = nn.ModuleDict({f"{i}_{j}": nn.Linear(hidden, width, bias=False)
                                    for j in range(2, nodes + 1) for i in range(1, j)})
        self._cell: list[tuple[int, str]] = []
        self._projections: list[nn.Module] = []
        self._loose_ends: list[int] = []
        self._weights: Sequence[torch.Tensor] | None = None

    def set_path(self, cell: Sequence[tuple[int, str]]) -> None:
        """Run ``cell``: ``(input node, activation)`` for nodes 1..N."""
        self._cell = list(cell)
        self._projections = [self.pairs[f"{src}_{j}"] for j, (src, _) in
                             enumerate(cell[1:], start=2)]
        read = {src for src, _ in cell[1:]}
        self._loose_ends = [j for j in range(1, len(cell) + 1) if j not in read]
        self._weights = None

    def set_relaxation(self, weights: Sequence[torch.Tensor]) -> None:
        self._weights = weights

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        highway = self.highway
        pre = self.x_proj(x) + self.h_proj(h)
        if self._weights is not None:
            return self._relaxed(pre, h, self._weights)
        states = [h, node_output(pre, h, self._cell[0][1], highway)]
        for proj, (src, activation) in zip(self._projections, self._cell[1:], strict=True):
            states.append(node_output(proj(states[src]), states[src], activation, highway))
        return torch.stack([states[j] for j in self._loose_ends]).mean(dim=0)

    def _relaxed(self, pre: torch.Tensor, h: torch.Tensor, weights: Sequence[torch.Tensor]
                 ) -> torch.Tensor:
        highway = self.highway

        def mix(pre: torch.Tensor, prev: torch.Tensor, row: torch.Tensor) -> torch.Tensor:
            return sum(row[a] * node_output(pre, prev, act, highway)
                       for a, act in enumerate(ACTIVATIONS))  # type: ignore[return-value]

        states = [h, mix(pre, h, weights[0][0])]
        for j in range(2, self.nodes + 1):
            matrix = weights[j - 1]
            states.append(sum(mix(self.pairs[f"{i}_{j}"](states[i]), states[i], matrix[i - 1])
                              for i in range(1, j)))  # type: ignore[arg-type]
        return torch.stack(states[1:]).mean(dim=0)


class EnasRnnSupernet(SupernetModule):
    """A sequence classifier or language model around :class:`EnasSuperCell`."""

    def __init__(self, space: EnasRnnSpace, *, input_shape: tuple[int, ...], num_classes: int,
                 hidden: int, highway: bool, language_model: bool) -> None:
        super().__init__()
        self.space = space
        nodes = space.params.nodes
        if language_model:
            cell = EnasSuperCell(nodes, in_features=hidden, hidden=hidden, highway=highway)
            self.network: nn.Module = EnasRnnLanguageModel(
                None, vocab_size=num_classes, hidden=hidden, highway=highway, cell_module=cell)
        else:
            cell = EnasSuperCell(nodes, in_features=input_shape[1], hidden=hidden,
                                 highway=highway)
            self.network = EnasRnnClassifier(None, features=input_shape[1],
                                             num_classes=num_classes, hidden=hidden,
                                             highway=highway, cell_module=cell)
        self.cell = cell
        self._size = {"input_shape": input_shape, "num_classes": num_classes,
                      "hidden": hidden, "highway": highway, "language_model": language_model}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def set_path(self, arch: Architecture) -> None:
        self.cell.set_path(self.space.cell(arch))

    def set_relaxation(self, weights: Sequence[torch.Tensor]) -> None:
        self.cell.set_relaxation(weights)

    def standalone(self, arch: Architecture) -> nn.Module:
        return self.space.build(arch, **self._size)

    def shared_name(self, arch: Architecture, name: str) -> str:
        name = f"network.{name}"
        match = _NODE_PROJ.match(name)
        if match is None:
            return name
        j = int(match[2]) + 2
        src = self.space.cell(arch)[j - 1][0]
        return f"{match[1]}.pairs.{src}_{j}.{name[match.end():]}"
