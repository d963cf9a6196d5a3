"""Networks of the ENAS recurrent cell (Pham et al., ICML 2018).

The cell maps ``(x_t, h_{t-1})`` to ``h_t``. Node 1 computes ``f_1(x_t W_x + h_{t-1} W_h)``;
node ``j`` reading node ``i`` computes ``f_j(k_i W_j)``; ``h_t`` averages the loose ends. With
``highway=True`` (the released code, and DARTS's recurrent cell after it) each node is gated:
``c = sigmoid(k_i W_j^c)``, ``k_j = c * f_j(k_i W_j) + (1 - c) * k_i``, node 1 gating against
``h_{t-1}``. Weights carry no bias, as in the released code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": _identity,
    "sigmoid": torch.sigmoid,
}


def node_output(pre: torch.Tensor, prev: torch.Tensor, activation: str,
                highway: bool) -> torch.Tensor:
    """A node's value from its projected input ``pre`` and the state ``prev`` it reads.

    Plain: ``f(pre)``. Highway: ``pre`` holds a gate and a value, ``c * f(value) + (1 - c) *
    prev`` with ``c = sigmoid(gate)``.
    """
    f = _FUNCTIONS[activation]
    if not highway:
        return f(pre)
    gate, value = pre.chunk(2, dim=-1)
    gate = torch.sigmoid(gate)
    return gate * f(value) + (1 - gate) * prev


class EnasCell(nn.Module):
    """One recurrent cell: ``(x_t, h_{t-1}) -> h_t``."""

    def __init__(self, cell: Sequence[tuple[int, str]], *, in_features: int, hidden: int,
                 highway: bool) -> None:
        super().__init__()
        self.highway = highway
        self.nodes = list(cell)
        width = 2 * hidden if highway else hidden
        self.x_proj = nn.Linear(in_features, width, bias=False)
        self.h_proj = nn.Linear(hidden, width, bias=False)
        self.node_proj = nn.ModuleList(nn.Linear(hidden, width, bias=False) for _ in cell[1:])
        read = {src for src, _ in cell[1:]}
        self.loose_ends = [j for j in range(1, len(cell) + 1) if j not in read]

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        highway = self.highway
        states = [h, node_output(self.x_proj(x) + self.h_proj(h), h, self.nodes[0][1], highway)]
        for proj, (src, activation) in zip(self.node_proj, self.nodes[1:], strict=True):
            states.append(node_output(proj(states[src]), states[src], activation, highway))
        return torch.stack([states[j] for j in self.loose_ends]).mean(dim=0)


def _unroll(cell: nn.Module, inputs: torch.Tensor, hidden: int) -> list[torch.Tensor]:
    h = inputs.new_zeros(inputs.shape[0], hidden)
    states = []
    for t in range(inputs.shape[1]):
        h = cell(inputs[:, t], h)
        states.append(h)
    return states


class EnasRnnClassifier(nn.Module):
    """``(batch, T, F)`` sequences -> logits from the last hidden state.

    ``cell_module`` replaces the cell built from ``cell`` (the weight-sharing supernet's cell
    holds a matrix for every pair of nodes); it maps ``(x_t, h_{t-1})`` to ``h_t``.
    """

    def __init__(self, cell: Sequence[tuple[int, str]] | None, *, features: int,
                 num_classes: int, hidden: int, highway: bool,
                 cell_module: nn.Module | None = None) -> None:
        super().__init__()
        self.hidden = hidden
        if cell_module is None:
            if cell is None:
                raise ValueError("EnasRnnClassifier needs a cell or a cell module")
            cell_module = EnasCell(cell, in_features=features, hidden=hidden, highway=highway)
        self.cell = cell_module
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(_unroll(self.cell, x, self.hidden)[-1])


class EnasRnnLanguageModel(nn.Module):
    """``(batch, T)`` token ids -> ``(batch, T, vocab)`` next-token logits.

    The decoder shares the embedding's weights (Press & Wolf 2017), as ENAS's language model.
    ``cell_module`` replaces the cell built from ``cell``, as in :class:`EnasRnnClassifier`.
    """

    def __init__(self, cell: Sequence[tuple[int, str]] | None, *, vocab_size: int,
                 hidden: int, highway: bool, cell_module: nn.Module | None = None) -> None:
        super().__init__()
        self.hidden = hidden
        self.embedding = nn.Embedding(vocab_size, hidden)
        if cell_module is None:
            if cell is None:
                raise ValueError("EnasRnnLanguageModel needs a cell or a cell module")
            cell_module = EnasCell(cell, in_features=hidden, hidden=hidden, highway=highway)
        self.cell = cell_module
        self.decoder = nn.Linear(hidden, vocab_size)
        self.decoder.weight = self.embedding.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        states = _unroll(self.cell, self.embedding(tokens), self.hidden)
        return self.decoder(torch.stack(states, dim=1))
