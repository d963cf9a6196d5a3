"""``nasbench verify``: re-execute a sample of a directory's runs and compare them."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from nasbench.cli import main

STUDY = """
[study]
name = "verify-me"
seeds = 4

[space]
name = "nb201"

[evaluator]
name = "tabular"
benchmark = "nb201"
dataset = "cifar10"
search_metric = "valid_12ep"
report_metrics = ["test_200ep"]

[budget]
evaluations = 12

[[strategies]]
name = "random_search"

[[strategies]]
name = "aging_evolution"
label = "ae"
population_size = 5
sample_size = 3
"""


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("verify")
    (root / "study.toml").write_text(textwrap.dedent(STUDY))
    out = root / "out"
    assert main(["run", str(root / "study.toml"), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture
def copy(study_dir: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "copy"
    shutil.copytree(study_dir, dest)
    return dest


def _verify(capsys, *args: str) -> tuple[int, str]:
    code = main(["verify", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_untouched_directory_is_identical(study_dir: Path, capsys) -> None:
    code, out = _verify(capsys, str(study_dir), "--fraction", "1")
    assert code == 0, out
    runs = json.loads((study_dir / "manifest.json").read_text())["runs"]
    assert len(runs) == 12  # two strategies and the baseline, four seeds
    status = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()
              if line and line.split()[0] in runs}
    assert status == {run_id: "identical" for run_id in runs}
    assert "12 runs re-executed" in out
    assert "12 identical, 0 drift, 0 differs, 0 could not run" in out


def test_sample_is_a_pure_function_of_the_seed(study_dir: Path, capsys) -> None:
    _, a = _verify(capsys, str(study_dir), "--runs", "3", "--seed", "7")
    _, b = _verify(capsys, str(study_dir), "--runs", "3", "--seed", "7")
    lines = [line.split()[0] for line in a.splitlines() if "identical" in line
             and "runs re-executed" not in line]
    assert len(lines) == 3
    assert a.split("re-executed in")[0] == b.split("re-executed in")[0]


def test_edited_trials_name_the_first_differing_trial(copy: Path, capsys) -> None:
    trials = pd.read_parquet(copy / "trials.parquet")
    row = trials.index[(trials["run_id"] == "ae-2") & (trials["trial"] == 7)][0]
    trials.loc[row, "search_metric"] += 1.0
    later = trials.index[(trials["run_id"] == "ae-2") & (trials["trial"] == 9)][0]
    trials.loc[later, "arch_key"] = "edited"
    trials.to_parquet(copy / "trials.parquet")
    code, out = _verify(capsys, str(copy), "--fraction", "1")
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith("ae-2 "))
    assert "differs" in line and "trial 7, field search_metric" in line
    assert "ae-1 " in out and next(x for x in out.splitlines()
                                    if x.startswith("ae-1 ")).endswith("identical")


def test_metrics_off_by_floating_point_with_the_same_decisions_are_drift(copy: Path,
                                                                         capsys) -> None:
    """The same trials and decisions with metrics a few ulps away (what another instruction
    set gives) are told apart from different logic, with the size of the drift."""
    trials = pd.read_parquet(copy / "trials.parquet")
    mine = trials["run_id"] == "ae-2"
    trials.loc[mine, "cifar10/test_200ep"] *= 1 + 1e-12
    trials.to_parquet(copy / "trials.parquet")
    code, out = _verify(capsys, str(copy), "--fraction", "1")
    assert code == 1, "drift is not identical"
    line = next(x for x in out.splitlines() if x.startswith("ae-2 "))
    assert " drift " in line and "floating-point drift" in line and "cifar10/test_200ep" in line
    assert "metrics drifted: recorded on" in out
    assert "11 identical, 1 drift, 0 differs" in out


def test_edited_config_is_re_executed_and_differs(copy: Path, capsys) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    ae = next(s for s in manifest["config"]["strategies"] if s["label"] == "ae")
    ae["sample_size"] = 5
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, out = _verify(capsys, str(copy), "--fraction", "1")
    assert code == 1
    assert "does not match its config hash" in out
    ae_lines = [x for x in out.splitlines() if x.startswith("ae-")]
    assert ae_lines and any("differs  (trial" in x for x in ae_lines)
    rs_lines = [x for x in out.splitlines() if x.startswith("random_search-")]
    assert rs_lines and all(x.endswith("identical") for x in rs_lines)


def test_a_changed_table_is_named_and_differs(study_dir: Path, tmp_path: Path,
                                              capsys) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from nasbench.data import TABLES_DIR

    data = tmp_path / "data"
    data.mkdir()
    table = pq.read_table(TABLES_DIR / "nb201.parquet")
    i = table.schema.get_field_index("cifar10/valid_12ep")
    table = table.set_column(i, "cifar10/valid_12ep", pc.add(table.column(i), 0.25))
    pq.write_table(table, data / "nb201.parquet")
    shutil.copy(TABLES_DIR / "nb201.json", data / "nb201.json")
    code, out = _verify(capsys, str(study_dir), "--runs", "2", "--data-dir", str(data))
    assert code == 1
    assert "data table 'nb201' differs" in out
    assert "trial 0, field search_metric" in out


def test_version_drift_is_refused_unless_allowed(copy: Path, capsys) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["versions"]["libraries"]["numpy"] = "0.0.1"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, out = _verify(capsys, str(copy), "--runs", "1")
    assert code == 2
    assert "numpy 0.0.1 -> " in out and "--allow-version-drift" in out
    code, out = _verify(capsys, str(copy), "--runs", "1", "--allow-version-drift")
    assert code == 0 and "version drift: numpy 0.0.1" in out


def test_bad_arguments_are_user_errors(study_dir: Path, capsys) -> None:
    assert _verify(capsys, str(study_dir), "--fraction", "1.5")[0] == 2
    assert _verify(capsys, str(study_dir), "--runs", "0")[0] == 2
    code, out = _verify(capsys, str(study_dir.parent))
    assert code == 2 and "not a nasbench results directory" in out
