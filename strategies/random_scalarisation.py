"""Random scalarisations (ParEGO's, Knowles 2006) driving an evolutionary search.

Each proposal draws a weight vector uniformly from the simplex, normalises every objective to
[0, 1] over what the run has observed, and scores each observed architecture with ParEGO's
augmented Chebyshev scalarisation ``min_j(w_j f_j) + rho * sum_j(w_j f_j)`` (objectives
maximised; ParEGO's ``max`` over minimised costs, mirrored). The best of a tournament of S
observed architectures under that score is mutated once. ParEGO fits a Gaussian process to the
scalarised values; here the scalarisation steers a mutation instead, so that a proposal costs
microseconds on a table. The first ``n_startup`` proposals are uniform draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.api import Architecture, Observation, Strategy, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param


@dataclass(frozen=True)
class RandomScalarisationParams:
    n_startup: int = param(10, doc="uniform draws before scalarisations steer the search", ge=1)
    sample_size: int = param(10, doc="S: observed architectures drawn per tournament", ge=1)
    rho: float = param(0.05, doc="weight of the augmentation term", ge=0,
                       published="Knowles 2006 (ParEGO): 0.05")


class RandomScalarisation(Strategy):
    name: ClassVar[str] = "random_scalarisation"
    summary: ClassVar[str] = "ParEGO's random Chebyshev scalarisations steering mutations"
    Params: ClassVar[type] = RandomScalarisationParams
    multi_objective: ClassVar[bool] = True

    def __init__(self, params: RandomScalarisationParams | None = None) -> None:
        super().__init__(params)
        self._history: list[tuple[Architecture, tuple[float, ...]]] = []
        self._asked = 0
        self._best = Incumbent()

    def ask(self) -> Trial:
        p = self.params
        self._asked += 1
        if self._asked <= p.n_startup or not self._history:
            return Trial(self.space.sample(self.rng))
        k = len(self._history[0][1])
        weights = self.rng.dirichlet([1.0] * k).tolist()  # uniform on the simplex
        lo = [min(v[j] for _, v in self._history) for j in range(k)]
        hi = [max(v[j] for _, v in self._history) for j in range(k)]
        n = len(self._history)
        idx = sorted({int(u * n) for u in self.rng.random(p.sample_size).tolist()})

        def score(i: int) -> tuple[float, int]:
            v = self._history[i][1]
            f = [(v[j] - lo[j]) / (hi[j] - lo[j]) if hi[j] > lo[j] else 1.0 for j in range(k)]
            wf = [w * x for w, x in zip(weights, f, strict=True)]
            return min(wf) + p.rho * sum(wf), i

        parent = max(idx, key=score)
        return Trial(self.space.mutate(self._history[parent][0], self.rng))

    def tell(self, trial: Trial, observation: Observation) -> None:
        if observation.objectives is not None:
            self._history.append((trial.arch, tuple(observation.objectives)))
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {"history": [[list(a), list(v)] for a, v in self._history],
                "asked": self._asked, "best": self._best.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._history = [(tuple(a), tuple(float(x) for x in v)) for a, v in state["history"]]
        self._asked = int(state["asked"])
        self._best.load_state_dict(state["best"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(RandomScalarisation)
