"""GDAS (and its SNAS variant) and UNAS on real supernets: the conformance kit over their
variants and both cell spaces, plain-data state, their record, and what the cost term does."""

from __future__ import annotations

import numpy as np
import pytest
from nasbench.spaces.darts import DartsSpace
from nasbench.spaces.nb201 import Nb201Space

from nasbench.api import Observation
from nasbench.params import build_params
from nasbench.registry import load_plugins
from nasbench.testing import check_strategy
from nasbench.testing.supernet import supernet_contexts

_PLUGINS = load_plugins()
SMALL = {"epochs": 1, "batch_size": 32, "report_every": 0.25}
VARIANTS = [
    ("gdas", {}),
    ("gdas", {"variant": "snas"}),
    ("unas", {"warmup_epochs": 0}),
    ("unas", {"warmup_epochs": 1, "estimator": "relaxed", "objective": "valid_loss",
              "cost_weight": 0.5, "cost": "params", "w_sample": "hard"}),
    ("unas", {"warmup_epochs": 0, "gen_anchor": "valid", "cost_weight": 0.1,
              "cost_reference": 2}),
]


def _nb201_contexts():
    return supernet_contexts(Nb201Space(), "digits", size={"C": 4, "N": 1}, train_samples=256)


@pytest.mark.parametrize(("name", "extra"), VARIANTS)
def test_variants_conform_on_nb201(name, extra) -> None:
    cls = _PLUGINS.strategies.get(name)
    params = build_params(cls.Params, {**SMALL, **extra})
    check_strategy(cls, Nb201Space(), params=params, n_trials=4, split=2,
                   make_context=_nb201_contexts())


@pytest.mark.parametrize("name", ["gdas", "unas"])
def test_conform_on_the_darts_cell(name) -> None:
    space = DartsSpace()
    cls = _PLUGINS.strategies.get(name)
    params = build_params(cls.Params, {**SMALL, "report_every": 0.5, "warmup_epochs": 0,
                                       "cost_weight": 0.1, "cost_reference": 2}
                          if name == "unas" else {**SMALL, "report_every": 0.5})
    make_context = supernet_contexts(space, "digits", size={"C": 2, "layers": 2},
                                     train_samples=128)
    check_strategy(cls, space, params=params, n_trials=2, split=1, make_context=make_context)


def _plain(value, path="state") -> None:
    """Numbers, strings, booleans, None, lists, str-keyed dicts and NumPy arrays only."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), f"{path}: key {k!r}"
            _plain(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _plain(v, f"{path}[{i}]")
    else:
        assert value is None or isinstance(value, (bool, int, float, str, np.ndarray,
                                                   np.generic)), f"{path}: {type(value)}"


def _run(name: str, extra: dict, steps_of_asks: int = 4):
    cls = _PLUGINS.strategies.get(name)
    strategy = cls(build_params(cls.Params, {**SMALL, "epochs": 2, "report_every": 0.5,
                                             **extra}))
    strategy.setup(Nb201Space(), np.random.default_rng(0), _nb201_contexts()())
    for _ in range(steps_of_asks):
        trial = strategy.ask()
        if trial is None:
            break
        strategy.tell(trial, Observation(0.5, 1.0))
    return strategy


@pytest.mark.parametrize(("name", "extra"), [VARIANTS[0], VARIANTS[3]])
def test_own_state_is_plain_data_and_diagnostics_record_the_variance(name, extra) -> None:
    strategy = _run(name, extra)
    _plain(strategy.own_state())
    diagnostics = strategy.diagnostics()
    assert diagnostics["grad_variance"] > 0 and np.isfinite(diagnostics["grad_variance"])
    assert len(strategy.variances) == (4 if name == "gdas" else 2)  # unas: 1 warm-up epoch
    if extra.get("cost_weight"):
        assert diagnostics["cost_mean"] > 0


def test_the_cost_term_moves_probability_to_cheaper_operations() -> None:
    """With a heavy parameter-count weight the logits learn to avoid convolutions: the
    expected parameters of the convolutions under the final distribution (a 3x3 convolution
    has 9 times a 1x1's) fall well below those of the same run without the cost term."""
    from nasbench.spaces.nb201 import OPS

    def conv_params(cost_weight: float) -> float:
        extra = {"warmup_epochs": 0, "estimator": "relaxed", "objective": "valid_loss",
                 "cost": "params", "cost_weight": cost_weight, "alpha_lr": 0.2,
                 "alpha_lr_min": 0.2, "epochs": 4, "report_every": 1.0}
        probs = _run("unas", extra).weights()[0]
        return float(9 * probs[:, OPS.index("nor_conv_3x3")].sum()
                     + probs[:, OPS.index("nor_conv_1x1")].sum())

    assert conv_params(20.0) < 0.8 * conv_params(0.0)


def test_unknown_cost_is_refused_clearly() -> None:
    from nasbench.errors import ConfigError

    cls = _PLUGINS.strategies.get("unas")
    with pytest.raises(ConfigError, match="latency"):
        build_params(cls.Params, {"cost": "latency"})


def test_gdas_defaults_follow_the_variant() -> None:
    cls = _PLUGINS.strategies.get("gdas")
    gdas = build_params(cls.Params, {})
    snas = build_params(cls.Params, {"variant": "snas"})
    assert (gdas.epochs, gdas.tau_start, gdas.tau_end, gdas.w_weight_decay) == (240, 10.0, 0.1,
                                                                                 5e-4)
    assert (snas.epochs, snas.tau_start, snas.tau_end) == (50, 1.0, 0.33)
    assert build_params(cls.Params, {"variant": "snas", "epochs": 3}).epochs == 3
