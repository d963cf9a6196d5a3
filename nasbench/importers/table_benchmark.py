"""Benchmarks over imported tables (``FORMATS.md``): NAS-Bench-101 and the NATS-Bench topology
full release.

:class:`ImportedTableBenchmark` reads one table, ``<stem>.parquet`` + ``<stem>.json``, and
takes everything it reports (datasets, metrics, the cost metric, fidelities) from the JSON
description the importer wrote. It is a stand-in for the generic table-backed benchmark of
``nasbench.data`` (built separately), written to the same format so that one can replace the
other; each subclass only names its table and space.

Where the table is looked for, first match wins:

1. the study's ``data_dir`` (or ``$NASBENCH_DATA``): ``<dir>/<stem>.parquet`` or
   ``<dir>/<name>/<stem>.parquet``;
2. the import directory (``$NASBENCH_IMPORT_DIR``, else the user cache directory):
   ``<import dir>/<name>/<stem>.parquet``.

Two keys of the description extend the shared format: ``fidelities[f]["cost"]`` names the
cost metric at fidelity ``f`` (the tabular evaluator then charges a trial at ``f`` that
cost), and ``key_column`` names a string column holding each row's ``arch_key``, so that
architectures are matched up to isomorphism without re-hashing every row at load time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import Architecture, Benchmark, BenchmarkTable, MetricInfo
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

from .base import import_dir


def _info(entry: Mapping[str, Any]) -> MetricInfo:
    fidelity = entry.get("fidelity")
    return MetricInfo(split=entry.get("split", "other"),
                      higher_is_better=bool(entry.get("higher_is_better", True)),
                      unit=entry.get("unit", ""),
                      fidelity=float(fidelity) if fidelity is not None else None,
                      doc=entry.get("doc", ""))


class _Table(BenchmarkTable):
    """Rows indexed by architecture (or by key); columns read from Parquet on first use."""

    def __init__(self, path: Path, index: Any, n_rows: int, datasets: tuple[str, ...]) -> None:
        self._path = path
        self._index = index
        self._n = n_rows
        self._datasets = datasets
        self._columns: dict[str, list[float]] = {}

    def row(self, arch: Architecture) -> int:
        return self._index(arch)

    def column(self, metric: str) -> list[float]:
        if metric not in self._columns:
            import pyarrow.parquet as pq

            if metric.split("/", 1)[0] not in self._datasets:
                raise KeyError(metric)
            try:
                values = pq.read_table(self._path, columns=[metric]).column(0).to_pylist()
            except Exception as exc:  # pyarrow raises several types for a missing column
                raise KeyError(f"{metric} is not a column of {self._path}") from exc
            self._columns[metric] = [float("nan") if v is None else float(v) for v in values]
        return self._columns[metric]

    def __len__(self) -> int:
        return self._n


class ImportedTableBenchmark(Benchmark):
    """A benchmark over one imported table; subclasses set ``name``, ``space``, ``stem``."""

    stem: ClassVar[str]
    importer: ClassVar[str]
    """Registry name of the importer that writes the table (for error messages)."""
    release: ClassVar[str]
    """The official release users import (for error messages)."""
    implicit: ClassVar[bool] = True
    """Whether the tabular evaluator may pick this benchmark when a study names none."""

    def __init__(self) -> None:
        self._description: dict[str, Any] | None = None
        self._path: Path | None = None

    # -- where the table is -------------------------------------------------------------------
    def _candidates(self, data_dir: Path | None) -> list[Path]:
        from nasbench.data import default_data_dir

        out = []
        root = data_dir if data_dir is not None else default_data_dir()
        if root is not None:
            out += [root / f"{self.stem}.parquet", root / self.name / f"{self.stem}.parquet"]
        out.append(import_dir() / self.name / f"{self.stem}.parquet")
        return out

    def locate(self, data_dir: Path | None) -> Path:
        candidates = self._candidates(data_dir)
        for path in candidates:
            if path.is_file() and path.with_suffix(".json").is_file():
                return path
        raise DataNotFoundError(
            f"the '{self.name}' table is imported from the official release ({self.release}), "
            f"and it was not found (looked for {', '.join(str(p) for p in candidates)}). "
            f"Import your copy once with 'nasbench data import {self.importer} PATH' (or "
            f"'python -m nasbench.importers {self.importer} PATH'; see "
            "docs/official_releases.md), or point [study] data_dir at a directory holding "
            f"{self.stem}.parquet and {self.stem}.json."
        )

    def check(self, data_dir: Path | None) -> None:
        path = self.locate(data_dir)
        if path != self._path:
            self._path = path
            self._description = json.loads(path.with_suffix(".json").read_text())

    @property
    def description(self) -> dict[str, Any]:
        if self._description is None:
            self.check(None)
        assert self._description is not None
        return self._description

    # -- what it holds ------------------------------------------------------------------------
    def datasets(self) -> tuple[str, ...]:
        return tuple(self.description["datasets"])

    def metrics(self) -> Mapping[str, MetricInfo]:
        return {name: _info(entry) for name, entry in self.description["metrics"].items()}

    def cost_metric(self) -> str | None:
        return self.description.get("cost_metric")

    def fidelities(self) -> Mapping[float, Mapping[str, str]]:
        return {float(f): dict(names)
                for f, names in self.description.get("fidelities", {}).items()}

    def load(self, data_dir: Path | None, datasets: tuple[str, ...]) -> BenchmarkTable:
        import pyarrow.parquet as pq

        from nasbench.registry import load_plugins

        self.check(data_dir)
        assert self._path is not None
        space = load_plugins().spaces.get(self.space, "space")()
        key_column = self.description.get("key_column")
        if key_column:
            keys = pq.read_table(self._path, columns=[key_column]).column(0).to_pylist()
            rows = {k: i for i, k in enumerate(keys)}

            def index(arch: Architecture) -> int:
                return rows[space.arch_key(arch)]
        else:
            archs = pq.read_table(self._path, columns=["arch"]).column(0).to_pylist()
            rows = {space.from_string(a): i for i, a in enumerate(archs)}
            index = rows.__getitem__
        return _Table(self._path, index, len(rows), tuple(datasets))

    def describe(self) -> dict[str, Any]:
        out = {"name": self.name, "summary": self.summary, "space": self.space,
               "citation": self.citation, "stem": self.stem}
        try:
            desc = self.description
        except DataNotFoundError as exc:
            out["status"] = str(exc)
            return out
        out.update({k: desc[k] for k in ("datasets", "cost_metric", "search_metric",
                                         "report_metrics") if k in desc})
        out["n_metrics"] = len(desc.get("metrics", {}))
        return out


class Nb101TableBenchmark(ImportedTableBenchmark):
    name: ClassVar[str] = "nb101"
    summary: ClassVar[str] = "NAS-Bench-101 (imported from nasbench_only108.tfrecord): CIFAR-10"
    space: ClassVar[str] = "nb101"
    stem: ClassVar[str] = "nb101"
    importer: ClassVar[str] = "nb101"
    release: ClassVar[str] = "nasbench_only108.tfrecord"
    citation: ClassVar[str] = "Ying et al., NAS-Bench-101, ICML 2019"


class NatsTssBenchmark(ImportedTableBenchmark):
    name: ClassVar[str] = "nats_tss"
    summary: ClassVar[str] = (
        "NATS-Bench topology / NAS-Bench-201 full release (imported): learning curves and "
        "training times, CIFAR-10/100, ImageNet16-120"
    )
    space: ClassVar[str] = "nb201"
    stem: ClassVar[str] = "nats_tss"
    importer: ClassVar[str] = "nats_tss"
    release: ClassVar[str] = (
        "NATS-tss-v1_0-3ffb9-simple (or -full) or NAS-Bench-201-v1_1-096897.pth"
    )
    citation: ClassVar[str] = "Dong et al., NATS-Bench, TPAMI 2021; Dong & Yang, ICLR 2020"
    implicit: ClassVar[bool] = False


@hookimpl
def nasbench_register_benchmarks(registry: Any) -> None:
    registry.add(Nb101TableBenchmark)
    registry.add(NatsTssBenchmark)
