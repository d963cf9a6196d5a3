"""Aging (regularized) evolution (Real et al., AAAI 2019).

A population of P random models; each cycle draws S members uniformly (with replacement, as in
the paper), mutates the best of them once, evaluates the child, appends it and removes the
oldest member. The answer is the best model ever seen by the search metric. NAS-Bench-201's
baseline uses P=10, S=3.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.api import Architecture, Observation, Strategy, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param


@dataclass(frozen=True)
class AgingEvolutionParams:
    population_size: int = param(
        10, doc="P: models alive at once", ge=2, published="NAS-Bench-201 baseline: 10"
    )
    sample_size: int = param(
        3, doc="S: tournament size drawn from the population", ge=1,
        published="NAS-Bench-201 baseline: 3",
    )
    with_replacement: bool = param(
        True, doc="draw the tournament with replacement", published="Real et al. 2019"
    )

    def check(self) -> None:
        from nasbench.errors import ConfigError

        if not self.with_replacement and self.sample_size > self.population_size:
            raise ConfigError(
                "sample_size",
                f"{self.sample_size} members cannot be drawn without replacement from a "
                f"population of {self.population_size}",
                "Lower sample_size or set with_replacement = true.",
            )


class AgingEvolution(Strategy):
    name: ClassVar[str] = "aging_evolution"
    summary: ClassVar[str] = "regularized evolution: tournament, one mutation, oldest dies"
    Params: ClassVar[type] = AgingEvolutionParams

    def __init__(self, params: AgingEvolutionParams | None = None) -> None:
        super().__init__(params)
        # (arch, value); a failed evaluation lives in the population with value -inf.
        self._population: deque[tuple[Architecture, float]] = deque()
        self._asked = 0
        self._best = Incumbent()

    def ask(self) -> Trial:
        p = self.params
        self._asked += 1
        if self._asked <= p.population_size or not self._population:
            return Trial(self.space.sample(self.rng))
        pop = self._population
        n = len(pop)
        if p.with_replacement:
            idx = [int(u * n) for u in self.rng.random(p.sample_size).tolist()]
        else:
            idx = self.rng.choice(n, size=p.sample_size, replace=False).tolist()
        parent = max(idx, key=lambda i: (pop[i][1], -i))
        return Trial(self.space.mutate(pop[parent][0], self.rng))

    def tell(self, trial: Trial, observation: Observation) -> None:
        value = observation.value if observation.value is not None else float("-inf")
        self._population.append((trial.arch, value))
        if len(self._population) > self.params.population_size:
            self._population.popleft()
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {
            "population": [[list(a), v] for a, v in self._population],
            "asked": self._asked,
            "best": self._best.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._population = deque((tuple(a), float(v)) for a, v in state["population"])
        self._asked = int(state["asked"])
        self._best.load_state_dict(state["best"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(AgingEvolution)
