"""The study log at scale: a study killed at three points resumes to the uninterrupted
tables, a study writes a handful of files whatever its number of runs, and a directory of the
previous layout (a log per run) is refused with the conversion command, which converts it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nasbench.errors import UserError
from nasbench.protocol import load_study
from nasbench.registry import load_plugins
from nasbench.run import run_study
from nasbench.store import Layout, StudyLog, encode_frames
from tests.conftest import ROOT, run_cli

STUDY = """
[study]
name = "scale"
seeds = {seeds}
[space]
name = "nbgraph"
[evaluator]
name = "tabular"
dataset = "photo"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
[budget]
evaluations = {evals}
[[strategies]]
name = "random_search"
[[strategies]]
name = "aging_evolution"
population_size = 10
sample_size = 3
"""


def _tables(out: Path) -> list[pd.DataFrame]:
    return [pd.read_parquet(out / name).drop(columns=["wall_time"])
            for name in ("trials.parquet", "runs.parquet")]


def _same(a: Path, b: Path) -> None:
    for x, y in zip(_tables(a), _tables(b), strict=True):
        pd.testing.assert_frame_equal(x, y)


def _records(out: Path) -> int:
    return sum(1 for _ in StudyLog(Layout(out).study_log).scan())


def test_sigkill_at_three_points_resumes_to_the_uninterrupted_tables(tmp_path: Path) -> None:
    """Killed once 4,000, 10,000 and 16,000 records are in the log (each time in a process
    resumed from the last kill), then resumed to the end: the tables equal an uninterrupted
    study's, and the study wrote a handful of files for its 12 runs (8 searches, 4
    baselines)."""
    study = tmp_path / "s.toml"
    # 80,000 trials: the last kill point leaves most of the study to run, however fast it is
    study.write_text(STUDY.format(seeds="[1, 2, 3, 4]", evals=10_000))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "nasbench.cli", "run", str(study), "--quiet"]
    subprocess.run([*cmd, "--out", str(tmp_path / "whole")], check=True, env=env)

    out = tmp_path / "killed"
    seen = []
    for i, point in enumerate((4_000, 10_000, 16_000)):
        proc = subprocess.Popen([*cmd, "--out", str(out), *(["--resume"] if i else [])],
                                env=env)
        try:
            while _records(out) < point:
                assert proc.poll() is None, f"the study ended before {point} records"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        seen.append(_records(out))
        assert not Layout(out).runs_table.exists(), "the study finished before the kill"
    assert seen == sorted(seen) and seen[0] >= 4_000
    subprocess.run([*cmd, "--out", str(out), "--resume"], check=True, env=env)
    _same(tmp_path / "whole", out)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and not p.relative_to(out).as_posix().startswith("report/"))
    assert files == [".driver.lock", "manifest.json", "runs.parquet", "study.log",
                     "study.toml", "trials.parquet"]


def _to_format_1(out: Path, *, unfinished: str) -> None:
    """Rewrite a results directory as the previous version wrote it: a log per run, tables
    absent, and run ``unfinished`` cut short (its summary and later trials lost)."""
    layout = Layout(out)
    runs: dict[str, list[tuple]] = {}
    for run_id, rec in StudyLog(layout.study_log).scan():
        runs.setdefault(run_id, []).append(rec)
    for run_id, rows in runs.items():
        if run_id == unfinished:
            rows = [r for r in rows if r[0] == "trial"][:40]
        (layout.runs / f"{run_id}.log").write_bytes(encode_frames(rows))
    for path in (layout.study_log, layout.trials_table, layout.runs_table):
        path.unlink()


def test_a_directory_of_the_previous_layout_is_refused_then_upgraded_and_resumed(
        tmp_path: Path) -> None:
    study = tmp_path / "s.toml"
    study.write_text(STUDY.format(seeds="[1, 2]", evals=60))
    plugins = load_plugins()
    run_study(load_study(study, plugins), plugins, tmp_path / "whole", progress=False)
    out = tmp_path / "old"
    shutil.copytree(tmp_path / "whole", out)
    _to_format_1(out, unfinished="aging_evolution-2")

    with pytest.raises(UserError, match=r"results format 1.*nasbench upgrade"):
        run_study(load_study(study, plugins), plugins, out, resume=True, progress=False)
    result = run_cli("upgrade", str(out))
    assert result.code == 0, result.err
    assert "converted 6 per-run logs" in result.out  # 4 searches, 2 baselines
    assert not list(Layout(out).runs.glob("*.log"))
    outcome = run_study(load_study(study, plugins), plugins, out, resume=True, progress=False)
    assert outcome.complete
    _same(tmp_path / "whole", out)
    again = run_cli("upgrade", str(out))
    assert again.code == 0 and "nothing to do" in again.out
