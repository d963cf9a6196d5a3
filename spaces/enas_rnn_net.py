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

    def _node(self, pre: torch.Tensor, prev: torch.Tensor, activation: str) -> torch.Tensor:
        f = _FUNCTIONS[activation]
        if not self.highway:
            return f(pre)
        gate, value = pre.chunk(2, dim=-1)
        gate = torch.sigmoid(gate)
        return gate * f(value) + (1 - gate) * prev

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        states = [h, self._node(self.x_proj(x) + self.h_proj(h), h, self.nodes[0][1])]
        for proj, (src, activation) in zip(self.node_proj, self.nodes[1:], strict=True):
            states.append(self._node(proj(states[src]), states[src], activation))
        return torch.stack([states[j] for j in self.loose_ends]).mean(dim=0)


def _unroll(cell: EnasCell, inputs: torch.Tensor, hidden: int) -> list[torch.Tensor]:
    h = inputs.new_zeros(inputs.shape[0], hidden)
    states = []
    for t in range(inputs.shape[1]):
        h = cell(inputs[:, t], h)
        states.append(h)
    return states


class EnasRnnClassifier(nn.Module):
    """``(batch, T, F)`` sequences -> logits from the last hidden state."""

    def __init__(self, cell: Sequence[tuple[int, str]], *, features: int, num_classes: int,
                 hidden: int, highway: bool) -> None:
        super().__init__()
        self.hidden = hidden
        self.cell = EnasCell(cell, in_features=features, hidden=hidden, highway=highway)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(_unroll(self.cell, x, self.hidden)[-1])


class EnasRnnLanguageModel(nn.Module):
    """``(batch, T)`` token ids -> ``(batch, T, vocab)`` next-token logits.

    The decoder shares the embedding's weights (Press & Wolf 2017), as ENAS's language model.
    """

    def __init__(self, cell: Sequence[tuple[int, str]], *, vocab_size: int, hidden: int,
                 highway: bool) -> None:
        super().__init__()
        self.hidden = hidden
        self.embedding = nn.Embedding(vocab_size, hidden)
        self.cell = EnasCell(cell, in_features=hidden, hidden=hidden, highway=highway)
        self.decoder = nn.Linear(hidden, vocab_size)
        self.decoder.weight = self.embedding.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        states = _unroll(self.cell, self.embedding(tokens), self.hidden)
        return self.decoder(torch.stack(states, dim=1))
