"""The ``dqn_cartpole`` benchmark: every ``mlp`` Q-network trained by Double DQN on CartPole-v1.

The table ships inside the package (``nasbench/data/tables/dqn_cartpole.{parquet,json}``, the
format of FORMATS.md) and is rebuilt by ``tests/bench/build_dqn_cartpole_table.py``; its JSON
description holds the protocol, the seeds and the build time. A ``dqn_cartpole.parquet`` in
the data directory (``data_dir`` or ``$NASBENCH_DATA``) overrides the shipped copy.

For the integrator: this class reads the shared table format for one table only, until the
generic table-backed benchmark (the data work) reads every shipped table; then it goes, and
the table's two files stay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import Architecture, Benchmark, BenchmarkTable, MetricInfo
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

STEM = "dqn_cartpole"


def shipped_dir() -> Path:
    """Where the package's tables live."""
    from importlib.resources import files

    return Path(str(files("nasbench"))) / "data" / "tables"


def _paths(data_dir: Path | None) -> tuple[Path, Path]:
    from nasbench.data import default_data_dir

    root = data_dir if data_dir is not None else default_data_dir()
    for folder in ([root] if root is not None else []) + [shipped_dir()]:
        parquet = folder / f"{STEM}.parquet"
        if parquet.is_file():
            return parquet, folder / f"{STEM}.json"
    raise DataNotFoundError(
        f"the {STEM} table was expected at {shipped_dir() / (STEM + '.parquet')}, which does "
        "not exist. Rebuild it with tests/bench/build_dqn_cartpole_table.py --tables "
        "nasbench/data/tables.")


class _Table(BenchmarkTable):
    def __init__(self, rows: dict[Architecture, int], columns: dict[str, list[float]]) -> None:
        self._rows = rows
        self._columns = columns

    def row(self, arch: Architecture) -> int:
        return self._rows[arch]

    def column(self, metric: str) -> list[float]:
        return self._columns[metric]

    def __len__(self) -> int:
        return len(self._rows)


class DqnCartpoleBenchmark(Benchmark):
    """The brute-force table of the DQN study (100 mlp Q-networks x seeds)."""

    name: ClassVar[str] = STEM
    summary: ClassVar[str] = "Double DQN on CartPole-v1: all 100 mlp Q-networks x 3 seeds"
    space: ClassVar[str] = "mlp"
    citation: ClassVar[str] = "nasbench (built by tests/bench/build_dqn_cartpole_table.py)"

    def datasets(self) -> tuple[str, ...]:
        return ("CartPole-v1",)

    def metrics(self) -> Mapping[str, MetricInfo]:
        return {
            "valid_return": MetricInfo("valid", doc="mean greedy return, validation seeds"),
            "test_return": MetricInfo("test", doc="mean greedy return, test seeds"),
            "curve_area": MetricInfo("train", doc="mean training return per step"),
            "steps_to_solve": MetricInfo("train", higher_is_better=False, unit="steps",
                                         doc="steps to the solved threshold (censored)"),
            "env_steps": MetricInfo("other", higher_is_better=False, unit="steps",
                                    doc="environment steps charged per evaluation"),
            "train_seconds": MetricInfo("other", higher_is_better=False, unit="s",
                                        doc="measured seconds per evaluation"),
        }

    def cost_metric(self) -> str | None:
        return "env_steps"

    def check(self, data_dir: Path | None) -> None:
        _paths(data_dir)

    def describe_table(self, data_dir: Path | None = None) -> dict[str, Any]:
        """The table's JSON description (protocol, seeds, build time)."""
        return json.loads(_paths(data_dir)[1].read_text())

    def load(self, data_dir: Path | None, datasets: tuple[str, ...]) -> BenchmarkTable:
        import pyarrow.parquet as pq
        from nasbench.spaces.mlp import MlpSpace

        table = pq.read_table(_paths(data_dir)[0])
        space = MlpSpace()
        rows = {space.from_string(a): i for i, a in enumerate(table.column("arch").to_pylist())}
        nan = float("nan")  # a seed the build did not reach for this network
        columns = {name: [nan if v is None else float(v) for v in table.column(name).to_pylist()]
                   for name in table.column_names if name != "arch"}
        return _Table(rows, columns)


@hookimpl
def nasbench_register_benchmarks(registry: Any) -> None:
    registry.add(DqnCartpoleBenchmark)
