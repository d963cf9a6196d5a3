"""Bayesian optimisation through optuna: TPE by default, its Gaussian-process sampler as an
option.

The tree-structured Parzen estimator (Bergstra et al., NeurIPS 2011) models the architectures
above and below a quantile of the observed search metric with one density each, and proposes
the candidate that maximises their ratio; optuna's GP sampler fits a Gaussian process to the
observations and maximises log expected improvement. Both are driven through optuna's ask/tell
interface with the space's decisions as categorical parameters
(:mod:`nasbench.strategies.optuna_bridge`), seeded from the strategy's generator, in an
in-memory study.

A resumed run equals an uninterrupted one: :meth:`state_dict` keeps every observation and the
pickled sampler (its random state included), and :meth:`load_state_dict` rebuilds the study
from them. optuna re-proposes architectures it has already seen (the harness answers those from
the run's cache at zero cost); they are told to the sampler again like any other trial.
"""

from __future__ import annotations

import contextlib
import pickle
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench.strategies.optuna_bridge import (
    ArchitectureParams,
    make_sampler,
    new_study,
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
        index = next((i for i, (arch, _) in enumerate(self._pending) if arch == trial.arch), None)
        if index is None:
            raise ValueError(f"bayesian was told about {trial.arch!r}, which it did not ask")
        optuna_trial = self._pending[index][1]
        del self._pending[index]
        if observation.value is None:
            import optuna

            self._study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(optuna_trial, observation.value)
        self._history.append((trial.arch, observation.value))
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        """Observations and the sampler; taken between a ``tell`` and the next ``ask`` (as the
        harness does), since a trial still being evaluated cannot be carried over."""
        if self._pending:
            raise RuntimeError("bayesian cannot save its state while a trial is out")
        return {
            "sampler": pickle.dumps(self._sampler),
            "history": [[list(a), v] for a, v in self._history],
            "best": self._best.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._sampler = pickle.loads(state["sampler"])
        self._study = new_study(self._sampler)
        self._history = [(tuple(a), v) for a, v in state["history"]]
        for arch, value in self._history:
            self._params.add_observation(self._study, arch, value)
        self._best.load_state_dict(state["best"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(BayesianOptimisation)
