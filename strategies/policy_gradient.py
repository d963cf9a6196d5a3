"""Pieces shared by the policy-gradient strategies: reward baselines and reward shaping.

REINFORCE (Williams, 1992) moves a policy along sum_t grad log P(a_t | a_<t) (R - b); the
baseline b reduces the variance of that estimate without biasing it. Two published variants:

* NAS-RL (Zoph & Le, ICLR 2017) and ENAS (Pham et al., ICML 2018): an exponential moving
  average of past rewards, ``b <- decay * b + (1 - decay) * R``.
* NAS-Bench-201's REINFORCE baseline (Dong & Yang, ICLR 2020, ``exps/algos/reinforce.py``): the
  same average with Adam-style bias correction, ``num <- m * num + (1 - m) * R``,
  ``den <- m * den + (1 - m)``, ``b = num / den``, updated with the current reward *before* the
  advantage is formed.
"""

from __future__ import annotations

import math
from typing import Any


class MovingAverageBaseline:
    """An exponential moving average of rewards, optionally bias-corrected.

    Without bias correction the average starts at the first reward it sees (rather than at 0,
    which would make the first advantages as large as the rewards themselves).

    Args:
        decay: weight of the past, in [0, 1).
        bias_corrected: divide by ``1 - decay^n`` as NAS-Bench-201's baseline does.
    """

    __slots__ = ("bias_corrected", "decay", "denominator", "numerator")

    def __init__(self, decay: float, *, bias_corrected: bool = False) -> None:
        self.decay = decay
        self.bias_corrected = bias_corrected
        self.numerator = 0.0
        self.denominator = 0.0

    @property
    def ready(self) -> bool:
        """Whether the average has seen a reward."""
        return self.denominator > 0.0

    def update(self, reward: float) -> None:
        if not self.bias_corrected and not self.ready:
            self.numerator, self.denominator = reward, 1.0
            return
        self.numerator = self.decay * self.numerator + (1.0 - self.decay) * reward
        self.denominator = self.decay * self.denominator + (1.0 - self.decay)

    def value(self) -> float:
        """The baseline; 0 before the first reward."""
        if not self.ready:
            return 0.0
        return self.numerator / self.denominator if self.bias_corrected else self.numerator

    def state_dict(self) -> dict[str, Any]:
        return {"numerator": self.numerator, "denominator": self.denominator}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.numerator = float(state["numerator"])
        self.denominator = float(state["denominator"])


def shaped_reward(value: float, power: float) -> float:
    """``value ** power``, keeping the sign (NAS-RL cubes its accuracy reward)."""
    if power == 1.0:
        return value
    return math.copysign(abs(value) ** power, value)
