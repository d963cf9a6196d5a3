"""NAS-Bench-Macro: published sizes of all 6,561 networks, canonical codes, table, training."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
import torch
from nasbench.spaces.nasbench_macro import NasBenchMacroSpace

from nasbench.errors import ConfigError
from nasbench.netstats import count_flops, count_params
from nasbench.protocol import study_from_dict


@pytest.fixture(scope="module")
def published(macro_records) -> dict[str, dict]:
    return macro_records


def _stats(code: str) -> np.ndarray:
    space = NasBenchMacroSpace()
    net = space.build(space.from_string(code), input_shape=(3, 32, 32), num_classes=10)
    return np.array([count_params(net), count_flops(net, (3, 32, 32), convention="nb_macro")])


def test_sizes_equal_the_published_ones_for_all_6561_networks(published) -> None:
    """Parameters and FLOPs (NAS-Bench-Macro's count: no bias terms) of every entry.

    Counts are sums over modules and layers are independent modules, so a network's counts are
    those of the all-identity network plus what each non-identity layer adds, measured on real
    networks; additivity itself is checked on directly built networks.
    """
    base = _stats("0" * 8)
    added = {(i, op): _stats("0" * i + op + "0" * (7 - i)) - base
             for i in range(8) for op in "12"}
    for code, record in published.items():
        predicted = base + sum((added[i, op] for i, op in enumerate(code) if op != "0"),
                               np.zeros(2, int))
        assert tuple(predicted) == (record["params"], record["flops"]), code
    for code in ("22222222", "12121212", "01201120", "20000002"):
        assert tuple(_stats(code)) == (published[code]["params"], published[code]["flops"])


def test_canonical_codes_are_the_benchmarks(published) -> None:
    """Encodings with the same key have the same record; 3,969 distinct networks."""
    space = NasBenchMacroSpace()
    by_key: dict[str, str] = {}
    for code, record in published.items():
        key = space.arch_key(space.from_string(code))
        assert key in published
        assert json.dumps(record, sort_keys=True) == json.dumps(published[key], sort_keys=True)
        by_key[key] = code
    assert len(by_key) == 3969
    assert space.arch_key(space.from_string("10201000")) == "10210000"


def test_networks_train_on_digits(digits, fit: Callable) -> None:
    space = NasBenchMacroSpace()
    x, y = digits[0][:64], digits[1][:64]
    for code in ("12021210", "00000000"):
        torch.manual_seed(0)
        net = space.build(space.from_string(code), input_shape=(1, 8, 8), num_classes=10, C=8,
                          head=64)
        assert net(x).shape == (64, 10)
        first, last = fit(net, x, y, steps=12)
        assert last < 0.8 * first, f"{code}: loss {first:.3f} -> {last:.3f}"


def test_table_serves_the_tabular_evaluator_but_not_a_search_on_test_data(
        plugins) -> None:
    bench = plugins.benchmarks.get("nasbench_macro")()
    table = bench.load(None, ("cifar10",))
    space = NasBenchMacroSpace()
    row = table.row(space.from_string("02012100"))
    assert len(table) == 6561
    assert table.column("cifar10/params")[row] == 890666
    seeds = [table.column(f"cifar10/test_acc#{i}")[row] for i in range(3)]
    assert table.column("cifar10/test_acc")[row] == pytest.approx(np.mean(seeds))
    study = {
        "study": {"name": "macro", "seeds": 1},
        "space": {"name": "nasbench_macro"},
        "evaluator": {"name": "tabular", "dataset": "cifar10", "search_metric": "test_acc"},
        "budget": {"evaluations": 5},
        "strategies": [{"name": "random_search"}],
    }
    with pytest.raises(ConfigError, match="measured on test data"):
        study_from_dict(study, plugins)
    study["evaluator"]["search_metric"] = "flops"
    assert study_from_dict(study, plugins).evaluator is not None
