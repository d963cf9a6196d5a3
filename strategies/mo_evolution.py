"""Multi-objective aging evolution: Real et al.'s regularized evolution with NSGA-II's order.

As :mod:`~nasbench.strategies.aging_evolution`, a population of P random models; each cycle
draws S members (with replacement), mutates the best of them once and retires the oldest. "Best"
is decided as NSGA-II decides between two solutions (Deb et al. 2002): the lower Pareto rank
within the tournament, then the larger crowding distance, then the younger member. A failed
evaluation ranks below every evaluated one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.strategies.aging_evolution import AgingPopulation

from nasbench.api import Observation
from nasbench.hookspecs import hookimpl
from nasbench.params import param
from nasbench.pareto import crowding_distances, pareto_ranks


@dataclass(frozen=True)
class MoEvolutionParams:
    population_size: int = param(
        10, doc="P: models alive at once", ge=2, published="NAS-Bench-201 baseline: 10")
    sample_size: int = param(
        3, doc="S: tournament size drawn from the population (with replacement)", ge=1,
        published="NAS-Bench-201 baseline: 3")


class MoEvolution(AgingPopulation):
    name: ClassVar[str] = "mo_evolution"
    summary: ClassVar[str] = "aging evolution choosing parents by Pareto rank and crowding"
    Params: ClassVar[type] = MoEvolutionParams
    multi_objective: ClassVar[bool] = True

    def keep(self, observation: Observation) -> tuple[float, ...] | None:
        return observation.objectives

    def dump(self, kept: tuple[float, ...] | None) -> list[float] | None:
        return None if kept is None else list(kept)

    def load(self, saved: Any) -> tuple[float, ...] | None:
        return None if saved is None else tuple(float(x) for x in saved)

    def tournament(self, n: int) -> int:
        pop = self._population
        members = sorted(set(self.draw(n, self.params.sample_size)))
        scored = [i for i in members if pop[i][1] is not None]
        if not scored:
            return members[-1]
        vecs = [pop[i][1] for i in scored]
        ranks = pareto_ranks(vecs)
        crowd = crowding_distances(vecs)
        k = min(range(len(scored)), key=lambda j: (ranks[j], -crowd[j], -scored[j]))
        return scored[k]


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(MoEvolution)
