"""Every mistake in a study config is one paragraph naming the key, the problem and the fix,
with a non-zero exit code and no traceback; nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

GOOD = """
[study]
name = "errors"
seeds = 2
[space]
name = "nb201"
[evaluator]
name = "tabular"
dataset = "cifar10"
search_metric = "valid_12ep"
report_metrics = ["test_200ep"]
[budget]
evaluations = 10
[[strategies]]
name = "aging_evolution"
population_size = 5
sample_size = 2
"""

CASES = [
    # (replace this, with that, words the message must contain)
    ('name = "aging_evolution"', 'name = "agingevo"',
     ["strategies[0].name", "unknown strategy 'agingevo'", "aging_evolution", "nasbench list"]),
    ("population_size = 5", 'population_size = "five"',
     ["strategies[0].population_size", "expected an integer"]),
    ("population_size = 5", "population_size = 1", ["population_size", "must be >= 2"]),
    ("population_size = 5", "population_sise = 5", ["population_sise", "Did you mean"]),
    ('search_metric = "valid_12ep"', 'search_metric = "test_200ep"',
     ["evaluator.search_metric", "test data", "validation metric"]),
    ('search_metric = "valid_12ep"', 'search_metric = "valid_200ep"',
     ["unknown metric 'valid_200ep'", "cifar10/valid_12ep"]),
    ('dataset = "cifar10"', 'dataset = "cifar-10"', ["evaluator.dataset", "cifar100"]),
    ("evaluations = 10", "cost = 12000.0", ["budget.cost", "does not know what evaluations cost"]),
    ("evaluations = 10", "evaluations = 0", ["budget.evaluations", "positive integer"]),
    ("seeds = 2", "seeds = [1, 1]", ["study.seeds", "twice"]),
    ("[budget]", "[budgets]", ["budgets", "Did you mean [budget]"]),
    ('name = "nb201"', 'name = "nbgraph"', ["evaluator.dataset", "cora"]),
    ("seeds = 2", "seeds = 2\nseeds = 3", ["not valid TOML"]),
]


@pytest.mark.parametrize(("old", "new", "words"), CASES)
def test_config_mistakes(old: str, new: str, words: list[str], write_study, tmp_path: Path) -> None:
    assert old in GOOD
    study = write_study(GOOD.replace(old, new, 1))
    out = tmp_path / "out"
    result = run_cli("run", str(study), "--out", str(out), "--quiet")
    assert result.code == 2
    assert "Traceback" not in result.err
    message = result.err.strip()
    assert message.startswith("nasbench: error:") and "\n" not in message
    for word in words:
        assert word in message, (word, message)
    assert not out.exists(), "nothing may run before the config is valid"


def test_missing_data_file_says_where_and_how(tmp_path: Path) -> None:
    """Yang et al.'s results do not ship (no licence): without them, correlate says where it
    looked and how to provide them, naming its own option --data-dir."""
    empty = tmp_path / "nodata"
    empty.mkdir()
    result = run_cli("correlate", "--study", "yang2020", "--data-dir", str(empty),
                     "--out", str(tmp_path / "o"))
    assert result.code == 2 and "Traceback" not in result.err
    assert str(empty / "yang2020" / "performance_CIFAR10.csv") in result.err
    assert "--data-dir" in result.err and "nasbench data import yang2020" in result.err


def test_a_data_directory_without_the_table_falls_back_to_the_shipped_one(
        write_study, tmp_path: Path) -> None:
    empty = tmp_path / "nodata"
    empty.mkdir()
    result = run_cli("run", str(write_study(GOOD)), "--out", str(tmp_path / "o"), "--quiet",
                     env={"NASBENCH_DATA": str(empty)})
    assert result.code == 0, result.err


def test_the_good_config_runs(write_study, tmp_path: Path) -> None:
    result = run_cli("run", str(write_study(GOOD)), "--out", str(tmp_path / "o"), "--quiet")
    assert result.code == 0, result.err


def test_missing_study_file_and_unknown_space_name(tmp_path: Path) -> None:
    result = run_cli("run", str(tmp_path / "nope.toml"))
    assert result.code == 2 and "does not exist" in result.err
    result = run_cli("space", "nb2O1")
    assert result.code == 2 and "unknown space 'nb2O1'" in result.err and "nb201" in result.err


def test_every_mistake_is_reported_at_once(write_study, tmp_path: Path) -> None:
    text = (GOOD.replace("seeds = 2", "seeds = [1, 1]\nsed = 3")
            .replace('search_metric = "valid_12ep"', 'search_metric = "valid_12epp"')
            .replace("evaluations = 10", "evaluations = 0\nretries = -1\ntrial_timeout = 0")
            .replace("population_size = 5", 'population_size = "five"')
            .replace("sample_size = 2", "sample_sise = 2")
            + '[execution]\nworkers = 0\nscheduler = 5\n[[strategies]]\nname = "agingevo"\n')
    out = tmp_path / "out"
    result = run_cli("run", str(write_study(text)), "--out", str(out), "--quiet")
    assert result.code == 2 and "Traceback" not in result.err and not out.exists()
    head, *lines = result.err.strip().splitlines()
    assert head == "nasbench: error: the config has 11 problems:"
    expected = [
        "study.sed: unknown key. Did you mean 'seed'?",
        "study.seeds: lists a seed twice. Remove the repeats",
        "evaluator.search_metric: unknown metric 'valid_12epp' for dataset 'cifar10'. Did you "
        "mean 'cifar10/valid_12ep'?",
        "budget.evaluations: 0 is out of range: it must be >= 1 (a positive integer)",
        "budget.retries: -1 is out of range: it must be >= 0",
        "budget.trial_timeout: 0.0 is out of range: it must be > 0",
        "execution.scheduler: expected a string, got 5",
        "execution.workers: 0 is out of range",
        "strategies[0].population_size: expected an integer, got 'five'",
        "strategies[0].sample_sise: unknown parameter. Did you mean 'sample_size'?",
        "strategies[1].name: unknown strategy 'agingevo'",
        "Did you mean 'aging_evolution'?",
    ]
    for words in expected:
        assert any(words in line for line in lines), (words, lines)
    assert all(line.startswith("  - ") for line in lines)


def test_execution_and_failure_keys_are_accepted(write_study, tmp_path: Path, plugins) -> None:
    from nasbench.protocol import load_study

    text = GOOD.replace("evaluations = 10", "evaluations = 10\nretries = 2\ntrial_timeout = 30")
    study = load_study(write_study(text + '[execution]\nworkers = 2\nscheduler = "tcp://h:1"\n'),
                       plugins)
    assert (study.budget.retries, study.budget.trial_timeout) == (2, 30.0)
    assert (study.execution.workers, study.execution.scheduler) == (2, "tcp://h:1")
    plain = load_study(write_study(GOOD, "plain.toml"), plugins)
    assert "retries" not in plain.resolved["budget"] and plain.budget.retries == 0
    assert study.resolved["budget"]["retries"] == 2
    assert "execution" not in study.resolved, "where a study runs never changes its results"


def test_run_data_dir_overrides_the_study(write_study, tmp_path: Path) -> None:
    """--data-dir on run: a table there replaces the shipped copy of the same name."""
    import json
    import shutil

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from nasbench.data import find_table

    shipped = find_table("nb201")
    own = tmp_path / "own"
    own.mkdir()
    table = pq.read_table(shipped.path)
    column = "cifar10/test_200ep"
    table = table.set_column(table.schema.get_field_index(column), column,
                             pc.multiply(table.column(column), 0.0))
    pq.write_table(table, own / "nb201.parquet")
    shutil.copy(shipped.path.with_suffix(".json"), own / "nb201.json")
    out = tmp_path / "o"
    result = run_cli("run", str(write_study(GOOD)), "--out", str(out), "--data-dir", str(own),
                     "--quiet")
    assert result.code == 0, result.err
    import pandas as pd

    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs[column] == 0.0).all(), "the table in --data-dir was not the one read"
    assert json.loads((out / "manifest.json").read_text())
