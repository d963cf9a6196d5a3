"""The Double-DQN evaluator, its loop, the mlp supernet and the DQN supernet handle, on real
gymnasium environments with short protocols."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from nasbench.evaluators.dqn import DqnEvaluator, DqnParams
from nasbench.spaces.mlp import MlpParams, MlpSpace
from nasbench.spaces.mlp_net import Mlp

from nasbench.api import EvaluatorContext, Trial
from nasbench.errors import ConfigError
from nasbench.params import build_params
from nasbench.rl.dqn import Curve, DqnConfig, DqnLearner, make_env

SHORT = {"env_steps": 400, "buffer_size": 1000, "batch_size": 32, "lr": 1e-3,
         "target_update": 50, "learning_starts": 100, "train_frequency": 4,
         "gradient_steps": 1, "exploration_fraction": 0.5, "eval_episodes": 2,
         "solved_window": 2}
SMALL = MlpSpace(MlpParams(widths=(8, 16), activations=("relu", "sigmoid")))


def _evaluator(env: str = "CartPole-v1", **overrides) -> DqnEvaluator:
    evaluator = DqnEvaluator(build_params(DqnParams, {**SHORT, **overrides}, "evaluator"))
    evaluator.setup(SMALL, EvaluatorContext(env, f"{env}/valid_return", ()))
    return evaluator


def test_same_architecture_protocol_and_seed_give_identical_returns() -> None:
    arch = SMALL.from_string("16:relu|8:sigmoid")
    first = _evaluator().evaluate(SMALL, Trial(arch), seed=7)
    again = _evaluator().evaluate(SMALL, Trial(arch), seed=7)
    other = _evaluator().evaluate(SMALL, Trial(arch), seed=8)
    assert first.status == "ok"
    assert first.metrics == again.metrics
    assert first.info["updates"] == again.info["updates"] > 0
    curve = "CartPole-v1/curve_area"
    assert first.metrics[curve] != other.metrics[curve]


def test_metrics_and_cost_in_environment_steps() -> None:
    result = _evaluator().evaluate(SMALL, Trial(SMALL.from_string("8:relu|8:relu")), seed=1)
    m = {k.split("/", 1)[1]: v for k, v in result.metrics.items()}
    assert result.cost == m["env_steps"] == 400 + result.info["valid_steps"]
    assert result.info["valid_steps"] >= 2 * 8  # two episodes, CartPole lasts >= 8 steps
    # Not solving CartPole in 400 steps is a value: censored at the training length.
    assert m["solved"] == 0.0 and m["steps_to_solve"] == 400.0
    assert 8 <= m["valid_return"] <= 500 and 8 <= m["test_return"] <= 500
    assert m["curve_area"] > 0


def test_curve_area_and_solved_threshold() -> None:
    curve = Curve(ends=[10, 30, 60], returns=[10.0, 20.0, 30.0], lengths=[10, 20, 30])
    assert curve.area(60) == pytest.approx((100 + 400 + 900) / 60)
    assert curve.area(80) == pytest.approx((100 + 400 + 900 + 20 * 30) / 80)
    assert curve.solved_at(25.0, 2) == 60
    assert curve.solved_at(15.0, 2) == 30
    assert curve.solved_at(40.0, 2) is None


def test_update_is_double_dqn() -> None:
    """The target's next action comes from the online network, its value from the target."""
    env = make_env("CartPole-v1")
    cfg = DqnConfig(env_steps=100, buffer_size=100, batch_size=16, lr=1e-3, target_update=10**6,
                    start_e=1.0, end_e=1.0, exploration_fraction=1.0, learning_starts=10**6,
                    train_frequency=1, gradient_steps=1, gamma=0.9)
    torch.manual_seed(0)
    online = Mlp([(8, "relu")], in_features=4, num_classes=2)
    target = Mlp([(8, "relu")], in_features=4, num_classes=2)
    with torch.no_grad():  # the online network prefers action 0, the target network action 1
        online[-1].bias.copy_(torch.tensor([5.0, 0.0]))
        target[-1].bias.copy_(torch.tensor([0.0, 5.0]))
    learner = DqnLearner(env, online, cfg, np.random.default_rng(0), 0, target=target)
    learner.run(50)
    obs, act, rew, nxt, done = learner.buffer.sample(np.random.default_rng(1), 16)
    with torch.no_grad():
        pick = online(nxt).argmax(1, keepdim=True)
        y = rew + 0.9 * target(nxt).gather(1, pick).squeeze(1) * (1 - done)
        expected = float(((online(obs).gather(1, act[:, None]).squeeze(1) - y) ** 2).mean())
        single = rew + 0.9 * target(nxt).max(1).values * (1 - done)
    assert not torch.allclose(y, single)  # the two targets differ on this batch
    learner.rng = np.random.default_rng(1)
    assert learner.update() == pytest.approx(expected, rel=1e-5)


def test_evaluator_refuses_spaces_without_vector_networks(plugins) -> None:
    from nasbench.spaces.nb201 import Nb201Space

    with pytest.raises(ConfigError, match="mlp"):
        DqnEvaluator().check(Nb201Space(), "CartPole-v1", None)


def test_presets_resolve_per_environment() -> None:
    zoo = DqnParams().resolve("CartPole-v1")
    assert (zoo.lr, zoo.train_frequency, zoo.gradient_steps) == (2.3e-3, 256, 128)
    lunar = DqnParams(lr=1e-3).resolve("LunarLander-v3")
    assert (lunar.lr, lunar.target_update, lunar.end_e) == (1e-3, 250, 0.1)
    assert DqnParams(preset="cleanrl").resolve("Acrobot-v1").learning_starts == 10_000
    with pytest.raises(ConfigError, match="end_e"):
        build_params(DqnParams, {"start_e": 0.1, "end_e": 0.5}, "evaluator")


def test_mlp_supernet_path_is_the_standalone_network_with_sliced_weights() -> None:
    space = MlpSpace()
    supernet = space.build_supernet(input_shape=(4,), num_classes=3)
    x = torch.randn(6, 4)
    for text in ("64:relu|2048:sigmoid", "1024:sigmoid|128:relu", "2048:relu|2048:relu"):
        arch = space.from_string(text)
        supernet.set_path(arch)
        assert torch.equal(supernet(x), supernet.extract(arch)(x))
    weights = [torch.tensor([[0.1, 0.1, 0.6, 0.1, 0.1], [0.0, 0.0, 0.0, 0.0, 1.0]]),
               torch.tensor([[0.2, 0.8], [1.0, 0.0]])]
    supernet.set_relaxation(weights)
    assert supernet(x).shape == (6, 3)
    assert space.to_string(space.derive([w.numpy() for w in weights])) == \
        "256:sigmoid|2048:relu"
    with pytest.raises(ConfigError, match="single depth"):
        MlpSpace(MlpParams(depths=(1, 2))).build_supernet(input_shape=(4,), num_classes=2)


def test_dqn_supernet_handle_trains_paths_and_charges_environment_steps() -> None:
    evaluator = _evaluator(epoch_steps=40)
    handle = evaluator.open_supernet(SMALL, seed=3)
    handle.configure(None, 100)
    assert handle.steps_per_epoch("train", 64) == 10
    rng = np.random.default_rng(0)
    before = [p.detach().clone() for p in handle.model.parameters()]
    losses = [handle.train_step(handle.batch("train", 64), arch=SMALL.sample(rng))
              for _ in range(40)]
    assert handle.cost == 160.0  # 40 steps of train_frequency 4
    assert all(math.isfinite(v) for v in losses[30:])
    assert any(not torch.equal(a, b) for a, b in zip(before, handle.model.parameters(),
                                                       strict=True))
    tokens = [handle.batch("valid", 64), handle.batch("valid", 64)]
    archs = [SMALL.from_string("8:relu|8:relu"), SMALL.from_string("16:sigmoid|16:relu")]
    scores = handle.accuracy(archs, tokens)
    assert scores == handle.accuracy(archs, tokens)  # same episodes, same weights
    assert handle.cost > 160.0  # measuring episodes are charged
    assert handle.seconds > 0  # measured seconds beside
    with pytest.raises(ValueError, match="one path"):
        handle.train_step(handle.batch("train", 64), alpha=[torch.zeros(2, 2)])


def test_dqn_evaluator_passes_the_conformance_kit() -> None:
    from nasbench.testing import check_evaluator

    evaluator = DqnEvaluator(build_params(DqnParams, {**SHORT, "env_steps": 150,
                                                      "learning_starts": 50}, "evaluator"))
    check_evaluator(evaluator, SMALL, EvaluatorContext(
        "CartPole-v1", "CartPole-v1/valid_return", ("CartPole-v1/test_return",)))


def test_supernet_evaluator_scores_mlp_networks_with_shared_weights(plugins, tmp_path) -> None:
    """The mlp supernet also serves supervised weight sharing (digits, flattened)."""
    cls = plugins.evaluators.get("supernet")
    evaluator = cls(cls.Params(epochs=1, batch_size=32, train_samples=256))
    evaluator.bind_plugins(plugins)
    space = MlpSpace(MlpParams(widths=(16, 32)))
    evaluator.check(space, "digits", None)
    evaluator.setup(space, EvaluatorContext("digits", "digits/valid_acc", ("digits/test_acc",),
                                            cache_dir=tmp_path))
    accs = [evaluator.evaluate(space, Trial(space.from_string(text)), seed=0)
            .metrics["digits/valid_acc"] for text in ("32:relu|32:relu", "16:sigmoid|16:relu")]
    assert all(0 <= a <= 100 for a in accs) and accs[0] != accs[1]


def test_dqn_cartpole_table_is_in_the_shared_format_and_serves_the_tabular_evaluator(
        plugins) -> None:
    import json

    import pandas as pd

    from nasbench.data import PACKAGE_DIR, manifest

    tables = PACKAGE_DIR / "tables"
    frame = pd.read_parquet(tables / "dqn_cartpole.parquet")
    described = json.loads((tables / "dqn_cartpole.json").read_text())
    assert described["name"] == "dqn_cartpole" and described["space"] == "mlp"
    assert described["kind"] == "benchmark"
    listed = manifest()["files"]["tables/dqn_cartpole.parquet"]
    assert listed["generated_by"] == described["generated_by"] and "derived_from" not in listed
    space = MlpSpace()
    archs = [space.from_string(a) for a in frame["arch"]]
    assert len(set(archs)) == len(archs) > 0
    for metric in ("valid_return", "test_return", "env_steps"):
        per_seed = frame[[f"CartPole-v1/{metric}#{s}" for s in described["seeds"]]]
        assert np.allclose(per_seed.mean(axis=1), frame[f"CartPole-v1/{metric}"])
    bench = plugins.benchmarks.get("dqn_cartpole")()
    assert bench.cost_metric() == "env_steps" and bench.metrics()["test_return#1"].split == "test"
    table = bench.load(None, ("CartPole-v1",))
    row = table.row(archs[0])
    assert table.column("CartPole-v1/test_return")[row] == \
        frame["CartPole-v1/test_return"].iloc[0]
    evaluator = plugins.evaluators.get("tabular")(
        plugins.evaluators.get("tabular").Params(benchmark="dqn_cartpole"))
    evaluator.bind_plugins(plugins)
    evaluator.check(space, "CartPole-v1", None)
    evaluator.setup(space, EvaluatorContext("CartPole-v1", "CartPole-v1/valid_return",
                                            ("CartPole-v1/test_return",)))
    result = evaluator.evaluate(space, Trial(archs[0]), seed=0)
    assert result.cost == frame["CartPole-v1/env_steps"].iloc[0]
    assert result.metrics["CartPole-v1/valid_return"] == frame["CartPole-v1/valid_return"].iloc[0]


def test_table_build_resumes_from_the_shipped_table(tmp_path) -> None:
    """The build's log is not shipped: seeding it from the table's per-seed columns and
    assembling again gives the shipped table back, so a build resumes where the table ends."""
    import importlib.util
    from pathlib import Path

    import pandas as pd

    from nasbench.data import PACKAGE_DIR

    script = Path(__file__).parents[1] / "bench" / "build_dqn_cartpole_table.py"
    spec = importlib.util.spec_from_file_location("build_dqn_cartpole_table", script)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    shipped = pd.read_parquet(PACKAGE_DIR / "tables" / "dqn_cartpole.parquet")
    log = tmp_path / "runs" / "runs.jsonl"
    written = build.seed_log_from_table(PACKAGE_DIR / "tables" / "dqn_cartpole.parquet", log)
    seeds = [c for c in shipped.columns if c.startswith("CartPole-v1/test_return#")]
    assert written == int(shipped[seeds].notna().sum().sum())
    with pytest.raises(SystemExit, match="exists"):
        build.seed_log_from_table(PACKAGE_DIR / "tables" / "dqn_cartpole.parquet", log)
    build.assemble(log.parent, tmp_path / "tables")
    again = pd.read_parquet(tmp_path / "tables" / "dqn_cartpole.parquet")
    pd.testing.assert_frame_equal(again, shipped)
