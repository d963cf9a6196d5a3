"""The NAS-RL macro space: depth- and position-dependent decisions, compile rules, training."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from nasbench.spaces.nasrl_macro import NasRlMacroParams, NasRlMacroSpace
from nasbench.spaces.nasrl_net import concat_padded

from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.params import build_params


def _space(**params: object) -> NasRlMacroSpace:
    return NasRlMacroSpace(build_params(NasRlMacroParams, params))


def _walk(space: NasRlMacroSpace, arch: tuple[int, ...]) -> list[str]:
    return [space.next_decision(arch[:i]).name for i in range(len(arch))]  # type: ignore[union-attr]


def test_each_layer_decides_its_filters_then_one_link_per_earlier_layer() -> None:
    space = _space(depth=4)
    names = _walk(space, space.sample(np.random.default_rng(0)))
    assert names[:4] == ["layer1.filter_height", "layer1.filter_width", "layer1.filters",
                         "layer2.filter_height"]
    assert [n for n in names if n.startswith("layer4.reads")] == [
        "layer4.reads_layer1", "layer4.reads_layer2", "layer4.reads_layer3"]
    assert len(names) == 4 * 3 + (0 + 1 + 2 + 3)
    assert space.size() == (16 * 4) ** 4 * 2 ** 6


def test_depth_as_a_decision_shapes_the_rest() -> None:
    space = _space(depth=5, min_depth=2, strides=[1, 2, 3])
    assert space.decisions() is None
    assert space.next_decision(()).choices == ("2", "3", "4", "5")  # type: ignore[union-attr]
    rng = np.random.default_rng(1)
    lengths = {}
    for _ in range(100):
        arch = space.sample(rng)
        lengths[arch[0] + 2] = len(arch)
        assert space.next_decision(arch) is None
    assert lengths == {d: 1 + 4 * d + d * (d - 1) // 2 for d in range(2, 6)}
    assert not space.is_valid(lengths and (0,) * 5)


def test_strings_round_trip_and_mistakes_are_refused() -> None:
    space = _space(depth=3)
    text = "3x3:36 | 5x7:48<1 | 1x1:24<1,2"
    assert space.to_string(space.from_string(text)) == text
    for bad in ["3x3:36 | 5x7:48<2 | 1x1:24", "3x3:36 | 5x7:48 | 1x1:25", "3x3:36 | 5x7:48",
                "3x3:36:s2 | 5x7:48 | 1x1:24", "3x3:36 | 2x2:48 | 1x1:24", "3x3"]:
        with pytest.raises(InvalidArchitectureError, match="nasrl_macro"):
            space.from_string(bad)
    strided = _space(depth=2, strides=[1, 2, 3])
    assert strided.to_string(strided.from_string("3x3:36:s2 | 1x1:24:s3<1")) == (
        "3x3:36:s2 | 1x1:24:s3<1")


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="min_depth"):
        _space(depth=3, min_depth=4)
    with pytest.raises(ConfigError, match="odd"):
        _space(filter_sizes=[2, 3])


def test_the_key_identifies_renumbered_layers_only() -> None:
    space = _space(depth=3)
    key = space.arch_key(space.from_string("3x3:36 | 5x5:48 | 1x1:24<1,2"))
    assert space.arch_key(space.from_string("5x5:48 | 3x3:36 | 1x1:24<1,2")) == key
    assert space.arch_key(space.from_string("3x3:36 | 5x5:48 | 1x1:24<1")) != key
    assert space.arch_key(space.from_string("3x3:36 | 5x5:48<1 | 1x1:24<1,2")) != key


def test_mutation_changes_one_setting_or_one_link_never_the_depth() -> None:
    space = _space(depth=4, min_depth=2)
    rng = np.random.default_rng(2)
    for _ in range(200):
        arch = space.sample(rng)
        child = space.mutate(arch, rng)
        assert child[0] == arch[0]
        assert sum(a != b for a, b in zip(arch, child, strict=True)) == 1


def test_compile_rules_image_fallback_padding_and_loose_ends() -> None:
    space = _space(depth=3, strides=[1, 2])
    arch = space.from_string("3x3:36:s2 | 5x5:48:s1 | 1x1:24:s1<1,2")
    net = space.build(arch, input_shape=(1, 9, 9), num_classes=10)
    assert net.layers[1][0].in_channels == 1          # reads nothing: the image
    assert net.layers[2][0].in_channels == 36 + 48    # concatenated inputs
    assert net.loose_ends == [2] and net.classifier.in_features == 24
    assert net(torch.randn(2, 1, 9, 9)).shape == (2, 10)
    small, large = torch.ones(1, 2, 5, 5), torch.ones(1, 3, 9, 9)
    joined = concat_padded([small, large])
    assert joined.shape == (1, 5, 9, 9) and joined[:, :2, 5:, :].abs().sum() == 0


def test_sampled_networks_train_on_digits(digits, fit: Callable) -> None:
    space = _space(depth=4)
    x, y = digits[0][:32], digits[1][:32]
    rng = np.random.default_rng(4)
    for _ in range(2):
        arch = space.sample(rng)
        torch.manual_seed(0)
        net = space.build(arch, input_shape=(1, 8, 8), num_classes=10)
        first, last = fit(net, x, y, steps=12, lr=0.1)
        assert last < 0.8 * first, f"{space.to_string(arch)}: loss {first:.3f} -> {last:.3f}"
