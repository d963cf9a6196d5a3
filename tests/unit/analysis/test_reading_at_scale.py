"""Reading results in memory that does not follow the study's size: column projection,
strings as categories, distinct architectures counted batch by batch, and the Parquet
writer's row groups typed as a whole-column write would type them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from nasbench.results import leaderboard, schema
from nasbench.results.schema import REPORT_TRIAL_COLUMNS, read_trials
from nasbench.results.significance import smallest_p

from nasbench.run import tables


def _trials(path: Path, rows: list[dict]) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=7)


def _rows(order: list[int]) -> list[dict]:
    return [{"run_id": f"rs-{r}", "arch_key": f"k{(r * 7 + i) % 5}", "status":
             "failed" if i == 3 else "ok", "trial": i, "arch": "a", "extra": 1.0}
            for r in order for i in range(6)]


@pytest.mark.parametrize("scattered", [False, True])
def test_distinct_architectures_streamed_equal_the_whole_table_count(
        tmp_path: Path, scattered: bool) -> None:
    rows = _rows([0, 1, 2, 3])
    if scattered:  # a run's rows apart: counted all the same
        rows = rows[::2] + rows[1::2]
    path = tmp_path / "trials.parquet"
    _trials(path, rows)
    frame = pd.DataFrame(rows)
    done = frame[frame["status"] == "ok"]
    expected = {k: float(v) for k, v in done.groupby("run_id")["arch_key"].nunique().items()}
    assert leaderboard._distinct_streamed(path) == expected
    assert set(expected.values()) != {5.0}  # the failed trial's key is left out somewhere


def test_reading_for_a_report_projects_columns_and_reads_strings_as_categories(
        tmp_path: Path) -> None:
    path = tmp_path / "trials.parquet"
    _trials(path, _rows([0, 1]))
    trials = read_trials(path, REPORT_TRIAL_COLUMNS, ["extra"])
    assert list(trials.columns) == ["run_id", "trial", "arch", "arch_key", "status", "extra"]
    assert isinstance(trials["run_id"].dtype, pd.CategoricalDtype)
    assert list(trials["run_id"].cat.categories) == ["rs-0", "rs-1"]
    assert trials["extra"].dtype == "float64"
    assert (trials["status"] == "ok").sum() == 10


def test_row_groups_with_late_columns_and_types_merge_like_one_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 2)
    parts = [{"a": [1, 2], "b": [None, None]}, {"a": [3, 4], "b": ["x", None]},
             {"a": [5.5, 6], "b": ["y", "z"], "info.c": [1, 2]}]
    path = tmp_path / "t.parquet"
    writer = tables._TableWriter(path, ("a", "b"), (), {"study": "s"})
    for part in parts:
        writer.add(part)
    assert writer.close() == 6
    whole = pa.table({"a": [1, 2, 3, 4, 5.5, 6], "b": [None, None, "x", None, "y", "z"],
                      "info.c": [None, None, None, None, 1, 2]})
    got = pq.read_table(path)
    assert got.schema.remove_metadata() == whole.schema
    assert got.to_pylist() == whole.to_pylist()
    assert json.loads(got.schema.metadata[b"nasbench"]) == {"study": "s"}
    assert pq.ParquetFile(path).num_row_groups == 3
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_the_smallest_p_of_thousands_of_runs_is_zero_not_an_overflow() -> None:
    assert smallest_p("wilcoxon", 5) == 0.0625
    assert smallest_p("wilcoxon", 5000) == 0.0
    assert smallest_p("mann-whitney", 5000, 5000) == 0.0


def _same_curves(a: list, b: list) -> None:
    assert [(c.strategy, c.axis, c.n_runs) for c in a] == [(c.strategy, c.axis, c.n_runs)
                                                          for c in b]
    assert a  # something was compared
    for x, y in zip(a, b, strict=True):
        for field in ("x", "mean", "low", "high"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))


@pytest.mark.parametrize(("axis", "scattered"),
                         [("evaluations", False), ("cost", False), ("evaluations", True)])
def test_anytime_curves_streamed_from_the_table_equal_those_of_the_whole_table(
        study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, axis: str,
        scattered: bool) -> None:
    import shutil

    from nasbench.results import anytime
    from nasbench.results.schema import load_for_report, load_results
    from nasbench.results.stats import BootstrapOptions

    directory = tmp_path / "study"
    shutil.copytree(study_dir, directory)
    table = pq.read_table(directory / "trials.parquet")
    # the NB201 table knows no costs: the measured wall time of each trial is one
    frame = table.to_pandas()
    frame["cum_cost"] = frame.groupby("run_id", sort=False)["wall_time"].cumsum()
    if scattered:  # runs' rows interleaved: read whole, with the same curves
        frame = frame.iloc[np.r_[0:len(frame):2, 1:len(frame):2]].reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False),
                   directory / "trials.parquet")
    monkeypatch.setattr(schema, "STREAM_ROWS", 37)  # runs cut across batches
    whole = load_results(directory, trial_columns=REPORT_TRIAL_COLUMNS)
    lazy = load_for_report(directory)
    assert whole.trials is not None and lazy.trials is None
    options = BootstrapOptions(resamples=50)
    metric = "cifar10/test_200ep"
    expected = anytime.anytime_curves(whole, metric, options, axis)
    _same_curves(anytime.anytime_curves(lazy, metric, options, axis), expected)
    streamed = anytime.streamed_matrices(directory / "trials.parquet", metric, False, axis)
    assert (streamed is None) == scattered


@pytest.mark.parametrize(("n", "resamples"), [(1, 1), (7, 64), (50, 65), (1_001, 999)])
def test_site_bootstrap_in_blocks_draws_the_means_of_one_draw(n: int, resamples: int) -> None:
    """The leaderboard site's bootstrap of each strategy's mean is drawn 64 resamples at a
    time (one draw of 1,000 x 50,000 indices took 800 MB); the means, and where the
    generator's stream goes on from, are those of the one draw."""
    from nasbench.results.site import _bootstrap_means

    v = np.random.default_rng(n).normal(size=n)
    whole, blocked = np.random.default_rng(3), np.random.default_rng(3)
    expected = v[whole.integers(0, n, size=(resamples, n))].mean(axis=1)
    np.testing.assert_array_equal(_bootstrap_means(blocked, v, resamples), expected)
    assert whole.integers(0, 2**62) == blocked.integers(0, 2**62)
