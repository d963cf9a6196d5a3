"""Parameter and FLOP counting under each benchmark's convention, on a hand-checked network."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasbench.errors import ConfigError
from nasbench.netstats import count_flops, count_params


def _network() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=True),  # 4x6x6 outputs, 27 MACs each, + bias
        nn.BatchNorm2d(4),                          # 144 inputs
        nn.ReLU(),                                  # 144 inputs
        nn.AvgPool2d(2),                            # 4x3x3 outputs, 2x2 windows
        nn.AdaptiveAvgPool2d(1),                    # 4 outputs over 3x3 windows
        nn.Flatten(),
        nn.Linear(4, 5),                            # 20 MACs + 5 bias
    )


@pytest.mark.parametrize(("convention", "expected"), [
    ("nb201", 144 * 27 + 144 + 20 + 5),
    ("suite_zero", 144 * 27 + 144 + 2 * 144 + 144 + 36 * 4 + 4 * (3 + 1) ** 2 + 20),
    ("nb_macro", 144 * 27 + 20),
])
def test_conventions_count_what_their_benchmarks_count(convention: str, expected: int) -> None:
    net = _network().train()
    assert count_flops(net, (3, 6, 6), convention=convention) == expected
    assert net.training, "counting must restore the training mode"


def test_unknown_convention_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Known: nb201, suite_zero, nb_macro"):
        count_flops(_network(), (3, 6, 6), convention="thop")


def test_parameters_of_auxiliary_heads_are_left_out_by_default() -> None:
    net = nn.Module()
    net.body = nn.Linear(3, 4)
    net.auxiliary_head = nn.Linear(4, 2)
    assert count_params(net) == 16
    assert count_params(net, include_auxiliary=True) == 26


def test_token_inputs_and_every_call_of_a_shared_module_are_counted() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.step = nn.Linear(4, 4, bias=False)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.step(self.step(self.embed(tokens)))

    assert count_flops(Twice(), (7,), dtype=torch.long) == 2 * 7 * 16
