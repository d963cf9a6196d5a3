"""[[objectives]] and [reward]: validation, the config hash, and what strategies observe."""

from __future__ import annotations

import copy
import math

import pytest

from nasbench.errors import ConfigError
from nasbench.objectives import Objective, Reward, Scorer
from nasbench.protocol import study_from_dict

BASE = {
    "study": {"seeds": 1},
    "space": {"name": "nasbench_macro"},
    "evaluator": {"name": "tabular", "benchmark": "nasbench_macro", "dataset": "cifar10",
                  "search_metric": "params", "report_metrics": ["test_acc"]},
    "budget": {"evaluations": 5},
    "strategies": [{"name": "random_search"}],
}
NB201 = {
    "study": {"seeds": 1},
    "space": {"name": "nb201"},
    "evaluator": {"name": "tabular", "benchmark": "nb201", "dataset": "cifar10"},
    "budget": {"evaluations": 5},
    "strategies": [{"name": "nsga2"}],
}


def _with(base: dict, **sections) -> dict:
    raw = copy.deepcopy(base)
    raw.update(sections)
    return raw


def test_objectives_resolve_with_directions_and_test_counterparts(plugins) -> None:
    raw = _with(NB201, objectives=[{"metric": "valid_12ep"},
                                   {"metric": "cifar100/valid_12ep", "direction": "maximise"}])
    study = study_from_dict(raw, plugins)
    assert study.objectives == (
        Objective("cifar10/valid_12ep", True, "cifar10/test_12ep"),
        Objective("cifar100/valid_12ep", True, "cifar100/test_12ep"),
    )
    assert study.search_metric == "cifar10/valid_12ep"  # the first objective by default
    assert {"cifar100/valid_12ep", "cifar10/test_12ep", "cifar100/test_12ep"} <= set(
        study.report_metrics)
    assert study.resolved["objectives"][1]["test_metric"] == "cifar100/test_12ep"


def test_cost_metrics_are_objectives_and_test_metrics_are_refused(plugins) -> None:
    ok = study_from_dict(_with(BASE, objectives=[
        {"metric": "test_acc#0", "accept_test_split": True}, {"metric": "flops"}]), plugins)
    assert ok.objectives[1] == Objective("cifar10/flops", False, "cifar10/flops")
    assert ok.objectives[0].on_test
    with pytest.raises(ConfigError) as err:
        study_from_dict(_with(BASE, objectives=[{"metric": "test_acc"}, {"metric": "flops"}]),
                        plugins)
    text = str(err.value)
    assert "objectives[0].metric" in text and "test data" in text
    assert "accept_test_split" in text


def test_every_objective_mistake_is_reported_at_once(plugins) -> None:
    raw = _with(BASE, objectives=[{"metric": "flopz"}, {"metric": "params", "direction": "up"},
                                  {"metric": "test_acc"}, {"metric": "flops", "weight": 2}])
    with pytest.raises(ConfigError) as err:
        study_from_dict(raw, plugins)
    text = str(err.value)
    for key in ("objectives[0].metric", "objectives[1].direction", "objectives[2].metric",
                "objectives[3].weight"):
        assert key in text, key
    assert "Did you mean 'cifar10/flops'" in text


def test_multi_objective_strategy_needs_objectives(plugins) -> None:
    with pytest.raises(ConfigError) as err:
        study_from_dict(_with(BASE, strategies=[{"name": "mo_evolution"}]), plugins)
    assert "strategies[0].name" in str(err.value) and "[[objectives]]" in str(err.value)


def test_reward_and_objectives_together_are_refused(plugins) -> None:
    raw = _with(BASE, objectives=[{"metric": "flops"}, {"metric": "params"}],
                reward={"kind": "mnasnet", "metric": "flops", "target": 5e7})
    with pytest.raises(ConfigError, match="reward"):
        study_from_dict(raw, plugins)


def test_reward_uses_the_published_exponents_and_enters_the_hash(plugins) -> None:
    soft = study_from_dict(_with(BASE, reward={"kind": "mnasnet", "metric": "flops",
                                               "target": 5e7}), plugins)
    hard = study_from_dict(_with(BASE, reward={"kind": "mnasnet", "metric": "flops",
                                               "target": 5e7, "form": "hard"}), plugins)
    plain = study_from_dict(copy.deepcopy(BASE), plugins)
    assert (soft.reward.alpha, soft.reward.beta) == (-0.07, -0.07)
    assert (hard.reward.alpha, hard.reward.beta) == (0.0, -1.0)
    assert len({soft.config_hash, hard.config_hash, plain.config_hash}) == 3
    assert "reward" not in plain.resolved and "objectives" not in plain.resolved


def test_reward_mistakes_are_reported_together(plugins) -> None:
    raw = _with(BASE, reward={"kind": "mnasnet2", "metric": "flops", "target": -1})
    with pytest.raises(ConfigError) as err:
        study_from_dict(raw, plugins)
    assert "reward.kind" in str(err.value) and "reward.target" in str(err.value)
    with pytest.raises(ConfigError, match=r"reward\.metric"):
        study_from_dict(_with(BASE, reward={"kind": "mnasnet", "metric": "test_acc",
                                            "target": 1.0}), plugins)


def test_mnasnet_reward_formula() -> None:
    soft = Reward("x/lat", 80.0, -0.07, -0.07, "soft")
    hard = Reward("x/lat", 80.0, 0.0, -1.0, "hard")
    assert soft(75.0, 80.0) == 75.0 and hard(75.0, 40.0) == 75.0
    assert math.isclose(soft(75.0, 160.0), 75.0 * 2 ** -0.07)
    assert math.isclose(soft(75.0, 40.0), 75.0 * 0.5 ** -0.07)  # faster than target: a bonus
    assert math.isclose(hard(75.0, 160.0), 37.5)


def test_scorer_orients_objectives_and_computes_rewards() -> None:
    objs = (Objective("d/acc", True, None), Objective("d/flops", False, None))
    scorer = Scorer(("d/acc", "d/flops"), "d/acc", True, objs)
    assert scorer.score((90.0, 3.0)) == (90.0, (90.0, -3.0))
    assert scorer.score((90.0, None)) == (None, None)
    reward = Scorer(("d/acc", "d/flops"), "d/acc", True,
                    reward=Reward("d/flops", 2.0, 0.0, -1.0, "hard"))
    assert reward.score((90.0, 4.0)) == (45.0, None)
