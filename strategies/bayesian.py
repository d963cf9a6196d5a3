"""Bayesian optimisation through optuna: TPE by default, its Gaussian-process sampler as an
option.

The tree-structured Parzen estimator (Bergstra et al., NeurIPS 2011) models the architectures
above and below a quantile of the observed search metric with one density each, and proposes
the candidate that maximises their ratio; optuna's GP sampler fits a Gaussian process to the
observations and maximises log expected improvement. Both are driven through optuna's ask/tell
interface with the space's decisions as categorical parameters
(:mod:`nasbench.strategies.optuna_bridge`), seeded from the strategy's generator, in an
in-memory study.

A resumed run equals an uninterrupted one: an optuna sampler cannot be saved as plain data, so
the strategy declares ``checkpoints = False`` and the harness resumes a run by replaying its
logged trials from the run's seed (nothing is unpickled, nothing evaluated again).
optuna re-proposes architectures it has already seen (the harness answers those from
the run's cache at zero cost); they are told to the sampler again like any other trial.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench.strategies.optuna_bridge import (
    ArchitectureParams,
    make_sampler,
    new_study,
    pop_pending,
)
from nasbench.strategies.threads import one_torch_thread

from nasbench.api import Architecture, Observation, SearchSpace, Strategy, StrategyContext, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np
    import optuna


@dataclass(frozen=True)
class BayesianParams:
    sampler: Literal["tpe", "gp", "random"] = param(
        "tpe", doc="optuna sampler: tpe, gp (Gaussian process) or random",
        published="TPE: Bergstra et al. 2011 (optuna's default sampler)",
    )
    n_startup_trials: int = param(10, doc="random trials before the model proposes", ge=0,
                                  published="optuna default: 10")
    multivariate: bool = param(
        False, doc="TPE: one joint density over all decisions instead of one per decision",
        published="optuna default: false (independent TPE, as in Bergstra et al. 2011)",
    )


class BayesianOptimisation(Strategy):
    """optuna's TPE (or GP) sampler over the space's decisions."""

    name: ClassVar[str] = "bayesian"
    summary: ClassVar[str] = "Bayesian optimisation via optuna: TPE (default) or GP"
    checkpoints: ClassVar[bool] = False
    """An optuna sampler is not plain data: runs resume by replay from their seed."""
    Params: ClassVar[type] = BayesianParams

    def __init__(self, params: BayesianParams | None = None) -> None:
        super().__init__(params)
        self._best = Incumbent()
        self._history: list[tuple[Architecture, float | None]] = []
        self._pending: deque[tuple[Architecture, optuna.Trial]] = deque()

    def setup(self, space: SearchSpace, rng: np.random.Generator,
              context: StrategyContext) -> None:
        super().setup(space, rng, context)
        self._params = ArchitectureParams(space)
        p = self.params
        self._sampler = make_sampler(p.sampler, int(rng.integers(2**31)),
                                     n_startup_trials=p.n_startup_trials,
                                     multivariate=p.multivariate)
        self._study = new_study(self._sampler)

    def ask(self) -> Trial:
        # The GP sampler fits its model with torch; TPE and random sampling use none.
        threads = one_torch_thread() if self.params.sampler == "gp" else contextlib.nullcontext()
        with threads:
            trial, arch = self._params.ask(self._study, lambda: self.space.sample(self.rng))
        self._pending.append((arch, trial))
        return Trial(arch)

    def tell(self, trial: Trial, observation: Observation) -> None:
        optuna_trial = pop_pending(self._pending, trial.arch, "bayesian")
        if observation.value is None:
            import optuna

            self._study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(optuna_trial, observation.value)
        self._history.append((trial.arch, observation.value))
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(BayesianOptimisation)
