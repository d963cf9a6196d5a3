"""A weight-sharing Q-network trained by Double DQN, behind the one-shot strategies' handle.

:class:`DqnSupernetHandle` implements :class:`~nasbench.api.SupernetAccess` for the ``dqn``
evaluator, so that ``enas`` and ``rsws`` run on it unchanged. The "data" of RL is the agent's
own experience, so the handle's splits and batches mean:

* ``batch("train" | "w", n)``: a token; :meth:`~DqnSupernetHandle.train_step` with it and an
  architecture sets the supernet (and its target copy) to that path, plays
  ``train_frequency`` epsilon-greedy environment steps with it into the one shared replay
  buffer, and takes ``gradient_steps`` Double-DQN steps of the shared weights on that path.
  Every child therefore sees experience collected by other children too, the source of noise
  the original ENAS-for-DQN study pointed out.
* ``batch("valid" | "alpha", n)``: the next validation reset seed (a cycling pool of
  ``VALID_POOL`` seeds); :meth:`~DqnSupernetHandle.accuracy` plays one greedy episode per
  token with each architecture and reports ``100 * mean return / |solved threshold|`` (so a
  strategy's reward ``accuracy / 100`` is the return in units of the threshold). Candidates
  measured on the same tokens play the same episodes.
* one epoch = the evaluator's ``epoch_steps`` environment steps (``epoch_steps //
  train_frequency`` training steps).

The shared weights follow the evaluator's DQN protocol (Adam at its ``lr``, its batch size,
exploration decaying over the whole supernet schedule): a strategy's supervised recipe (SGD,
a cosine schedule, its ``batch_size``) does not transfer to TD learning and is not used.

Cost: :attr:`~DqnSupernetHandle.cost` returns the environment steps taken so far (training
and measuring episodes), since the ``dqn`` evaluator charges environment steps: the harness
charges a one-shot run in the same unit as every other trial. Measured seconds are in
:attr:`~DqnSupernetHandle.seconds`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nasbench import seeding
from nasbench.api import Architecture, SearchSpace, SupernetAccess
from nasbench.rl.dqn import DqnLearner, init_network, make_env, play
from nasbench.rl.envs import ENVIRONMENTS
from nasbench.supernet import SupernetDiverged
from nasbench.supernet.handle import torch_threads

VALID_POOL = 100
"""Validation reset seeds the supernet's measuring episodes cycle through."""


@dataclass(frozen=True)
class Experience:
    """A training "batch": collect experience with the path of the next training step."""


@dataclass(frozen=True)
class Episodes:
    """A measuring "batch": greedy episodes from these reset seeds."""

    seeds: tuple[int, ...]


class DqnSupernetHandle(SupernetAccess):
    """The shared weights of a space's supernet, trained by Double DQN on one environment."""

    def __init__(self, space: SearchSpace, env_id: str, params: Any, *, seed: int) -> None:
        from nasbench.evaluators.dqn import TRAIN_SEED_SPAN, valid_seeds

        info = ENVIRONMENTS[env_id]
        self.space = space
        self.params = params
        self.config = params.resolve(env_id)
        self.threads = params.threads
        self.scale = 100.0 / abs(info.solved)
        with torch_threads(self.threads):
            def build() -> Any:
                return space.build_supernet(input_shape=(info.obs_dim,),
                                            num_classes=info.actions)

            self.model = init_network(build, seeding.int_seed(seed, "init"))
            self.target = init_network(build, seeding.int_seed(seed, "init"))
        self._env = make_env(env_id)
        self._eval_env = make_env(env_id)
        self._rng = seeding.generator(seed, "agent")
        self._env_seed = seed % TRAIN_SEED_SPAN
        self._valid = tuple(valid_seeds(VALID_POOL))
        self._valid_pos = 0
        self._measured_steps = 0
        self._wall = 0.0
        self.learner: DqnLearner | None = None

    # -- the contract ----------------------------------------------------------------------------
    @property
    def splits(self) -> Mapping[str, int]:
        epoch = self.params.epoch_steps
        return {"train": epoch, "w": epoch, "alpha": VALID_POOL, "valid": VALID_POOL}

    @property
    def cost(self) -> float:
        """Environment steps taken so far (the ``dqn`` evaluator's cost unit)."""
        trained = self.learner.step if self.learner is not None else 0
        return float(trained + self._measured_steps)

    @property
    def seconds(self) -> float:
        """Measured seconds spent in this handle's methods."""
        return self._wall

    def configure(self, recipe: Any, total_steps: int) -> None:
        cfg = self.config
        with self._clock():
            self.learner = DqnLearner(self._env, self.model, cfg, self._rng, self._env_seed,
                                      target=self.target,
                                      total_steps=total_steps * cfg.train_frequency)
            self.learner.sync_target()

    def steps_per_epoch(self, split: str, batch_size: int) -> int:
        if split in ("train", "w"):
            return max(1, self.params.epoch_steps // self.config.train_frequency)
        return VALID_POOL

    def batch(self, split: str, batch_size: int) -> Any:
        if split in ("train", "w"):
            return Experience()
        if split not in ("valid", "alpha"):
            raise ValueError(f"unknown split {split!r}; splits: {', '.join(self.splits)}")
        seed = self._valid[self._valid_pos % VALID_POOL]
        self._valid_pos += 1
        return Episodes((seed,))

    def train_step(self, batch: Any, *, arch: Architecture | None = None,
                   alpha: Any = None) -> float:
        if arch is None or alpha is not None:
            raise ValueError("the DQN supernet trains one path at a time: give arch only")
        learner = self._learner()
        with self._clock():
            self.model.set_path(arch)
            self.target.set_path(arch)
            learner.run(self.config.train_frequency)
        if learner.diverged:
            raise SupernetDiverged(f"the TD loss became {learner.last_loss} at environment "
                                   f"step {learner.step}")
        return learner.last_loss

    def alpha_gradient(self, alpha: Any, alpha_batch: Any, *, w_batch: Any = None,
                       order: int = 1, xi: float | None = None) -> float:
        raise NotImplementedError("the DQN supernet has no differentiable validation loss: "
                                  "use a single-path strategy (enas, rsws)")

    def accuracy(self, archs: Sequence[Architecture], batches: Sequence[Any], *,
                 bn: str = "running") -> list[float]:
        """Mean greedy return over the episodes of ``batches``, as ``100 * return /
        |solved threshold|`` (networks without batch norm: ``bn`` changes nothing)."""
        seeds = [s for b in batches for s in b.seeds]
        out = []
        with self._clock():
            for arch in archs:
                self.model.set_path(arch)
                returns, steps = play(self._eval_env, self.model, seeds)
                self._measured_steps += steps
                out.append(self.scale * sum(returns) / len(returns))
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"learner": self._learner().state_dict(), "valid_pos": self._valid_pos,
                "measured_steps": self._measured_steps}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._learner().load_state_dict(state["learner"])
        self._valid_pos = int(state["valid_pos"])
        self._measured_steps = int(state["measured_steps"])

    # -- internals --------------------------------------------------------------------------------
    def _learner(self) -> DqnLearner:
        if self.learner is None:
            raise RuntimeError("call configure(recipe, total_steps) on the supernet handle first")
        return self.learner

    @contextlib.contextmanager
    def _clock(self) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            with torch_threads(self.threads):
                yield
        finally:
            self._wall += time.perf_counter() - t0
