"""The tabular evaluator: answers trials from a benchmark's published measurements.

It evaluates nothing itself: a trial's metrics are looked up in a registered
:class:`~nasbench.api.Benchmark` (a shipped or imported table, NAS-Bench-Graph, ...), so a run
costs little beyond the lookups. Tables ship with nasbench; a data directory (``data_dir``,
``$NASBENCH_DATA``) overrides them (``nasbench.data``). Its cost is the benchmark's recorded
training time where the table has one (then studies may budget by cost), else zero.

With ``latency_table`` (a per-operation latency table of the space, ``nasbench latency build``),
each trial also gets ``predicted_latency_ms``, the table's prediction for its network: a
latency objective beside the table's accuracies (``examples/mo_nb201.toml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import (
    Benchmark,
    EvalResult,
    EvaluatorContext,
    MetricInfo,
    SearchSpace,
    Trial,
)
from nasbench.api import Evaluator as _Evaluator
from nasbench.errors import ConfigError, available
from nasbench.hookspecs import hookimpl
from nasbench.params import param


@dataclass(frozen=True)
class TabularParams:
    benchmark: str | None = param(
        None, doc="benchmark table to read (see 'nasbench data list'); default: the one "
                  "registered for the study's space"
    )
    latency_table: str | None = param(
        None, doc="a per-operation latency table of the space (JSON of 'nasbench latency "
        "build'); adds predicted_latency_ms, the table's prediction for each architecture")


PREDICTED_LATENCY = "predicted_latency_ms"


class TabularEvaluator(_Evaluator):
    """Looks up a trial's metrics in a benchmark table."""

    name: ClassVar[str] = "tabular"
    summary: ClassVar[str] = "look trials up in a benchmark table (NAS-Bench-201, -Graph, ...)"
    Params: ClassVar[type] = TabularParams
    seeded: ClassVar[bool] = False
    pure: ClassVar[bool] = True  # a table's row, a fixed cost, a deterministic prediction

    def __init__(self, params: TabularParams | None = None) -> None:
        super().__init__(params)
        self._benchmarks: Any = None
        self._benchmark: Benchmark | None = None
        self._row: Any = None
        self._columns: tuple[tuple[str, list[float]], ...] = ()
        self._cost: list[float] | None = None
        self._search_at: dict[float, list[float] | None] = {}
        self._cost_at: dict[float, list[float]] = {}
        self._search_metric = ""
        self._latency: Any = None
        self._space: SearchSpace | None = None
        self._latency_metrics: tuple[str, ...] = ()

    @property
    def capabilities(self) -> frozenset[str]:  # type: ignore[override]
        if self._benchmark is not None and self._benchmark.cost_metric():
            return frozenset({"cost"})
        return frozenset()

    def bind_plugins(self, plugins: Any) -> None:
        self._benchmarks = plugins.benchmarks

    @property
    def benchmark(self) -> Benchmark:
        if self._benchmark is None:
            raise RuntimeError("TabularEvaluator.check() picks the benchmark; call it first")
        return self._benchmark

    def _pick(self, space: SearchSpace) -> Benchmark:
        if self._benchmarks is None:
            raise RuntimeError("TabularEvaluator needs bind_plugins() before check()")
        name = self.params.benchmark
        if name is None:
            matches = [r.name for r in self._benchmarks
                       if r.cls.space == space.name and getattr(r.cls, "implicit", True)]
            if len(matches) != 1:
                problem = (
                    f"no benchmark table covers space '{space.name}'"
                    if not matches
                    else f"several benchmarks cover space '{space.name}': {available(matches)}"
                )
                raise ConfigError(
                    "evaluator.benchmark", problem,
                    f"Set benchmark = \"...\"; registered: {available(self._benchmarks.names())}.",
                )
            name = matches[0]
        cls = self._benchmarks.get(name, "evaluator.benchmark")
        if cls.space != space.name:
            raise ConfigError(
                "evaluator.benchmark",
                f"benchmark '{name}' indexes space '{cls.space}', not '{space.name}'",
                f"Set [space] name = \"{cls.space}\" or choose another benchmark.",
            )
        return cls()

    def check(self, space: SearchSpace, dataset: str, data_dir: Path | None) -> None:
        self._benchmark = self._pick(space)
        self._benchmark.check(data_dir)
        if self.params.latency_table is not None:
            from nasbench.latency_table import LatencyTable

            key = "evaluator.latency_table"
            self._latency = LatencyTable.load(self.params.latency_table, key=key)
            self._latency.check_space(space.name, key=key)
            self._space = space

    def datasets(self) -> tuple[str, ...]:
        return self.benchmark.datasets()

    def metrics(self, dataset: str) -> Mapping[str, MetricInfo]:
        per = dict(self.benchmark.metrics())
        if self.params.latency_table is not None:
            per[PREDICTED_LATENCY] = MetricInfo(  # a property of the network, as params
                "other", higher_is_better=False, unit="ms",
                doc="inference time predicted by the per-operation latency table")
        return {f"{d}/{m}": info for d in self.benchmark.datasets() for m, info in per.items()}

    def fidelities(self) -> tuple[float, ...]:
        """The benchmark's fidelities at which it holds a metric a search may use (a train or
        validation split), when there are at least two; empty otherwise. A fidelity with only
        test metrics is never offered: searching on it would select on test data."""
        if self._benchmark is None:
            return ()
        info = self._benchmark.metrics()
        usable = sorted(
            f for f, names in self._benchmark.fidelities().items()
            if any(info[m].split in ("train", "valid") for m in names.values() if m in info)
        )
        return tuple(usable) if len(usable) > 1 else ()

    def whole_column(self, table: Any, metric: str) -> list[float]:
        """Every row's value of ``metric`` in ``table`` (loaded by this evaluator's
        benchmark): the table's column, or the latency table's prediction of each row's
        architecture (for the true front of a study that searches it).

        Raises:
            KeyError: when neither holds the metric.
        """
        if metric.split("/", 1)[-1] != PREDICTED_LATENCY or self._latency is None:
            return table.column(metric)
        assert self._space is not None
        values = [float("nan")] * len(table)
        try:
            archs = list(self._space.enumerate())
        except NotImplementedError:
            raise KeyError(metric) from None
        for arch in archs:
            try:
                values[table.row(arch)] = self._latency.predict(arch)
            except KeyError:
                continue
        return values

    def _search_columns(self, table: Any, search_metric: str) -> dict[float, list[float] | None]:
        """The search metric's column at each fidelity of the benchmark (None where the table
        does not hold it), found through the generic names of ``Benchmark.fidelities``."""
        dataset, metric = search_metric.split("/", 1)
        by_fidelity = self.benchmark.fidelities()
        generic = next((g for names in by_fidelity.values() for g, m in names.items()
                        if m == metric), None)
        if generic is None:
            return {}
        out: dict[float, list[float] | None] = {}
        for fidelity, names in by_fidelity.items():
            name = names.get(generic)
            try:
                out[float(fidelity)] = table.column(f"{dataset}/{name}") if name else None
            except KeyError:  # an imported table may lack a dataset's column at a fidelity
                out[float(fidelity)] = None
        return out

    def setup(self, space: SearchSpace, context: EvaluatorContext) -> None:
        if self._benchmark is None:
            self.check(space, context.dataset, context.data_dir)
        self._latency_metrics = tuple(m for m in context.wanted_metrics
                                      if m.split("/", 1)[-1] == PREDICTED_LATENCY)
        wanted = [m for m in context.wanted_metrics if m not in self._latency_metrics]
        datasets = tuple(dict.fromkeys(m.split("/", 1)[0] for m in wanted))
        cost_metric = self.benchmark.cost_metric()
        if cost_metric:
            datasets = tuple(dict.fromkeys((*datasets, context.dataset)))
        bind_space = getattr(self.benchmark, "bind_space", None)
        if bind_space is not None:  # a table-backed benchmark parses arch strings with it
            bind_space(space)
        table = self.benchmark.load(context.data_dir, datasets)
        self._row = table.row
        self._columns = tuple((m, table.column(m)) for m in wanted)
        self._cost = table.column(f"{context.dataset}/{cost_metric}") if cost_metric else None
        self._search_metric = context.search_metric
        self._search_at = self._search_columns(table, context.search_metric)
        # a fidelity may name its own cost metric (the training time of that many epochs)
        self._cost_at = {}
        for f, names in self.benchmark.fidelities().items():
            if names.get("cost"):
                try:
                    self._cost_at[float(f)] = table.column(f"{context.dataset}/{names['cost']}")
                except KeyError:
                    continue

    def evaluate(
        self, space: SearchSpace, trial: Trial, *, seed: int, fidelity: float | None = None
    ) -> EvalResult:
        try:
            row = self._row(trial.arch)
        except KeyError:
            return EvalResult.failure(
                f"{space.to_string(trial.arch)} is not in the {self.benchmark.name} table"
            )
        metrics = {name: column[row] for name, column in self._columns}
        if self._latency_metrics:
            predicted = self._latency.predict(trial.arch)
            metrics.update(dict.fromkeys(self._latency_metrics, predicted))
        if fidelity is not None:
            column = self._search_at.get(float(fidelity))
            if column is None:
                return EvalResult.failure(
                    f"the {self.benchmark.name} table has no counterpart of "
                    f"{self._search_metric} at fidelity {fidelity:g}"
                )
            metrics[self._search_metric] = column[row]
            cost_at = self._cost_at.get(float(fidelity))
            if cost_at is not None:
                return EvalResult(metrics, cost_at[row])
        return EvalResult(metrics, self._cost[row] if self._cost is not None else 0.0)


@hookimpl
def nasbench_register_evaluators(registry: Any) -> None:
    registry.add(TabularEvaluator)
