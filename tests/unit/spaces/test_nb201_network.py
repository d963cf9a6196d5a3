"""The NAS-Bench-201 network: published sizes, exact fast pooling, training on real data."""

from __future__ import annotations

import ast
from collections.abc import Callable

import numpy as np
import pytest
import torch
from nasbench.spaces.nb201 import OPS, Nb201Space, from_naslib
from nasbench.spaces.ops import AvgPool3x3
from torch import nn

from nasbench.errors import ConfigError
from nasbench.netstats import count_flops, count_params

_DATASETS = {"cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100),
             "ImageNet16-120": ((3, 16, 16), 120)}


def _stats(arch: tuple[int, ...], shape: tuple[int, ...], classes: int) -> np.ndarray:
    net = Nb201Space().build(arch, input_shape=shape, num_classes=classes)
    return np.array([count_params(net), count_flops(net, shape, convention="suite_zero")])


@pytest.fixture(scope="module")
def published(suite_zero_records) -> dict[str, dict[str, dict]]:
    return suite_zero_records


@pytest.mark.parametrize("dataset", list(_DATASETS))
def test_sizes_equal_the_published_ones_for_all_725_cells(published, dataset: str) -> None:
    """Parameters and FLOPs of C=16, N=5 networks equal NAS-Bench-Suite-Zero's figures.

    Both counts are sums over modules, and cells differ only in their edge operations, so a
    network's counts are those of the network whose edges are all ``none`` plus, for each
    edge, what its operation adds. Those per-operation increments are measured on real
    networks; the additivity itself is checked on directly built networks, chosen to cover
    cells with zero nodes, every operation and the densest cells.
    """
    shape, classes = _DATASETS[dataset]
    records = published[dataset]
    none = OPS.index("none")
    empty = _stats((none,) * 6, shape, classes)
    added = {op: _stats((op,) + (none,) * 5, shape, classes) - empty
             for op in range(len(OPS)) if op != none}
    archs = {key: from_naslib(ast.literal_eval(key)) for key in records}
    expected = {key: (round(r["params"]["score"] * 1e6), round(r["flops"]["score"] * 1e6))
                for key, r in records.items()}
    for key, arch in archs.items():
        predicted = empty + sum((added[op] for op in arch if op != none), np.zeros(2, int))
        assert tuple(predicted) == expected[key], f"{dataset} {key}: {predicted}"
    for key in _direct_sample(archs):
        direct = _stats(archs[key], shape, classes)
        assert tuple(direct) == expected[key], f"{dataset} {key} built directly: {direct}"


def _direct_sample(archs: dict[str, tuple[int, ...]]) -> list[str]:
    """Cells where additivity could break: zero nodes, fewest and most ``none`` edges."""
    space = Nb201Space()
    none = OPS.index("none")
    by_nones = sorted(archs, key=lambda k: archs[k].count(none))
    zero_nodes = [k for k in archs if "#" in space.arch_key(archs[k])]
    return list(dict.fromkeys([*by_nones[:2], *by_nones[-2:], *zero_nodes[:2]]))


@pytest.mark.parametrize(("height", "width", "stride"), [(8, 8, 1), (7, 5, 1), (8, 8, 2),
                                                         (9, 6, 2), (1, 1, 1)])
def test_fast_average_pool_equals_torch_pooling(height: int, width: int, stride: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 5, height, width, requires_grad=True)
    reference = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    fast = AvgPool3x3(5, stride=stride)
    expected, got = reference(x), fast(x)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)
    (grad_expected,) = torch.autograd.grad(expected.square().sum(), x)
    (grad_got,) = torch.autograd.grad(got.square().sum(), x)
    torch.testing.assert_close(grad_got, grad_expected, rtol=1e-6, atol=1e-6)


def test_sampled_networks_train_on_digits(digits, fit: Callable) -> None:
    space = Nb201Space()
    x, y = digits[0][:64], digits[1][:64]
    rng = np.random.default_rng(3)
    for _ in range(3):
        arch = space.sample(rng)
        torch.manual_seed(0)
        net = space.build(arch, input_shape=(1, 8, 8), num_classes=10, C=8, N=1)
        assert net(x).shape == (64, 10)
        first, last = fit(net, x, y)
        assert last < 0.8 * first, f"{space.to_string(arch)}: loss {first:.3f} -> {last:.3f}"


def test_any_input_size_and_class_count() -> None:
    space = Nb201Space()
    arch = space.from_string(
        "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|"
    )
    for shape in [(3, 32, 32), (1, 28, 28), (2, 13, 7)]:
        net = space.build(arch, input_shape=shape, num_classes=7, C=4, N=2)
        out = net(torch.randn(2, *shape))
        assert out.shape == (2, 7)
        out.sum().backward()


def test_a_cell_of_only_none_edges_outputs_zeros() -> None:
    space = Nb201Space()
    net = space.build((0,) * 6, input_shape=(1, 8, 8), num_classes=3, C=4, N=1)
    cell = net.cells[0]
    assert len(cell.edges) == 0
    assert torch.equal(cell(torch.randn(2, 4, 8, 8)), torch.zeros(2, 4, 8, 8))


def test_size_and_input_mistakes_are_config_errors() -> None:
    space = Nb201Space()
    arch = (1,) * 6
    with pytest.raises(ConfigError, match=r"unknown size key.*Known size keys: C, N"):
        space.build(arch, input_shape=(3, 8, 8), num_classes=10, channels=8)
    with pytest.raises(ConfigError, match="expected int"):
        space.build(arch, input_shape=(3, 8, 8), num_classes=10, C=8.5)
    with pytest.raises(ConfigError, match=r"image data shaped \(channels, height, width\)"):
        space.build(arch, input_shape=(64,), num_classes=10)
    with pytest.raises(ConfigError, match="num_classes"):
        space.build(arch, input_shape=(3, 8, 8), num_classes=0)
