"""A compact Double DQN (van Hasselt, Guez & Silver, AAAI 2016) over one gymnasium environment.

:class:`DqnLearner` is the whole algorithm: epsilon-greedy collection into a replay buffer, and
every ``train_frequency`` environment steps (after ``learning_starts``) ``gradient_steps``
updates of the online network towards ``r + gamma * Q_target(s', argmax_a Q_online(s', a))``
(the online network picks the next action, the target network values it), with a hard copy
into the target network every ``target_update`` environment steps, as CleanRL's ``dqn.py``
does. The ``dqn`` evaluator runs it on one stand-alone network; the DQN supernet handle runs it
on the shared weights, one sampled path at a time.

Determinism: every random draw (exploration, random actions, replay sampling) comes from one
numpy generator, network weights from a torch generator seeded by the caller, and the
environment from its reset seed; with a fixed torch thread count the same seed gives the same
returns, bit for bit.

Learning curve: the return of each finished training episode at the environment step it ended.
Its area (``curve_area``) is the mean, over the training steps, of the return of the episode
each step belongs to (the unfinished last episode's steps count the last finished return), so
an agent that learns early scores higher than one that learns late to the same final return.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class DqnConfig:
    """One Double-DQN protocol (the evaluator's parameters, resolved per environment)."""

    env_steps: int
    buffer_size: int
    batch_size: int
    lr: float
    target_update: int
    start_e: float
    end_e: float
    exploration_fraction: float
    learning_starts: int
    train_frequency: int
    gradient_steps: int
    gamma: float
    loss: str = "mse"
    max_grad_norm: float = 0.0

    def epsilon(self, step: int, total: int | None = None) -> float:
        """The exploration rate at environment step ``step`` (linear decay, then flat)."""
        duration = self.exploration_fraction * (total or self.env_steps)
        if duration <= 0:
            return self.end_e
        slope = (self.end_e - self.start_e) / duration
        return max(slope * step + self.start_e, self.end_e)


class ReplayBuffer:
    """A ring buffer of transitions in preallocated numpy arrays."""

    def __init__(self, capacity: int, obs_dim: int) -> None:
        self.capacity = capacity
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity, np.float32)
        self.dones = np.zeros(capacity, np.float32)
        self.pos = 0
        self.full = False

    def add(self, obs: Any, action: int, reward: float, next_obs: Any, done: bool) -> None:
        i = self.pos
        self.obs[i] = obs
        self.next_obs[i] = next_obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.dones[i] = done
        self.pos = (i + 1) % self.capacity
        self.full = self.full or self.pos == 0

    def __len__(self) -> int:
        return self.capacity if self.full else self.pos

    def sample(self, rng: np.random.Generator, n: int) -> tuple[torch.Tensor, ...]:
        idx = rng.integers(0, len(self), size=n)
        return (torch.from_numpy(self.obs[idx]), torch.from_numpy(self.actions[idx]),
                torch.from_numpy(self.rewards[idx]), torch.from_numpy(self.next_obs[idx]),
                torch.from_numpy(self.dones[idx]))

    def state_dict(self) -> dict[str, Any]:
        n = len(self)
        return {"obs": torch.from_numpy(self.obs[:n].copy()),
                "next_obs": torch.from_numpy(self.next_obs[:n].copy()),
                "actions": torch.from_numpy(self.actions[:n].copy()),
                "rewards": torch.from_numpy(self.rewards[:n].copy()),
                "dones": torch.from_numpy(self.dones[:n].copy()),
                "pos": self.pos, "full": self.full}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = len(state["actions"])
        for key in ("obs", "next_obs", "actions", "rewards", "dones"):
            getattr(self, key)[:n] = state[key].numpy()
        self.pos, self.full = int(state["pos"]), bool(state["full"])


@dataclass
class Curve:
    """Training episodes: where each ended, its return, its length."""

    ends: list[int] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    def area(self, steps: int) -> float:
        """Mean over ``steps`` training steps of the return of each step's episode."""
        if not self.returns or steps <= 0:
            return 0.0
        covered = sum(self.lengths)
        total = sum(r * n for r, n in zip(self.returns, self.lengths, strict=True))
        total += self.returns[-1] * max(0, steps - covered)
        return total / max(steps, covered)

    def solved_at(self, threshold: float, window: int) -> int | None:
        """First environment step at which the mean return of the last ``window`` finished
        episodes reaches ``threshold`` (``None``: never)."""
        returns = self.returns
        running = 0.0
        for i, value in enumerate(returns):
            running += value
            if i >= window:
                running -= returns[i - window]
            if i + 1 >= window and running / window >= threshold:
                return self.ends[i]
        return None


def make_env(env_id: str) -> Any:
    """A gymnasium environment (LunarLander needs gymnasium's box2d extra)."""
    import gymnasium as gym

    from nasbench.errors import ConfigError

    try:
        return gym.make(env_id)
    except gym.error.DependencyNotInstalled as err:
        raise ConfigError("evaluator.dataset", f"environment '{env_id}' cannot start: {err}",
                          "Install gymnasium's extra for it, e.g. pip install "
                          "'gymnasium[box2d]'.") from None


def greedy_action(net: nn.Module, obs: Any) -> int:
    """argmax_a Q(obs, a), ties to the lowest action."""
    with torch.inference_mode():
        return int(net(torch.from_numpy(np.asarray(obs, np.float32)).unsqueeze(0)).argmax())


def play(env: Any, net: nn.Module, seeds: Sequence[int]) -> tuple[list[float], int]:
    """Greedy episodes of ``net``, one per reset seed: their returns and total steps."""
    returns = []
    steps = 0
    was_training = net.training
    net.eval()
    for seed in seeds:
        obs, _ = env.reset(seed=int(seed))
        total = 0.0
        while True:
            obs, reward, terminated, truncated, _ = env.step(greedy_action(net, obs))
            total += float(reward)
            steps += 1
            if terminated or truncated:
                break
        returns.append(total)
    net.train(was_training)
    return returns, steps


class DqnLearner:
    """Double DQN on one environment: collection, replay, updates, target copies.

    Args:
        env: a gymnasium environment with a discrete action space.
        online: the Q-network (or a supernet set to one path).
        config: the protocol.
        rng: every random draw of the agent.
        env_seed: the reset seed of the first training episode.
        target: the target network; a deep copy of ``online`` when ``None``.
        total_steps: the length the exploration schedule decays over (default: the config's
            ``env_steps``).
    """

    def __init__(self, env: Any, online: nn.Module, config: DqnConfig, rng: np.random.Generator,
                 env_seed: int, *, target: nn.Module | None = None,
                 total_steps: int | None = None) -> None:
        self.env = env
        self.online = online
        self.target = target if target is not None else copy.deepcopy(online)
        self.target.requires_grad_(False)
        self.config = config
        self.rng = rng
        self.total_steps = total_steps or config.env_steps
        self.optimizer = torch.optim.Adam(online.parameters(), lr=config.lr)
        self.buffer = ReplayBuffer(config.buffer_size, env.observation_space.shape[0])
        self.n_actions = int(env.action_space.n)
        self.step = 0
        self.updates = 0
        self.curve = Curve()
        self.last_loss = math.nan
        self.diverged = False
        self._episode_return = 0.0
        self._episode_length = 0
        self._env_seed = env_seed
        self._episodes = 0
        self.obs = self._reset()

    def _reset(self) -> Any:
        # Every training episode starts from its own derived seed, so that a resumed learner
        # can replay the episode in progress from its start.
        obs, _ = self.env.reset(seed=(self._env_seed + 7919 * self._episodes) % 2**31)
        return obs

    def run(self, steps: int, on_path: Callable[[], None] | None = None) -> None:
        """``steps`` environment steps, training as the protocol says."""
        cfg = self.config
        env, buffer, rng = self.env, self.buffer, self.rng
        online = self.online
        for _ in range(steps):
            eps = cfg.epsilon(self.step, self.total_steps)
            if rng.random() < eps:
                action = int(rng.integers(self.n_actions))
            else:
                action = greedy_action(online, self.obs)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            buffer.add(self.obs, action, reward, next_obs, terminated)
            self.obs = next_obs
            self._episode_return += float(reward)
            self._episode_length += 1
            self.step += 1
            if terminated or truncated:
                self.curve.ends.append(self.step)
                self.curve.returns.append(self._episode_return)
                self.curve.lengths.append(self._episode_length)
                self._episode_return, self._episode_length = 0.0, 0
                self._episodes += 1
                self.obs = self._reset()
            if self.step > cfg.learning_starts and self.step % cfg.train_frequency == 0:
                for _ in range(cfg.gradient_steps):
                    self.update()
            if self.step % cfg.target_update == 0:
                self.sync_target()

    def update(self) -> float:
        """One gradient step on a replay minibatch; returns the TD loss."""
        cfg = self.config
        obs, actions, rewards, next_obs, dones = self.buffer.sample(self.rng, cfg.batch_size)
        with torch.no_grad():
            next_actions = self.online(next_obs).argmax(1, keepdim=True)
            next_q = self.target(next_obs).gather(1, next_actions).squeeze(1)
            target = rewards + cfg.gamma * next_q * (1.0 - dones)
        q = self.online(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = F.mse_loss(q, target) if cfg.loss == "mse" else F.smooth_l1_loss(q, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(self.online.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        value = float(loss.detach())
        self.last_loss = value
        if not math.isfinite(value):
            self.diverged = True
        return value

    def sync_target(self) -> None:
        self.target.load_state_dict(self.online.state_dict())

    # -- resuming ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser, replay, counters and curve; the episode in progress restarts
        from its reset seed on load (environments are not serialisable in general)."""
        return {"online": self.online.state_dict(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(), "buffer": self.buffer.state_dict(),
                "rng": self.rng.bit_generator.state, "step": self.step,
                "updates": self.updates, "episodes": self._episodes,
                "curve": [self.curve.ends, self.curve.returns, self.curve.lengths]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.buffer.load_state_dict(state["buffer"])
        self.rng.bit_generator.state = state["rng"]
        self.step, self.updates = int(state["step"]), int(state["updates"])
        self._episodes = int(state["episodes"])
        ends, returns, lengths = state["curve"]
        self.curve = Curve(list(ends), list(returns), list(lengths))
        self._episode_return, self._episode_length = 0.0, 0
        self.obs = self._reset()


def init_network(build: Callable[[], nn.Module], seed: int) -> nn.Module:
    """``build()`` with its weights drawn from ``seed`` (torch's global stream is left as it
    was)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build()
