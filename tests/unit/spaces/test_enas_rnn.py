"""The ENAS recurrent cell: decisions, keys, sequence classifier and language model."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
import torch
from nasbench.spaces.enas_rnn import EnasRnnParams, EnasRnnSpace

from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.netstats import count_flops, count_params


def _space(nodes: int) -> EnasRnnSpace:
    return EnasRnnSpace(EnasRnnParams(nodes=nodes))


def test_size_is_four_to_the_n_times_n_minus_one_factorial() -> None:
    assert _space(12).size() == 4 ** 12 * 39916800
    space = _space(3)
    archs = {space.sample(np.random.default_rng(s)) for s in range(3000)}
    assert len(archs) == space.size() == 128


def test_strings_round_trip_and_mistakes_are_refused() -> None:
    space = _space(4)
    text = "tanh|1:relu|1:sigmoid|2:identity"
    assert space.to_string(space.from_string(text)) == text
    for bad in ["tanh|1:relu|3:sigmoid|2:identity", "tanh|1:relu|1:sigmoid",
                "gelu|1:relu|1:x|1:relu"]:
        with pytest.raises(InvalidArchitectureError, match="enas_rnn"):
            space.from_string(bad)


def test_the_key_identifies_renumbered_nodes() -> None:
    space = _space(4)
    key = space.arch_key(space.from_string("tanh|1:relu|1:sigmoid|2:identity"))
    assert space.arch_key(space.from_string("tanh|1:sigmoid|1:relu|3:identity")) == key
    assert space.arch_key(space.from_string("tanh|1:relu|1:sigmoid|3:identity")) != key


def test_mutation_changes_one_activation_or_one_input() -> None:
    space = _space(6)
    rng = np.random.default_rng(0)
    for _ in range(200):
        arch = space.sample(rng)
        child = space.mutate(arch, rng)
        assert sum(a != b for a, b in zip(arch, child, strict=True)) == 1


@pytest.mark.parametrize("highway", [True, False])
def test_sequence_classifier_trains_on_mnist1d(mnist1d, fit: Callable, highway: bool) -> None:
    space = _space(5)
    x, y = mnist1d[0][:32].unsqueeze(-1), mnist1d[1][:32]
    arch = space.sample(np.random.default_rng(7))
    torch.manual_seed(0)
    net = space.build(arch, input_shape=(40, 1), num_classes=10, hidden=32, highway=highway)
    assert net(x).shape == (32, 10)
    first, last = fit(net, x, y, steps=30, lr=1.0, clip=5.0)
    assert last < 0.9 * first, f"{space.to_string(arch)}: loss {first:.3f} -> {last:.3f}"


def test_flops_count_every_step_of_the_sequence() -> None:
    space = _space(4)
    net = space.build(space.sample(np.random.default_rng(0)), input_shape=(40, 1),
                      num_classes=10, hidden=16)
    per_step = count_flops(net, (2, 1)) - count_flops(net, (1, 1))
    assert count_flops(net, (40, 1)) == count_flops(net, (1, 1)) + 39 * per_step > 0


def test_language_model_learns_real_text(fit: Callable) -> None:
    """Next-character prediction on the json module's documentation."""
    text = json.__doc__ or ""
    vocab = sorted(set(text))
    ids = torch.tensor([vocab.index(c) for c in text[:33 * 16]]).view(16, 33)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    space = _space(4)
    torch.manual_seed(0)
    lm = space.build(space.sample(np.random.default_rng(3)), input_shape=(32,),
                     num_classes=len(vocab), hidden=32, language_model=True)
    assert lm(inputs).shape == (16, 32, len(vocab))
    assert lm.decoder.weight is lm.embedding.weight
    assert count_params(lm) < count_params(lm.embedding) + count_params(lm.cell) + 2 * len(vocab)

    class Flat(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lm = lm

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.lm(tokens).reshape(-1, len(vocab))

    first, last = fit(Flat(), inputs, targets.reshape(-1), steps=15, lr=0.5, clip=5.0)
    assert last < 0.8 * first


def test_shape_mistakes_are_config_errors() -> None:
    space = _space(3)
    arch = (0,) * 5
    with pytest.raises(ConfigError, match=r"\(time, features\)"):
        space.build(arch, input_shape=(40,), num_classes=10)
    with pytest.raises(ConfigError, match="token ids shaped"):
        space.build(arch, input_shape=(40, 1), num_classes=10, language_model=True)
