"""Studies that train networks, through the command line: the final protocol of Yang et al.
end to end on digits, and a study killed during its final trainings resumed without redoing
them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from nasbench.api import EvaluatorContext, Trial
from nasbench.protocol import load_study
from nasbench.run import run_study
from nasbench.run.records import FinalRecord
from nasbench.store import Layout, StudyLog
from tests.conftest import ROOT, run_cli

STUDY = """
[study]
name = "digits-final"
seeds = 2

[space]
name = "nb201"

[evaluator]
name = "lightning"
dataset = "digits"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
size = {{C = 4, N = 1}}
epochs = 1
train_samples = 300
batch_size = 16

[budget]
evaluations = 3

[baseline]
samples = 2

[final]
repeats = 2

[final.evaluator]
epochs = {final_epochs}
train_samples = "all"
batch_size = 64

[[strategies]]
name = "random_search"
"""


def test_final_protocol_retrains_incumbents_and_baseline_and_reports_both(
    plugins, write_study, tmp_path: Path
) -> None:
    study_path = write_study(STUDY.format(final_epochs=2))
    out = tmp_path / "out"
    result = run_cli("run", str(study_path), "--out", str(out), "--quiet", "--workers", "2")
    assert result.code == 0, result.err

    trials = pd.read_parquet(out / "trials.parquet")
    final = pd.read_parquet(out / "final.parquet")
    runs = pd.read_parquet(out / "runs.parquet").set_index("run_id")
    assert (trials["info.epochs"] == 1).all() and len(trials) == 6
    # every incumbent and every random sample, twice, under the final protocol
    assert sorted(final["run_id"].unique()) == sorted(runs.index)
    assert len(final) == 2 * len(runs) and (final["info.epochs"] == 2).all()
    assert (final["info.steps"] == 2 * 18).all()  # 1,150 training examples, batches of 64
    assert (final.groupby("run_id")["repeat"].apply(sorted) == pd.Series([[0, 1]] * 4,
            index=sorted(runs.index))).all()
    assert final["eval_seed"].nunique() == len(final)

    # runs.parquet: the final figures, with the search protocol's beside them
    means = final.groupby("run_id")[["digits/test_acc", "search_metric"]].mean()
    assert runs["digits/test_acc"].to_dict() == pytest.approx(means["digits/test_acc"].to_dict())
    assert runs["final.search_metric"].to_dict() == pytest.approx(
        means["search_metric"].to_dict())
    for run_id, group in trials.groupby("run_id"):
        found = group[group["arch"] == runs.loc[run_id, "incumbent"]].iloc[0]
        assert runs.loc[run_id, "search.digits/test_acc"] == found["digits/test_acc"]
        assert runs.loc[run_id, "search_metric"] == found["search_metric"]
    assert (runs["final.repeats"] == 2).all() and (runs["final.n_failed"] == 0).all()
    # training on the whole split for twice the epochs beats the search protocol
    assert runs["digits/test_acc"].mean() > runs["search.digits/test_acc"].mean()

    leaderboard = (out / "report" / "leaderboard.md").read_text()
    assert "Final protocol" in leaderboard and "epochs = 2" in leaderboard
    assert "search protocol: digits/test_acc" in leaderboard

    # a final training reproduces bit for bit in another process (this one, one worker)
    study = load_study(study_path, plugins)
    evaluator = study.make_final_evaluator(plugins)
    space = study.make_space(plugins)
    evaluator.setup(space, EvaluatorContext("digits", study.search_metric,
                                            study.report_metrics))
    row = final.iloc[-1]
    again = evaluator.evaluate(space, Trial(space.from_string(row["arch"])),
                               seed=int(row["eval_seed"]))
    assert again.metrics["digits/test_acc"] == row["digits/test_acc"]
    assert again.metrics["digits/valid_acc"] == row["search_metric"]


def test_a_study_killed_during_final_training_resumes_without_redoing_it(
    plugins, write_study, tmp_path: Path
) -> None:
    study = write_study(STUDY.format(final_epochs=4))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "nasbench.cli", "run", str(study), "--out", str(out),
           "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = StudyLog(Layout(out).study_log)

    def first_log() -> list[tuple]:  # the final evaluations of the first run
        return [r for r in log.read_run("random_search-0")[0] if r[0] == "final"]

    proc = subprocess.Popen(cmd, env=env)
    try:
        deadline = time.monotonic() + 300
        while not first_log():
            assert proc.poll() is None, "the study ended before its first final training"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    before = first_log()
    assert len(before) == 1, "the kill came after the run's second final training"
    assert not (out / "runs.parquet").exists()

    outcome = run_study(load_study(study, plugins), plugins, out, resume=True, progress=False)
    assert outcome.complete
    after = first_log()
    # the training finished before the kill is kept as it was (its wall time included),
    # and only the missing repeat was trained
    assert after[0] == before[0]
    assert [FinalRecord.from_log(r).repeat for r in after] == [0, 1]
    final = pd.read_parquet(out / "final.parquet")
    assert len(final) == 8 and not final.duplicated(["run_id", "repeat"]).any()
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["final.repeats"] == 2).all() and runs["digits/test_acc"].notna().all()


COST_UNITS = """
[study]
name = "digits-flops"
seeds = 1

[space]
name = "nb201"

[evaluator]
name = "lightning"
dataset = "digits"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
size = {C = 4, N = 1}
epochs = 1
train_samples = 120
batch_size = 32
cost_unit = "flops"

[budget]
cost = 30e6

[[strategies]]
name = "random_search"
"""


def test_a_budget_in_training_flops_replays(plugins, write_study, tmp_path: Path) -> None:
    """Costs counted, not measured: a second run of the study stops at the same trial (with
    measured seconds it would stop wherever the machine's speed put it)."""
    study = load_study(write_study(COST_UNITS), plugins)
    run_study(study, plugins, tmp_path / "one", progress=False)
    run_study(study, plugins, tmp_path / "two", progress=False)
    one, two = (pd.read_parquet(tmp_path / d / "trials.parquet") for d in ("one", "two"))
    replayed = ["run_id", "trial", "arch", "cost", "cum_cost", "search_metric"]
    pd.testing.assert_frame_equal(one[replayed], two[replayed])
    assert (one["cost"] == 3 * one["info.flops"] * 120).all()  # 1 epoch of 120 examples
    assert (one["info.seconds"] > 0).all() and (one["info.cost_unit"] == "flops").all()
    runs = pd.read_parquet(tmp_path / "one" / "runs.parquet")
    search = runs[runs["kind"] == "search"]
    assert (search["stop_reason"] == "budget: cost").all() and (search["n_trials"] > 1).all()
