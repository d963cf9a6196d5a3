"""Random search: uniform samples until the budget ends; the harness's incumbent (the best by
validation) is its answer.

Not to be confused with random *sampling* (one uniformly drawn architecture), the baseline of
Yang et al. that every study reports alongside its strategies.
"""

from __future__ import annotations

from typing import Any, ClassVar

from nasbench.api import Observation, Strategy, Trial
from nasbench.hookspecs import hookimpl


class RandomSearch(Strategy):
    name: ClassVar[str] = "random_search"
    summary: ClassVar[str] = "uniform samples; the best by the search metric wins"

    def ask(self) -> Trial:
        return Trial(self.space.sample(self.rng))

    def tell(self, trial: Trial, observation: Observation) -> None:
        """Nothing to learn: every sample is independent of the results."""


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(RandomSearch)
