"""GDAS, SNAS and UNAS on the ``mlp`` space's supernet: they pass the conformance kit when the
supernet trains on a dataset, and a study that pairs them with the ``dqn`` evaluator's
supernet (trained by reinforcement learning, with no loss to differentiate) is refused before
anything runs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from nasbench.errors import ConfigError
from nasbench.params import build_params
from nasbench.registry import load_plugins
from nasbench.testing import check_strategy

PLUGINS = load_plugins()
ROOT = Path(__file__).resolve().parents[3]
CASES = {
    "gdas": ("gdas", {}),
    "snas": ("gdas", {"variant": "snas"}),
    "unas": ("unas", {"warmup_epochs": 0}),
    "unas_cost": ("unas", {"warmup_epochs": 0, "objective": "valid_loss",
                           "estimator": "relaxed", "cost": "params", "cost_weight": 0.5}),
}


def _space():
    from nasbench.spaces.mlp import MlpSpace

    return MlpSpace(build_params(MlpSpace.Params, {"widths": [16, 32, 64]}))


@pytest.mark.parametrize("case", sorted(CASES))
def test_sampled_strategy_conforms_on_the_mlp_supernet(case: str) -> None:
    from nasbench.testing.supernet import supernet_contexts

    name, extra = CASES[case]
    cls = PLUGINS.strategies.get(name)
    space = _space()
    params = build_params(cls.Params, {"epochs": 1, "batch_size": 32, "report_every": 0.25,
                                       **extra})
    make_context = supernet_contexts(space, "digits", size={}, train_samples=256)

    def objective(arch):  # any deterministic value of the architecture will do
        return float(sum(arch))

    check_strategy(cls, space, params=params, objective=objective, n_trials=4, split=2,
                   make_context=make_context)
    strategy = cls(params)
    strategy.setup(space, np.random.default_rng(0), make_context())
    before = [a.detach().clone() for a in strategy.logits]
    space.validate(strategy.ask().arch)
    assert any(not (a == b).all() for a, b in zip(strategy.logits, before, strict=True))


@pytest.mark.parametrize("strategy", ["gdas", "unas", "darts"])
def test_gradient_strategies_are_refused_with_the_dqn_supernet(strategy: str) -> None:
    from nasbench.protocol import study_from_dict

    raw = tomllib.loads((ROOT / "examples" / "dqn_cartpole_small.toml").read_text())
    raw["strategies"] = [{"name": "rsws", "epochs": 1},
                         {"name": strategy, "epochs": 1, "report_every": 1}]
    with pytest.raises(ConfigError) as err:
        study_from_dict(raw, PLUGINS)
    message = str(err.value)
    assert f"strategy '{strategy}'" in message and "evaluator 'dqn'" in message
    assert "enas, rsws" in message
    raw["strategies"] = raw["strategies"][:1]
    study_from_dict(raw, PLUGINS)  # a single-path strategy alone is accepted
