"""BOHB: Hyperband's successive halving over the evaluator's fidelities, with proposals from a
TPE model (Falkner, Klein & Hutter, ICML 2018).

Hyperband (Li et al., JMLR 2018) runs brackets of successive halving: bracket s starts
ceil((s_max + 1) / (s + 1) * eta^s) new architectures at the s-th fidelity from the top, then
promotes the best 1/eta of each rung to the next fidelity until the highest; brackets cycle
s = s_max, ..., 0. The rungs are the fidelities the evaluator offers (ascending), so s_max is
their number minus one. BOHB replaces Hyperband's random proposals: with probability
``random_fraction`` a new architecture is drawn uniformly, otherwise it comes from a TPE model
(optuna's, multivariate like BOHB's joint kernel density) fitted on the observations of the
highest fidelity that has at least ``min_points_in_model`` of them; before any fidelity has
that many, proposals are random.

The strategy declares ``requires_fidelities``: a study refuses it with an evaluator that offers
one fidelity (on NAS-Bench-201's table only the 12-epoch schedule has a validation metric; see
docs/baselines.md). Without fidelities in its context (as in the conformance checks) it runs
one rung at the evaluator's default fidelity: model-based proposals with a random fraction.

The answer is the best architecture observed at the highest fidelity reached. Failed
evaluations rank last in their rung and are told to no model. Brackets proceed synchronously:
each ask follows the tell of the previous trial, as the harness runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.strategies.optuna_bridge import ArchitectureParams, make_sampler, new_study

from nasbench.api import Architecture, Observation, SearchSpace, Strategy, StrategyContext, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np
    import optuna

_FAILED = float("-inf")


@dataclass(frozen=True)
class BohbParams:
    eta: int = param(3, doc="successive-halving rate: keep the best 1/eta of each rung", ge=2,
                     published="Falkner et al. 2018 and NAS-Bench-201's BOHB: 3")
    random_fraction: float = param(
        1 / 3, doc="share of new architectures drawn uniformly instead of from the model",
        ge=0, le=1, published="Falkner et al. 2018: 1/3; NAS-Bench-201 script: 0.33",
    )
    min_points_in_model: int | None = param(
        None, doc="observations a fidelity needs before its model proposes; "
        "default: number of decisions + 1", ge=1,
        published="Falkner et al. 2018: dimensions + 1",
    )
    multivariate: bool = param(True, doc="one joint TPE density over all decisions",
                               published="Falkner et al. 2018: a multivariate KDE")


@dataclass
class _Rung:
    """The architectures of one rung of the current bracket and what was observed."""

    level: int
    size: int
    to_ask: list[Architecture | None]
    """Promoted architectures, or ``None`` where a new one is to be proposed."""
    observed: list[tuple[Architecture, float]]


class Bohb(Strategy):
    """Hyperband over the evaluator's fidelities with TPE proposals."""

    name: ClassVar[str] = "bohb"
    summary: ClassVar[str] = "BOHB: Hyperband over fidelities with TPE proposals (Falkner 2018)"
    checkpoints: ClassVar[bool] = False
    """Optuna samplers are not plain data: runs resume by replay from their seed."""
    Params: ClassVar[type] = BohbParams
    requires_fidelities: ClassVar[bool] = True

    def __init__(self, params: BohbParams | None = None) -> None:
        super().__init__(params)
        self._bracket = -1
        self._rung: _Rung | None = None
        self._observations: list[list[tuple[Architecture, float]]] = []
        self._best: list[Incumbent] = []

    def setup(self, space: SearchSpace, rng: np.random.Generator,
              context: StrategyContext) -> None:
        super().setup(space, rng, context)
        fidelities = tuple(sorted(context.fidelities))
        self._levels: tuple[float | None, ...] = fidelities if len(fidelities) > 1 else (None,)
        self._params = ArchitectureParams(space)
        self._samplers = [
            make_sampler("tpe", int(rng.integers(2**31)), n_startup_trials=0,
                         multivariate=self.params.multivariate)
            for _ in self._levels
        ]
        self._studies: list[optuna.Study] = [new_study(s) for s in self._samplers]
        self._observations = [[] for _ in self._levels]
        self._best = [Incumbent() for _ in self._levels]

    # -- the Hyperband schedule ----------------------------------------------------------------
    @property
    def _s_max(self) -> int:
        return len(self._levels) - 1

    def _rung_size(self, bracket: int, step: int) -> int:
        """Architectures in rung ``step`` of bracket ``bracket`` (Li et al. 2018)."""
        eta = self.params.eta
        first = math.ceil((self._s_max + 1) / (bracket + 1) * eta**bracket)
        return max(1, math.floor(first * eta ** (-step)))

    def _next_rung(self) -> _Rung:
        rung = self._rung
        if rung is not None and rung.level < self._s_max:
            step = rung.level - (self._s_max - self._bracket) + 1
            size = self._rung_size(self._bracket, step)
            ranked = sorted(range(len(rung.observed)), key=lambda i: -rung.observed[i][1])
            promoted = [rung.observed[i][0] for i in sorted(ranked[:size])]
            return _Rung(rung.level + 1, size, list(promoted), [])
        self._bracket = self._bracket - 1 if self._bracket > 0 else self._s_max
        size = self._rung_size(self._bracket, 0)
        return _Rung(self._s_max - self._bracket, size, [None] * size, [])

    # -- proposals ------------------------------------------------------------------------------
    def _min_points(self) -> int:
        if self.params.min_points_in_model is not None:
            return self.params.min_points_in_model
        seen = next((obs for obs in self._observations if obs), None)
        return len(seen[0][0]) + 1 if seen else 1

    def _propose(self) -> Architecture:
        if self.rng.random() >= self.params.random_fraction:
            enough = self._min_points()
            for level in reversed(range(len(self._levels))):
                if len(self._observations[level]) >= enough:
                    return self._from_model(level)
        return self.space.sample(self.rng)

    def _from_model(self, level: int) -> Architecture:
        import optuna

        study = self._studies[level]
        trial, arch = self._params.ask(study, lambda: self.space.sample(self.rng))
        # The proposal is evaluated at the bracket's first rung, not necessarily at this
        # fidelity: close it unobserved (optuna's TPE ignores failed trials).
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return arch

    def ask(self) -> Trial:
        rung = self._rung
        if rung is None or (not rung.to_ask and len(rung.observed) >= rung.size):
            rung = self._rung = self._next_rung()
        if not rung.to_ask:
            raise RuntimeError("bohb proposes synchronously: tell the last trial first")
        arch = rung.to_ask.pop(0)
        if arch is None:
            arch = self._propose()
        return Trial(arch, self._levels[rung.level])

    def tell(self, trial: Trial, observation: Observation) -> None:
        rung = self._rung
        if rung is None:
            raise ValueError("bohb was told about a trial it did not ask")
        value = observation.value if observation.value is not None else _FAILED
        rung.observed.append((trial.arch, value))
        if observation.value is not None:
            self._observations[rung.level].append((trial.arch, observation.value))
            self._params.add_observation(self._studies[rung.level], trial.arch,
                                         observation.value)
        self._best[rung.level].update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        for best in reversed(self._best):
            if best.arch is not None:
                return best.arch
        return None


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(Bohb)
