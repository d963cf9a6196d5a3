"""One-shot strategies in the harness: supernets trained on real data (scikit-learn digits),
their time charged to the run, determinism, budgets by cost, and a real kill and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from nasbench.errors import ConfigError
from nasbench.protocol import load_study
from nasbench.registry import load_plugins
from nasbench.run import run_study
from nasbench.store import Layout, StudyLog
from tests.conftest import ROOT

MEASURED = ["wall_time", "strategy_cost", "cum_cost"]
"""Columns holding measured time: they differ between two runs of the same study."""

TABULAR = """
[study]
name = "oneshot"
seeds = {seeds}
[space]
name = "nb201"
[evaluator]
name = "tabular"
dataset = "cifar10"
search_metric = "valid_12ep"
report_metrics = ["test_200ep"]
[budget]
evaluations = {evals}
[supernet]
dataset = "digits"
train_samples = 512
size = {{C = 4, N = 1}}
{strategies}
"""
"""NAS-Bench-201's table judges the proposals; the supernets train on real digits."""

ONE_SHOT = """
[[strategies]]
name = "darts"
epochs = {epochs}
batch_size = 32
report_every = 0.5
[[strategies]]
name = "rsws"
epochs = {epochs}
batch_size = 32
report_every = 0.5
candidates = 10
rank_batches = 2
[[strategies]]
name = "enas"
epochs = {epochs}
batch_size = 32
report_every = 0.5
controller_steps = 2
controller_aggregate = 4
final_samples = 4
"""


def _run(text: str, out: Path, **kw) -> object:
    path = out.parent / f"{out.name}.toml"
    path.write_text(text)
    plugins = load_plugins()
    return run_study(load_study(path, plugins), plugins, out, progress=False, **kw)


def _tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    trials = pd.read_parquet(out / "trials.parquet").drop(columns=MEASURED)
    runs = pd.read_parquet(out / "runs.parquet").drop(
        columns=["wall_time", "strategy_cost", "total_cost", "supernet_seconds"])
    return trials, runs


def test_one_shot_study_is_deterministic_and_charges_supernet_time(tmp_path: Path) -> None:
    text = TABULAR.format(seeds=1, evals=20, strategies=ONE_SHOT.format(epochs=2))
    _run(text, tmp_path / "a")
    _run(text, tmp_path / "b")
    for a, b in zip(_tables(tmp_path / "a"), _tables(tmp_path / "b"), strict=True):
        pd.testing.assert_frame_equal(a, b)

    trials = pd.read_parquet(tmp_path / "a" / "trials.parquet")
    assert set(trials["strategy"]) == {"darts", "rsws", "enas"}
    for run_id, run in trials.groupby("run_id"):
        assert len(run) == 4, run_id  # 2 epochs, a proposal every half epoch
        assert (run["strategy_cost"] > 0).all()
        charged = (run["cost"].where(~run["repeat"], 0.0) + run["strategy_cost"]).cumsum()
        assert charged.to_numpy() == pytest.approx(run["cum_cost"].to_numpy())
        # the anytime incumbent is the latest proposal
        assert (run["incumbent"] == run["arch"]).all()
    runs = pd.read_parquet(tmp_path / "a" / "runs.parquet")
    search = runs[runs["kind"] == "search"]
    assert (search["stop_reason"] == "strategy finished").all()
    assert (search["strategy_cost"] > 0).all()
    assert (runs.loc[runs["kind"] == "baseline", "strategy_cost"] == 0).all()


RSWS_BUDGET = """
[study]
name = "budget"
seeds = 1
[space]
name = "nb201"
[evaluator]
name = "lightning"
dataset = "digits"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
epochs = 1
train_samples = 512
size = {{C = 4, N = 1}}
cost_unit = "{unit}"
[budget]
cost = {cost}
[[strategies]]
name = "rsws"
epochs = 100
batch_size = 32
report_every = 1
candidates = 4
rank_batches = 1
"""
"""An RSWS run long enough that the budget, in measured seconds or in counted FLOPs, ends it."""
FLOPS_BUDGET = RSWS_BUDGET.format(unit="flops", cost="4e9")


def test_cost_budget_stops_a_one_shot_run(tmp_path: Path) -> None:
    _run(RSWS_BUDGET.format(unit="seconds", cost=6), tmp_path / "s")
    runs = pd.read_parquet(tmp_path / "s" / "runs.parquet").set_index("run_id")
    run = runs.loc["rsws-0"]
    assert run["stop_reason"] == "budget: cost"
    trials = pd.read_parquet(tmp_path / "s" / "trials.parquet")
    last = trials.iloc[-1]
    assert run["total_cost"] >= 6.0
    assert run["total_cost"] - last["cost"] - last["strategy_cost"] < 6.0
    assert run["strategy_cost"] == pytest.approx(trials["strategy_cost"].sum())


def test_a_one_shot_run_budgeted_in_flops_replays(tmp_path: Path) -> None:
    """Supernet training charged in counted FLOPs: two runs stop at the same trial with the
    same costs to the last digit; the measured supernet seconds are recorded beside."""
    _run(FLOPS_BUDGET, tmp_path / "a")
    _run(FLOPS_BUDGET, tmp_path / "b")
    measured = ["wall_time", "info.seconds", "info.train_seconds", "info.eval_seconds"]
    one, two = (pd.read_parquet(tmp_path / d / "trials.parquet").drop(columns=measured)
                for d in ("a", "b"))
    pd.testing.assert_frame_equal(one, two)
    assert (one["strategy_cost"] > 0).all()
    runs = pd.read_parquet(tmp_path / "a" / "runs.parquet").set_index("run_id")
    run = runs.loc["rsws-0"]
    assert run["stop_reason"] == "budget: cost"
    assert run["total_cost"] >= 4e9 > run["total_cost"] - one.iloc[-1]["cost"] \
        - one.iloc[-1]["strategy_cost"]
    assert run["strategy_cost"] == one["strategy_cost"].sum()
    assert run["supernet_seconds"] > 0
    other = pd.read_parquet(tmp_path / "b" / "runs.parquet").set_index("run_id")
    assert other.loc["rsws-0", "total_cost"] == run["total_cost"]
    # the report (which leaves the trials on disk) states the budget in the study's unit
    from nasbench.results.leaderboard import to_markdown
    from nasbench.results.schema import load_for_report

    text = to_markdown(load_for_report(tmp_path / "a"))
    assert "4e+09 flops of evaluation cost" in text
    assert "cost flops/run" in text and "cost s/run" not in text


def test_one_shot_strategies_refuse_a_cost_unit_a_supernet_cannot_count(
        tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(FLOPS_BUDGET.replace('cost_unit = "flops"', 'cost_unit = "epochs"'))
    with pytest.raises(ConfigError, match="rsws train a supernet") as err:
        load_study(path, load_plugins())
    assert err.value.key == "evaluator.cost_unit"
    assert 'cost_unit = "flops"' in err.value.fix


def test_sigkill_and_resume_of_a_one_shot_run_end_with_the_uninterrupted_results(
        tmp_path: Path) -> None:
    """A real SIGKILL inside a DARTS run, once its supernet was checkpointed and 6 trials are
    logged, then --resume: the tables equal those of the uninterrupted study (measured times
    aside)."""
    study = tmp_path / "kill.toml"
    study.write_text(TABULAR.format(seeds=[3], evals=100, strategies="""
[[strategies]]
name = "darts"
epochs = 4
batch_size = 32
report_every = 0.25
[execution]
checkpoint_seconds = 0.01
"""))
    plugins = load_plugins()
    run_study(load_study(study, plugins), plugins, tmp_path / "whole", progress=False)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "nasbench.cli", "run", str(study), "--quiet"]
    out = tmp_path / "killed"
    state = Layout(out).checkpoint("darts-3")
    log = StudyLog(Layout(out).study_log)
    proc = subprocess.Popen([*cmd, "--out", str(out)], env=env)
    try:
        while not (state.exists() and len(log.read_run("darts-3")[0]) >= 6):
            assert proc.poll() is None, "the run ended before it checkpointed 6 trials"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    records, summary = log.read_run("darts-3")
    assert state.exists() and summary is None and 6 <= len(records) < 16
    run_study(load_study(study, plugins), plugins, out, resume=True, progress=False)
    for whole, killed in zip(_tables(tmp_path / "whole"), _tables(out), strict=True):
        pd.testing.assert_frame_equal(whole, killed)


@pytest.mark.parametrize(("change", "key", "message"), [
    ('[space]\nname = "nb201"', None, None),
    ('[space]\nname = "nbgraph"', "strategies[0].name", "needs a space with supernet"),
    ('dataset = "digits"', "supernet.dataset", "unknown dataset 'nope'"),
    ('size = {C = 4, N = 1}', "supernet.size.width", "unknown size key"),
])
def test_one_shot_config_mistakes_are_named(tmp_path: Path, change, key, message) -> None:
    text = TABULAR.format(seeds=1, evals=5, strategies=ONE_SHOT.format(epochs=1))
    if key == "strategies[0].name":
        text = text.replace('[space]\nname = "nb201"', change).replace(
            'dataset = "cifar10"', 'dataset = "cora"').replace("valid_12ep", "valid_acc").replace(
            "test_200ep", "test_acc")
    elif key == "supernet.dataset":
        text = text.replace(change, 'dataset = "nope"')
    elif key == "supernet.size.width":
        text = text.replace(change, "size = {width = 4}")
    path = tmp_path / "s.toml"
    path.write_text(text)
    if key is None:
        assert load_study(path, load_plugins()).supernet.dataset == "digits"
        return
    with pytest.raises(ConfigError, match=message) as err:
        load_study(path, load_plugins())
    assert err.value.key == key


def test_supernet_table_without_a_one_shot_strategy_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(TABULAR.format(seeds=1, evals=5,
                                   strategies='[[strategies]]\nname = "random_search"'))
    with pytest.raises(ConfigError, match="no strategy of the study trains a supernet"):
        load_study(path, load_plugins())


def test_supernet_protocol_inherits_the_search_protocol_data(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("""
[study]
name = "inherit"
seeds = 1
[space]
name = "nb201"
[evaluator]
name = "lightning"
dataset = "digits"
search_metric = "valid_acc"
train_samples = 300
size = {C = 8, N = 2}
threads = 1
[budget]
evaluations = 3
[[strategies]]
name = "rsws"
""")
    study = load_study(path, load_plugins())
    assert study.supernet is not None and study.supernet.dataset == "digits"
    assert study.supernet.params.train_samples == 300
    assert dict(study.supernet.params.size) == {"C": 8, "N": 2}
    assert study.resolved["supernet"]["train_samples"] == 300
