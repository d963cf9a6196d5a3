"""NAS-Bench-Graph as a benchmark table (Qin et al., NeurIPS 2022 Datasets & Benchmarks).

The "light" tables ship inside the ``nas-bench-graph`` wheel (Apache-2.0): for each of 26,206
distinct GNN architectures and each of eight node-classification datasets, the validation and
test accuracy, the inference latency and the parameter count. Accuracies are given here in
percent (the wheel stores fractions). The ninth dataset of the wheel, ``proteins``, uses a
different operation set and is not offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import Architecture, Benchmark, BenchmarkTable, MetricInfo
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

DATASETS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv")
_METRICS = {
    "valid_acc": MetricInfo("valid", unit="%", doc="validation accuracy"),
    "test_acc": MetricInfo("test", unit="%", doc="test accuracy"),
    "latency": MetricInfo("other", higher_is_better=False, unit="s", doc="inference latency"),
    "latency_ms": MetricInfo("valid", higher_is_better=False, unit="ms",
                             doc="published inference latency, as the latency metric of the "
                             "evaluators that measure one (searchable, like theirs)"),
    "params": MetricInfo("other", higher_is_better=False, unit="M", doc="parameters (millions)"),
}
_FIELDS = {"valid_acc": ("valid_perf", 100.0), "test_acc": ("perf", 100.0),
           "latency": ("latency", 1.0), "latency_ms": ("latency", 1000.0),
           "params": ("para", 1.0)}


class _NbGraphTable(BenchmarkTable):
    def __init__(self, rows: dict[int, int], columns: dict[str, list[float]]) -> None:
        self._rows = rows
        self._columns = columns

    def row(self, arch: Architecture) -> int:
        from nasbench.spaces.nbgraph import benchmark_hash

        return self._rows[benchmark_hash(arch)]

    def column(self, metric: str) -> list[float]:
        return self._columns[metric]

    def __len__(self) -> int:
        return len(self._rows)


def _require_package() -> None:
    try:
        import nas_bench_graph  # noqa: F401
    except ImportError:
        raise DataNotFoundError(
            "NAS-Bench-Graph's tables come with the 'nas-bench-graph' package, which is not "
            "installed. Run: pip install nas-bench-graph"
        ) from None


class NbGraphBenchmark(Benchmark):
    name: ClassVar[str] = "nbgraph"
    summary: ClassVar[str] = "NAS-Bench-Graph: 26,206 GNNs x 8 node-classification datasets"
    space: ClassVar[str] = "nbgraph"
    citation: ClassVar[str] = (
        "Qin et al., NAS-Bench-Graph, NeurIPS 2022 Datasets and Benchmarks (nas-bench-graph)"
    )
    source: ClassVar[str] = "the nas-bench-graph wheel (PyPI), its 'light' tables"
    licence: ClassVar[str] = "Apache-2.0"

    def datasets(self) -> tuple[str, ...]:
        return DATASETS

    def metrics(self) -> Mapping[str, MetricInfo]:
        return _METRICS

    def check(self, data_dir: Path | None) -> None:
        _require_package()

    def load(self, data_dir: Path | None, datasets: tuple[str, ...]) -> BenchmarkTable:
        _require_package()
        from nas_bench_graph import light_read

        rows: dict[int, int] | None = None
        columns: dict[str, list[float]] = {}
        for d in datasets:
            bench = light_read(d)
            if rows is None:
                rows = {int(k): i for i, k in enumerate(sorted(bench))}
            order = sorted(rows, key=rows.__getitem__)
            for metric, (key, scale) in _FIELDS.items():
                columns[f"{d}/{metric}"] = [float(bench[h][key]) * scale for h in order]
        return _NbGraphTable(rows or {}, columns)


@hookimpl
def nasbench_register_benchmarks(registry: Any) -> None:
    registry.add(NbGraphBenchmark)
