"""Leaderboard statistics, anytime curves and imports, recomputed by hand from the tables."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nasbench.results.anytime import anytime_curves, incumbent_metric
from nasbench.results.importers import import_runs, yang2020_results
from nasbench.results.leaderboard import LeaderboardOptions, leaderboard, summary, write_leaderboard
from nasbench.results.report import ReportOptions, build_report
from nasbench.results.schema import load_results
from nasbench.results.stats import BootstrapOptions
from scipy import stats

from nasbench.errors import UserError

METRIC = "cifar10/test_200ep"
FAST = LeaderboardOptions(BootstrapOptions(resamples=300))


def test_summary_by_hand_from_runs_parquet(study_dir: Path, study_results) -> None:
    runs = pd.read_parquet(study_dir / "runs.parquet")
    table = summary(study_results, FAST)
    rows = table[table["metric"] == METRIC].set_index("strategy")
    base = runs.loc[runs["strategy"] == "random_sampling", METRIC]
    for label in ("random_search", "aging_evolution", "ae_large_tournament"):
        mine = runs.loc[runs["strategy"] == label].sort_values("seed")
        r = rows.loc[label]
        assert r["n"] == 12
        assert r["mean"] == pytest.approx(mine[METRIC].mean())
        assert r["std"] == pytest.approx(mine[METRIC].std(ddof=1))
        assert r["median"] == pytest.approx(mine[METRIC].median())
        assert r["ci_low"] <= r["mean"] <= r["ci_high"]
        assert r["ri"] == pytest.approx(100 * (mine[METRIC].mean() - base.mean()) / base.mean())
        assert r["ri_low"] <= r["ri"] <= r["ri_high"]
        assert r["test"] == "wilcoxon"  # the baseline drew the same 12 seeds: paired
        paired = runs.loc[runs["strategy"] == "random_sampling"].sort_values("seed")[METRIC]
        assert r["p_value"] == pytest.approx(
            stats.wilcoxon(mine[METRIC].to_numpy() - paired.to_numpy()).pvalue)
        assert r["config_hash"] == study_results.manifest["config_hash"]
        assert r["directory"] == str(study_dir)
    wide = runs.pivot_table(index="seed", columns="strategy", values=METRIC)
    by_hand = wide.rank(axis=1, ascending=False).mean()
    for label, rank in by_hand.items():
        assert rows.loc[label, "mean_rank"] == pytest.approx(rank)
    assert np.isnan(rows.loc["random_sampling", "ri"])


def test_wide_leaderboard_keeps_its_columns(study_results) -> None:
    table = leaderboard(study_results, FAST)
    assert list(table.index)[-1] == "random_sampling"
    for column in ("n_seeds", f"{METRIC} mean", f"{METRIC} std", f"{METRIC} RI %",
                   "search mean", "evaluations", "mean rank"):
        assert column in table.columns
    assert table.loc["random_search", "evaluations"] == 40


def test_write_leaderboard_writes_markdown_and_traceable_csv(study_results, tmp_path) -> None:
    text, path = write_leaderboard(study_results, FAST, out=tmp_path)
    assert path.read_text() == text
    assert "| RI % | RI 95% CI |" in text and "Friedman test over 12 seeds" in text
    csv = pd.read_csv(tmp_path / "leaderboard.csv")
    assert set(csv["config_hash"]) == {study_results.config_hash}
    assert len(csv) == 4 * 2  # strategies (baseline included) x report metrics


def test_anytime_curves_end_at_the_final_results(study_results) -> None:
    runs = study_results.runs
    curves = anytime_curves(study_results, METRIC, BootstrapOptions(resamples=200))
    assert {c.strategy for c in curves} == {"random_search", "aging_evolution",
                                            "ae_large_tournament"}
    for c in curves:
        final = runs.loc[runs["strategy"] == c.strategy, METRIC].mean()
        assert c.x[-1] == 40 and c.n_runs == 12
        assert c.mean[-1] == pytest.approx(final)
        assert np.all(c.low <= c.mean + 1e-9) and np.all(c.mean <= c.high + 1e-9)
    # The evaluator knows no costs, so there is no cost axis.
    assert anytime_curves(study_results, METRIC, BootstrapOptions(), axis="cost") == []


def test_anytime_cost_axis_on_measured_wall_times(study_results) -> None:
    # The NB201 table knows no training times; the wall time the harness measured for each
    # trial is a real cost to lay the curves along.
    trials = study_results.trials.copy()
    trials["cum_cost"] = trials.groupby("run_id")["wall_time"].cumsum()
    results = dataclasses.replace(study_results, trials=trials)
    curves = anytime_curves(results, METRIC, BootstrapOptions(resamples=100), axis="cost")
    values = incumbent_metric(trials, METRIC)
    for c in curves:
        assert c.axis == "cost" and np.all(np.diff(c.x) > 0)
        assert c.x[-1] == pytest.approx(trials["cum_cost"].max())
        runs = study_results.runs
        assert c.mean[-1] == pytest.approx(runs.loc[runs["strategy"] == c.strategy,
                                                    METRIC].mean())
        point = c.x.size // 3
        by_hand = []
        for _, run in trials[trials["strategy"] == c.strategy].groupby("run_id"):
            spent = run["cum_cost"].to_numpy() <= c.x[point]
            if spent.any():
                by_hand.append(values[run.index.to_numpy()[spent][-1]])
        assert c.mean[point] == pytest.approx(np.nanmean(by_hand))


def test_incumbent_metric_by_hand(study_results) -> None:
    trials = study_results.trials
    values = incumbent_metric(trials, METRIC)
    run = trials[trials["run_id"] == "aging_evolution-5"]
    first = run[~run["repeat"]].drop_duplicates("arch").set_index("arch")[METRIC]
    expected = run["incumbent"].map(first).to_numpy()
    np.testing.assert_allclose(values[run.index.to_numpy()], expected)


def test_yang2020_import_and_ri_by_hand(yang2020_dir: Path) -> None:
    imported = yang2020_results(yang2020_dir)
    assert [r.study for r in imported] == [
        "yang2020-CIFAR10", "yang2020-CIFAR100", "yang2020-Sport8", "yang2020-MIT67",
        "yang2020-Flowers102"]
    cifar10 = imported[0]
    assert cifar10.counterparts["DARTS"] == "Random DARTS"
    assert cifar10.counterparts["MANAS-LS"] == "Random MANAS"
    assert not cifar10.paired_seeds
    raw = pd.read_csv(yang2020_dir / "yang2020" / "performance_CIFAR10.csv")
    table = summary(cifar10, FAST).set_index("strategy")
    ri = 100 * (raw["DARTS"].mean() - raw["Random DARTS"].mean()) / raw["Random DARTS"].mean()
    assert table.loc["DARTS", "ri"] == pytest.approx(ri)
    assert table.loc["DARTS", "test"] == "mann-whitney"
    assert table.loc["DARTS", "p_value"] == pytest.approx(
        stats.mannwhitneyu(raw["DARTS"], raw["Random DARTS"]).pvalue)
    # CIFAR-100 has no StacNAS runs: the method is absent, its random rows stay.
    assert "StacNAS" not in imported[1].strategies


def test_generic_import_format_round_trip(yang2020_dir: Path, tmp_path: Path) -> None:
    raw = pd.read_csv(yang2020_dir / "yang2020" / "performance_Sport8.csv")
    long = pd.concat([pd.DataFrame({"strategy": c.strip(), "test_acc": raw[c],
                                    "task": "sport8"}) for c in raw.columns])
    long.to_csv(tmp_path / "runs.csv", index=False)
    (tmp_path / "runs.toml").write_text(textwrap.dedent("""
        [study]
        name = "external"
        citation = "Yang et al., ICLR 2020"
        problem_column = "task"

        [metrics.test_acc]
        higher_is_better = true
        unit = "%"

        [counterparts]
        DARTS = "Random DARTS"
        ENAS = "Random ENAS"
    """))
    (results,) = import_runs(tmp_path / "runs.csv", tmp_path / "runs.toml")
    assert results.study == "external-sport8"
    assert results.counterparts == {"DARTS": "Random DARTS", "ENAS": "Random ENAS"}
    manifest = results.manifest
    assert manifest["imported"]["sha256"]
    native = summary(yang2020_results(yang2020_dir)[2], FAST).set_index("strategy")
    mine = summary(results, FAST).set_index("strategy")
    assert mine.loc["ENAS", "ri"] == pytest.approx(native.loc["ENAS", "ri"])
    # Written out, it reads back like a study's results directory.
    from nasbench.results.importers import write_results_directory

    out = write_results_directory(results, tmp_path / "dir")
    again = load_results(out)
    assert again.trials is None and again.imported
    assert json.loads((out / "manifest.json").read_text())["counterparts"]["DARTS"]
    with pytest.raises(UserError, match="already holds results"):
        write_results_directory(results, out)
    (tmp_path / "bad.toml").write_text("[study]\nname = 'x'\n[metrics.acc]\n")
    with pytest.raises(UserError, match="lacks the metric columns"):
        import_runs(tmp_path / "runs.csv", tmp_path / "bad.toml")


def test_report_across_imported_datasets(yang2020_dir: Path) -> None:
    report = build_report(yang2020_results(yang2020_dir),
                          ReportOptions(FAST, figures=False))
    assert report.across is not None and report.across.n_blocks == 5
    # Only strategies with results on all five datasets are ranked.
    assert "StacNAS" not in report.across.labels and "DARTS" in report.across.labels
    assert report.anytime.empty  # imported results have no trials
