"""A results directory is data: resuming, reporting or verifying one never runs what is inside
it, and damage (a torn or corrupt log, a damaged, foreign or planted checkpoint) costs nothing
that was intact. Also: failures that end a run, not the study."""

from __future__ import annotations

import os
import pickle
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasbench.errors import ResumeError
from nasbench.protocol import load_study
from nasbench.registry import load_plugins, make_plugin_manager
from nasbench.run import loop, run_study
from nasbench.store import Layout, StudyLog
from tests.conftest import ROOT, run_cli
from tests.integration.dask_plugins import ExecutionPlugins, InterruptingEvaluator

STUDY = """
[study]
name = "safe"
seeds = 2
[space]
name = "nb201"
[evaluator]
name = "{evaluator}"
dataset = "synthetic"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
[budget]
evaluations = 150
[final]
repeats = 2
[[strategies]]
name = "{strategy}"
[[strategies]]
name = "aging_evolution"
population_size = 10
sample_size = 3
[execution]
checkpoint_seconds = 0.001
"""


class Payload:
    """A pickle whose loading creates a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _plugins():
    return load_plugins(make_plugin_manager(plugins=[ExecutionPlugins()]))


def _write(tmp_path: Path, evaluator: str = "synthetic", strategy: str = "random_search") -> Path:
    path = tmp_path / f"{evaluator}-{strategy}.toml"
    path.write_text(STUDY.format(evaluator=evaluator, strategy=strategy))
    return path


def _run(path: Path, out: Path, **kw):
    plugins = _plugins()
    return run_study(load_study(path, plugins), plugins, out, progress=False, **kw)


def _tables(out: Path) -> list[pd.DataFrame]:
    return [pd.read_parquet(out / n).drop(columns=["wall_time"])
            for n in ("trials.parquet", "runs.parquet", "final.parquet")]


def _same(a: Path, b: Path) -> None:
    for x, y in zip(_tables(a), _tables(b), strict=True):
        pd.testing.assert_frame_equal(x, y)


@pytest.fixture
def whole_and_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """An uninterrupted study and the same study interrupted mid-run (checkpoints written)."""
    monkeypatch.setattr(loop, "FLUSH_SECONDS", 0.0)  # hand over (and checkpoint) every trial
    path = _write(tmp_path, "interrupting")
    InterruptingEvaluator.calls, InterruptingEvaluator.stop_at = 0, None
    _run(path, tmp_path / "whole")
    InterruptingEvaluator.calls, InterruptingEvaluator.stop_at = 0, 400
    with pytest.raises(KeyboardInterrupt):
        _run(path, tmp_path / "cut")
    InterruptingEvaluator.stop_at = None
    assert list(Layout(tmp_path / "cut").runs.glob("*.state")), "no checkpoint was written"
    return path, tmp_path / "whole", tmp_path / "cut"


def test_planted_pickles_are_never_loaded_and_change_nothing(
        whole_and_cut, tmp_path: Path, capsys) -> None:
    path, whole, cut = whole_and_cut
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Payload(marker))
    layout = Layout(cut)
    # as every checkpoint, raw and inside an .npz (an object array), and as frames of every
    # log, with valid lengths and checksums
    states = sorted(layout.runs.glob("*.state"))
    for i, state in enumerate(states):
        if i % 2:
            state.write_bytes(payload)
        else:
            with state.open("wb") as fh:
                np.savez(fh, __json__=np.array([Payload(marker)], dtype=object))
    for log in [layout.study_log]:
        with log.open("ab") as fh:
            fh.write(len(payload).to_bytes(4, "little") + zlib.crc32(payload).to_bytes(
                4, "little") + payload)
    for name in ("random_search-0", "aging_evolution-1"):  # checkpoints of runs without one
        layout.checkpoint(name).write_bytes(payload)
    (layout.cache).mkdir(exist_ok=True)
    (layout.cache / "cache.pkl").write_bytes(payload)
    _run(path, cut, resume=True)
    warnings = capsys.readouterr().err
    assert ("ignored" in warnings and "checksum" in warnings) or "plain data" in warnings
    assert not marker.exists()
    _same(whole, cut)
    report = run_cli("report", str(cut))
    assert report.code == 0, report.err
    assert not marker.exists()
    from nasbench.verify import verify_directory

    verified = verify_directory(cut, _plugins(), runs=2)
    assert not marker.exists()
    assert verified.all_identical, verified.verdicts


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "other_run"])
def test_a_damaged_checkpoint_is_ignored_with_one_line_and_the_run_replays(
        whole_and_cut, damage: str, capsys) -> None:
    path, whole, cut = whole_and_cut
    layout = Layout(cut)
    state = sorted(layout.runs.glob("*.state"))[0]
    data = state.read_bytes()
    if damage == "garbage":
        state.write_bytes(b"\x00not a checkpoint" * 10)
    elif damage == "truncated":
        state.write_bytes(data[: len(data) // 2])
    else:
        from nasbench.store import decode_state, encode_state

        content = decode_state(data)
        if damage == "foreign":
            content["format"] = "nasbench-checkpoint/999"
        else:
            content["run_id"] = "someone-else"
        state.write_bytes(encode_state(content))
    _run(path, cut, resume=True)
    lines = [line for line in capsys.readouterr().err.splitlines() if str(state) in line]
    assert len(lines) == 1 and "ignored" in lines[0] and "replays from its log" in lines[0]
    _same(whole, cut)


@pytest.mark.parametrize("damage", ["torn_tail", "flipped_byte"])
def test_a_corrupt_run_log_loses_nothing_that_was_intact(whole_and_cut, damage: str,
                                                        capsys) -> None:
    path, whole, cut = whole_and_cut
    layout = Layout(cut)
    log = layout.study_log
    before = [rec for _, rec in StudyLog(log).scan()]
    data = bytearray(log.read_bytes())
    if damage == "torn_tail":
        data = data[:-7]
    else:
        data[len(data) // 2] ^= 0xFF
    log.write_bytes(bytes(data))
    kept = [rec for _, rec in StudyLog(log).scan()]
    err = capsys.readouterr().err
    assert f"{log}: checksum error" in err
    assert len(kept) == len(before) - 1  # exactly the damaged record
    _run(path, cut, resume=True)
    _same(whole, cut)


def test_a_proposal_outside_the_space_ends_its_run_failed_naming_it(tmp_path: Path) -> None:
    outcome = _run(_write(tmp_path, strategy="straying_search"), tmp_path / "s")
    assert outcome.complete and sorted(outcome.failed) == ["straying_search-0",
                                                           "straying_search-1"]
    runs = pd.read_parquet(tmp_path / "s" / "runs.parquet").set_index("run_id")
    reason = runs.loc["straying_search-0", "reason"]
    assert "strategy 'straying_search' proposed (9, 0, 0, 0, 0, 0)" in reason
    assert "not an architecture of space 'nb201'" in reason
    assert runs.loc["straying_search-0", "n_trials"] == 3  # the trials before it, kept


def test_a_strategy_that_raises_ends_its_run_failed_and_the_study_goes_on(
        tmp_path: Path) -> None:
    path = _write(tmp_path, strategy="broken_search")
    outcome = _run(path, tmp_path / "s")
    assert outcome.complete and sorted(outcome.failed) == ["broken_search-0", "broken_search-1"]
    runs = pd.read_parquet(tmp_path / "s" / "runs.parquet").set_index("run_id")
    assert runs.loc["broken_search-0", "status"] == "failed"
    assert "broken on purpose" in runs.loc["broken_search-0", "reason"]
    assert runs.loc["broken_search-0", "n_trials"] == 5  # the trials before it broke, kept
    assert (runs.loc[["aging_evolution-0", "aging_evolution-1"], "status"] == "ok").all()
    trace = Layout(tmp_path / "s").error("broken_search-0").read_text()
    assert "Traceback" in trace and "broken on purpose" in trace
    summary = StudyLog(Layout(tmp_path / "s").study_log).read_run("broken_search-0")[1]
    assert "broken on purpose" in summary["traceback"]


def test_an_evaluator_that_raises_fails_the_trial_not_the_run(tmp_path: Path) -> None:
    _run(_write(tmp_path, evaluator="raising"), tmp_path / "s")
    trials = pd.read_parquet(tmp_path / "s" / "trials.parquet")
    failed = trials[trials["status"] == "failed"]
    assert len(failed) > 0 and failed["reason"].str.contains("breaks the evaluator").all()
    runs = pd.read_parquet(tmp_path / "s" / "runs.parquet")
    assert (runs["status"] == "ok").all() and runs["n_failed"].sum() > 0


def test_resuming_a_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path)
    with pytest.raises(ResumeError, match="does not exist"):
        _run(path, tmp_path / "typo", resume=True)
    assert not (tmp_path / "typo").exists()


def test_ctrl_c_prints_the_command_that_continues(tmp_path: Path) -> None:
    path = _write(tmp_path, "interrupting")
    out = tmp_path / "out dir"
    script = ("import sys; from nasbench import registry; from nasbench.cli import main; "
              "from tests.integration.dask_plugins import ExecutionPlugins as P, "
              "InterruptingEvaluator as E; E.stop_at = 50; "
              "make = registry.make_plugin_manager; "
              "registry.make_plugin_manager = lambda **kw: make(plugins=[P()]); "
              "sys.exit(main(sys.argv[1:]))")
    import subprocess

    proc = subprocess.run([sys.executable, "-c", script, "run", str(path), "--out", str(out),
                           "--quiet"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 130
    assert f"nasbench run {path} --out '{out}' --resume" in proc.stderr


@pytest.mark.parametrize(("table", "key"), [
    ('[execution]\nschedular = "tcp://x:1"', "execution.schedular"),
    ('[execution]\nscheduler = "localhost"', "execution.scheduler"),
    ('[execution]\ncheckpoint_seconds = 0', "execution.checkpoint_seconds"),
])
def test_execution_table_mistakes_are_named(tmp_path: Path, table: str, key: str) -> None:
    from nasbench.errors import ConfigError

    path = tmp_path / "s.toml"
    path.write_text(STUDY.format(evaluator="synthetic", strategy="random_search").replace(
        "[execution]\ncheckpoint_seconds = 0.001", table))
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_study(path, _plugins())


def test_budget_retries_and_timeout_are_checked_and_leave_other_hashes_alone(
        tmp_path: Path) -> None:
    from nasbench.errors import ConfigError

    plain = tmp_path / "plain.toml"
    plain.write_text(STUDY.format(evaluator="synthetic", strategy="random_search"))
    limited = tmp_path / "limited.toml"
    limited.write_text(plain.read_text().replace(
        "evaluations = 150", "evaluations = 150\ntrial_timeout = 60\nretries = 2"))
    a, b = load_study(plain, _plugins()), load_study(limited, _plugins())
    assert "trial_timeout" not in a.resolved["budget"] and a.budget.retries == 0
    assert b.budget.trial_timeout == 60.0 and b.budget.retries == 2
    limited.write_text(plain.read_text().replace("evaluations = 150",
                                                 "evaluations = 150\nretries = -1"))
    with pytest.raises(ConfigError, match=r"budget\.retries"):
        load_study(limited, _plugins())
