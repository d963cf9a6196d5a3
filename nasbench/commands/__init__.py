"""The sub-commands of the ``nasbench`` command line, one module each.

Every module named in :data:`COMMAND_MODULES` exposes ``add_parser(subparsers)``, which adds its
sub-command(s) and sets ``handler`` to a callable taking the parsed namespace and returning an
exit code. :mod:`nasbench.cli` only wires them. Parsers are built for every command, ``nasbench
list`` included, so command modules import nothing heavy at module level: handlers import what
they need. Plugin packages add commands through the ``nasbench_add_cli_commands`` hook instead.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

COMMAND_MODULES: tuple[str, ...] = (
    "listing",
    "space",
    "run",
    "analysis",
    "suite",
    "data",
    "expressions",
    "protocols",
    "zero_cost",
    "latency",
    "upgrade",
    "sweep",
    "verify",
)
"""Modules of :mod:`nasbench.commands`, in the order their commands appear in ``--help``."""


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add every built-in sub-command to ``subparsers``."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").add_parser(subparsers)


def plugins(args: argparse.Namespace) -> Any:
    """The loaded plugins, from the plugin manager :func:`nasbench.cli.main` built."""
    from nasbench.registry import load_plugins

    return load_plugins(args.plugin_manager)
