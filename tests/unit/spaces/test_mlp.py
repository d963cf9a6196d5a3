"""Dense networks: the DQN value-network space by default, variable depth, training."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from nasbench.spaces.mlp import MlpParams, MlpSpace

from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.params import build_params


def test_default_space_is_the_dqn_value_network_space() -> None:
    space = MlpSpace()
    assert [d.name for d in space.decisions()] == [
        "layer1.width", "layer1.activation", "layer2.width", "layer2.activation"]
    assert space.decisions()[0].choices == ("64", "128", "256", "1024", "2048")
    assert space.decisions()[1].choices == ("relu", "sigmoid")
    assert space.size() == 100
    assert space.to_string(space.from_string("256:relu|1024:sigmoid")) == "256:relu|1024:sigmoid"
    with pytest.raises(InvalidArchitectureError, match="depths on offer"):
        space.from_string("256:relu")
    with pytest.raises(InvalidArchitectureError, match="layer 2"):
        space.from_string("256:relu|100:sigmoid")


def test_several_depths_make_depth_the_first_decision() -> None:
    space = MlpSpace(build_params(MlpParams, {"depths": [1, 3], "widths": [8, 16]}))
    assert space.decisions() is None
    assert space.size() == 4 + 4 ** 3
    arch = space.from_string("8:relu|16:sigmoid|8:relu")
    assert arch[0] == 1 and len(arch) == 7
    rng = np.random.default_rng(0)
    for _ in range(50):
        parent = space.sample(rng)
        child = space.mutate(parent, rng)
        assert child[0] == parent[0]
        assert sum(a != b for a, b in zip(parent, child, strict=True)) == 1


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown activations"):
        build_params(MlpParams, {"activations": ["relu", "swishy"]})
    with pytest.raises(ConfigError, match="distinct"):
        build_params(MlpParams, {"widths": [8, 8]})


def test_networks_train_on_digits_vectors(digits, fit: Callable) -> None:
    space = MlpSpace()
    x, y = digits[0][:128].flatten(1), digits[1][:128]
    for text in ("256:relu|64:relu", "128:sigmoid|64:relu"):
        torch.manual_seed(0)
        net = space.build(space.from_string(text), input_shape=(64,), num_classes=10)
        assert net(x).shape == (128, 10)
        first, last = fit(net, x, y, steps=30, lr=0.3)
        assert last < 0.8 * first, f"{text}: loss {first:.3f} -> {last:.3f}"
    with pytest.raises(ConfigError, match=r"\(features\)"):
        space.build(space.from_string(text), input_shape=(1, 8, 8), num_classes=10)
