"""The best architecture seen so far, by the search metric: what most strategies recommend."""

from __future__ import annotations

from typing import Any

from nasbench.api import Architecture, Observation


class Incumbent:
    """Keeps the first architecture with the highest observed value.

    Ties keep the earlier one, so that a run's answer does not depend on evaluation noise
    below the metric's resolution.
    """

    __slots__ = ("arch", "value")

    def __init__(self) -> None:
        self.arch: Architecture | None = None
        self.value: float | None = None

    def update(self, arch: Architecture, observation: Observation) -> None:
        v = observation.value
        if v is not None and (self.value is None or v > self.value):
            self.arch, self.value = arch, v

    def state_dict(self) -> dict[str, Any]:
        return {"arch": list(self.arch) if self.arch is not None else None, "value": self.value}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        arch = state["arch"]
        self.arch = tuple(arch) if arch is not None else None
        self.value = state["value"]
