"""NSGA-II (Deb et al. 2002) through optuna's ``NSGAIISampler``.

The architecture's decisions are optuna categorical parameters (see
:mod:`~nasbench.strategies.optuna_bridge`); the study has one maximised direction per
objective. optuna's sampler is not plain data, so runs resume by replaying their logged trials
from the seed, as ``bayesian`` and ``bohb`` do.
"""

from __future__ import annotations

import logging
import warnings
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.strategies.optuna_bridge import ArchitectureParams, pop_pending

from nasbench.api import Architecture, Observation, SearchSpace, Strategy, StrategyContext, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np
    import optuna


@dataclass(frozen=True)
class Nsga2Params:
    population_size: int = param(50, doc="models per generation", ge=2,
                                 published="optuna default: 50")
    crossover_prob: float = param(0.9, doc="probability that a child is a crossover", ge=0,
                                  le=1, published="optuna default: 0.9")
    swapping_prob: float = param(0.5, doc="uniform crossover: probability of taking each "
                                 "decision from the other parent", ge=0, le=1,
                                 published="optuna default: 0.5")


class Nsga2(Strategy):
    """optuna's NSGA-II sampler over the space's decisions, one direction per objective."""

    name: ClassVar[str] = "nsga2"
    summary: ClassVar[str] = "NSGA-II via optuna: Pareto rank and crowding, uniform crossover"
    checkpoints: ClassVar[bool] = False
    """An optuna sampler is not plain data: runs resume by replay from their seed."""
    multi_objective: ClassVar[bool] = True
    Params: ClassVar[type] = Nsga2Params

    def __init__(self, params: Nsga2Params | None = None) -> None:
        super().__init__(params)
        self._best = Incumbent()
        self._pending: deque[tuple[Architecture, optuna.Trial]] = deque()

    def setup(self, space: SearchSpace, rng: np.random.Generator,
              context: StrategyContext) -> None:
        import optuna

        super().setup(space, rng, context)
        self._params = ArchitectureParams(space)
        p = self.params
        optuna.logging.get_logger("optuna").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.NSGAIISampler(
                population_size=p.population_size, crossover_prob=p.crossover_prob,
                swapping_prob=p.swapping_prob, seed=int(rng.integers(2**31)))
        k = max(len(context.objectives), 1)
        self._study = optuna.create_study(sampler=sampler, directions=["maximize"] * k,
                                          storage=optuna.storages.InMemoryStorage())
        self._k = k

    def ask(self) -> Trial:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial, arch = self._params.ask(self._study, lambda: self.space.sample(self.rng))
        self._pending.append((arch, trial))
        return Trial(arch)

    def tell(self, trial: Trial, observation: Observation) -> None:
        import optuna

        optuna_trial = pop_pending(self._pending, trial.arch, "nsga2")
        values = observation.objectives
        if values is None and observation.value is not None and self._k == 1:
            values = (observation.value,)
        if values is None:
            self._study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(optuna_trial, list(values))
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(Nsga2)
