"""What the optuna-based strategies share: samplers, in-memory studies, and architectures as
optuna parameters.

An architecture is a sequence of categorical decisions; in optuna each decision becomes a
parameter named after it, with a :class:`~optuna.distributions.CategoricalDistribution` over
its choice indices. Parameters are suggested by walking ``space.next_decision`` (optuna's
define-by-run API), so spaces whose later decisions depend on earlier ones are conditional
search spaces to optuna, which TPE handles natively.

Studies live in memory: nasbench's run logs are the durable record, and optuna's own storage
would cost 50-130 ms per trial. A sampler cannot be saved as plain data, so the strategies
built on it declare ``checkpoints = False``: the harness resumes their runs by replaying the
run's logged trials from its seed, and never unpickles anything.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from nasbench.api import Architecture, SearchSpace

if TYPE_CHECKING:
    import optuna

SamplerName = Literal["tpe", "gp", "random"]

MODEL_TRIES = 20
"""Suggestions in a row the space may refuse before a uniform draw replaces the model's."""



@functools.cache
def _indices(n: int) -> tuple[int, ...]:
    """The choice indices of an n-way decision, built once (optuna compares them per call)."""
    return tuple(range(n))


def make_sampler(name: SamplerName, seed: int, *, n_startup_trials: int,
                 multivariate: bool = False) -> optuna.samplers.BaseSampler:
    """An optuna sampler seeded from the strategy's generator.

    TPE runs without the constant liar: nasbench asks one trial at a time, so there are never
    running trials to lie about, and the liar only disables optuna's trial cache.
    """
    import optuna

    # optuna reports every finished trial at INFO level through its own logger; a study runs
    # thousands of trials, so keep only its warnings.
    optuna.logging.get_logger("optuna").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "tpe":
            # group: a space whose later decisions depend on earlier ones has a different set
            # of parameters per trial; grouped, the joint model covers each set that occurs
            # instead of falling back to independent sampling with a warning per trial.
            return optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=n_startup_trials, multivariate=multivariate,
                group=multivariate, constant_liar=False,
            )
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup_trials)
        return optuna.samplers.RandomSampler(seed=seed)


def new_study(sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    """An in-memory study that maximises, driven by ``sampler``."""
    import optuna

    return optuna.create_study(sampler=sampler, direction="maximize",
                               storage=optuna.storages.InMemoryStorage())


class ArchitectureParams:
    """Converts between architectures of a space and optuna parameters."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._distributions: dict[tuple[str, int], Any] = {}

    def _distribution(self, name: str, n: int) -> Any:
        dist = self._distributions.get((name, n))
        if dist is None:
            from optuna.distributions import CategoricalDistribution

            dist = self._distributions[(name, n)] = CategoricalDistribution(tuple(range(n)))
        return dist

    def suggest(self, trial: optuna.Trial) -> Architecture:
        """Walk the space's decisions, letting ``trial`` suggest each choice."""
        arch: Architecture = ()
        walk = self.space.next_decision
        while (decision := walk(arch)) is not None:
            choice = trial.suggest_categorical(decision.name, _indices(len(decision.choices)))
            arch = (*arch, int(choice))
        return arch

    def ask(self, study: optuna.Study, fallback: Callable[[], Architecture]
            ) -> tuple[optuna.Trial, Architecture]:
        """A new trial of ``study`` and the architecture it suggests.

        A suggestion the space refuses is closed as failed, which optuna's models ignore, and
        the sampler asked again. Learning nothing from a refusal, a model can concentrate on
        refused sequences; after ``MODEL_TRIES`` refusals in a row the architecture comes from
        ``fallback`` (a uniform draw from the space), enqueued so that the study records it
        like any other trial.
        """
        import optuna

        for _ in range(MODEL_TRIES):
            trial = study.ask()
            arch = self.suggest(trial)
            if self.space.is_valid(arch):
                return trial, arch
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        arch = fallback()
        study.enqueue_trial(self.describe(arch)[0])
        trial = study.ask()
        return trial, self.suggest(trial)

    def describe(self, arch: Architecture) -> tuple[dict[str, int], dict[str, Any]]:
        """The parameters and distributions optuna would record for ``arch``."""
        params: dict[str, int] = {}
        dists: dict[str, Any] = {}
        for t, choice in enumerate(arch):
            decision = self.space.next_decision(arch[:t])
            if decision is None:
                raise ValueError(f"{arch!r} runs past the decisions of '{self.space.name}'")
            params[decision.name] = choice
            dists[decision.name] = self._distribution(decision.name, len(decision.choices))
        return params, dists

    def add_observation(self, study: optuna.Study, arch: Architecture,
                        value: float | None) -> None:
        """Record a finished evaluation in ``study`` (a failure when ``value`` is None)."""
        import optuna

        params, dists = self.describe(arch)
        state = optuna.trial.TrialState.COMPLETE if value is not None else \
            optuna.trial.TrialState.FAIL
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists,
                                                  value=value, state=state))


def pop_pending(pending: list[tuple[Architecture, Any]], arch: Architecture,
                strategy: str) -> Any:
    """Remove and return the optuna trial asked for ``arch`` from ``pending`` (the trials
    asked and not yet told, oldest first)."""
    for i, (asked, trial) in enumerate(pending):
        if asked == arch:
            del pending[i]
            return trial
    raise ValueError(f"{strategy} was told about {arch!r}, which it did not ask")
