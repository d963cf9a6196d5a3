"""The registry: built-ins arrive through entry points, duplicates are refused with both
sources named, unknown names list what is available."""

from __future__ import annotations

import pytest
from nasbench.strategies.random_search import RandomSearch

from nasbench.api import Strategy
from nasbench.errors import ConfigError
from nasbench.hookspecs import hookimpl
from nasbench.registry import DuplicatePluginError, load_plugins, make_plugin_manager


def test_builtins_come_from_the_nasbench_distribution() -> None:
    plugins = load_plugins()
    record = plugins.strategies.record("aging_evolution")
    assert record.source.distribution == "nasbench"
    assert record.source.plugin == "aging_evolution"
    assert {"nb201", "nbgraph"} <= set(plugins.spaces.names())
    assert "tabular" in plugins.evaluators
    assert "nasbench" in plugins.distributions()


def test_duplicate_registration_names_both_sources() -> None:
    class Clash(RandomSearch):
        pass

    class Plugin:
        @hookimpl
        def nasbench_register_strategies(self, registry):
            registry.add(Clash)

    pm = make_plugin_manager(plugins=[Plugin()])
    with pytest.raises(DuplicatePluginError) as info:
        load_plugins(pm)
    text = str(info.value)
    assert "random_search" in text and "nasbench" in text and "Clash" in text


def test_unknown_name_lists_available() -> None:
    plugins = load_plugins()
    with pytest.raises(ConfigError) as info:
        plugins.strategies.get("agingevo", "strategies[0].name")
    assert "aging_evolution" in str(info.value) and "nasbench list" in str(info.value)
    assert info.value.key == "strategies[0].name"


def test_registry_refuses_bad_classes() -> None:
    registry = load_plugins().strategies

    class NoName(Strategy):
        name = "Bad Name"

    with pytest.raises(TypeError, match="lower_snake"):
        registry.add(NoName)
    with pytest.raises(TypeError, match="subclass"):
        registry.add(int)  # type: ignore[arg-type]


def test_each_load_is_independent() -> None:
    # A plugin manager is built by a factory, never at import: two loads share no state.
    a, b = load_plugins(), load_plugins()
    assert a.manager is not b.manager
    assert a.strategies.names() == b.strategies.names()
