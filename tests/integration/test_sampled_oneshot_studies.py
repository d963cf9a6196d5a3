"""GDAS and UNAS in the harness on real digits: killed by SIGKILL inside each run (after its
checkpoint is on disk) and resumed, the study ends with the uninterrupted study's tables; the
runs' summaries carry the gradient-estimate variance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from nasbench.protocol import load_study
from nasbench.registry import load_plugins
from nasbench.run import run_study
from nasbench.store import Layout, StudyLog
from tests.conftest import ROOT

STUDY = """
[study]
name = "sampled-oneshot"
seeds = [3]
[space]
name = "nb201"
[evaluator]
name = "zero_cost"
dataset = "digits"
proxies = ["synflow", "params"]
size = {C = 4, N = 1}
search_metric = "synflow"
report_metrics = ["params"]
[budget]
evaluations = 100
[supernet]
train_samples = 1024
size = {C = 4, N = 1}
[[strategies]]
name = "gdas"
epochs = 4
batch_size = 32
report_every = 0.25
[[strategies]]
name = "unas"
epochs = 1
warmup_epochs = 1
batch_size = 32
report_every = 0.125
cost_weight = 0.1
cost_reference = 4
[execution]
checkpoint_seconds = 0.01
"""
MEASURED_TRIALS = ["wall_time", "strategy_cost", "cum_cost", "cost"]
MEASURED_RUNS = ["wall_time", "strategy_cost", "total_cost", "supernet_seconds"]


def _tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    trials = pd.read_parquet(out / "trials.parquet").drop(columns=MEASURED_TRIALS)
    trials = trials.drop(columns=[c for c in trials if c.startswith("info.seconds")])
    runs = pd.read_parquet(out / "runs.parquet").drop(columns=MEASURED_RUNS)
    return trials, runs


def _kill_inside(cmd: list[str], out: Path, run_id: str, records: int) -> None:
    """Start ``cmd`` and SIGKILL it once run ``run_id`` has a checkpoint on disk and at least
    ``records`` trials in its log."""
    state, log = Layout(out).checkpoint(run_id), StudyLog(Layout(out).study_log)
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        while proc.poll() is None:
            if state.exists() and log.path.exists() and len(log.read_run(run_id)[0]) >= records:
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    found, summary = log.read_run(run_id)
    assert state.exists() and summary is None and records <= len(found) < 16, (
        f"{run_id} was not killed mid-run ({len(found)} records, summary {summary})")


@pytest.mark.slow
def test_sigkill_inside_gdas_then_unas_and_resume_end_with_the_uninterrupted_results(
        tmp_path: Path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(STUDY)
    plugins = load_plugins()
    run_study(load_study(study, plugins), plugins, tmp_path / "whole", progress=False)

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "nasbench.cli", "run", str(study), "--quiet", "--out", str(out)]
    _kill_inside(cmd, out, "gdas-3", 6)
    _kill_inside([*cmd, "--resume"], out, "unas-3", 6)
    run_study(load_study(study, plugins), plugins, out, resume=True, progress=False)
    for whole, killed in zip(_tables(tmp_path / "whole"), _tables(out), strict=True):
        pd.testing.assert_frame_equal(whole, killed)

    runs = pd.read_parquet(out / "runs.parquet").set_index("strategy")
    assert (runs.loc[["gdas", "unas"], "strategy.grad_variance"] > 0).all()
    assert runs.loc["unas", "strategy.cost_mean"] > 0
