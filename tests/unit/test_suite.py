"""How the suite finds its problems and strategies: from what plugins declare, never by name.

Extra benchmarks are registered here through the plugin hook, as a third-party package would
register them; they index the NAS-Bench-Graph space, whose tables ship in the installed
nas-bench-graph wheel, so nothing outside the repository is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from nasbench.evaluators.nbgraph_table import NbGraphBenchmark

from nasbench.api import MetricInfo
from nasbench.errors import DataNotFoundError, UserError
from nasbench.hookspecs import hookimpl
from nasbench.registry import load_plugins, make_plugin_manager
from nasbench.suite import (
    Problem,
    SuiteProtocol,
    black_box_strategies,
    discover_problems,
    problem_study,
    select_problems,
    select_strategies,
)


class DeclaredBenchmark(NbGraphBenchmark):
    """Declares its search and report metrics, as the shipped table descriptions do."""

    name: ClassVar[str] = "declared_graph"
    search_metric: ClassVar[str] = "valid_acc"
    report_metrics: ClassVar[tuple[str, ...]] = ("test_acc",)

    def datasets(self) -> tuple[str, ...]:
        return ("cora",)


class TestOnlyBenchmark(NbGraphBenchmark):
    """Publishes only test accuracies (as NAS-Bench-Macro does)."""

    name: ClassVar[str] = "test_only_graph"

    def datasets(self) -> tuple[str, ...]:
        return ("citeseer",)

    def metrics(self) -> Mapping[str, MetricInfo]:
        return {"test_acc": MetricInfo("test", unit="%")}


class MissingBenchmark(NbGraphBenchmark):
    """A table that is not available on this machine."""

    name: ClassVar[str] = "missing_graph"

    def datasets(self) -> tuple[str, ...]:
        return ("pubmed", "cs")

    def check(self, data_dir: Path | None) -> None:
        raise DataNotFoundError("missing_graph.parquet was not imported; run 'nasbench data "
                                "import missing_graph FILE'")


class _Extra:
    @staticmethod
    @hookimpl
    def nasbench_register_benchmarks(registry: Any) -> None:
        for cls in (DeclaredBenchmark, TestOnlyBenchmark, MissingBenchmark):
            registry.add(cls)


@pytest.fixture(scope="module")
def plugins() -> Any:
    return load_plugins(make_plugin_manager(plugins=[_Extra()]))


def test_problems_come_from_the_benchmark_registry(plugins) -> None:
    problems, skipped = discover_problems(plugins, None)
    by_name = {p.name: p for p in problems}
    assert by_name["declared_graph-cora"] == Problem(
        "declared_graph-cora", "declared_graph", "nbgraph", "cora", "valid_acc", "test_acc")
    # every dataset of the installed NAS-Bench-Graph table is a problem
    assert {f"nbgraph-{d}" for d in NbGraphBenchmark().datasets()} <= set(by_name)
    reasons = {s.name: s.reason for s in skipped}
    assert "no validation metric" in reasons["test_only_graph-citeseer"]
    assert "not imported" in reasons["missing_graph-pubmed"]
    assert "not imported" in reasons["missing_graph-cs"]
    assert not {"test_only_graph-citeseer", "missing_graph-pubmed"} & set(by_name)
    # The shipped NAS-Bench-Macro table publishes test accuracy only; its declared search
    # metric (parameters) is a cost, which the suite does not rank on.
    assert "nasbench_macro-cifar10" not in by_name
    assert "measures cost" in reasons["nasbench_macro-cifar10"]


def test_problem_selection_by_name_benchmark_or_glob(plugins) -> None:
    problems, _ = discover_problems(plugins, None)
    assert [p.name for p in select_problems(problems, ["declared_graph"])] == [
        "declared_graph-cora"]
    assert [p.name for p in select_problems(problems, ["nbgraph-c*"])] == [
        "nbgraph-cora", "nbgraph-citeseer", "nbgraph-cs", "nbgraph-computers"]
    with pytest.raises(UserError, match="matches no available problem"):
        select_problems(problems, ["nb999-*"])


def test_black_box_strategies_are_those_that_declare_it(plugins) -> None:
    names = black_box_strategies(plugins)
    for name in names:
        cls = plugins.strategies.get(name)
        assert cls.searches and "supernet" not in cls.requires
    assert {"random_search", "aging_evolution", "local_search", "reinforce",
            "reinforce_logits", "bayesian", "bohb"} <= set(names)
    assert not {"darts", "enas", "rsws", "fixed_set"} & set(names)
    with pytest.raises(UserError, match="not a black-box search strategy"):
        select_strategies(plugins, ["darts"])
    with pytest.raises(UserError, match="unknown strategy 'nope'"):
        select_strategies(plugins, ["nope"])


def test_a_study_per_problem_leaves_out_what_it_cannot_run(plugins) -> None:
    problems, _ = discover_problems(plugins, None)
    cora = next(p for p in problems if p.name == "declared_graph-cora")
    study, left_out = problem_study(cora, ["random_search", "bohb", "aging_evolution"],
                                    SuiteProtocol(seeds=4, evaluations=30), plugins)
    assert [s.label for s in study.strategies] == ["random_search", "aging_evolution"]
    assert "several fidelities" in left_out["bohb"]
    assert study.seeds == (0, 1, 2, 3) and study.budget.evaluations == 30
    assert study.search_metric == "cora/valid_acc"
    assert study.report_metrics == ("cora/test_acc",)
    assert study.resolved["evaluator"]["benchmark"] == "declared_graph"


def test_a_space_no_larger_than_the_budget_is_skipped_with_the_reason(plugins,
                                                                      tmp_path: Path) -> None:
    """dqn_cartpole's 100 networks fit in a 100-evaluation run: every strategy could sweep the
    space, so the suite leaves the problem out and says why; with a smaller budget it runs."""
    from nasbench.suite import run_suite

    whole = run_suite(plugins, tmp_path / "whole", problems=["dqn_cartpole-*"],
                      strategies=["random_search"], protocol=SuiteProtocol(seeds=1),
                      progress=False)
    assert not whole.problems
    [skipped] = [s for s in whole.skipped if s.name == "dqn_cartpole-CartPole-v1"]
    assert "has 100 architectures" in skipped.reason and "sweep the whole space" in skipped.reason
    small = run_suite(plugins, tmp_path / "small", problems=["dqn_cartpole-*"],
                      strategies=["random_search"],
                      protocol=SuiteProtocol(seeds=1, evaluations=10), progress=False)
    assert [p.problem.name for p in small.problems] == ["dqn_cartpole-CartPole-v1"]
