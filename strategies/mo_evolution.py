"""Multi-objective aging evolution: Real et al.'s regularized evolution with NSGA-II's order.

As :mod:`~nasbench.strategies.aging_evolution`, a population of P random models; each cycle
draws S members (with replacement), mutates the best of them once and retires the oldest. "Best"
is decided as NSGA-II decides between two solutions (Deb et al. 2002): the lower Pareto rank
within the tournament, then the larger crowding distance, then the younger member. A failed
evaluation ranks below every evaluated one.
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
from nasbench.pareto import crowding_distances, pareto_ranks


@dataclass(frozen=True)
class MoEvolutionParams:
    population_size: int = param(
        10, doc="P: models alive at once", ge=2, published="NAS-Bench-201 baseline: 10")
    sample_size: int = param(
        3, doc="S: tournament size drawn from the population (with replacement)", ge=1,
        published="NAS-Bench-201 baseline: 3")


class MoEvolution(Strategy):
    name: ClassVar[str] = "mo_evolution"
    summary: ClassVar[str] = "aging evolution choosing parents by Pareto rank and crowding"
    Params: ClassVar[type] = MoEvolutionParams
    multi_objective: ClassVar[bool] = True

    def __init__(self, params: MoEvolutionParams | None = None) -> None:
        super().__init__(params)
        self._population: deque[tuple[Architecture, tuple[float, ...] | None]] = deque()
        self._asked = 0
        self._best = Incumbent()

    def ask(self) -> Trial:
        p = self.params
        self._asked += 1
        if self._asked <= p.population_size or not self._population:
            return Trial(self.space.sample(self.rng))
        pop = self._population
        n = len(pop)
        idx = [int(u * n) for u in self.rng.random(p.sample_size).tolist()]
        members = sorted(set(idx))
        scored = [i for i in members if pop[i][1] is not None]
        if scored:
            vecs = [pop[i][1] for i in scored]
            ranks = pareto_ranks(vecs)  # type: ignore[arg-type]
            crowd = crowding_distances(vecs)  # type: ignore[arg-type]
            k = min(range(len(scored)), key=lambda j: (ranks[j], -crowd[j], -scored[j]))
            parent = scored[k]
        else:
            parent = members[-1]
        return Trial(self.space.mutate(pop[parent][0], self.rng))

    def tell(self, trial: Trial, observation: Observation) -> None:
        self._population.append((trial.arch, observation.objectives))
        if len(self._population) > self.params.population_size:
            self._population.popleft()
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {
            "population": [[list(a), None if v is None else list(v)]
                           for a, v in self._population],
            "asked": self._asked,
            "best": self._best.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._population = deque(
            (tuple(a), None if v is None else tuple(float(x) for x in v))
            for a, v in state["population"])
        self._asked = int(state["asked"])
        self._best.load_state_dict(state["best"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(MoEvolution)
