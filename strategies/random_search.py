"""Random search: uniform samples until the budget ends; return the best by validation.

Not to be confused with random *sampling* (one uniformly drawn architecture), the baseline of
Yang et al. that every study reports alongside its strategies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from nasbench.api import Architecture, Observation, Strategy, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent


class RandomSearch(Strategy):
    name: ClassVar[str] = "random_search"
    summary: ClassVar[str] = "uniform samples; the best by the search metric wins"

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self._best = Incumbent()

    def ask(self) -> Trial:
        return Trial(self.space.sample(self.rng))

    def tell(self, trial: Trial, observation: Observation) -> None:
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._best.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._best.load_state_dict(state["best"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(RandomSearch)
