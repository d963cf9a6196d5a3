"""The ``[final]`` table: what it inherits, what it refuses, and that studies without it are
unchanged."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nasbench.errors import ConfigError
from nasbench.protocol import study_from_dict

BASE: dict[str, Any] = {
    "study": {"seeds": 2},
    "space": {"name": "nb201"},
    "evaluator": {"name": "lightning", "dataset": "digits", "search_metric": "valid_acc",
                  "report_metrics": ["test_acc"], "epochs": 4, "train_samples": 600,
                  "size": {"C": 8, "N": 1}},
    "budget": {"evaluations": 10},
    "strategies": [{"name": "random_search"}],
}


def _study(plugins, final: dict[str, Any] | None = None, **sections: Any):
    raw = copy.deepcopy(BASE)
    raw.update(sections)
    if final is not None:
        raw["final"] = final
    return study_from_dict(raw, plugins)


def test_final_evaluator_inherits_the_search_protocol_and_overrides_it(plugins) -> None:
    study = _study(plugins, {"repeats": 3, "evaluator": {"epochs": 20, "train_samples": "all"}})
    assert study.final is not None and study.final.repeats == 3
    params = study.final.evaluator.params
    assert (params.epochs, params.train_samples, dict(params.size)) == (20, "all",
                                                                        {"C": 8, "N": 1})
    assert study.resolved["final"]["evaluator"]["epochs"] == 20
    assert study.make_final_evaluator(plugins).params == params
    # an empty [final] retrains once under the search protocol itself
    same = _study(plugins, {})
    assert same.final.repeats == 1 and same.final.evaluator.params == study.evaluator.params


def test_a_study_without_final_is_resolved_and_hashed_as_before(plugins) -> None:
    study = _study(plugins)
    assert study.final is None and "final" not in study.resolved
    assert study.make_final_evaluator(plugins) is None
    assert _study(plugins, {"repeats": 1}).config_hash != study.config_hash


@pytest.mark.parametrize(
    ("final", "match"),
    [
        ({"seeds": 3}, r"final\.seeds: unknown key"),
        ({"repeats": 0}, r"final\.repeats: 0 is out of range: it must be >= 1 \(a positive"),
        ({"evaluator": {"dataset": "mnist5k"}}, r"final\.evaluator\.dataset: is the study's"),
        ({"evaluator": {"epochs": 0}}, r"final\.evaluator\.epochs: 0 is out of range"),
        ({"evaluator": {"name": "tabular"}},
         r"final\.evaluator\.name: 'tabular' cannot evaluate on the study's dataset 'digits'"),
        ({"evaluator": {"drop_path_prob": 0.2, "auxiliary_weight": 0.4}},
         r"final\.evaluator\.auxiliary_weight: space 'nb201' has no auxiliary head"),
    ],
)
def test_final_protocol_mistakes_are_config_errors(plugins, data_dir, final: dict[str, Any],
                                                   match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _study(plugins, final, study={"seeds": 2})
