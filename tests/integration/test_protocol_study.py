"""Protocol studies end to end: the same cells trained under seeds, depths and tricks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from nasbench.errors import ConfigError
from nasbench.protocol_study import load_protocol_study
from tests.conftest import ROOT, run_cli

STUDY = """
[study]
name = "tiny-protocols"
seeds = [0, 1]
[space]
name = "nb201"
[evaluator]
name = "lightning"
dataset = "digits"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
epochs = 1
size = { C = 4, N = 1 }
[budget]
evaluations = 4
[baseline]
samples = 1
[[strategies]]
name = "fixed_set"
sample = 4
"""
VARIANTS = """
[variants.depth]
summary = "two cells per stage"
evaluator = { size = { N = 2 } }
[variants.tricks]
evaluator = { cutout = 3, label_smoothing = 0.1 }
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "protocols.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_every_protocol_trains_the_same_cells_and_the_report_compares_them(
        tmp_path: Path, data_dir: Path) -> None:
    config = _write(tmp_path, STUDY + VARIANTS)
    out = tmp_path / "out"
    result = run_cli("protocols", str(config), "--out", str(out), "--quiet", "--workers", "2")
    assert result.code == 0, result.err
    trials = {name: pd.read_parquet(out / name / "trials.parquet").query(
        "strategy == 'fixed_set'") for name in ("base", "depth", "tricks")}
    cells = set(trials["base"].query("seed == 0")["arch"])
    assert len(cells) == 4
    for name, frame in trials.items():
        for _, part in frame.groupby("seed"):
            assert set(part["arch"]) == cells, name
    # same seed, same evaluation seeds: the columns differ only by their protocol
    seeds = {name: frame.query("seed == 0").set_index("arch")["eval_seed"]
             for name, frame in trials.items()}
    assert seeds["base"].equals(seeds["depth"].loc[seeds["base"].index])
    deeper = trials["depth"].set_index("arch")["info.params"]
    shallower = trials["base"].query("seed == 0").set_index("arch")["info.params"]
    assert (deeper.loc[shallower.index] > shallower).all(), "the depth override was not applied"
    table = pd.read_csv(out / "report" / "correlations.csv")
    against = table[table["section"] == "against base"]
    assert list(against["y"]) == ["base s1", "depth s0", "tricks s0"]
    assert (against["n"] == 4).all() and against["spearman"].between(-1, 1).all()
    report = (out / "report" / "report.md").read_text()
    assert "two cells per stage" in report and "share of the variance" in report
    refused = run_cli("protocols", str(config), "--out", str(out), "--quiet")
    assert refused.code == 2 and "Pass --resume to continue" in refused.err, refused.err
    again = run_cli("protocols", str(config), "--out", str(out), "--quiet", "--resume")
    assert again.code == 0, again.err
    assert pd.read_csv(out / "report" / "correlations.csv").equals(table)


@pytest.mark.parametrize(("text", "message"), [
    (STUDY, "variants: is missing or empty"),
    (STUDY.replace('name = "fixed_set"', 'name = "random_search"').replace("sample = 4", "")
     + VARIANTS, "a protocol study needs exactly one strategy, fixed_set"),
    (STUDY.replace("evaluations = 4", "evaluations = 3") + VARIANTS,
     "budget.evaluations: must cover the 4 architectures"),
    (STUDY + '[variants.other]\nevaluator = { dataset = "mnist5k" }\n',
     "variants.other.evaluator.dataset: is the base study's"),
    (STUDY + "[variants.other]\nepochs = 3\n", "variants.other.epochs: unknown key"),
    (STUDY + "[variants.other]\nevaluator = { epoch = 3 }\n",
     "variants.other.evaluator.epoch: unknown parameter. Did you mean 'epochs'"),
    (STUDY + "[variants.base]\nevaluator = { epochs = 3 }\n",
     "variants.base: 'base' is not a usable variant name"),
    (STUDY + '[variants.other]\nsumary = 1\n[variants.more]\nevaluator = 3\n',
     "the config has 2 problems:\n  - variants.other.sumary: unknown key. Did you mean "
     "'summary'?"),
    (STUDY + '[variants.other]\nseeds = "x"\n', "variants.other.study.seeds: expected"),
    (STUDY.replace("sample = 4", "sample = 2") + VARIANTS,
     "strategies[0].sample: fixed_set proposes 2 architecture(s), and protocols are compared by "
     "rank correlations, which need at least 3"),
])
def test_protocol_study_mistakes_are_config_errors(tmp_path: Path, plugins, text: str,
                                                   message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_protocol_study(_write(tmp_path, text), plugins)
    assert message in str(err.value)


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "protocols").glob("*.toml")),
                         ids=lambda p: p.name)
def test_the_example_protocol_studies_are_valid(plugins, path: Path) -> None:
    protocols = load_protocol_study(path, plugins)
    assert [p.name for p in protocols] == ["base", "depth", "tricks"]
    assert protocols[0].study.seeds == (0, 1)
    assert all(p.study.seeds == (0,) for p in protocols[1:])
    base, deeper = (p.study.resolved["evaluator"]["size"] for p in protocols[:2])
    assert deeper == {**base, "N": 3}
