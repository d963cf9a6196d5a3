"""``nasbench verify``: re-execute a sample of a directory's runs and compare them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from nasbench.cli import main
from nasbench.registry import load_plugins
from nasbench.verify import measured_fields, sub_configs
from tests.conftest import ROOT

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


def test_a_portable_training_study_is_identical_with_its_timings_left_out(
        tmp_path: Path) -> None:
    """A study that trains, under portable numerics, re-executed by the command in a process
    of its own (as a user runs it): the kernels are pinned as the run pinned them, every
    result is compared, and what measures the machine (seconds, and the cost where it is
    measured seconds) is named and left out."""
    cli = [sys.executable, "-m", "nasbench.cli"]
    out = tmp_path / "out"
    study = ROOT / "tests" / "reference" / "nb201_digits_portable.toml"
    subprocess.run([*cli, "run", str(study), "--out", str(out), "--quiet"], check=True,
                   capture_output=True)
    done = subprocess.run([*cli, "verify", str(out), "--fraction", "1"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 runs re-executed" in done.stdout
    assert "2 identical, 0 drift, 0 differs, 0 could not run" in done.stdout
    note = next(line for line in done.stdout.splitlines() if "not compared" in line)
    left_out = note.split(": ", 2)[-1].split(", ")
    assert {"cost", "total_cost", "info.train_seconds"} <= set(left_out)
    assert "search_metric" not in left_out and "digits/test_acc" not in left_out


def test_measured_fields_keep_counted_costs() -> None:
    columns = ["search_metric", "cost", "cum_cost", "strategy_cost", "wall_time",
               "info.train_seconds", "supernet_seconds", "final.cost", "info.flops"]
    timings = ["wall_time", "info.train_seconds", "supernet_seconds"]
    assert measured_fields(columns, cost_measured=False) == timings
    assert sorted(measured_fields(columns, cost_measured=True)) == sorted(
        [*timings, "cost", "cum_cost", "strategy_cost", "final.cost"])


def test_a_black_box_run_of_a_one_shot_study_re_executes_without_the_supernet() -> None:
    config = {"study": {"name": "s", "seed": 0, "seeds": [0, 1]},
              "supernet": {"dataset": "digits"},
              "strategies": [{"name": "random_search", "label": "random_search"},
                             {"name": "rsws", "label": "rsws"}]}
    black_box, one_shot = sub_configs(config, ["random_search-0", "rsws-1"], load_plugins())
    assert "supernet" not in black_box and black_box["study"]["seeds"] == [0]
    assert one_shot["supernet"] == {"dataset": "digits"} and one_shot["study"]["seeds"] == [1]
