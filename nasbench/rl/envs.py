"""The gymnasium environments the ``dqn`` evaluator offers, with their published settings.

Nothing heavy is imported here: ``nasbench list`` reads it.

Presets are the published per-environment Double-DQN settings:

* ``rl_zoo``: rl-baselines3-zoo ``hyperparams/dqn.yml`` (v2.x), tuned per environment;
* ``cleanrl``: CleanRL ``cleanrl/dqn.py`` command-line defaults (v1.0), the same for every
  environment.

Solved thresholds: gymnasium's ``reward_threshold`` of each environment (CartPole-v1 475 and
LunarLander 200, as PROTOCOLS.md states; Acrobot-v1 -100).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class EnvInfo:
    """One environment: its solved threshold and its observation/action sizes."""

    env_id: str
    solved: float
    obs_dim: int
    actions: int


ENVIRONMENTS: MappingProxyType[str, EnvInfo] = MappingProxyType({
    "CartPole-v1": EnvInfo("CartPole-v1", 475.0, 4, 2),
    "LunarLander-v3": EnvInfo("LunarLander-v3", 200.0, 8, 4),
    "Acrobot-v1": EnvInfo("Acrobot-v1", -100.0, 6, 3),
})
"""Environments on offer; the first is the default."""

_CLEANRL: dict[str, Any] = {
    "env_steps": 500_000, "buffer_size": 10_000, "batch_size": 128, "lr": 2.5e-4,
    "target_update": 500, "start_e": 1.0, "end_e": 0.05, "exploration_fraction": 0.5,
    "learning_starts": 10_000, "train_frequency": 10, "gradient_steps": 1, "gamma": 0.99,
    "loss": "mse", "max_grad_norm": 0.0,
}
_ZOO_CLASSIC: dict[str, Any] = {  # LunarLander and Acrobot share one tuned setting
    "env_steps": 100_000, "buffer_size": 50_000, "batch_size": 128, "lr": 6.3e-4,
    "target_update": 250, "start_e": 1.0, "end_e": 0.1, "exploration_fraction": 0.12,
    "learning_starts": 0, "train_frequency": 4, "gradient_steps": 4, "gamma": 0.99,
    "loss": "huber", "max_grad_norm": 10.0,
}
PRESETS: MappingProxyType[str, MappingProxyType[str, dict[str, Any]]] = MappingProxyType({
    "rl_zoo": MappingProxyType({
        "CartPole-v1": {
            "env_steps": 50_000, "buffer_size": 100_000, "batch_size": 64, "lr": 2.3e-3,
            "target_update": 10, "start_e": 1.0, "end_e": 0.04, "exploration_fraction": 0.16,
            "learning_starts": 1000, "train_frequency": 256, "gradient_steps": 128,
            "gamma": 0.99, "loss": "huber", "max_grad_norm": 10.0,
        },
        "LunarLander-v3": _ZOO_CLASSIC,
        "Acrobot-v1": _ZOO_CLASSIC,
    }),
    "cleanrl": MappingProxyType(dict.fromkeys(ENVIRONMENTS, _CLEANRL)),
})
"""Preset -> environment -> protocol values (``gradient_steps`` = ``train_frequency`` stands
for the zoo's ``gradient_steps: -1``, one gradient step per environment step; the zoo trains
with Stable-Baselines3's Huber loss and gradient-norm clipping at 10, CleanRL with the squared
error and no clipping)."""
