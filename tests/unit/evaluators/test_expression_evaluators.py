"""Evaluators of expression spaces: a fixed network trained with the candidate activation or
update rule, on scikit-learn's digits (generated offline)."""

from __future__ import annotations

import pytest
import torch

from nasbench.api import EvaluatorContext, Trial
from nasbench.errors import ConfigError
from nasbench.params import build_params
from nasbench.registry import load_plugins
from nasbench.testing import check_evaluator

PLUGINS = load_plugins()
SMALL = {"hidden": [16], "epochs": 2, "train_samples": 400, "batch_size": 32}


def _evaluator(name: str, space, **params):
    cls = PLUGINS.evaluators.get(name)
    ev = cls(build_params(cls.Params, {**SMALL, **params}, "evaluator"))
    ev.bind_plugins(PLUGINS)
    ev.setup(space, EvaluatorContext("digits", "digits/valid_acc", ("digits/test_acc",)))
    return ev


@pytest.fixture(scope="module")
def activation():
    space = PLUGINS.spaces.get("activation")()
    return space, _evaluator("activation_training", space)


@pytest.fixture(scope="module")
def update_rule():
    space = PLUGINS.spaces.get("update_rule")()
    return space, _evaluator("update_rule_training", space, lrs=[0.01, 0.1], epochs=1)


def test_activation_evaluator_conforms(activation) -> None:
    space, ev = activation
    check_evaluator(ev, space, EvaluatorContext("digits", "digits/valid_acc",
                                                ("digits/test_acc",)), samples=3)


def test_known_activations_train_and_nan_diverges(activation) -> None:
    space, ev = activation
    acc = {}
    for name in ("relu", "swish", "gelu", "tanh", "sigmoid", "softplus"):
        result = ev.evaluate(space, Trial(space.reference(name)), seed=0)
        assert result.status == "ok", result.reason
        acc[name] = result.metrics["digits/valid_acc"]
    constant = ev.evaluate(space, Trial(space.from_string("1 + 0 + 0")), seed=0)
    assert min(acc.values()) > constant.metrics["digits/valid_acc"] + 20
    nan = ev.evaluate(space, Trial(space.from_string("sqrt(x) + 0 + 0")), seed=0)
    assert nan.status == "diverged" and "nan" in nan.reason


def test_update_rule_evaluator_conforms(update_rule) -> None:
    space, ev = update_rule
    check_evaluator(ev, space, EvaluatorContext("digits", "digits/valid_acc",
                                                ("digits/test_acc", "digits/lr")), samples=3)


def test_reference_optimisers_learn(update_rule) -> None:
    space, ev = update_rule
    chance = 100 / 10
    for name in ("sgd", "adam", "powersign", "addsign"):
        result = ev.evaluate(space, Trial(space.reference(name)), seed=0)
        assert result.status == "ok", result.reason
        assert result.metrics["digits/valid_acc"] > 3 * chance, name
        assert result.metrics["digits/lr"] in (0.01, 0.1)


def test_rules_match_torch_optimisers() -> None:
    from nasbench.evaluators.expression_optimizer import ExpressionOptimizer

    space = PLUGINS.spaces.get("update_rule")()
    variables = space.grammar.variables
    for name, reference in (
        ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
        ("adam", lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-12)),
    ):
        weights = []
        for make in (reference, lambda p, name=name: ExpressionOptimizer(
                p, space.function(space.reference(name)), variables,
                lr=0.1 if name == "sgd" else 0.01)):
            torch.manual_seed(0)
            w = torch.nn.Parameter(torch.randn(20))
            opt = make([w])
            for _ in range(5):
                opt.zero_grad()
                ((w - 1) ** 4).sum().backward()
                opt.step()
            weights.append(w.detach().clone())
        assert torch.allclose(weights[0], weights[1], atol=1e-6), name


def test_evaluators_refuse_other_spaces() -> None:
    ev = PLUGINS.evaluators.get("update_rule_training")()
    ev.bind_plugins(PLUGINS)
    with pytest.raises(ConfigError, match="not one"):
        ev.check(PLUGINS.spaces.get("nb201")(), "digits", None)
    with pytest.raises(ConfigError, match="reads x"):
        ev.check(PLUGINS.spaces.get("activation")(), "digits", None)


def test_a_cnn_of_the_studys_choosing_trains_with_the_candidate() -> None:
    space = PLUGINS.spaces.get("activation")()
    ev = _evaluator("activation_training", space, network="cnn", channels=[8, 8], epochs=6)
    assert isinstance(ev.network()[0], torch.nn.Conv2d)
    swish = ev.evaluate(space, Trial(space.reference("swish")), seed=0)
    constant = ev.evaluate(space, Trial(space.from_string("1 + 0 + 0")), seed=0)
    assert swish.status == "ok", swish.reason
    assert swish.metrics["digits/valid_acc"] > constant.metrics["digits/valid_acc"] + 10


def test_a_cnn_refuses_data_that_are_not_images() -> None:
    cls = PLUGINS.evaluators.get("activation_training")
    ev = cls(build_params(cls.Params, {"network": "cnn"}))
    ev.bind_plugins(PLUGINS)
    with pytest.raises(ConfigError, match="a CNN reads images"):
        ev.check(PLUGINS.spaces.get("activation")(), "mnist1d", None)
