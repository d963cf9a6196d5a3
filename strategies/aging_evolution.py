"""Aging (regularized) evolution (Real et al., AAAI 2019).

A population of P random models; each cycle draws S members uniformly (with replacement, as in
the paper), mutates the best of them once, evaluates the child, appends it and removes the
oldest member. The answer is the best model ever seen by the search metric. NAS-Bench-201's
baseline uses P=10, S=3. :class:`AgingPopulation` is the loop without the tournament's rule,
which ``mo_evolution`` shares.
"""

from __future__ import annotations

from abc import abstractmethod
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


class AgingPopulation(Strategy):
    """The aging loop, whatever decides a tournament: the first P asks are random models (and
    any ask before a first member is told); every later ask mutates the winner of a tournament
    among the living members once; every told model joins the population and the oldest beyond
    P retires. The answer is the best model ever seen by the search metric.

    A subclass says what a member keeps of its evaluation (:meth:`keep`, saved as plain data
    by :meth:`dump` and :meth:`load`) and which member wins a tournament (:meth:`tournament`,
    given the population's size; :meth:`draw` draws members uniformly with replacement). Its
    params have ``population_size`` (P).
    """

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self._population: deque[tuple[Architecture, Any]] = deque()  # (arch, kept), oldest first
        self._asked = 0
        self._best = Incumbent()

    @abstractmethod
    def keep(self, observation: Observation) -> Any:
        """What a member keeps of its evaluation."""

    @abstractmethod
    def tournament(self, n: int) -> int:
        """The index (0: the oldest) of the parent among the ``n`` living members."""

    def dump(self, kept: Any) -> Any:
        """A member's kept evaluation as plain data."""
        return kept

    def load(self, saved: Any) -> Any:
        """The inverse of :meth:`dump`."""
        return saved

    def draw(self, n: int, size: int) -> list[int]:
        """``size`` member indices drawn uniformly with replacement among ``n``."""
        return [int(u * n) for u in self.rng.random(size).tolist()]

    def ask(self) -> Trial:
        self._asked += 1
        if self._asked <= self.params.population_size or not self._population:
            return Trial(self.space.sample(self.rng))
        parent = self.tournament(len(self._population))
        return Trial(self.space.mutate(self._population[parent][0], self.rng))

    def tell(self, trial: Trial, observation: Observation) -> None:
        self._population.append((trial.arch, self.keep(observation)))
        if len(self._population) > self.params.population_size:
            self._population.popleft()
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {
            "population": [[list(a), self.dump(v)] for a, v in self._population],
            "asked": self._asked,
            "best": self._best.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._population = deque((tuple(a), self.load(v)) for a, v in state["population"])
        self._asked = int(state["asked"])
        self._best.load_state_dict(state["best"])


class AgingEvolution(AgingPopulation):
    name: ClassVar[str] = "aging_evolution"
    summary: ClassVar[str] = "regularized evolution: tournament, one mutation, oldest dies"
    Params: ClassVar[type] = AgingEvolutionParams

    def keep(self, observation: Observation) -> float:
        # A failed evaluation lives in the population with value -inf.
        return observation.value if observation.value is not None else float("-inf")

    def load(self, saved: Any) -> float:
        return float(saved)

    def tournament(self, n: int) -> int:
        p = self.params
        if p.with_replacement:
            idx = self.draw(n, p.sample_size)
        else:
            idx = self.rng.choice(n, size=p.sample_size, replace=False).tolist()
        pop = self._population
        return max(idx, key=lambda i: (pop[i][1], -i))


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(AgingEvolution)
