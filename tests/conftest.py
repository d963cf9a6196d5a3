"""Shared fixtures: the reference data directory, the plugins, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir(nasbench_data_dir: Path) -> Path:
    """The reference data (``$NASBENCH_DATA``, ``../shared/data`` in CI)."""
    return nasbench_data_dir


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
