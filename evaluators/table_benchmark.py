"""One table-backed benchmark class for every table nasbench ships or imports.

As Syne Tune's blackbox repository does, a benchmark here is data, not code: a table in
nasbench's format (``docs/benchmarks.md``) plus its JSON description, which says which space
indexes it, its datasets and metrics (with splits, units, fidelities), its cost metric and
what a study searches on and reports. :class:`TableBenchmark` serves any such table;
:func:`benchmark_class` makes the registered class of one table (its registry name is the
table's name), and the ``nasbench_register_benchmarks`` hook below registers every shipped
table, every imported one whose description says ``"kind": "benchmark"``, and every benchmark
nasbench knows but does not ship (``IMPORT_ONLY`` of :mod:`nasbench.data.recipes`: NAS-Bench-101,
the NATS-Bench topology release), so that a study naming one before it is imported is told
how to import it.

Keys of the description this class honours beyond the metrics:

* ``key_column``: a string column holding each row's ``arch_key`` (NAS-Bench-101's graph
  hash): rows are then matched up to isomorphism through the space's key, without parsing and
  hashing every row's string at load time;
* ``fidelities[f]["cost"]``: the cost metric at fidelity ``f`` (the training time of that many
  epochs), which the tabular evaluator charges a trial evaluated at ``f``;
* ``implicit``: ``false`` keeps the tabular evaluator from picking the benchmark for its space
  when a study names none (``nats_tss`` covers the ``nb201`` space, whose default stays the
  shipped ``nb201`` table).

A table need not hold every metric for every dataset (a release may record a curve for one
dataset only): a column it lacks fails the evaluations that need it, with a reason.

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

    def __init__(self, rows: dict[Any, int], table: Any, names: list[str],
                 key: Any = None) -> None:
        self._rows = rows
        self._table = table
        self._names = set(names)
        self._columns: dict[str, list[float]] = {}
        self._key = key

    def row(self, arch: Architecture) -> int:
        return self._rows[self._key(arch) if self._key is not None else arch]

    def column(self, metric: str) -> list[float]:
        values = self._columns.get(metric)
        if values is None:
            if metric not in self._names:
                raise KeyError(metric)
            values = self._columns[metric] = self._table.column(metric).to_pylist()
        return values

    def __len__(self) -> int:
        return len(self._rows)


_ROWS_CACHE: dict[tuple[int, str, str], dict[Any, int]] = {}


class TableBenchmark(Benchmark):
    """A benchmark read from one table described by its JSON description.

    Subclasses made by :func:`benchmark_class` set ``table`` (the file stem) and
    ``description``; everything else follows from them.
    """

    table: ClassVar[str]
    description: dict[str, Any]
    """The registered description (class level); :meth:`check` replaces it on the instance by
    that of the table actually found (e.g. an import, whose metrics only it knows)."""
    implicit: ClassVar[bool] = True
    """Whether the tabular evaluator may pick this benchmark when a study names none."""

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
        """Find the table (raising a :class:`DataNotFoundError` that says how to get it) and
        adopt its own description, except for sources converted in memory, whose recipe
        description lacks what the shipped one records."""
        from nasbench.data import find_table

        where = find_table(self.table, data_dir)
        if where.origin != "source":
            self.description = where.description

    def _space_instance(self) -> SearchSpace:
        if self._space is None:
            from nasbench.registry import load_plugins

            self._space = load_plugins().spaces.get(self.space, "benchmark.space")()
        return self._space

    def load(self, data_dir: Path | None, datasets: tuple[str, ...]) -> BenchmarkTable:
        from nasbench.data import read_table

        self.check(data_dir)
        table = read_table(self.table, data_dir)
        present = set(table.column_names)
        key_column = self.description.get("key_column") or ""
        wanted = [f"{d}/{m}" for d in datasets for m in self.description["metrics"]]
        missing = [c for c in ("arch", key_column) if c and c not in present]
        missing += [f"{d}/*" for d in datasets
                    if not any(c.startswith(f"{d}/") for c in present)]
        if missing:
            raise DataNotFoundError(
                f"table '{self.table}' lacks the columns {', '.join(missing)}; it is not the "
                f"table its description promises (see 'nasbench data list')."
            )
        cache_key = (id(table), self.space, key_column)
        rows = _ROWS_CACHE.get(cache_key)
        space = self._space_instance()
        if rows is None:
            if key_column:  # keys written by the importer: no string parsing, no hashing
                rows = {k: i for i, k in enumerate(table.column(key_column).to_pylist())}
            else:
                rows = {space.from_string(a): i
                        for i, a in enumerate(table.column("arch").to_pylist())}
            _ROWS_CACHE.clear()
            _ROWS_CACHE[cache_key] = rows
        return ArrowBenchmarkTable(rows, table, [c for c in wanted if c in present],
                                   key=space.arch_key if key_column else None)

    def objective(self, arch: Architecture, *, dataset: str | None = None,
                  fidelity: float | None = None, seed: int | None = None,
                  data_dir: Path | None = None) -> dict[str, float]:
        """Every metric of ``arch`` on ``dataset`` (default: the first), at ``fidelity`` (only
        that fidelity's metrics) and for training ``seed`` (the per-seed column where the
        table has one, else the mean). A convenience for scripts; studies use the ``tabular``
        evaluator."""
        self.check(data_dir)
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
            try:
                out[m] = table.column(f"{dataset}/{m}#{seed}" if seeded
                                      else f"{dataset}/{m}")[row]
            except KeyError:  # a metric the table does not hold for this dataset
                continue
        return {k: v for k, v in out.items() if not math.isnan(v)}

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update({k: self.description.get(k) for k in
                    ("source", "licence", "licence_note", "search_metric", "report_metrics",
                     "rows", "importer")})
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
        "implicit": bool(description.get("implicit", True)),
        "__module__": __name__,
        "__doc__": f"The '{name}' table ({description.get('summary', '')}).",
    }
    title = "".join(p.capitalize() for p in name.split("_"))
    return type(f"{title}Benchmark", (TableBenchmark,), attrs)


def table_classes() -> list[type[TableBenchmark]]:
    """A class per searchable table: shipped ones, then imported ones not shipped, then the
    benchmarks nasbench knows but does not ship, not imported yet (their description is what
    nasbench knows before an import; :meth:`TableBenchmark.check` then says how to import)."""
    from nasbench.data import imported_descriptions, shipped_descriptions
    from nasbench.data.recipes import FORMAT, IMPORT_ONLY

    found = {stem: d for stem, d in shipped_descriptions().items()}
    for stem, (_path, d) in imported_descriptions().items():
        found.setdefault(stem, d)
    for name, meta in IMPORT_ONLY.items():
        found.setdefault(name, {"format": FORMAT, "name": name, **meta})
    return [benchmark_class(stem, d) for stem, d in found.items()
            if d.get("kind") == "benchmark" and d.get("space")]


@hookimpl
def nasbench_register_benchmarks(registry: Any) -> None:
    for cls in table_classes():
        registry.add(cls)
