"""The weight-sharing correlation study end to end on digits: the same cells scored by a
supernet and by stand-alone training, compared by ``nasbench correlate --study
weight-sharing``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from nasbench.protocol import load_study
from nasbench.registry import load_plugins
from nasbench.run import run_study

STUDY = """
[study]
name = "{name}"
seed = 0
seeds = 1
[space]
name = "nb201"
[evaluator]
name = "{evaluator}"
dataset = "digits"
search_metric = "valid_acc"
report_metrics = {reports}
train_samples = 256
size = {{C = 4, N = 1}}
epochs = {epochs}
[budget]
evaluations = 10
[[strategies]]
name = "random_search"
label = "cells"
"""


@pytest.fixture(scope="module")
def two_directories(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ws")
    plugins = load_plugins()
    out = []
    for name, evaluator, reports, epochs in (
        ("ws-supernet", "supernet", '["valid_acc_bn_running", "valid_acc_bn_reestimate", '
         '"valid_acc_bn_batch", "test_acc"]', 3),
        ("ws-standalone", "lightning", '["test_acc"]', 1),
    ):
        path = root / f"{name}.toml"
        path.write_text(STUDY.format(name=name, evaluator=evaluator, reports=reports,
                                     epochs=epochs))
        run_study(load_study(path, plugins), plugins, root / name, progress=False)
        out.append(root / name)
    return out[0], out[1]


def test_both_studies_score_the_same_cells(two_directories) -> None:
    supernet, standalone = (pd.read_parquet(d / "trials.parquet") for d in two_directories)
    assert list(supernet["arch"]) == list(standalone["arch"])
    assert len(set(supernet["arch"])) == 10


def test_weight_sharing_study_correlates_them(cli, data_dir: Path, tmp_path: Path,
                                              two_directories) -> None:
    supernet, standalone = two_directories
    out = tmp_path / "report"
    result = cli("correlate", "--study", "weight-sharing", "--input", f"supernet={supernet}",
                 "--input", f"standalone={standalone}", "--resamples", "50", "--out", str(out))
    assert result.code == 0, result.err
    table = pd.read_csv(out / "correlations.csv")
    assert len(table) == 3 + 4
    assert set(table["y"]) == {"stand-alone valid", "NB201 CIFAR-10 test 200ep"}
    row = table[(table["x"] == "shared weights, re-estimated BN")
                & (table["y"] == "stand-alone valid")].iloc[0]
    ws = pd.read_parquet(supernet / "trials.parquet").set_index("arch")
    sa = pd.read_parquet(standalone / "trials.parquet").set_index("arch")
    rho = stats.spearmanr(ws["digits/valid_acc_bn_reestimate"],
                          sa.loc[ws.index, "search_metric"])[0]
    assert row["spearman"] == pytest.approx(rho)
    assert row["n"] == 10
    assert "Weight sharing vs stand-alone" in (out / "report.md").read_text()


def test_weight_sharing_study_needs_its_inputs(cli, data_dir: Path, tmp_path: Path) -> None:
    result = cli("correlate", "--study", "weight-sharing", "--out", str(tmp_path))
    assert result.code == 2 and "--input supernet=DIR" in result.err
    assert "Traceback" not in result.err
