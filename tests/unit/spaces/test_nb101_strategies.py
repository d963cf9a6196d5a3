"""Every black-box strategy searches the NAS-Bench-101 space (its 26 declared decisions):
valid proposals, replayable, resumable (the conformance kit)."""

from __future__ import annotations

import pytest
from nasbench.spaces.nb101 import Nb101Space

from nasbench.registry import load_plugins
from nasbench.testing import check_strategy

_PLUGINS = load_plugins()
_BLACK_BOX = [n for n in _PLUGINS.strategies.names()
              if "supernet" not in _PLUGINS.strategies.get(n).requires]


@pytest.mark.parametrize("name", _BLACK_BOX)
def test_strategy_searches_nb101(name: str) -> None:
    space = Nb101Space()

    def objective(arch: tuple[int, ...]) -> float:  # depends on the cell, not its encoding
        return int(space.arch_key(arch)[:6], 16) / 0xFFFFFF

    check_strategy(_PLUGINS.strategies.get(name), space, objective=objective, n_trials=20)
