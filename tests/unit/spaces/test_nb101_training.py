"""The NAS-Bench-101 network trains through the ``lightning`` evaluator in a study."""

from __future__ import annotations

import pandas as pd

from nasbench.protocol import load_study
from nasbench.registry import load_plugins
from nasbench.run import run_study

STUDY = """
[study]
name = "nb101-digits"
seeds = 1
[space]
name = "nb101"
[evaluator]
name = "lightning"
dataset = "digits"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
size = {stem_channels = 8, stacks = 2, cells_per_stack = 1}
epochs = 1
train_samples = 200
batch_size = 32
[budget]
evaluations = 2
[[strategies]]
name = "random_search"
"""


def test_a_lightning_study_trains_nb101_cells(tmp_path) -> None:
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    plugins = load_plugins()
    outcome = run_study(load_study(config, plugins), plugins, tmp_path / "out", progress=False)
    assert outcome.complete
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    assert len(trials) == 2 and (trials["status"] == "ok").all()
    assert trials["search_metric"].between(0, 100).all() and (trials["cost"] > 0).all()
