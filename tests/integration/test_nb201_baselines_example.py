"""The NAS-Bench-201 baseline study shipped in examples/ validates and runs end to end (with
fewer seeds and a smaller budget than the real study)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from nasbench.protocol import load_study, study_from_dict
from nasbench.run import run_study

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nb201_baselines.toml"


def test_the_example_is_a_valid_study(plugins):
    study = load_study(EXAMPLE, plugins)
    assert len(study.seeds) >= 100
    assert study.search_metric == "cifar10/valid_12ep"
    assert {s.name for s in study.strategies} == {
        "random_search", "aging_evolution", "reinforce_logits", "bayesian", "local_search",
        "reinforce",
    }


def test_a_small_version_runs_every_strategy(plugins, tmp_path):
    raw = tomllib.loads(EXAMPLE.read_text())
    raw["study"].update(seeds=2)
    raw["budget"]["evaluations"] = 15
    study = study_from_dict(raw, plugins)
    outcome = run_study(study, plugins, tmp_path / "out", progress=False)
    assert outcome.complete
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    search = runs[runs.kind == "search"]
    assert sorted(search.strategy.unique()) == sorted(s.label for s in study.strategies)
    assert (search.n_evaluations == 15).all()
    for metric in study.report_metrics:
        assert search[metric].between(0, 100).all()
