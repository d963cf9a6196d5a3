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
