"""The command line as users type it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from tests.conftest import ROOT, run_cli


def test_list_is_cheap_and_imports_no_torch() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); from nasbench.cli import main; "
        "main(['list', '--json']); "
        "print('ELAPSED', time.perf_counter() - t, file=sys.stderr); "
        "heavy = [m for m in ('torch', 'pytorch_lightning', 'lightning', 'pandas', 'optuna', "
        "'numpy', 'scipy', 'matplotlib') "
        "if m in sys.modules]; assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert {"space", "strategy", "evaluator", "benchmark", "dataset"} <= set(listed)
    elapsed = float(proc.stderr.split("ELAPSED")[1])
    print(f"nasbench list --json answered in {elapsed * 1000:.0f} ms (in-process)")


def test_list_shows_every_plugin_with_its_distribution() -> None:
    result = run_cli("list")
    assert result.code == 0
    for name in ("nb201", "nbgraph", "random_search", "aging_evolution", "tabular"):
        assert name in result.out
    assert "[nasbench " in result.out
    listed = json.loads(run_cli("list", "--json").out)
    for kind in ("space", "strategy", "evaluator", "benchmark"):
        assert all(e["distribution"] for e in listed[kind])
    ae = next(e for e in listed["strategy"] if e["name"] == "aging_evolution")
    assert {p["name"]: p["default"] for p in ae["params"]}["population_size"] == 10


def test_space_prints_size_and_unique() -> None:
    nb201 = json.loads(run_cli("space", "nb201").out)
    assert nb201["size"] == 15625 and nb201["unique"] == 6466
    assert len(nb201["decisions"]) == 6
    nbgraph = json.loads(run_cli("space", "nbgraph").out)
    assert nbgraph["size"] == 59040 and nbgraph["unique"] == 26206


def test_embedded_default_runs_without_data_and_prints_its_leaderboard(tmp_path: Path) -> None:
    t = time.perf_counter()
    result = run_cli("run", "--quiet", cwd=tmp_path)
    elapsed = time.perf_counter() - t
    assert result.code == 0, result.err
    board = Path(result.out.split("Leaderboard:")[1].splitlines()[0].strip())
    if not board.is_absolute():
        board = tmp_path / board
    assert board.is_file() and board.parent.parent.parent.parent == tmp_path / "runs"
    text = board.read_text()
    assert "random_search" in text and "aging_evolution" in text and "random_sampling" in text
    print(f"embedded default study: {elapsed:.1f} s")


def test_report_prints_and_writes_the_leaderboard(tmp_path: Path, write_study) -> None:
    study = write_study(
        """
        [study]
        name = "rep"
        seeds = 8
        [space]
        name = "nb201"
        [evaluator]
        name = "tabular"
        dataset = "cifar100"
        search_metric = "valid_12ep"
        report_metrics = ["test_200ep", "imagenet16_120/test_200ep"]
        [budget]
        evaluations = 50
        [[strategies]]
        name = "aging_evolution"
        [[strategies]]
        name = "random_search"
        """
    )
    out = tmp_path / "out"
    assert run_cli("run", str(study), "--out", str(out), "--quiet").code == 0
    result = run_cli("report", str(out))
    assert result.code == 0
    written = (out / "report" / "leaderboard.md").read_text()
    assert result.out.strip() == written.strip()
    runs = pd.read_parquet(out / "runs.parquet")
    means = runs.groupby("strategy")["cifar100/test_200ep"].mean()
    ri = 100 * (means["aging_evolution"] - means["random_sampling"]) / means["random_sampling"]
    row = next(line for line in written.splitlines() if line.startswith("| `aging_evolution`"))
    assert f"{means['aging_evolution']:.2f} ± " in row
    assert f"| {ri:.2f} |" in row


def test_report_on_a_non_results_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("report", str(tmp_path))
    assert result.code == 2 and "not a nasbench results directory" in result.err


def test_resume_without_out_continues_the_latest(tmp_path: Path, write_study) -> None:
    study = write_study(
        """
        [study]
        name = "latest"
        seeds = 2
        [space]
        name = "nbgraph"
        [evaluator]
        name = "tabular"
        dataset = "cs"
        search_metric = "valid_acc"
        [budget]
        evaluations = 20
        [[strategies]]
        name = "random_search"
        """
    )
    first = run_cli("run", str(study), "--quiet", cwd=tmp_path)
    assert first.code == 0
    again = run_cli("run", str(study), "--resume", "--quiet", cwd=tmp_path)
    assert again.code == 0
    assert first.out.splitlines()[0] == again.out.splitlines()[0]  # same results directory
