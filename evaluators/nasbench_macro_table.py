"""NAS-Bench-Macro as a benchmark table (Su et al., CVPR 2021; github.com/xiusu/NAS-Bench-Macro).

Reads ``<data dir>/nasbench_macro/nas-bench-macro_cifar10.json``: for each of the 6,561
encodings (3,969 distinct networks), the CIFAR-10 test accuracy of three independent trainings,
their mean, the parameter count and the FLOPs.

The benchmark publishes no validation split: every accuracy is a test accuracy, and a study
may not search on it (the study loader refuses test metrics as search metrics, because
selecting on test data overstates every strategy). What remains searchable are the ``other``
metrics, parameters and FLOPs; the accuracies serve as report metrics, and the three seeds as
data for seed-stability studies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import Architecture, Benchmark, BenchmarkTable, MetricInfo
from nasbench.data import locate
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

RELATIVE_PATH = "nasbench_macro/nas-bench-macro_cifar10.json"
SEEDS = 3
_WHAT = "The NAS-Bench-Macro table"
_METRICS: dict[str, MetricInfo] = {
    "test_acc": MetricInfo("test", unit="%",
                           doc="test accuracy, mean of three trainings (no validation split)"),
    **{f"test_acc_seed{i}": MetricInfo("test", unit="%", doc=f"test accuracy of training {i}")
       for i in range(SEEDS)},
    "params": MetricInfo("other", higher_is_better=False, doc="parameters"),
    "flops": MetricInfo("other", higher_is_better=False,
                        doc="multiply-accumulates per image, without bias terms"),
}


class _MacroTable(BenchmarkTable):
    def __init__(self, rows: dict[str, int], columns: dict[str, list[float]]) -> None:
        self._rows = rows
        self._columns = columns

    def row(self, arch: Architecture) -> int:
        return self._rows["".join(map(str, arch))]

    def column(self, metric: str) -> list[float]:
        return self._columns[metric]

    def __len__(self) -> int:
        return len(self._rows)


class NasBenchMacroBenchmark(Benchmark):
    name: ClassVar[str] = "nasbench_macro"
    summary: ClassVar[str] = "NAS-Bench-Macro: 6,561 MobileNetV2 macro networks x CIFAR-10"
    space: ClassVar[str] = "nasbench_macro"
    citation: ClassVar[str] = (
        "Su et al., Prioritized Architecture Sampling with Monte-Carlo Tree Search, CVPR 2021 "
        "(NAS-Bench-Macro, Apache-2.0)"
    )

    def datasets(self) -> tuple[str, ...]:
        return ("cifar10",)

    def metrics(self) -> Mapping[str, MetricInfo]:
        return _METRICS

    def check(self, data_dir: Path | None) -> None:
        locate(data_dir, RELATIVE_PATH, _WHAT)

    def load(self, data_dir: Path | None, datasets: tuple[str, ...]) -> BenchmarkTable:
        path = locate(data_dir, RELATIVE_PATH, _WHAT)
        records: dict[str, dict[str, Any]] = json.loads(path.read_text())
        rows: dict[str, int] = {}
        columns: dict[str, list[float]] = {f"cifar10/{m}": [] for m in _METRICS}
        for i, (code, rec) in enumerate(records.items()):
            try:
                values = {"test_acc": rec["mean_acc"], "params": rec["params"],
                          "flops": rec["flops"],
                          **{f"test_acc_seed{s}": rec["test_acc"][s] for s in range(SEEDS)}}
            except (KeyError, IndexError, TypeError):
                raise DataNotFoundError(
                    f"{path}: entry {code!r} lacks mean_acc, test_acc[0..2], params or flops; "
                    "it is not the NAS-Bench-Macro table nasbench expects (see "
                    "docs/spaces.md)."
                ) from None
            rows[code] = i
            for metric, value in values.items():
                columns[f"cifar10/{metric}"].append(float(value))
        return _MacroTable(rows, columns)


@hookimpl
def nasbench_register_benchmarks(registry: Any) -> None:
    registry.add(NasBenchMacroBenchmark)
