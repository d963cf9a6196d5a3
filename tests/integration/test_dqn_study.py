"""The DQN study end to end at a tiny budget: examples/dqn_cartpole.toml with ENAS, RSWS and the
black-box strategies on CartPole-v1, and the same study on LunarLander-v3."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from nasbench.errors import ConfigError
from nasbench.protocol import study_from_dict
from nasbench.rl.report import summarise, time_to_near_best
from nasbench.run import run_study
from tests.conftest import ROOT


def _tiny(env: str) -> dict:
    """The example study shrunk: 8- and 16-unit layers, 300 training steps, two seeds."""
    raw = tomllib.loads((ROOT / "examples" / "dqn_cartpole.toml").read_text())
    raw["study"]["seeds"] = 2
    raw["space"]["widths"] = [8, 16]
    raw["evaluator"].update(dataset=env, env_steps=300, learning_starts=50, eval_episodes=1,
                            buffer_size=1000, epoch_steps=200)
    raw["budget"]["cost"] = 1500
    raw["baseline"]["samples"] = 2
    raw["final"]["repeats"] = 1
    for strategy in raw["strategies"]:
        if strategy["name"] in ("enas", "rsws"):
            strategy.update(epochs=2, report_every=1)
        if strategy["name"] == "rsws":
            strategy.update(candidates=4, rank_batches=1)
    return raw


def test_cartpole_study_runs_every_strategy_and_reports_against_brute_force(
        plugins, tmp_path: Path) -> None:
    study = study_from_dict(_tiny("CartPole-v1"), plugins)
    run_study(study, plugins, tmp_path / "out", progress=False)
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    assert set(runs["strategy"]) == {"random_search", "aging_evolution", "bayesian", "enas",
                                     "rsws", "random_sampling"}
    search = runs[runs["kind"] == "search"]
    assert (search["final.repeats"] == 1).all()
    assert search["CartPole-v1/test_return"].notna().all()
    # Budgets are environment steps: a black-box run stops within one evaluation (300
    # training steps plus at most 500 validation steps) past the budget; the one-shot runs
    # end with their two-epoch schedules, their supernet steps charged to them.
    one_shot = search["strategy"].isin(["enas", "rsws"])
    assert (search["total_cost"] <= 1500 + 800).all()
    assert (search.loc[~one_shot, "total_cost"] >= 1500).all()
    assert (search.loc[one_shot, "strategy_cost"] >= 2 * 200).all()
    # The brute-force comparison, against every architecture's mean test return in the study.
    table = trials.groupby("arch_key")["CartPole-v1/test_return"].mean().to_dict()
    per_run = time_to_near_best(trials, table)
    assert len(per_run) == 10
    found = per_run[per_run["found"]]
    assert (found["env_steps"] <= found["budget_used"]).all()
    assert set(summarise(per_run).index) == {"random_search", "aging_evolution", "bayesian",
                                              "enas", "rsws"}
    # The leaderboard states the cost per run in the evaluator's unit, not in seconds.
    from nasbench.results.leaderboard import to_markdown
    from nasbench.results.schema import load_results

    text = to_markdown(load_results(tmp_path / "out"))
    assert "cost env_steps/run" in text and "cost s/run" not in text
    assert "1500 env_steps of evaluation cost" in text


def test_lunarlander_study_runs(plugins, tmp_path: Path) -> None:
    raw = _tiny("LunarLander-v3")
    raw["study"]["seeds"] = 1
    raw["strategies"] = [s for s in raw["strategies"] if s["name"] in ("enas", "random_search")]
    study = study_from_dict(raw, plugins)
    run_study(study, plugins, tmp_path / "out", progress=False)
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert set(runs["strategy"]) == {"enas", "random_search", "random_sampling"}
    assert runs["LunarLander-v3/test_return"].notna().all()


def test_supernet_table_is_refused_with_the_dqn_evaluator(plugins) -> None:
    raw = _tiny("CartPole-v1")
    raw["supernet"] = {"dataset": "digits"}
    with pytest.raises(ConfigError, match=r"\[supernet\]|supernet"):
        study_from_dict(raw, plugins)
