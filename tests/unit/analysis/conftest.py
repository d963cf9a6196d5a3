"""A small real study on the NAS-Bench-201 table, run once for the analysis tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

STUDY = """
[study]
name = "nb201-analysis-test"
seed = 3
seeds = 12

[space]
name = "nb201"

[evaluator]
name = "tabular"
dataset = "cifar10"
search_metric = "valid_12ep"
report_metrics = ["test_200ep", "cifar100/test_200ep"]

[budget]
evaluations = 40

[[strategies]]
name = "random_search"

[[strategies]]
name = "aging_evolution"
population_size = 10
sample_size = 3

[[strategies]]
name = "aging_evolution"
label = "ae_large_tournament"
population_size = 20
sample_size = 10
"""


@pytest.fixture(scope="session")
def study_dir(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, plugins) -> Path:
    """Results of three strategies x 12 seeds x 40 evaluations on NB201 CIFAR-10."""
    import tomllib

    from nasbench.protocol import study_from_dict
    from nasbench.run import run_study

    raw = tomllib.loads(textwrap.dedent(STUDY))
    study = study_from_dict(raw, plugins)
    out = tmp_path_factory.mktemp("analysis") / "study"
    outcome = run_study(study, plugins, out, progress=False)
    assert outcome.complete
    return out


@pytest.fixture(scope="session")
def study_results(study_dir: Path):
    from nasbench.results.schema import load_results

    return load_results(study_dir)
