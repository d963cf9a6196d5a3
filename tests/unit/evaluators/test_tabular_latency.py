"""The tabular evaluator's predicted latency: a per-operation latency table's prediction of each
trial's network, beside the benchmark's accuracies."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from nasbench.errors import ConfigError
from nasbench.latency_table import LatencyTable
from nasbench.protocol import study_from_dict
from nasbench.run import run_study
from tests.conftest import ROOT

TABLE = ROOT / "examples" / "latency" / "nb201_cifar10.json"


def _raw(table: Path) -> dict:
    raw = tomllib.loads((ROOT / "examples" / "mo_nb201_latency.toml").read_text())
    raw["evaluator"]["latency_table"] = str(table)
    raw["study"]["seeds"] = 1
    raw["budget"]["evaluations"] = 12
    raw["strategies"] = [{"name": "random_search"}]
    return raw


def test_each_trial_gets_the_tables_prediction_of_its_network(plugins, tmp_path: Path) -> None:
    study = study_from_dict(_raw(TABLE), plugins)
    run_study(study, plugins, tmp_path / "out", progress=False)
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    table = LatencyTable.load(TABLE)
    space = study.make_space(plugins)
    ok = trials[trials["status"] == "ok"]
    assert len(ok) >= 12
    predicted = [table.predict(space.from_string(a)) for a in ok["arch"]]
    assert ok["cifar10/predicted_latency_ms"].tolist() == predicted
    assert len(set(predicted)) > 1


def test_a_latency_table_of_another_space_is_refused(plugins, tmp_path: Path) -> None:
    other = LatencyTable.load(TABLE)
    other.space = "darts"
    path = tmp_path / "darts.json"
    other.save(path)
    with pytest.raises(ConfigError, match=r"evaluator\.latency_table: is a latency table of "
                                          r"space 'darts'"):
        study_from_dict(_raw(path), plugins)  # refused before anything runs
