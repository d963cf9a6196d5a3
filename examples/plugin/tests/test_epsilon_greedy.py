"""The plugin's own tests: nasbench's conformance kit does the heavy lifting."""

from __future__ import annotations

from nasbench.spaces.nb201 import Nb201Space
from nasbench_example_plugin.epsilon_greedy import EpsilonGreedy

from nasbench.testing import check_strategy


def test_conforms() -> None:
    check_strategy(EpsilonGreedy, Nb201Space())


def test_is_discovered(nasbench_plugins) -> None:
    record = nasbench_plugins.strategies.record("epsilon_greedy")
    assert record.source.distribution == "nasbench-example-plugin"
