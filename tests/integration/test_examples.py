"""The example studies are valid, and the NAS-Bench-201 protocol reproduces its headline."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from nasbench.protocol import load_study, study_from_dict
from nasbench.run import run_study
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_study_is_valid(path: Path, plugins) -> None:
    study = load_study(path, plugins)
    assert study.strategies and study.seeds


def test_nb201_protocol_aging_evolution_beats_random_search(plugins, tmp_path: Path) -> None:
    raw = tomllib.loads((ROOT / "examples" / "nb201_tabular.toml").read_text())
    raw["study"]["seeds"] = 150
    study = study_from_dict(raw, plugins)
    run_study(study, plugins, tmp_path / "out", progress=False)
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    means = runs.groupby("strategy")["cifar10/test_200ep"].mean()
    assert means["aging_evolution"] > means["random_search"] > means["random_sampling"]
