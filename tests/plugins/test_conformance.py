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
def nb201_objective():
    """CIFAR-10 12-epoch validation accuracy of NAS-Bench-201 cells, the benchmark's reward."""
    table = _PLUGINS.benchmarks.get("nb201")().load(None, ("cifar10",))
    column = table.column("cifar10/valid_12ep")
    return lambda arch: column[table.row(arch)]


ONE_SHOT_PARAMS = {
    "darts": {"epochs": 1, "batch_size": 32, "report_every": 0.25},
    "enas": {"epochs": 1, "batch_size": 32, "report_every": 0.25, "controller_steps": 2,
             "controller_aggregate": 3, "final_samples": 3},
    "rsws": {"epochs": 1, "batch_size": 32, "report_every": 0.25, "candidates": 5,
             "rank_batches": 1},
    "gdas": {"epochs": 1, "batch_size": 32, "report_every": 0.25},
    "unas": {"epochs": 1, "warmup_epochs": 0, "batch_size": 32, "report_every": 0.25},
}
"""Short schedules for the built-in one-shot strategies: 4 proposals each on small data."""


@pytest.mark.parametrize("name", _PLUGINS.strategies.names())
def test_strategy_conforms_on_nb201(name: str, nb201_objective) -> None:
    from nasbench.spaces.nb201 import Nb201Space

    from nasbench.params import build_params

    cls = _PLUGINS.strategies.get(name)
    if "supernet" not in cls.requires:
        check_strategy(cls, Nb201Space(), objective=nb201_objective)
        return
    from nasbench.testing.supernet import supernet_contexts

    space = Nb201Space()
    params = build_params(cls.Params, ONE_SHOT_PARAMS.get(name, {}))
    make_context = supernet_contexts(space, "digits", size={"C": 4, "N": 1},
                                     train_samples=256)
    check_strategy(cls, space, params=params, objective=nb201_objective, n_trials=4, split=2,
                   make_context=make_context)


def test_second_order_darts_conforms(nb201_objective) -> None:
    from nasbench.spaces.nb201 import Nb201Space

    from nasbench.params import build_params
    from nasbench.testing.supernet import supernet_contexts

    cls = _PLUGINS.strategies.get("darts")
    space = Nb201Space()
    params = build_params(cls.Params, {**ONE_SHOT_PARAMS["darts"], "order": 2})
    make_context = supernet_contexts(space, "digits", size={"C": 4, "N": 1},
                                     train_samples=256)
    check_strategy(cls, space, params=params, objective=nb201_objective, n_trials=4, split=2,
                   make_context=make_context)


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


def test_supernet_evaluator_conforms(tmp_path) -> None:
    sp = _PLUGINS.spaces.get("nb201")()
    evaluator = _PLUGINS.evaluators.get("supernet")(_PLUGINS.evaluators.get("supernet").Params(
        epochs=1, batch_size=32, train_samples=256, size={"C": 4, "N": 1}))
    evaluator.bind_plugins(_PLUGINS)
    evaluator.check(sp, "digits", None)
    check_evaluator(evaluator, sp, EvaluatorContext("digits", "digits/valid_acc",
                                                    ("digits/test_acc",), cache_dir=tmp_path))
