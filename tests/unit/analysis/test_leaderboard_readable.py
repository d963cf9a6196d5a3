"""The leaderboard a researcher reads: order, small samples, counts, regret, cost, labels.

Studies run here on NAS-Bench-Graph (its tables ship in the installed nas-bench-graph wheel),
so no data directory is needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nasbench.results.leaderboard import (
    LeaderboardOptions,
    fmt,
    fmt_count,
    p_text,
    ranks_text,
    seed_ranks,
    summary,
    to_markdown,
)
from nasbench.results.schema import load_results
from nasbench.results.significance import smallest_p
from nasbench.results.stats import BootstrapOptions
from scipy import stats

FAST = LeaderboardOptions(BootstrapOptions(resamples=200))


def _run(tmp: Path, plugins, *, seeds: int, search: str = "valid_acc",
         reports: tuple[str, ...] = ("test_acc",), evaluations: int = 25) -> Path:
    from nasbench.protocol import study_from_dict
    from nasbench.run import run_study

    raw = {
        "study": {"name": f"readable-{seeds}", "seed": 5, "seeds": seeds},
        "space": {"name": "nbgraph"},
        "evaluator": {"name": "tabular", "dataset": "cora", "search_metric": search,
                      "report_metrics": list(reports)},
        "budget": {"evaluations": evaluations},
        "strategies": [{"name": "random_search"}, {"name": "aging_evolution"},
                       {"name": "local_search"}],
    }
    out = tmp / f"study-{seeds}-{search}"
    assert run_study(study_from_dict(raw, plugins), plugins, out, progress=False).complete
    return out


@pytest.fixture(scope="module")
def eight(tmp_path_factory: pytest.TempPathFactory, plugins) -> Path:
    return _run(tmp_path_factory.mktemp("readable"), plugins, seeds=8,
                reports=("test_acc", "citeseer/test_acc"))


def _table(markdown: str, metric: str) -> list[list[str]]:
    """Rows of the table under the heading of ``metric``."""
    section = markdown.split(f"`{metric}`", 1)[1]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        if len(cells) != len(header):
            break
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def test_rows_follow_mean_rank_and_config_order_is_an_option(eight: Path) -> None:
    results = load_results(eight)
    ranked = summary(results, FAST)
    part = ranked[ranked["metric"] == "cora/test_acc"]
    ranks = part["mean_rank"].to_numpy()
    assert np.all(np.diff(ranks) >= 0)
    by_hand = seed_ranks(results, "cora/test_acc", FAST)
    assert by_hand is not None
    means = results.runs.groupby("strategy")["cora/test_acc"].mean()
    # by mean rank, ties broken by the better mean
    expected = [label for _, _, label in sorted(
        (rank, -means[label], label) for rank, label in zip(by_hand.mean_ranks, by_hand.labels,
                                                            strict=True))]
    assert list(part["strategy"]) == expected
    config = summary(results, LeaderboardOptions(BootstrapOptions(resamples=200),
                                                 order="config"))
    assert list(config[config["metric"] == "cora/test_acc"]["strategy"]) == [
        "random_search", "aging_evolution", "local_search", "random_sampling"]


def test_counts_are_integers_and_p_values_read_as_sentences(eight: Path) -> None:
    text = to_markdown(load_results(eight), options=FAST)
    rows = _table(text, "cora/test_acc")
    assert {r["evals"] for r in rows if r["strategy"] != "`random_sampling`"} == {"25"}
    assert fmt(576266.0) == "576,266" and fmt_count(100.0) == "100" and fmt_count(99.5) == "99.5"
    assert p_text(0.0004) == "p < 0.001" and p_text(0.0421) == "p = 0.042"
    assert "= <" not in text
    ranks = seed_ranks(load_results(eight), "cora/test_acc", FAST)
    assert ranks is not None and ("p < 0.001" in ranks_text(ranks) or "p = " in ranks_text(ranks))


def test_regret_to_the_table_optimum_cost_and_distinct_architectures(eight: Path,
                                                                      plugins) -> None:
    results = load_results(eight)
    table = plugins.benchmarks.get("nbgraph")().load(None, ("cora",))
    column = np.asarray(table.column("cora/test_acc"), dtype=float)
    valid = np.asarray(table.column("cora/valid_acc"), dtype=float)
    rows = summary(results, FAST)
    rows = rows[rows["metric"] == "cora/test_acc"].set_index("strategy")
    assert rows["optimum"].iloc[0] == pytest.approx(column.max())
    assert rows["oracle"].iloc[0] == pytest.approx(column[valid == valid.max()].mean())
    for label, r in rows.iterrows():
        assert r["regret"] == pytest.approx(column.max() - r["mean"])
        runs = results.runs[results.runs["strategy"] == label]
        assert r["wall_per_run"] == pytest.approx(runs["wall_time"].mean())
    trials = pd.read_parquet(eight / "trials.parquet")
    mine = trials[(trials["strategy"] == "aging_evolution") & (trials["status"] == "ok")]
    distinct = mine.groupby("run_id")["arch_key"].nunique().mean()
    assert rows.loc["aging_evolution", "distinct"] == pytest.approx(distinct)
    text = to_markdown(results, options=FAST)
    assert f"optimum of `cora/test_acc` {column.max():.2f}" in text
    header = _table(text, "cora/test_acc")[0]
    assert {"regret to optimum", "distinct archs", "wall s/run"} <= set(header)


def test_metrics_on_other_datasets_are_said_to_rate_the_search_datasets_architectures(
        eight: Path) -> None:
    text = to_markdown(load_results(eight), options=FAST)
    assert re.search(r"`citeseer/test_acc`: the architectures searched on `cora`", text)


def test_enough_seeds_print_no_small_sample_warning(eight: Path) -> None:
    text = to_markdown(load_results(eight), options=FAST)
    assert "†" not in text and "‡" not in text


def test_one_seed_has_no_interval_and_no_test(tmp_path: Path, plugins) -> None:
    results = load_results(_run(tmp_path, plugins, seeds=1))
    rows = summary(results, FAST)
    assert rows["p_value"].isna().all() and rows["ci_low"].isna().all()
    assert rows["ri_low"].isna().all()
    text = to_markdown(results, options=FAST)
    assert "1 run have no interval" in text
    assert not re.search(r"\| [01]\.\d{3} \|", _table_text(text))


def _table_text(text: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if ln.startswith("| `"))


def test_three_seeds_are_flagged_for_interval_and_test(tmp_path: Path, plugins) -> None:
    results = load_results(_run(tmp_path, plugins, seeds=3))
    text = to_markdown(results, options=FAST)
    rows = _table(text, "cora/test_acc")
    searched = [r for r in rows if r["strategy"] != "`random_sampling`"]
    assert all(r["95% CI of mean"].endswith("†") for r in searched)
    assert all(r["p"].endswith("‡") for r in searched if r["p"] != "–")
    assert "fewer than 5 runs" in text and "cannot reach p < 0.05" in text
    # the floor the note relies on is the test's real minimum
    assert smallest_p("wilcoxon", 3) == pytest.approx(
        stats.wilcoxon([1.0, 2.0, 3.0]).pvalue)
    assert smallest_p("mann-whitney", 3, 3) == pytest.approx(
        stats.mannwhitneyu([4.0, 5.0, 6.0], [1.0, 2.0, 3.0], alternative="two-sided").pvalue)


def test_search_metric_is_labelled_by_its_split(tmp_path: Path, plugins) -> None:
    valid = load_results(_run(tmp_path, plugins, seeds=2))
    assert "search metric `cora/valid_acc` (validation)" in to_markdown(valid, options=FAST)
    other = load_results(_run(tmp_path, plugins, seeds=2, search="params"))
    text = to_markdown(other, options=FAST)
    assert "search metric `cora/params`;" in text and "(validation)" not in text
