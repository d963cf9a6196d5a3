"""Drawing architectures that satisfy every rule of a space.

A space's decision walk (``next_decision``) may not express every rule of the space, and
optuna's samplers cannot honour a decision's ``excluded`` choices (DARTS's walk excludes a
node's first input from its second). A strategy that builds architectures decision by decision
therefore draws again until the space accepts the draw, as ``SearchSpace.sample`` does.
"""

from __future__ import annotations

from collections.abc import Callable

from nasbench.api import Architecture, SearchSpace

MAX_DRAWS = 1000
"""Draws in a row that may all be invalid before a strategy gives up."""


def draw_valid(space: SearchSpace, draw: Callable[[], Architecture], who: str) -> Architecture:
    """The first architecture ``draw`` returns that the space accepts."""
    for _ in range(MAX_DRAWS):
        arch = draw()
        if space.is_valid(arch):
            return arch
    raise RuntimeError(
        f"{who}: {MAX_DRAWS} draws in a row were not architectures of space '{space.name}'; "
        "the space's decisions admit far more invalid sequences than valid ones"
    )
