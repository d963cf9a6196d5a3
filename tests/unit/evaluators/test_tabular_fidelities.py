"""The fidelities of NAS-Bench-201's table, and what the tabular evaluator offers from them: a
search may use only fidelities with a validation metric, and the table has one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nasbench.spaces.nb201 import Nb201Space

from nasbench.api import EvaluatorContext, Trial
from nasbench.data import read_table


def _evaluator(plugins: Any, data_dir: Path) -> tuple[Nb201Space, Any]:
    space = Nb201Space()
    evaluator = plugins.evaluators.get("tabular")()
    evaluator.bind_plugins(plugins)
    evaluator.check(space, "cifar10", data_dir)
    evaluator.setup(space, EvaluatorContext("cifar10", "cifar10/valid_12ep",
                                            ("cifar10/test_200ep",), data_dir=data_dir))
    return space, evaluator


def test_nb201_declares_the_schedules_its_table_holds(plugins):
    benchmark = plugins.benchmarks.get("nb201")()
    columns = set(read_table("nb201").column_names)
    fidelities = benchmark.fidelities()
    assert set(fidelities) == {12.0, 200.0}
    for fidelity, names in fidelities.items():
        for metric in names.values():
            assert benchmark.metrics()[metric].fidelity == fidelity
            assert all(f"{d}/{metric}" in columns for d in benchmark.datasets())
    # The 200-epoch validation split is not in the table: 200 epochs hold test data only.
    assert not any(c.endswith("valid_200ep") for c in columns)
    assert set(fidelities[200.0]) == {"test"}


def test_tabular_offers_no_multi_fidelity_search_on_nb201(plugins, data_dir):
    _, evaluator = _evaluator(plugins, data_dir)
    assert evaluator.fidelities() == ()


def test_evaluating_at_a_fidelity_maps_the_search_metric_or_fails(plugins, data_dir):
    space, evaluator = _evaluator(plugins, data_dir)
    trial = Trial(space.from_string(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "nor_conv_3x3~2|"))
    default = evaluator.evaluate(space, trial, seed=0)
    at_12 = evaluator.evaluate(space, trial, seed=0, fidelity=12.0)
    assert at_12.status == "ok" and dict(at_12.metrics) == dict(default.metrics)
    at_200 = evaluator.evaluate(space, trial, seed=0, fidelity=200.0)
    assert at_200.status == "failed" and not at_200.metrics
    assert "no counterpart of cifar10/valid_12ep at fidelity 200" in at_200.reason


def test_a_revisited_cell_gets_the_answer_its_table_row_gives(plugins, data_dir):
    """What a revisit gets is the table's row, per fidelity, whichever cells came between."""
    space, evaluator = _evaluator(plugins, data_dir)
    table = read_table("nb201")
    rows = {a: i for i, a in enumerate(table.column("arch").to_pylist())}
    archs = [space.from_string(a) for a in list(rows)[:50]]
    for _ in range(2):
        for arch in archs:
            result = evaluator.evaluate(space, Trial(arch), seed=0)
            row = rows[space.to_string(arch)]
            assert result.status == "ok"
            assert dict(result.metrics) == {
                m: table.column(m)[row].as_py()
                for m in ("cifar10/valid_12ep", "cifar10/test_200ep")}
    arch = archs[0]
    assert evaluator.evaluate(space, Trial(arch), seed=0, fidelity=200.0).status == "failed"
    assert evaluator.evaluate(space, Trial(arch), seed=0).status == "ok"
