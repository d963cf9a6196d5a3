"""The ``dqn`` evaluator: an architecture's worth as the Q-network of a Double DQN agent.

Each trial trains a Double DQN agent (:mod:`nasbench.rl.dqn`) whose Q-network is the space's
network of the architecture (input: the observation vector; outputs: one Q-value per action)
on a gymnasium environment (the study's ``dataset``: ``CartPole-v1``, ``LunarLander-v3`` or
``Acrobot-v1``), then plays greedy episodes:

* ``valid_return``: mean return over ``eval_episodes`` episodes on the validation reset seeds
  (the search metric);
* ``test_return``: the same on disjoint test reset seeds (report only);
* ``curve_area``: area under the training curve (mean over training steps of the return of
  the episode each step belongs to);
* ``steps_to_solve``: environment steps until the mean return of the last ``solved_window``
  training episodes first reached the environment's solved threshold, censored at
  ``env_steps`` when it never did (``solved`` says which: not solving is a value, not an
  error).

Validation and test episodes start from fixed reset seeds (the same for every architecture and
run, like a fixed data split); training episodes from seeds derived from the evaluation seed,
in a range disjoint from both.

Cost: environment steps (training plus validation episodes), deterministic for a given
architecture, protocol and seed; the measured seconds are in ``info`` (``seconds``: training
and validation), since metrics hold only what the seed determines. A study's ``[budget]
cost`` with this evaluator is therefore a number of environment steps.

Hyper-parameters: every protocol value left unset comes from the ``preset``, the published
per-environment settings of rl-baselines3-zoo (default) or CleanRL (see
:mod:`nasbench.rl.envs`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from nasbench.api import EvalResult, Evaluator, EvaluatorContext, MetricInfo, SearchSpace, Trial
from nasbench.errors import ConfigError
from nasbench.hookspecs import hookimpl
from nasbench.params import param
from nasbench.rl.envs import ENVIRONMENTS, PRESETS

TRAIN_SEED_SPAN = 2**30
"""Training episodes reset from seeds below this; validation and test seeds lie above it."""
VALID_SEED_BASE = 2**30
TEST_SEED_BASE = 2**30 + 2**29

PROTOCOL_KEYS = ("env_steps", "buffer_size", "batch_size", "lr", "target_update", "start_e",
                 "end_e", "exploration_fraction", "learning_starts", "train_frequency",
                 "gradient_steps", "gamma", "loss", "max_grad_norm")
"""The Double-DQN protocol values a preset provides."""

_ZOO = "rl-baselines3-zoo dqn.yml (CartPole-v1: {}; LunarLander, Acrobot: {})"
_CLEANRL = "CleanRL dqn.py: {}"


def _published(key: str) -> str:
    zoo = PRESETS["rl_zoo"]
    return (_ZOO.format(zoo["CartPole-v1"][key], zoo["LunarLander-v3"][key]) + "; "
            + _CLEANRL.format(PRESETS["cleanrl"]["CartPole-v1"][key]))


@dataclass(frozen=True)
class DqnParams:
    """The Double-DQN protocol: unset values come from the preset for the environment."""

    preset: Literal["rl_zoo", "cleanrl"] = param(
        "rl_zoo", doc="published settings every unset protocol value is taken from, per "
        "environment", published="rl-baselines3-zoo dqn.yml (tuned per environment)")
    env_steps: int | None = param(None, doc="environment steps of training", ge=1,
                                  published=_published("env_steps"))
    buffer_size: int | None = param(None, doc="replay buffer capacity (transitions)", ge=1,
                                    published=_published("buffer_size"))
    batch_size: int | None = param(None, doc="transitions per gradient step", ge=1,
                                   published=_published("batch_size"))
    lr: float | None = param(None, doc="Adam learning rate", gt=0, published=_published("lr"))
    target_update: int | None = param(
        None, doc="environment steps between hard copies into the target network", ge=1,
        published=_published("target_update"))
    start_e: float | None = param(None, doc="exploration rate at the start", ge=0, le=1,
                                  published=_published("start_e"))
    end_e: float | None = param(None, doc="exploration rate after the decay", ge=0, le=1,
                                published=_published("end_e"))
    exploration_fraction: float | None = param(
        None, doc="fraction of the training steps over which exploration decays linearly",
        ge=0, le=1, published=_published("exploration_fraction"))
    learning_starts: int | None = param(None, doc="environment steps before the first update",
                                        ge=0, published=_published("learning_starts"))
    train_frequency: int | None = param(None, doc="environment steps between training phases",
                                        ge=1, published=_published("train_frequency"))
    gradient_steps: int | None = param(None, doc="gradient steps per training phase", ge=1,
                                       published=_published("gradient_steps"))
    gamma: float | None = param(None, doc="discount factor", ge=0, le=1,
                                published=_published("gamma"))
    loss: Literal["mse", "huber"] | None = param(None, doc="TD loss",
                                                 published=_published("loss"))
    max_grad_norm: float | None = param(None, doc="clip the gradient norm (0: off)", ge=0,
                                        published=_published("max_grad_norm"))
    eval_episodes: int = param(10, doc="greedy episodes on the validation seeds, and as many "
                               "on the test seeds", ge=1,
                               published="CleanRL dqn.py evaluation: 10 episodes")
    solved_window: int = param(100, doc="training episodes whose mean return must reach the "
                               "solved threshold", ge=1,
                               published="gymnasium: mean over 100 consecutive episodes")
    epoch_steps: int = param(1000, doc="environment steps one epoch of a DQN supernet lasts "
                             "(one-shot strategies count their epochs in these)", ge=1)
    threads: int = param(1, doc="torch threads (results depend on it)", ge=1)

    def resolve(self, env_id: str) -> Any:
        """The :class:`~nasbench.rl.dqn.DqnConfig` for ``env_id``."""
        from nasbench.rl.dqn import DqnConfig

        preset = PRESETS[self.preset][env_id]
        values = {k: preset[k] if getattr(self, k) is None else getattr(self, k)
                  for k in PROTOCOL_KEYS}
        return DqnConfig(**values)

    def check(self) -> None:
        for env_id in ENVIRONMENTS:
            config = self.resolve(env_id)
            if config.end_e > config.start_e:
                raise ConfigError("end_e", f"is {config.end_e}, above start_e "
                                  f"{config.start_e}", "Exploration decays: lower end_e.")


def _metric_infos() -> dict[str, MetricInfo]:
    return {
        "valid_return": MetricInfo("valid", doc="mean greedy return on the validation seeds"),
        "test_return": MetricInfo("test", doc="mean greedy return on the test seeds"),
        "curve_area": MetricInfo("train", doc="area under the training curve (mean return "
                                 "per training step)"),
        "steps_to_solve": MetricInfo("train", higher_is_better=False, unit="steps",
                                     doc="environment steps to the solved threshold, "
                                     "censored at env_steps (see solved)"),
        "solved": MetricInfo("train", doc="1 when training reached the solved threshold"),
        "env_steps": MetricInfo("other", higher_is_better=False, unit="steps",
                                doc="environment steps charged (training and validation)"),
    }


class DqnEvaluator(Evaluator):
    """Trains a Double DQN agent with the architecture as its Q-network."""

    name: ClassVar[str] = "dqn"
    summary: ClassVar[str] = "return of a Double DQN agent with the network as Q-function"
    Params: ClassVar[type] = DqnParams
    capabilities: ClassVar[frozenset[str]] = frozenset({"cost", "supernet_access"})
    cost_unit: ClassVar[str] = "env_steps"

    def __init__(self, params: DqnParams | None = None) -> None:
        super().__init__(params)
        self._env_id = ""
        self._env: Any = None
        self._eval_env: Any = None

    def datasets(self) -> tuple[str, ...]:
        return tuple(ENVIRONMENTS)

    def metrics(self, dataset: str) -> Mapping[str, MetricInfo]:
        return {f"{dataset}/{name}": info for name, info in _metric_infos().items()}

    def check(self, space: SearchSpace, dataset: str, data_dir: Path | None) -> None:
        if "build" not in space.capabilities or space.data_kind != "vector":
            raise ConfigError("evaluator.name", f"the dqn evaluator needs a space that builds "
                              f"networks of vectors; '{space.name}' does not",
                              "Use the 'mlp' space.")

    def setup(self, space: SearchSpace, context: EvaluatorContext) -> None:
        from nasbench.rl.dqn import make_env

        self.check(space, context.dataset, context.data_dir)
        self._env_id = context.dataset
        self._env = make_env(self._env_id)
        self._eval_env = make_env(self._env_id)

    def config(self) -> Any:
        """The resolved protocol for the study's environment."""
        return self.params.resolve(self._env_id)

    def evaluate(self, space: SearchSpace, trial: Trial, *, seed: int,
                 fidelity: float | None = None) -> EvalResult:
        from nasbench import seeding
        from nasbench.rl.dqn import Curve, DqnLearner, init_network, play
        from nasbench.supernet.handle import torch_threads

        if self._env is None:
            raise RuntimeError("DqnEvaluator.setup() must run before evaluate()")
        p = self.params
        cfg = self.config()
        info = ENVIRONMENTS[self._env_id]
        t0 = time.perf_counter()
        with torch_threads(p.threads):
            net = init_network(lambda: space.build(trial.arch, input_shape=(info.obs_dim,),
                                                   num_classes=info.actions),
                               seeding.int_seed(seed, "init"))
            learner = DqnLearner(self._env, net, cfg, seeding.generator(seed, "agent"),
                                 env_seed=seed % TRAIN_SEED_SPAN)
            learner.run(cfg.env_steps)
            train_seconds = time.perf_counter() - t0
            if learner.diverged:
                return EvalResult.failure("the TD loss became NaN or infinite", status="diverged",
                                          cost=float(cfg.env_steps))
            valid, valid_steps = play(self._eval_env, net, valid_seeds(p.eval_episodes))
            seconds = time.perf_counter() - t0
            test, test_steps = play(self._eval_env, net, test_seeds(p.eval_episodes))
        curve: Curve = learner.curve
        solved_at = curve.solved_at(info.solved, p.solved_window)
        steps = cfg.env_steps + valid_steps
        metrics = {
            "valid_return": sum(valid) / len(valid),
            "test_return": sum(test) / len(test),
            "curve_area": curve.area(cfg.env_steps),
            "steps_to_solve": float(cfg.env_steps if solved_at is None else solved_at),
            "solved": float(solved_at is not None),
            "env_steps": float(steps),
        }
        extra = {"seconds": seconds, "train_seconds": train_seconds, "threads": p.threads,
                 "updates": learner.updates, "episodes": len(curve.returns),
                 "test_steps": test_steps, "valid_steps": valid_steps,
                 "cost_unit": self.cost_unit}  # read by the leaderboard's cost header
        return EvalResult({f"{self._env_id}/{k}": v for k, v in metrics.items()},
                          float(steps), "ok", "", extra)

    def open_supernet(self, space: SearchSpace, *, seed: int) -> Any:
        """A DQN-trained supernet handle for a one-shot strategy (see
        :mod:`nasbench.rl.supernet`)."""
        from nasbench.rl.supernet import DqnSupernetHandle

        return DqnSupernetHandle(space, self._env_id, self.params, seed=seed)

    def close(self) -> None:
        for env in (self._env, self._eval_env):
            if env is not None:
                env.close()
        self._env = self._eval_env = None


def valid_seeds(n: int) -> range:
    """Reset seeds of the validation episodes (the same for every architecture)."""
    return range(VALID_SEED_BASE, VALID_SEED_BASE + n)


def test_seeds(n: int) -> range:
    """Reset seeds of the test episodes, disjoint from validation and training."""
    return range(TEST_SEED_BASE, TEST_SEED_BASE + n)


@hookimpl
def nasbench_register_evaluators(registry: Any) -> None:
    registry.add(DqnEvaluator)
