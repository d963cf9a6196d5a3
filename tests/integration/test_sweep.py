"""``nasbench sweep`` and its sweep view, end to end on the shipped NB201 table."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from nasbench.cli import main
from nasbench.errors import ConfigError
from nasbench.sweep import build_studies, parse_sweep, point_name

SWEEP = """
[sweep]
name = "tiny"

[sweep.grid]
"budget.evaluations" = [6, 12]
"strategies.ae.sample_size" = [2, 5]

[base.study]
name = "tiny"
seeds = 4

[base.space]
name = "nb201"

[base.evaluator]
name = "tabular"
benchmark = "nb201"
dataset = "cifar10"
search_metric = "valid_12ep"
report_metrics = ["test_200ep", "cifar100/test_200ep"]

[base.budget]
evaluations = 10

[[base.strategies]]
name = "random_search"

[[base.strategies]]
name = "aging_evolution"
label = "ae"
population_size = 5

[[base.strategies]]
name = "local_search"
initial_samples = 3
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    (root / "tiny.toml").write_text(textwrap.dedent(SWEEP))
    out = root / "out"
    assert main(["sweep", str(root / "tiny.toml"), "--out", str(out), "--quiet"]) == 0
    return out


def test_grid_points_are_named_after_their_values(plugins) -> None:
    import tomllib

    sweep = parse_sweep(tomllib.loads(SWEEP))
    assert [p.name for p in sweep.points] == [
        "evaluations=6,sample_size=2", "evaluations=6,sample_size=5",
        "evaluations=12,sample_size=2", "evaluations=12,sample_size=5"]
    studies = build_studies(sweep, plugins)
    ae = [s.strategy("ae").params.sample_size for _, s in studies]
    assert ae == [2, 5, 2, 5]
    assert [s.budget.evaluations for _, s in studies] == [6, 6, 12, 12]
    assert point_name({"a.x": 1, "b.x": "c/d"}) == "a_x=1,b_x=c_d"


def test_every_invalid_point_is_reported_before_anything_runs(plugins, tmp_path) -> None:
    import tomllib

    raw = tomllib.loads(SWEEP)
    raw["sweep"]["grid"] = {"budget.evaluations": [0, 5], "strategies.ae.sample_size": [2, 0]}
    with pytest.raises(ConfigError) as err:
        build_studies(parse_sweep(raw), plugins)
    text = str(err.value)
    assert "[evaluations=0,sample_size=2] budget.evaluations" in text
    assert "[evaluations=5,sample_size=0] strategies[1].sample_size" in text
    raw["sweep"]["grid"] = {"strategies.nope.sample_size": [2]}
    with pytest.raises(ConfigError, match="no strategy of the base study has the label"):
        build_studies(parse_sweep(raw), plugins)
    (tmp_path / "bad.toml").write_text(textwrap.dedent(SWEEP).replace("[6, 12]", "[0, 12]"))
    assert main(["sweep", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_each_point_is_an_ordinary_study_directory(swept: Path) -> None:
    record = json.loads((swept / "sweep.json").read_text())
    assert record["axes"] == ["budget.evaluations", "strategies.ae.sample_size"]
    for point in record["points"]:
        d = swept / point["directory"]
        manifest = json.loads((d / "manifest.json").read_text())
        assert manifest["config_hash"] == point["config_hash"]
        assert manifest["config"]["budget"]["evaluations"] == point["values"][
            "budget.evaluations"]
        trials = pd.read_parquet(d / "trials.parquet")
        per_run = trials[~trials["repeat"]].groupby("run_id").size()  # distinct evaluations
        assert (per_run == point["values"]["budget.evaluations"]).all()
        env = manifest["environment"]
        assert env["packages"]["nasbench"] and len(env["packages_sha256"]) == 64
        assert env["data"]["nb201"]["origin"] in {"shipped", "data_dir", "source", "imported"}
    # paired seeds: random search's first 6 trials are the same at budgets 6 and 12
    a = pd.read_parquet(swept / "evaluations=6,sample_size=2" / "trials.parquet")
    b = pd.read_parquet(swept / "evaluations=12,sample_size=5" / "trials.parquet")
    key = ["run_id", "trial"]
    rs_a = a[a.strategy == "random_search"].set_index(key)["arch"]
    rs_b = b[b.strategy == "random_search"].set_index(key)["arch"].loc[rs_a.index]
    assert (rs_a == rs_b).all()


def test_resume_runs_nothing_new_and_refuses_a_changed_sweep(swept: Path, tmp_path) -> None:
    src = tmp_path / "tiny.toml"
    src.write_text(textwrap.dedent(SWEEP))
    before = pd.read_parquet(swept / "evaluations=6,sample_size=2" / "trials.parquet")
    assert main(["sweep", str(src), "--out", str(swept), "--resume", "--quiet"]) == 0
    assert main(["sweep", str(src), "--out", str(swept), "--quiet"]) == 2  # no --resume
    src.write_text(textwrap.dedent(SWEEP).replace("[6, 12]", "[6, 13]"))
    assert main(["sweep", str(src), "--out", str(swept), "--resume", "--quiet"]) == 2
    runs = pd.read_parquet(swept / "evaluations=6,sample_size=2" / "runs.parquet")
    assert len(runs) == 3 * 4 + 4  # three strategies and the baseline, four seeds
    after = pd.read_parquet(swept / "evaluations=6,sample_size=2" / "trials.parquet")
    pd.testing.assert_frame_equal(before.drop(columns="wall_time"),
                                  after.drop(columns="wall_time"))


def test_report_shows_the_sweep_view(swept: Path, capsys) -> None:
    assert main(["report", str(swept), "--resamples", "50", "--no-figures"]) == 0
    text = (swept / "report" / "sweep.md").read_text()
    assert "Kendall's tau between the strategy rankings of two points" in text
    assert "### Verdicts" in text
    assert "**budget.evaluations**:" in text
    assert "**strategies.ae.sample_size**:" in text
    for name in ("evaluations=6,sample_size=2", "evaluations=12,sample_size=5"):
        assert name in text
    assert "RI over random sampling" in text
    assert (swept / "report" / "sweep.html").is_file()


def test_report_of_an_unfinished_sweep_says_how_to_finish_it(swept: Path, tmp_path,
                                                               capsys) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    (copy / "evaluations=12,sample_size=2" / "runs.parquet").unlink()
    assert main(["report", str(copy), "--no-figures", "--resamples", "10"]) == 2
    err = capsys.readouterr().err
    assert "point evaluations=12,sample_size=2 of the sweep" in err
    assert f"--resume --out {copy}" in err
