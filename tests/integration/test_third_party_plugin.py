"""A plugin in its own installed package shows up and runs, with no change to nasbench."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin package, really installed (by pip) into a directory of its own."""
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(ROOT / "examples" / "plugin")],
        check=True, capture_output=True, text=True,
    )
    return site


def _env(site: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def test_installed_plugin_is_listed_with_its_distribution(plugin_site: Path) -> None:
    listed = json.loads(run_cli("list", "--json", env=_env(plugin_site)).out)
    entry = next(e for e in listed["strategy"] if e["name"] == "epsilon_greedy")
    assert entry["distribution"] == "nasbench-example-plugin"
    assert entry["version"] == "0.1.0"
    assert [p["name"] for p in entry["params"]] == ["epsilon", "warmup"]
    without = json.loads(run_cli("list", "--json").out)
    assert "epsilon_greedy" not in {e["name"] for e in without["strategy"]}


def test_installed_plugin_runs_in_a_study(plugin_site: Path, write_study, tmp_path: Path) -> None:
    study = write_study(
        """
        [study]
        name = "plugin-study"
        seeds = 3
        [space]
        name = "nbgraph"
        [evaluator]
        name = "tabular"
        dataset = "citeseer"
        search_metric = "valid_acc"
        report_metrics = ["test_acc"]
        [budget]
        evaluations = 30
        [[strategies]]
        name = "epsilon_greedy"
        epsilon = 0.3
        """
    )
    out = tmp_path / "out"
    result = run_cli("run", str(study), "--out", str(out), "--quiet", env=_env(plugin_site))
    assert result.code == 0, result.err
    import pandas as pd

    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["strategy"]) == {"epsilon_greedy", "random_sampling"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["versions"]["plugins"]["nasbench-example-plugin"] == "0.1.0"


def test_plugin_passes_its_own_conformance_tests(plugin_site: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "examples" / "plugin" / "tests")],
        capture_output=True, text=True, env={**os.environ, **_env(plugin_site)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
