"""A space declared only as data, inline in a study or in its own file, runs under every
black-box strategy end to end, and `nasbench expressions` ranks what the study evaluated."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from nasbench.results.expressions import rank_expressions

from nasbench.protocol import load_study
from nasbench.run import run_study
from tests.conftest import run_cli

GRAMMAR = """
operands = ["x", "0", "1"]
unary = ["identity", "neg", "tanh", "sigmoid", "relu"]
binary = ["add", "mul", "max"]
units = 2
[references]
relu = "max(x, 0) + 0"
swish = "x * sigmoid(x) + 0"
"""

STUDY = """
[study]
name = "declared"
seeds = 1

[space]
name = "expression"
{space}

[evaluator]
name = "activation_training"
dataset = "digits"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
hidden = [8]
epochs = 1
train_samples = 200
batch_size = 50

[budget]
evaluations = 3

[baseline]
samples = 2

[[strategies]]
name = "random_search"
[[strategies]]
name = "aging_evolution"
population_size = 2
sample_size = 2
[[strategies]]
name = "reinforce"
[[strategies]]
name = "reinforce_logits"
[[strategies]]
name = "bayesian"
[[strategies]]
name = "local_search"
[[strategies]]
name = "fixed_set"
label = "known"
archs = ["relu", "swish"]
"""


def test_space_in_its_own_file_runs_under_every_black_box_strategy(plugins, tmp_path: Path
                                                                   ) -> None:
    (tmp_path / "grammar.toml").write_text('name = "small_activation"\n' + GRAMMAR)
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(space='file = "grammar.toml"'))
    study = load_study(path, plugins)
    resolved = study.resolved["space"]
    assert "file" not in resolved and resolved["unary"][1] == "neg"  # recorded inline
    out = tmp_path / "out"
    assert run_study(study, plugins, out, progress=False).complete
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["strategy"]) == {"random_search", "aging_evolution", "reinforce",
                                     "reinforce_logits", "bayesian", "local_search", "known",
                                     "random_sampling"}
    trials = pd.read_parquet(out / "trials.parquet")
    assert (trials["status"] == "ok").all()
    ranking = rank_expressions(out, plugins)
    assert set(ranking.references) == {"relu", "swish"}
    assert all(rank is not None for rank in ranking.references.values())
    assert ranking.functions == len(set(trials["arch_key"]) | set(runs["incumbent_key"]))
    result = run_cli("expressions", str(out))
    assert result.code == 0, result.err
    assert "relu: rank" in result.out and "swish: rank" in result.out
    assert (out / "report" / "expressions.md").is_file()


def test_space_inline_in_the_study(plugins, tmp_path: Path) -> None:
    inline = "\n".join(line for line in GRAMMAR.splitlines() if "[references]" not in line
                       and not line.startswith(("relu", "swish")))
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(space=inline).replace(
        'archs = ["relu", "swish"]', 'archs = ["max(x, 0) + 0"]'))
    study = load_study(path, plugins)
    assert tomllib.loads(path.read_text())["space"]["units"] == 2
    space = study.make_space(plugins)
    assert space.size() == (3 * 5) ** 2 * 3 * (5 * 3 * 5 * 3)
    assert space.from_string("max(x, 0) + 0") in set(space.enumerate())


@pytest.mark.parametrize(("space", "words"), [
    ('unary = ["identity", "sigmod"]', ["space.unary[1]", "unknown unary unit 'sigmod'",
                                        "Available:"]),
    ('file = "missing.toml"', ["space.file", "does not exist"]),
    ('operands = ["x", "y"]', ["space.operands", "reads y", "supplies only x"]),
])
def test_mistakes_in_a_declared_space_are_explained(space: str, words: list[str],
                                                     tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(space=space).replace('archs = ["relu", "swish"]',
                                                      'archs = []'))
    result = run_cli("run", str(path), "--out", str(tmp_path / "out"))
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    for w in words:
        assert w in result.err + result.out, (w, result.err)
