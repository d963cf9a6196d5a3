"""One table-backed benchmark class for every table nasbench ships or imports.

As Syne Tune's blackbox repository does, a benchmark here is data, not code: a table in
nasbench's format (``docs/benchmarks.md``) plus its JSON description, which says which space
indexes it, its datasets and metrics (with splits, units, fidelities), its cost metric and
what a study searches on and reports. :class:`TableBenchmark` serves any such table;
:func:`benchmark_class` makes the registered class of one table (its registry name is the
table's name), and the ``nasbench_register_benchmarks`` hook below registers every shipped
table and every imported one whose description says ``"kind": "benchmark"``.

Where a table is read from (a data directory, the import directory, the shipped copy) is
decided by :func:`nasbench.data.find_table`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import Architecture, Benchmark, BenchmarkTable, MetricInfo, SearchSpace
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl


class ArrowBenchmarkTable(BenchmarkTable):
    """A loaded table: row lookup by architecture, float columns by qualified metric name.

    Columns are converted to Python lists when first asked for, so that a wide table (e.g.
    learning curves, one column per epoch) costs only what a study reads of it.
    """

    def __init__(self, rows: dict[Architecture, int], table: Any, names: list[str]) -> None:
        self._rows = rows
        self._table = table
        self._names = set(names)
        self._columns: dict[str, list[float]] = {}

    def row(self, arch: Architecture) -> int:
        return self._rows[arch]

    def column(self, metric: str) -> list[float]:
        values = self._columns.get(metric)
        if values is None:
            if metric not in self._names:
                raise KeyError(metric)
            values = self._columns[metric] = self._table.column(metric).to_pylist()
        return values

    def __len__(self) -> int:
        return len(self._rows)


_ROWS_CACHE: dict[tuple[int, str], dict[Architecture, int]] = {}


class TableBenchmark(Benchmark):
    """A benchmark read from one table described by its JSON description.

    Subclasses made by :func:`benchmark_class` set ``table`` (the file stem) and
    ``description``; everything else follows from them.
    """

    table: ClassVar[str]
    description: ClassVar[dict[str, Any]]

    def __init__(self) -> None:
        self._space: SearchSpace | None = None

    def bind_space(self, space: SearchSpace) -> None:
        """Use ``space`` to parse the table's architecture strings (else it is looked up in
        the plugin registry on first load)."""
        self._space = space

    def datasets(self) -> tuple[str, ...]:
        return tuple(self.description["datasets"])

    def metrics(self) -> Mapping[str, MetricInfo]:
        out = {}
        for name, info in self.description["metrics"].items():
            fidelity = info.get("fidelity")
            out[name] = MetricInfo(
                info["split"], higher_is_better=bool(info.get("higher_is_better", True)),
                unit=info.get("unit", ""), fidelity=float(fidelity) if fidelity else None,
                doc=info.get("doc", ""))
        return out

    def cost_metric(self) -> str | None:
        return self.description.get("cost_metric")

    def fidelities(self) -> Mapping[float, Mapping[str, str]]:
        """The table's fidelities: fidelity -> {generic name -> metric at that fidelity}."""
        return {float(k): dict(v) for k, v in self.description.get("fidelities", {}).items()}

    def search_metric(self) -> str | None:
        """The metric the table's description proposes to search on (unqualified)."""
        return self.description.get("search_metric")

    def report_metrics(self) -> list[str]:
        return list(self.description.get("report_metrics", []))

    def optimum(self) -> dict[str, float]:
        """Best value of each qualified column, where the table knows every architecture."""
        return dict(self.description.get("optimum", {}))

    def check(self, data_dir: Path | None) -> None:
        from nasbench.data import find_table

        find_table(self.table, data_dir)

    def _space_instance(self) -> SearchSpace:
        if self._space is None:
            from nasbench.registry import load_plugins

            self._space = load_plugins().spaces.get(self.space, "benchmark.space")()
        return self._space

    def load(self, data_dir: Path | None, datasets: tuple[str, ...]) -> BenchmarkTable:
        from nasbench.data import read_table

        table = read_table(self.table, data_dir)
        wanted = [f"{d}/{m}" for d in datasets for m in self.description["metrics"]]
        missing = [c for c in ("arch", *wanted) if c not in table.column_names]
        if missing:
            raise DataNotFoundError(
                f"table '{self.table}' lacks the columns {', '.join(missing)}; it is not the "
                f"table its description promises (see 'nasbench data list')."
            )
        key = (id(table), self.space)
        rows = _ROWS_CACHE.get(key)
        if rows is None:
            space = self._space_instance()
            rows = {space.from_string(a): i
                    for i, a in enumerate(table.column("arch").to_pylist())}
            _ROWS_CACHE.clear()
            _ROWS_CACHE[key] = rows
        return ArrowBenchmarkTable(rows, table, wanted)

    def objective(self, arch: Architecture, *, dataset: str | None = None,
                  fidelity: float | None = None, seed: int | None = None,
                  data_dir: Path | None = None) -> dict[str, float]:
        """Every metric of ``arch`` on ``dataset`` (default: the first), at ``fidelity`` (only
        that fidelity's metrics) and for training ``seed`` (the per-seed column where the
        table has one, else the mean). A convenience for scripts; studies use the ``tabular``
        evaluator."""
        dataset = dataset or self.datasets()[0]
        names = list(self.description["metrics"])
        if fidelity is not None:
            at = self.fidelities().get(float(fidelity))
            if at is None:
                raise DataNotFoundError(f"table '{self.table}' has no fidelity {fidelity:g}; "
                                        f"it has {sorted(self.fidelities())}.")
            names = list(at.values())
        table = self.load(data_dir, (dataset,))
        row = table.row(arch)
        out = {}
        for m in names:
            if "#" in m:
                continue
            seeded = seed is not None and f"{m}#{seed}" in self.description["metrics"]
            out[m] = table.column(f"{dataset}/{m}#{seed}" if seeded else f"{dataset}/{m}")[row]
        return {k: v for k, v in out.items() if not math.isnan(v)}

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update({k: self.description.get(k) for k in
                    ("source", "licence", "licence_note", "search_metric", "report_metrics",
                     "rows")})
        return out


def benchmark_class(stem: str, description: dict[str, Any]) -> type[TableBenchmark]:
    """The registered benchmark class of one table."""
    name = description.get("name", stem)
    attrs = {
        "name": name,
        "table": stem,
        "description": description,
        "summary": description.get("summary", ""),
        "space": description["space"],
        "citation": description.get("citation", ""),
        "__module__": __name__,
        "__doc__": f"The '{name}' table ({description.get('summary', '')}).",
    }
    title = "".join(p.capitalize() for p in name.split("_"))
    return type(f"{title}Benchmark", (TableBenchmark,), attrs)


def table_classes() -> list[type[TableBenchmark]]:
    """A class per searchable table: shipped ones, then imported ones not shipped."""
    from nasbench.data import imported_descriptions, shipped_descriptions

    found = {stem: d for stem, d in shipped_descriptions().items()}
    for stem, (_path, d) in imported_descriptions().items():
        found.setdefault(stem, d)
    return [benchmark_class(stem, d) for stem, d in found.items()
            if d.get("kind") == "benchmark" and d.get("space")]


@hookimpl
def nasbench_register_benchmarks(registry: Any) -> None:
    for cls in table_classes():
        registry.add(cls)
