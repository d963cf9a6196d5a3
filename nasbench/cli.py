"""The ``nasbench`` command line: wires the sub-commands of :mod:`nasbench.commands`.

``nasbench list`` and ``nasbench space`` import neither torch nor Lightning; every heavy import
happens inside the command that needs it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from nasbench.errors import UserError


def build_parser(plugins_pm: Any = None) -> argparse.ArgumentParser:
    from nasbench.commands import add_commands

    parser = argparse.ArgumentParser(
        prog="nasbench",
        description="Benchmark neural architecture search strategies under one protocol.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    add_commands(sub)
    if plugins_pm is not None:
        plugins_pm.hook.nasbench_add_cli_commands(subparsers=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasbench`` command."""
    from nasbench.registry import make_plugin_manager

    try:
        pm = make_plugin_manager()
        parser = build_parser(pm)
        parser.set_defaults(plugin_manager=pm)
        args = parser.parse_args(argv)
        return int(args.handler(args) or 0)
    except UserError as err:
        print(f"nasbench: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("nasbench: interrupted; finished trials are saved. Continue with "
              "'nasbench run --resume --out DIR STUDY.toml'.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
