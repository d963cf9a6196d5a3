"""Hook specifications: how plugins extend nasbench.

A plugin is any module or object with functions marked ``@hookimpl`` and named after the hooks
below. nasbench finds plugins through the ``nasbench`` entry-point group, so a package that
declares::

    [project.entry-points.nasbench]
    my_plugin = "my_package.plugin"

is picked up as soon as it is installed, with no change to nasbench. Built-in plugins are
registered through the same group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse

    from nasbench.registry import Registry

PROJECT = "nasbench"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def nasbench_register_spaces(registry: Registry) -> None:
    """Add :class:`~nasbench.api.SearchSpace` subclasses with ``registry.add(cls)``."""


@hookspec
def nasbench_register_strategies(registry: Registry) -> None:
    """Add :class:`~nasbench.api.Strategy` subclasses with ``registry.add(cls)``."""


@hookspec
def nasbench_register_evaluators(registry: Registry) -> None:
    """Add :class:`~nasbench.api.Evaluator` subclasses with ``registry.add(cls)``."""


@hookspec
def nasbench_register_benchmarks(registry: Registry) -> None:
    """Add :class:`~nasbench.api.Benchmark` subclasses with ``registry.add(cls)``."""


@hookspec
def nasbench_register_datasets(registry: Registry) -> None:
    """Add :class:`~nasbench.api.Dataset` subclasses with ``registry.add(cls)``."""


@hookspec
def nasbench_register_importers(registry: Registry) -> None:
    """Add :class:`~nasbench.data.importers.Importer` subclasses with ``registry.add(cls)``:
    converters of official benchmark releases, run by ``nasbench data import NAME SOURCE``."""


@hookspec
def nasbench_add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add sub-commands to the ``nasbench`` command line.

    Each parser should ``set_defaults(handler=callable)``; the handler receives the parsed
    namespace and returns an exit code.
    """


@hookspec
def nasbench_trial_finished(run_id: str, record: dict[str, Any]) -> None:
    """Called after every trial is recorded, with the row written to ``trials.parquet``.

    Observers (dashboards, loggers) use it; it must not change anything. It is only called
    when at least one plugin implements it, so it costs nothing otherwise.
    """
