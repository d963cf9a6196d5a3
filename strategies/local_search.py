"""Local search: hill climbing over the one-mutation neighbourhood, restarted at local optima.

The strong simple baseline of White, Nolen & Savani ("Exploring the loss landscape in neural
architecture search", UAI 2021; naszilla's ``local_search``): start from the best of a few
random architectures, evaluate every neighbour one mutation away (``space.neighbours``), move
to the best neighbour if it beats the current architecture, and when none does (a local
optimum) start again from the best of fresh random samples.

Neighbours are visited in a random order (the budget may end half-way through a neighbourhood)
and an architecture already evaluated in the run is not proposed again: its value is known.
A failed evaluation counts as the worst value. The answer is the best architecture seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.api import Architecture, Observation, Strategy, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param

_FAILED = float("-inf")
_MAX_SAMPLE_TRIES = 1000


@dataclass(frozen=True)
class LocalSearchParams:
    initial_samples: int = param(
        10, doc="random architectures evaluated to pick each (re)start point", ge=1,
        published="naszilla local_search: num_init = 10",
    )


class LocalSearch(Strategy):
    """Best-improvement hill climbing with random restarts."""

    name: ClassVar[str] = "local_search"
    summary: ClassVar[str] = "hill climbing over one-mutation neighbours, random restarts"
    Params: ClassVar[type] = LocalSearchParams

    def __init__(self, params: LocalSearchParams | None = None) -> None:
        super().__init__(params)
        self._seen: dict[Architecture, float] = {}
        self._current: Architecture | None = None
        self._queue: list[Architecture] = []
        self._restart_left = self.params.initial_samples
        self._restart_best: Architecture | None = None
        self._best = Incumbent()
        self.local_optima: list[Architecture] = []
        """The local optima the search restarted from, in order."""

    # -- choosing what comes next ----------------------------------------------------------
    def _fresh_sample(self) -> Architecture:
        """A random architecture not evaluated yet (any one, once the space is nearly spent)."""
        arch = self.space.sample(self.rng)
        for _ in range(_MAX_SAMPLE_TRIES):
            if arch not in self._seen:
                break
            arch = self.space.sample(self.rng)
        return arch

    def _climb_from(self, start: Architecture) -> None:
        self._current = start
        neighbours = [n for n in self.space.neighbours(start) if n not in self._seen]
        order = self.rng.permutation(len(neighbours)).tolist()
        self._queue = [neighbours[i] for i in order]

    def _restart(self) -> None:
        self._current = None
        self._queue = []
        self._restart_left = self.params.initial_samples
        self._restart_best = None

    def ask(self) -> Trial:
        while True:
            if self._restart_left > 0:
                return Trial(self._fresh_sample())
            if self._current is None:  # the restart's samples are all in: climb
                assert self._restart_best is not None
                self._climb_from(self._restart_best)
            elif self._queue:
                candidate = self._queue.pop()
                if candidate not in self._seen:
                    return Trial(candidate)
            else:
                self._step()

    def _step(self) -> None:
        """The neighbourhood is evaluated: move to its best member, or restart."""
        assert self._current is not None
        current_value = self._seen[self._current]
        best = max(self.space.neighbours(self._current),
                   key=lambda n: self._seen.get(n, _FAILED))
        if self._seen.get(best, _FAILED) > current_value:
            self._climb_from(best)
        else:
            self.local_optima.append(self._current)
            self._restart()

    def tell(self, trial: Trial, observation: Observation) -> None:
        arch = trial.arch
        value = observation.value if observation.value is not None else _FAILED
        self._seen.setdefault(arch, value)
        self._best.update(arch, observation)
        if self._restart_left > 0:
            self._restart_left -= 1
            if self._restart_best is None or value > self._seen[self._restart_best]:
                self._restart_best = arch

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {
            "seen": [[list(a), v] for a, v in self._seen.items()],
            "current": list(self._current) if self._current is not None else None,
            "queue": [list(a) for a in self._queue],
            "restart_left": self._restart_left,
            "restart_best": (list(self._restart_best) if self._restart_best is not None
                             else None),
            "best": self._best.state_dict(),
            "local_optima": [list(a) for a in self.local_optima],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._seen = {tuple(a): float(v) for a, v in state["seen"]}
        self._current = tuple(state["current"]) if state["current"] is not None else None
        self._queue = [tuple(a) for a in state["queue"]]
        self._restart_left = int(state["restart_left"])
        rb = state["restart_best"]
        self._restart_best = tuple(rb) if rb is not None else None
        self._best.load_state_dict(state["best"])
        self.local_optima = [tuple(a) for a in state["local_optima"]]


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(LocalSearch)
