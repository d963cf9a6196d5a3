"""REINFORCE with independent logits: NAS-Bench-201's reinforcement-learning baseline.

Dong & Yang (ICLR 2020, released as ``exps/algos/reinforce.py`` and, for NATS-Bench,
``exps/NATS-algos/reinforce.py``): one categorical distribution per decision, its logits
initialised to 1e-3 N(0, 1); every evaluated architecture is one Adam step on
-log P(arch) (R - b), where the baseline b is a bias-corrected moving average with momentum 0.9
that is updated with the current reward *before* the advantage is formed.

The learning rate differs across the released scripts (0.5 and 0.001 in NAS-Bench-201's, 0.01
in NATS-Bench's); it is a parameter, 0.001 by default. What the search returns also changed
between versions: the first returned the argmax of the logits, the NATS-Bench version the best
architecture seen (the default here, and the rule every other strategy follows).

The distributions are numpy arrays and Adam is written out (it is five lines for one parameter
vector per decision); gradients are exact: d log softmax(l)_a / dl = onehot(a) - softmax(l).
Decisions are walked through ``next_decision``, so spaces whose later decisions depend on
earlier ones work too (a decision's logits exist from the first time the space names it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench.strategies.policy_gradient import MovingAverageBaseline
from nasbench.strategies.validity import draw_valid

from nasbench.api import Architecture, Observation, Strategy, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np

_ADAM_BETAS = (0.9, 0.999)
_ADAM_EPS = 1e-8


def _weights(values: np.ndarray, excluded: tuple[int, ...]) -> np.ndarray:
    """Unnormalised softmax weights of ``values``; excluded choices get none."""
    import numpy as np

    weights = np.exp(values - values.max())
    if excluded:
        weights[list(excluded)] = 0.0
    return weights


@dataclass(frozen=True)
class ReinforceLogitsParams:
    learning_rate: float = param(
        0.001, doc="Adam learning rate of the logits", gt=0,
        published="NAS-Bench-201 scripts: 0.5 and 0.001; NATS-Bench: 0.01",
    )
    ema_momentum: float = param(0.9, doc="momentum of the bias-corrected reward baseline",
                                ge=0, lt=1, published="NAS-Bench-201: 0.9")
    init_std: float = param(1e-3, doc="logits start as init_std * N(0, 1)", ge=0,
                            published="NAS-Bench-201: 1e-3")
    recommend: Literal["best_seen", "argmax"] = param(
        "best_seen", doc="answer the best architecture seen, or the policy's argmax",
        published="NATS-Bench code: best_seen; first NAS-Bench-201 code: argmax",
    )


@dataclass(slots=True)
class _Logits:
    """One decision's logits and their Adam moments."""

    values: np.ndarray
    first_moment: np.ndarray
    second_moment: np.ndarray


class ReinforceLogits(Strategy):
    """NAS-Bench-201's REINFORCE: a product of independent categoricals, one Adam step per
    evaluation."""

    name: ClassVar[str] = "reinforce_logits"
    summary: ClassVar[str] = "REINFORCE over independent per-decision logits (NAS-Bench-201)"
    Params: ClassVar[type] = ReinforceLogitsParams

    def __init__(self, params: ReinforceLogitsParams | None = None) -> None:
        super().__init__(params)
        self._logits: dict[str, _Logits] = {}
        self._baseline = MovingAverageBaseline(self.params.ema_momentum, bias_corrected=True)
        self._steps = 0
        self._best = Incumbent()

    def _of(self, decision: Any) -> _Logits:
        entry = self._logits.get(decision.name)
        if entry is None:
            import numpy as np

            n = len(decision.choices)
            entry = _Logits(self.params.init_std * self.rng.standard_normal(n), np.zeros(n),
                            np.zeros(n))
            self._logits[decision.name] = entry
        return entry

    def _walk(self, arch: Architecture | None
              ) -> tuple[Architecture, list[tuple[_Logits, tuple[int, ...]]]]:
        """Sample an architecture (``arch`` None) or retrace one; its decisions' logits, each
        with the choices the decision excludes there."""
        import numpy as np

        prefix: Architecture = ()
        used = []
        while (decision := self.space.next_decision(prefix)) is not None:
            logits = self._of(decision)
            used.append((logits, decision.excluded))
            if arch is None:
                weights = _weights(logits.values, decision.excluded)
                cdf = np.cumsum(weights)
                choice = int(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right"))
                choice = min(choice, len(weights) - 1)
            else:
                choice = arch[len(prefix)]
            prefix = (*prefix, choice)
        return prefix, used

    def ask(self) -> Trial:
        return Trial(draw_valid(self.space, lambda: self._walk(None)[0], self.name))

    def tell(self, trial: Trial, observation: Observation) -> None:
        import numpy as np

        self._best.update(trial.arch, observation)
        if observation.value is None:
            return
        self._baseline.update(observation.value)
        advantage = observation.value - self._baseline.value()
        self._steps += 1
        beta1, beta2 = _ADAM_BETAS
        step_size = self.params.learning_rate / (1.0 - beta1**self._steps)
        correction2 = math.sqrt(1.0 - beta2**self._steps)
        _, used = self._walk(trial.arch)
        for (logits, excluded), choice in zip(used, trial.arch, strict=True):
            weights = _weights(logits.values, excluded)
            grad = weights / weights.sum()  # gradient of -log P(choice) (R - b) over logits
            grad[choice] -= 1.0
            grad *= advantage
            logits.first_moment = beta1 * logits.first_moment + (1 - beta1) * grad
            logits.second_moment = beta2 * logits.second_moment + (1 - beta2) * grad * grad
            logits.values = logits.values - step_size * logits.first_moment / (
                np.sqrt(logits.second_moment) / correction2 + _ADAM_EPS
            )

    def recommend(self) -> Architecture | None:
        if self.params.recommend == "best_seen" or not self._logits:
            return self._best.arch
        prefix: Architecture = ()
        while (decision := self.space.next_decision(prefix)) is not None:
            # A decision the policy never met still has uniform logits: its first allowed choice.
            logits = self._logits.get(decision.name)
            allowed = decision.allowed()
            if logits is None:
                prefix = (*prefix, allowed[0])
            else:
                prefix = (*prefix, max(allowed, key=lambda c: logits.values[c]))
        return prefix

    def state_dict(self) -> dict[str, Any]:
        return {
            "logits": {name: [e.values.tolist(), e.first_moment.tolist(),
                              e.second_moment.tolist()] for name, e in self._logits.items()},
            "baseline": self._baseline.state_dict(),
            "steps": self._steps,
            "best": self._best.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        import numpy as np

        self._logits = {name: _Logits(*(np.array(v, dtype=float) for v in values))
                        for name, values in state["logits"].items()}
        self._baseline.load_state_dict(state["baseline"])
        self._steps = int(state["steps"])
        self._best.load_state_dict(state["best"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(ReinforceLogits)
