"""DARTS with an expected-latency term (FBNet / ProxylessNAS): the term's gradient, its effect
on the cell a supernet trained on digits derives, and weight 0 as plain DARTS."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from nasbench.spaces.darts import PRIMITIVES
from nasbench.spaces.nb201 import OPS, Nb201Space
from nasbench.strategies.darts import Darts, DartsParams

from nasbench.errors import ConfigError
from nasbench.latency_table import LatencyTable, build_table
from nasbench.params import build_params
from nasbench.supernet.latency_loss import LatencyLoss, relaxation_costs
from nasbench.testing.supernet import supernet_contexts

SIZE = {"C": 4, "N": 1}
RUN = {"epochs": 3, "batch_size": 32, "report_every": 1.0, "alpha_lr": 3e-3}


@pytest.fixture(scope="module")
def table_path(tmp_path_factory) -> Path:
    """A latency table of the test supernet's stand-alone networks, measured here."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        table = build_table(Nb201Space(), size=SIZE, input_shape=(1, 8, 8), runs=3, warmup=1,
                            references=2)
    finally:
        torch.set_num_threads(before)
    path = tmp_path_factory.mktemp("latency") / "nb201.json"
    table.save(path)
    return path


@pytest.fixture(scope="module")
def make_context():
    return supernet_contexts(Nb201Space(), "digits", size=SIZE, train_samples=256)


def _small_table(fixed: float) -> LatencyTable:
    costs = [[[0.0, 0.3, 1.1, 2.9, 0.7], [0.0, 0.2, 1.3, 3.1, 0.6], [0.0, 0.4, 0.9, 2.5, 0.8],
              [0.0, 0.1, 1.0, 3.3, 0.5], [0.0, 0.3, 1.2, 2.7, 0.9], [0.0, 0.2, 1.4, 3.0, 0.4]]]
    return LatencyTable("nb201", dict(SIZE), (1, 8, 8), 10, 1, ["cell"],
                        [f"e{i}" for i in range(6)], list(OPS), costs, fixed)


def _run(params: DartsParams, make_context) -> tuple[Darts, list[tuple[int, ...]]]:
    darts = Darts(params)
    darts.setup(Nb201Space(), np.random.default_rng(0), make_context())
    trials = []
    while (trial := darts.ask()) is not None:
        trials.append(trial.arch)
    return darts, trials


@pytest.mark.parametrize("form", ["add", "mul_log"])
def test_the_latency_terms_gradient_is_the_exact_derivative(form: str) -> None:
    table = _small_table(fixed=4.0)
    term = LatencyLoss.from_table(table, form=form, weight=0.6, coefficient=0.2,
                                  target_ms=None)
    rng = np.random.default_rng(3)
    alpha = [torch.from_numpy(rng.standard_normal((6, 5)))]
    # A task loss with a known gradient stands in for the supernet's cross-entropy.
    task = torch.sin(alpha[0]).sum() + 3.0
    task_grad = [torch.cos(alpha[0])]
    value, grads = term.combine(alpha, float(task), task_grad)
    # The exact derivative of the whole loss, written out once more in closed form.
    cost = torch.tensor(table.costs[0], dtype=torch.float64)
    p = torch.softmax(alpha[0], dim=-1)
    lat = 4.0 + (p * cost).sum()
    dlat = p * (cost - (p * cost).sum(dim=-1, keepdim=True))
    target = 4.0 + cost.mean(dim=-1).sum()
    assert term.target_ms == pytest.approx(float(target))
    if form == "add":
        expected_value = task + 0.6 * (lat - target) / target
        expected = torch.cos(alpha[0]) + 0.6 / target * dlat
    else:
        r = torch.log(lat) / math.log(target)
        expected_value = 0.2 * task * r ** 0.6
        expected = (0.2 * r ** 0.6 * torch.cos(alpha[0])
                    + 0.2 * task * 0.6 * r ** -0.4 * dlat / (lat * math.log(target)))
    assert value == pytest.approx(float(expected_value), rel=1e-12)
    torch.testing.assert_close(grads[0], expected, rtol=1e-10, atol=1e-12)


def test_darts_cells_weight_each_edge_by_its_chance_of_being_kept(plugins) -> None:
    space = plugins.spaces.get("darts")()
    table = build_table(space, size={"C": 4, "layers": 3}, input_shape=(1, 8, 8), runs=1,
                        warmup=0, references=1)
    costs = relaxation_costs(table)
    assert [tuple(c.shape) for c in costs] == list(space.relaxation_shapes())
    edge_costs = table.edge_costs()
    # Node 2 reads 4 earlier states and keeps 2: its edges count half.
    column = PRIMITIVES.index("sep_conv_3x3")
    op = table.ops.index("sep_conv_3x3")
    assert float(costs[1][5, column]) == pytest.approx(edge_costs[1, 5, op] * 2 / 4)
    assert float(costs[0][0, column]) == pytest.approx(edge_costs[0, 0, op])  # node 0 keeps both
    assert torch.all(costs[0][:, 0] == 0)  # none costs nothing


def test_a_large_latency_weight_drives_the_cell_to_cheaper_operations(
        table_path: Path, make_context) -> None:
    table = LatencyTable.load(table_path)
    plain, _ = _run(DartsParams(**RUN), make_context)
    aware, _ = _run(DartsParams(**RUN, latency_weight=20.0, latency_table=str(table_path)),
                    make_context)
    plain_arch, aware_arch = plain.recommend(), aware.recommend()
    assert table.predict(aware_arch) < table.predict(plain_arch)
    # The expected latency under the trained weights fell below the uniform expectation.
    assert aware.expected_latency() < aware.latency_loss.target_ms
    costs = table.edge_costs()[0]
    assert all(op != int(costs[e].argmax()) for e, op in enumerate(aware_arch))


def test_weight_zero_is_plain_darts_trial_for_trial(table_path: Path, make_context) -> None:
    plain, plain_trials = _run(DartsParams(**RUN), make_context)
    zero, zero_trials = _run(DartsParams(**RUN, latency_table=str(table_path)), make_context)
    assert zero_trials == plain_trials and len(plain_trials) == RUN["epochs"]
    assert torch.equal(zero.alpha[0], plain.alpha[0])
    assert zero.expected_latency() is None


def test_latency_settings_that_cannot_work_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="latency_table: is required when latency_weight"):
        build_params(DartsParams, {"latency_weight": 0.1})
    with pytest.raises(ConfigError, match="latency_form: 'mul_log' takes the logarithm"):
        LatencyLoss.from_table(_small_table(fixed=0.5), form="mul_log", weight=0.6,
                               coefficient=0.2, target_ms=None)
    missing = tmp_path / "absent.json"
    params = DartsParams(**RUN, latency_weight=0.1, latency_table=str(missing))
    with pytest.raises(ConfigError, match="latency_table: cannot read"):
        Darts(params).setup(Nb201Space(), np.random.default_rng(0),
                            supernet_contexts(Nb201Space(), "digits", size=SIZE,
                                              train_samples=64)())
