"""Plugin registries and the plugin manager factory.

``load_plugins()`` builds a fresh :class:`pluggy.PluginManager`, loads every plugin from the
``nasbench`` entry-point group (built-ins included), and asks each to register its spaces,
strategies, evaluators, benchmarks and datasets. Each registration remembers which distribution
provided it; a second registration of a name is refused with both sources named.

A plugin package that fails to import (or whose registration raises) is recorded as a
:class:`BrokenPlugin`, naming its distribution and the error, and left out: ``nasbench list``
shows it, every command works, and a study that names something only it could have provided
gets an error that names it.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pluggy

from nasbench import hookspecs
from nasbench.api import Benchmark, Dataset, Evaluator, SearchSpace, Strategy
from nasbench.data.importers import Importer
from nasbench.errors import ConfigError, UserError, available

T = TypeVar("T")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class DuplicatePluginError(UserError):
    """Two plugins registered the same name."""


@dataclass(frozen=True, slots=True)
class BrokenPlugin:
    """A plugin of the ``nasbench`` entry-point group that could not be loaded.

    Attributes:
        name: the entry point's name.
        target: what it points at (``package.module``).
        distribution: the installed package that declares it, and its version.
        error: the exception, as ``Type: message``.
    """

    name: str
    target: str
    distribution: str
    version: str
    error: str

    def __str__(self) -> str:
        return (f"plugin '{self.name}' ({self.target}) of package {self.distribution} "
                f"{self.version} failed to load: {self.error}")


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering the plugins that failed to load."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.broken: list[BrokenPlugin] = []


@dataclass(frozen=True, slots=True)
class PluginSource:
    """Where a registration came from: the plugin's name and its distribution."""

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        if self.distribution:
            return f"{self.distribution} {self.version} ({self.plugin})"
        return self.plugin


@dataclass(frozen=True, slots=True)
class PluginRecord(Generic[T]):
    """One registered plugin class and where it came from."""

    kind: str
    name: str
    cls: type[T]
    source: PluginSource

    @property
    def summary(self) -> str:
        return getattr(self.cls, "summary", "") or ""


class Registry(Generic[T]):
    """Name -> plugin class for one kind of plugin. Refuses duplicates."""

    def __init__(self, kind: str, base: type[T]) -> None:
        self.kind = kind
        self.base = base
        self._records: dict[str, PluginRecord[T]] = {}
        self._source = PluginSource("<direct>", "", "")
        self.broken: tuple[BrokenPlugin, ...] = ()
        """Plugins that failed to load: an unknown name may be one of theirs."""

    def _broken_hint(self) -> str:
        if not self.broken:
            return ""
        names = "; ".join(str(b) for b in self.broken)
        return (f" It may come from a plugin that failed to load: {names}. Fix or uninstall "
                "that package.")

    def add(self, cls: type[T]) -> type[T]:
        """Register ``cls`` under ``cls.name``; returns ``cls`` so it works as a decorator."""
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"{self.kind} plugins must subclass {self.base.__name__}: {cls!r}")
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not _NAME.match(name):
            raise TypeError(
                f"{cls.__qualname__}.name must be a lower_snake registry name, got {name!r}"
            )
        if name in self._records:
            first = self._records[name]
            raise DuplicatePluginError(
                f"{self.kind} '{name}' is registered twice: by {first.source} "
                f"({first.cls.__module__}.{first.cls.__qualname__}) and by {self._source} "
                f"({cls.__module__}.{cls.__qualname__}). Uninstall one of the two packages "
                f"or rename one of the plugins."
            )
        self._records[name] = PluginRecord(self.kind, name, cls, self._source)
        return cls

    def get(self, name: str, key: str = "") -> type[T]:
        """The class registered as ``name``; a :class:`ConfigError` naming ``key`` if none."""
        return self.record(name, key).cls

    def record(self, name: str, key: str = "") -> PluginRecord[T]:
        if not isinstance(name, str):
            raise ConfigError(key or self.kind, f"expected the name of a {self.kind}, got "
                              f"{name!r}", f"Available: {available(self._records)}.")
        try:
            return self._records[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._records), n=1)
            hint = f"Did you mean '{close[0]}'? " if close else ""
            raise ConfigError(
                key or self.kind,
                f"unknown {self.kind} '{name}'; available: {available(self._records)}",
                f"{hint}See 'nasbench list'.{self._broken_hint()}",
            ) from None

    def names(self) -> list[str]:
        return sorted(self._records)

    def __contains__(self, name: object) -> bool:
        return name in self._records

    def __iter__(self) -> Iterator[PluginRecord[T]]:
        return iter(sorted(self._records.values(), key=lambda r: r.name))

    def __len__(self) -> int:
        return len(self._records)


@dataclass(frozen=True)
class Plugins:
    """Every registry, built from one plugin manager."""

    manager: pluggy.PluginManager
    spaces: Registry[SearchSpace]
    strategies: Registry[Strategy]
    evaluators: Registry[Evaluator]
    benchmarks: Registry[Benchmark]
    datasets: Registry[Dataset]
    importers: Registry[Any] | None = None
    broken: tuple[BrokenPlugin, ...] = ()
    """Plugins that failed to load (see ``nasbench list``)."""

    def registries(self) -> dict[str, Registry[Any]]:
        return {
            "space": self.spaces,
            "strategy": self.strategies,
            "evaluator": self.evaluators,
            "benchmark": self.benchmarks,
            "dataset": self.datasets,
            **({"importer": self.importers} if self.importers is not None else {}),
        }

    def distributions(self) -> dict[str, str]:
        """Distribution name -> version of every loaded plugin package."""
        from nasbench.provenance import name_version

        out = {}
        for _plugin, dist in self.manager.list_plugin_distinfo():
            name, version = name_version(dist)
            out[name or "?"] = version
        return dict(sorted(out.items()))


def make_plugin_manager(
    *, entry_points: bool = True, plugins: Iterable[object] = ()
) -> PluginManager:
    """A new plugin manager with nasbench's hookspecs.

    Args:
        entry_points: load every plugin of the ``nasbench`` entry-point group; one that fails
            to import is left out and recorded in ``broken``.
        plugins: extra plugin objects to register (tests, embedding applications).
    """
    pm = PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if entry_points:
        _block_broken(pm)
        pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    for plugin in plugins:
        pm.register(plugin)
    return pm


def _block_broken(pm: PluginManager) -> None:
    """Import every plugin of the entry-point group; block and record those that fail, so
    that pluggy's loader (which stops at the first failure) loads the others."""
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != hookspecs.PROJECT or pm.is_blocked(ep.name):
                continue
            try:
                ep.load()
            except Exception as err:  # anything a broken package raises at import
                pm.set_blocked(ep.name)
                pm.broken.append(BrokenPlugin(
                    ep.name, ep.value, dist.metadata["name"] or "?", dist.version or "",
                    f"{type(err).__name__}: {err}"))


_HOOKS = {
    "space": "nasbench_register_spaces",
    "strategy": "nasbench_register_strategies",
    "evaluator": "nasbench_register_evaluators",
    "benchmark": "nasbench_register_benchmarks",
    "dataset": "nasbench_register_datasets",
    "importer": "nasbench_register_importers",
}


def _sources(pm: pluggy.PluginManager) -> dict[int, PluginSource]:
    from nasbench.provenance import name_version

    # the head of each metadata file, not dist.metadata (which parses the whole file as an
    # e-mail message, twice per plugin with dist.version: a tenth of load_plugins' time)
    by_plugin = {id(p): name_version(d) for p, d in pm.list_plugin_distinfo()}
    out = {}
    for name, plugin in pm.list_name_plugin():
        dist, version = by_plugin.get(id(plugin), ("", ""))
        out[id(plugin)] = PluginSource(name, dist or "", version)
    return out


def load_plugins(pm: pluggy.PluginManager | None = None) -> Plugins:
    """Build every registry from ``pm`` (default: a new manager over the entry points)."""
    pm = pm if pm is not None else make_plugin_manager()
    registries: dict[str, Registry[Any]] = {
        "space": Registry("space", SearchSpace),
        "strategy": Registry("strategy", Strategy),
        "evaluator": Registry("evaluator", Evaluator),
        "benchmark": Registry("benchmark", Benchmark),
        "dataset": Registry("dataset", Dataset),
        "importer": Registry("importer", Importer),
    }
    sources = _sources(pm)
    broken = list(getattr(pm, "broken", ()))
    failed: set[str] = set()
    for kind, hook_name in _HOOKS.items():
        registry = registries[kind]
        # Call each implementation on its own so that every registration knows its source.
        for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
            source = sources.get(id(impl.plugin), PluginSource(impl.plugin_name, "", ""))
            if source.plugin in failed:
                continue
            registry._source = source
            try:
                impl.function(registry=registry)
            except UserError:
                raise
            except Exception as err:  # a registration that imports something missing
                failed.add(source.plugin)
                broken.append(BrokenPlugin(source.plugin, impl.plugin_name, source.distribution
                                           or "?", source.version, f"{type(err).__name__}: {err}"))
        registry._source = PluginSource("<direct>", "", "")
    for registry in registries.values():
        registry.broken = tuple(broken)
    return Plugins(
        manager=pm,
        spaces=registries["space"],
        strategies=registries["strategy"],
        evaluators=registries["evaluator"],
        benchmarks=registries["benchmark"],
        datasets=registries["dataset"],
        importers=registries["importer"],
        broken=tuple(broken),
    )
