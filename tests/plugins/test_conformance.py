"""Every registered plugin passes the conformance kit, on real benchmark data where it fits."""

from __future__ import annotations

import pytest

from nasbench.api import EvaluatorContext
from nasbench.registry import load_plugins
from nasbench.testing import check_evaluator, check_space, check_strategy

_PLUGINS = load_plugins()


@pytest.mark.parametrize("name", _PLUGINS.spaces.names())
def test_space_conforms(name: str) -> None:
    check_space(_PLUGINS.spaces.get(name)())


@pytest.fixture(scope="module")
def nb201_objective(data_dir):
    """CIFAR-10 12-epoch validation accuracy of NAS-Bench-201 cells, the benchmark's reward."""
    from nasbench.evaluators.nb201_table import Nb201Benchmark

    table = Nb201Benchmark().load(data_dir, ("cifar10",))
    column = table.column("cifar10/valid_12ep")
    return lambda arch: column[table.row(arch)]


@pytest.mark.parametrize("name", _PLUGINS.strategies.names())
def test_strategy_conforms_on_nb201(name: str, nb201_objective) -> None:
    from nasbench.spaces.nb201 import Nb201Space

    check_strategy(_PLUGINS.strategies.get(name), Nb201Space(), objective=nb201_objective)


@pytest.mark.parametrize(
    ("space", "dataset", "search", "report"),
    [
        ("nb201", "cifar10", "cifar10/valid_12ep", ("cifar100/test_200ep",)),
        ("nbgraph", "cora", "cora/valid_acc", ("cora/test_acc", "pubmed/test_acc")),
    ],
)
def test_tabular_evaluator_conforms(space, dataset, search, report, data_dir) -> None:
    sp = _PLUGINS.spaces.get(space)()
    evaluator = _PLUGINS.evaluators.get("tabular")()
    evaluator.bind_plugins(_PLUGINS)
    evaluator.check(sp, dataset, data_dir)
    check_evaluator(evaluator, sp, EvaluatorContext(dataset, search, report, data_dir=data_dir))
