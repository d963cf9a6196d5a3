"""Networks of the NAS-RL recurrent cell (Zoph & Le, ICLR 2017): see :mod:`.nascell`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": _identity,
}


def _combine(name: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a + b if name == "add" else a * b


class NasCell(nn.Module):
    """One cell: ``(x_t, h_{t-1}, c_{t-1}) -> (h_t, c_t)``.

    Leaf ``i`` reads its own slices of one input projection (with bias) and one state
    projection (without), so that all leaves cost two matrix products per step.
    """

    def __init__(self, cell: Mapping[str, Any], *, in_features: int, hidden: int) -> None:
        super().__init__()
        self.nodes = [(comb, _ACTIVATIONS[act]) for comb, act in cell["nodes"]]
        self.children_of = dict(cell["children"])
        self.base = len(self.nodes) - len(self.children_of)
        self.inject_comb, inject_act = cell["inject"]
        self.inject_act = _ACTIVATIONS[inject_act]
        self.inject_node = cell["inject_node"]
        self.cell_node = cell["cell_node"]
        self.x_proj = nn.Linear(in_features, self.base * hidden)
        self.h_proj = nn.Linear(hidden, self.base * hidden, bias=False)

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        xs = self.x_proj(x).chunk(self.base, dim=-1)
        hs = self.h_proj(h).chunk(self.base, dim=-1)
        out: list[torch.Tensor] = []
        memory = c
        for i, (comb, act) in enumerate(self.nodes):
            if i < self.base:
                a, b = xs[i], hs[i]
            else:
                left, right = self.children_of[i]
                a, b = out[left], out[right]
            pre = _combine(comb, a, b)
            value = act(pre)
            if i == self.inject_node:
                value = self.inject_act(_combine(self.inject_comb, value, c))
            if i == self.cell_node:
                memory = pre
            out.append(value)
        return out[-1], memory


def _unroll(cell: NasCell, inputs: torch.Tensor, hidden: int) -> list[torch.Tensor]:
    h = inputs.new_zeros(inputs.shape[0], hidden)
    c = torch.zeros_like(h)
    states = []
    for t in range(inputs.shape[1]):
        h, c = cell(inputs[:, t], h, c)
        states.append(h)
    return states


class NasCellClassifier(nn.Module):
    """``(batch, T, F)`` sequences -> logits from the last hidden state."""

    def __init__(self, cell: Mapping[str, Any], *, features: int, num_classes: int,
                 hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.cell = NasCell(cell, in_features=features, hidden=hidden)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(_unroll(self.cell, x, self.hidden)[-1])


class NasCellLanguageModel(nn.Module):
    """``(batch, T)`` token ids -> ``(batch, T, vocab)`` next-token logits; the decoder shares
    the embedding's weights."""

    def __init__(self, cell: Mapping[str, Any], *, vocab_size: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.embedding = nn.Embedding(vocab_size, hidden)
        self.cell = NasCell(cell, in_features=hidden, hidden=hidden)
        self.decoder = nn.Linear(hidden, vocab_size)
        self.decoder.weight = self.embedding.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        states = _unroll(self.cell, self.embedding(tokens), self.hidden)
        return self.decoder(torch.stack(states, dim=1))
