"""Shared fixtures: the shipped benchmark tables, the plugins, and a CLI runner.

Tests read only what ships with nasbench (``nasbench/data/tables``), data they generate, and
datasets installed from the package registries: never the original sources beside the
repository or ``$NASBENCH_DATA`` (except the rebuild test, marked ``shared_data``). The
fixtures below give the shipped tables in the shape of their original sources where a test
checks published figures record by record.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _no_outside_data(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may depend on a data directory or on the user's imported tables: the data
    directory is unset and the import directory is an empty one of the session's."""
    os.environ.pop("NASBENCH_DATA", None)
    os.environ["NASBENCH_IMPORT_DIR"] = str(tmp_path_factory.mktemp("imported"))


YANG_METHODS = ("DARTS", "PDARTS", "NSGANET", "ENAS", "CNAS", "MANAS", "StacNAS", "NAO")


@pytest.fixture(scope="session")
def yang2020_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding ``yang2020/`` in the format of Yang et al.'s published
    results (which nasbench may not ship), filled with generated accuracies: the same files,
    columns and gaps (no StacNAS on CIFAR-100; CIFAR-10's MANAS column is 'MANAS-LS')."""
    import numpy as np
    import pandas as pd

    root = tmp_path_factory.mktemp("yang")
    (root / "yang2020").mkdir()
    rng = np.random.default_rng(2020)
    base = {"CIFAR10": 96.5, "CIFAR100": 80.0, "Sport8": 92.0, "MIT67": 69.0,
            "Flowers102": 94.0}
    for dataset, mean in base.items():
        columns = {}
        for method in YANG_METHODS:
            name = "MANAS-LS" if dataset == "CIFAR10" and method == "MANAS" else method
            columns[f"Random {method}"] = np.round(rng.normal(mean, 0.6, 8), 2)
            found = np.round(rng.normal(mean + 0.3, 0.5, 8), 2)
            columns[name] = ([np.nan] * 8 if dataset == "CIFAR100" and method == "StacNAS"
                             else found)
        pd.DataFrame(columns).to_csv(root / f"yang2020/performance_{dataset}.csv", index=False)
    protocols = ("Base", "Auxiliary", "DropPath ", "Cutout", "CD", "CDA", "CDA 50 Channels",
                 "CDA AutoAugment", "CDAAA 1500 Epochs", "CDAAA1500E50C")
    steps = np.cumsum(rng.uniform(0.1, 0.5, len(protocols)))
    pd.DataFrame({p: np.round(95 + steps[i] + rng.normal(0, 0.2, 8), 2)
                  for i, p in enumerate(protocols)}).to_csv(
        root / "yang2020/performance_Augmentation.csv", index=False)
    for name, (a, b), n in (("seed_correlation_24", ("seed_a", "seed_b"), 24),
                            ("depth_correlation_32", ("cells_8", "cells_20"), 32)):
        x = rng.normal(96.5, 0.3, n)
        pd.DataFrame({"architecture": range(n), a: np.round(x, 2),
                      b: np.round(x + rng.normal(0, 0.25, n), 2)}).to_csv(
            root / f"yang2020/{name}.csv", index=False)
    return root


@pytest.fixture(scope="session")
def data_dir() -> None:
    """The data directory tests use: none, so every table is read from the shipped copy."""
    return None


@pytest.fixture(scope="session")
def nb201_frame() -> Any:
    """The shipped NAS-Bench-201 table (one row per cell, official index order)."""
    from nasbench.data import read_frame

    return read_frame("nb201")


@pytest.fixture(scope="session")
def suite_zero_records() -> dict[str, dict[str, dict[str, Any]]]:
    """NAS-Bench-Suite-Zero's records as its source file holds them (dataset key -> cell
    tuple -> {"val_accuracy", proxy: {"score", "time"}}), from the shipped ``zc_nb201``."""
    from nasbench.data.records import suite_zero_records

    return suite_zero_records()


@pytest.fixture(scope="session")
def macro_records() -> dict[str, dict[str, Any]]:
    """NAS-Bench-Macro's records as its source file holds them (code -> {"test_acc": [3],
    "mean_acc", "std", "params", "flops"}), from the shipped ``nasbench_macro`` table."""
    from nasbench.data.records import macro_records

    return macro_records()


@pytest.fixture(scope="session")
def plugins(nasbench_plugins):
    return nasbench_plugins


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 600) -> CliResult:
    """Run the installed ``nasbench`` command in a subprocess, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "nasbench.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def write_study(tmp_path: Path):
    """Write a study config into the test's temporary directory; returns its path."""

    def write(text: str, name: str = "study.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write
