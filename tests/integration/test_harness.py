"""The harness end to end on real tables: determinism, independence of streams, durability,
kill-and-resume, repeats."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from nasbench.evaluators.tabular import TabularEvaluator

from nasbench.errors import ResumeError
from nasbench.hookspecs import hookimpl
from nasbench.protocol import load_study
from nasbench.registry import load_plugins, make_plugin_manager
from nasbench.run import driver, loop, run_study
from nasbench.store import Layout, StudyLog
from tests.conftest import ROOT

WALL = ["wall_time"]

NB201 = """
[study]
name = "h"
seeds = {seeds}
[space]
name = "nb201"
[evaluator]
name = "tabular"
dataset = "cifar10"
search_metric = "valid_12ep"
report_metrics = ["test_200ep", "cifar100/test_200ep"]
[budget]
evaluations = {evals}
{strategies}
"""
RS = '[[strategies]]\nname = "random_search"\n'
AE = '[[strategies]]\nname = "aging_evolution"\npopulation_size = 10\nsample_size = 3\n'


def _tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    trials = pd.read_parquet(out / "trials.parquet").drop(columns=WALL)
    runs = pd.read_parquet(out / "runs.parquet").drop(columns=WALL)
    return trials, runs


def _run(text: str, out: Path, plugins=None, **kw) -> object:
    path = out.parent / f"{out.name}.toml"
    path.write_text(text)
    plugins = plugins or load_plugins()
    return run_study(load_study(path, plugins), plugins, out, progress=False, **kw)


def test_identical_config_gives_identical_tables(tmp_path: Path) -> None:
    text = NB201.format(seeds=4, evals=60, strategies=RS + AE)
    _run(text, tmp_path / "a")
    _run(text, tmp_path / "b")
    ta, ra = _tables(tmp_path / "a")
    tb, rb = _tables(tmp_path / "b")
    pd.testing.assert_frame_equal(ta, tb)
    pd.testing.assert_frame_equal(ra, rb)
    assert len(ta) >= 2 * 4 * 60
    assert set(ra["strategy"]) == {"random_search", "aging_evolution", "random_sampling"}


def test_adding_a_strategy_changes_no_other_strategys_numbers(tmp_path: Path) -> None:
    _run(NB201.format(seeds=3, evals=40, strategies=AE), tmp_path / "alone")
    _run(NB201.format(seeds=3, evals=40, strategies=RS + AE), tmp_path / "both")
    ta, ra = _tables(tmp_path / "alone")
    tb, rb = _tables(tmp_path / "both")
    ae_b = tb[tb.strategy == "aging_evolution"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ta.reset_index(drop=True), ae_b)
    base_a = ra[ra.strategy == "random_sampling"].reset_index(drop=True)
    base_b = rb[rb.strategy == "random_sampling"].reset_index(drop=True)
    pd.testing.assert_frame_equal(base_a, base_b)


def test_trials_table_schema_and_accounting(tmp_path: Path) -> None:
    _run(NB201.format(seeds=2, evals=50, strategies=AE), tmp_path / "s")
    trials = pd.read_parquet(tmp_path / "s" / "trials.parquet")
    for col in ["run_id", "strategy", "seed", "trial", "arch", "arch_key", "search_metric",
                "cost", "cum_cost", "status", "repeat", "incumbent", "cifar10/test_200ep"]:
        assert col in trials.columns
    for _, run in trials.groupby("run_id"):
        assert list(run["trial"]) == list(range(len(run)))
        assert (~run["repeat"]).sum() == 50  # repeats are free and do not count
        # the incumbent is the best arch by the search metric seen so far
        best = run["search_metric"].cummax()
        chosen = run.set_index("arch")["search_metric"].groupby(level=0).first()
        assert (run["incumbent"].map(chosen).to_numpy() == best.to_numpy()).all()
    runs = pd.read_parquet(tmp_path / "s" / "runs.parquet")
    search = runs[runs.kind == "search"]
    assert (search["n_evaluations"] == 50).all()
    last = trials.groupby("run_id").tail(1).set_index("run_id")["incumbent"]
    assert (search.set_index("run_id")["incumbent"] == last).all()


def test_counting_repeats_spends_the_budget_on_proposals(tmp_path: Path) -> None:
    text = NB201.format(seeds=2, evals=80, strategies=AE).replace(
        "evaluations = 80", "evaluations = 80\ncount_repeats = true")
    _run(text, tmp_path / "s")
    trials = pd.read_parquet(tmp_path / "s" / "trials.parquet")
    assert (trials.groupby("run_id").size() == 80).all()
    assert trials["repeat"].any()
    assert (trials.loc[trials["repeat"], "cost"] >= 0).all()


def test_progress_counts_planned_trials_not_repeats(tmp_path: Path, monkeypatch) -> None:
    bars: list[driver.Progress] = []

    class _Recorded(driver.Progress):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.setattr(driver, "Progress", _Recorded)
    _run(NB201.format(seeds=3, evals=60, strategies=AE), tmp_path / "s")
    trials = pd.read_parquet(tmp_path / "s" / "trials.parquet")
    runs = trials[trials["strategy"] == "aging_evolution"]
    assert len(runs) > 3 * 60, "aging evolution revisits architectures: more trials than planned"
    (bar,) = bars
    # Three runs of 60 evaluations and the random-sampling baseline's runs, one trial each.
    baseline = pd.read_parquet(tmp_path / "s" / "runs.parquet")["strategy"].eq(
        "random_sampling").sum()
    assert baseline > 0
    assert bar.total == 3 * 60 + baseline
    assert bar.done == bar.total


class _SlowTabular(TabularEvaluator):
    """The real tabular evaluator, slowed down, checking the log on disk before each trial."""

    name = "slow_tabular"
    pure = False  # each call records what the log held: every trial must reach it
    seen: ClassVar[list[int]] = []

    def setup(self, space, context):
        super().setup(space, context)
        self.directory = context.cache_dir.parent

    def evaluate(self, space, trial, *, seed, fidelity=None):
        records, _ = StudyLog(Layout(self.directory).study_log).read_run("random_search-0")
        self.seen.append(len(records))
        time.sleep(0.25)
        return super().evaluate(space, trial, seed=seed, fidelity=fidelity)


class _SlowPlugin:
    @hookimpl
    def nasbench_register_evaluators(self, registry):
        registry.add(_SlowTabular)


def test_a_slow_evaluation_is_on_disk_before_the_next_starts(tmp_path: Path) -> None:
    plugins = load_plugins(make_plugin_manager(plugins=[_SlowPlugin()]))
    text = NB201.format(seeds=1, evals=5, strategies=RS).replace('"tabular"', '"slow_tabular"')
    _SlowTabular.seen = []
    _run(text, tmp_path / "s", plugins=plugins)
    # Search trials 0..4 each saw all earlier trials on disk (the baseline's evaluation is 5).
    assert _SlowTabular.seen[:5] == [0, 1, 2, 3, 4]


class _Interrupting(TabularEvaluator):
    """The real tabular evaluator, counting evaluations and interrupting once at a given one."""

    name = "interrupting_tabular"
    pure = False  # a call has a side effect here: every trial must reach it
    calls = 0
    stop_at: int | None = None

    def evaluate(self, space, trial, *, seed, fidelity=None):
        type(self).calls += 1
        if type(self).calls == type(self).stop_at:
            raise KeyboardInterrupt
        return super().evaluate(space, trial, seed=seed, fidelity=fidelity)


class _InterruptPlugin:
    @hookimpl
    def nasbench_register_evaluators(self, registry):
        registry.add(_Interrupting)


@pytest.mark.parametrize("checkpoint_seconds", [2.0, 0.003])
def test_interrupted_study_resumes_without_losing_or_repeating_an_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checkpoint_seconds: float
) -> None:
    # Flush every trial; checkpoint never (replay from the log alone) or every few trials
    # (restore the strategy's state, then replay what follows).
    monkeypatch.setattr(loop, "FLUSH_SECONDS", 0.0)
    monkeypatch.setattr(loop, "CHECKPOINT_SECONDS", checkpoint_seconds)
    plugins = load_plugins(make_plugin_manager(plugins=[_InterruptPlugin()]))
    text = NB201.format(seeds=3, evals=200, strategies=RS + AE).replace(
        '"tabular"', '"interrupting_tabular"')
    _Interrupting.calls, _Interrupting.stop_at = 0, None
    _run(text, tmp_path / "whole", plugins=plugins)
    total = _Interrupting.calls

    _Interrupting.calls, _Interrupting.stop_at = 0, 777
    with pytest.raises(KeyboardInterrupt):
        _run(text, tmp_path / "cut", plugins=plugins)
    _Interrupting.stop_at = None
    assert any((tmp_path / "cut" / "runs").glob("*.state")) == (checkpoint_seconds < 1)
    _run(text, tmp_path / "cut", plugins=plugins, resume=True)
    assert _Interrupting.calls == total + 1  # + the interrupted evaluation, never finished
    for whole, cut in zip(_tables(tmp_path / "whole"), _tables(tmp_path / "cut"), strict=True):
        pd.testing.assert_frame_equal(whole, cut)


def test_resume_refuses_a_changed_config(tmp_path: Path) -> None:
    _run(NB201.format(seeds=2, evals=20, strategies=RS), tmp_path / "s")
    with pytest.raises(ResumeError, match=r"different configuration.*budget"):
        _run(NB201.format(seeds=2, evals=30, strategies=RS), tmp_path / "s", resume=True)
    with pytest.raises(ResumeError, match="--resume"):
        _run(NB201.format(seeds=2, evals=20, strategies=RS), tmp_path / "s")


def _wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    """Poll ``condition`` until it holds; fail if the process ends first."""
    while not condition():
        assert proc.poll() is None, f"the study ended before {what}"
        time.sleep(0.002)


def test_sigkill_and_resume_end_with_the_uninterrupted_results(tmp_path: Path) -> None:
    """A real SIGKILL, twice, inside one long run (once its state was checkpointed and 2,000
    trials are logged; then once the resumed run has logged 2,000 more), then --resume: the
    tables equal those of an uninterrupted study."""
    study = tmp_path / "kill.toml"
    study.write_text(
        """
        [study]
        name = "kill"
        seeds = [7]
        [space]
        name = "nbgraph"
        [evaluator]
        name = "tabular"
        dataset = "photo"
        search_metric = "valid_acc"
        report_metrics = ["test_acc"]
        [budget]
        evaluations = 45000
        [[strategies]]
        name = "random_search"
        [execution]
        checkpoint_seconds = 0.01
        """.replace("\n        ", "\n")
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "nasbench.cli", "run", str(study), "--quiet"]
    subprocess.run([*cmd, "--out", str(tmp_path / "whole")], check=True, env=env)

    out = tmp_path / "killed"
    layout = Layout(out)
    state = layout.checkpoint("random_search-7")

    def logged() -> int:
        return len(StudyLog(layout.study_log).read_run("random_search-7")[0])

    proc = subprocess.Popen([*cmd, "--out", str(out)], env=env)
    _wait_for(lambda: state.exists() and logged() >= 2000, proc, "a checkpoint")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = logged()
    proc = subprocess.Popen([*cmd, "--out", str(out), "--resume"], env=env)
    _wait_for(lambda: logged() >= before + 2000, proc, "the resumed run logged trials")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not layout.runs_table.exists(), "the study finished before the kill"
    records, summary = StudyLog(layout.study_log).read_run("random_search-7")
    assert records and summary is None
    subprocess.run([*cmd, "--out", str(out), "--resume"], check=True, env=env)
    for whole, killed in zip(_tables(tmp_path / "whole"), _tables(out), strict=True):
        pd.testing.assert_frame_equal(whole, killed)
