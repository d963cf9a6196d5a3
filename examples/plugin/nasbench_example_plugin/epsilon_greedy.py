"""Epsilon-greedy mutation search: a complete strategy plugin in one module.

With probability ``epsilon`` the next trial is a uniform sample; otherwise it is a mutation of
the best architecture seen so far. It shows the whole contract: typed parameters, ask/tell,
recommend, and a state_dict that makes a resumed run identical to an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.api import Architecture, Observation, Strategy, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param


@dataclass(frozen=True)
class EpsilonGreedyParams:
    epsilon: float = param(0.2, doc="probability of a uniform sample instead of a mutation",
                           ge=0.0, le=1.0)
    warmup: int = param(10, doc="uniform samples before the first mutation", ge=1)


class EpsilonGreedy(Strategy):
    name: ClassVar[str] = "epsilon_greedy"
    summary: ClassVar[str] = "mutate the incumbent, or sample uniformly with probability epsilon"
    Params: ClassVar[type] = EpsilonGreedyParams

    def __init__(self, params: EpsilonGreedyParams | None = None) -> None:
        super().__init__(params)
        self._best = Incumbent()
        self._asked = 0

    def ask(self) -> Trial:
        self._asked += 1
        explore = self.rng.random() < self.params.epsilon
        if self._asked <= self.params.warmup or explore or self._best.arch is None:
            return Trial(self.space.sample(self.rng))
        return Trial(self.space.mutate(self._best.arch, self.rng))

    def tell(self, trial: Trial, observation: Observation) -> None:
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._best.state_dict(), "asked": self._asked}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._best.load_state_dict(state["best"])
        self._asked = state["asked"]


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(EpsilonGreedy)
