"""The ``nasbench`` command line: wires the sub-commands of :mod:`nasbench.commands`.

``nasbench list`` and ``nasbench space`` import neither torch nor Lightning; every heavy import
happens inside the command that needs it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from nasbench.errors import UserError


def build_parser(plugins_pm: Any = None) -> argparse.ArgumentParser:
    from nasbench import __version__
    from nasbench.commands import add_commands

    parser = argparse.ArgumentParser(
        prog="nasbench",
        description="Benchmark neural architecture search strategies under one protocol.",
    )
    parser.add_argument("--version", action="version", version=f"nasbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    add_commands(sub)
    if plugins_pm is not None:
        # One plugin's broken command must not take the others (and nasbench's own) down.
        for impl in plugins_pm.hook.nasbench_add_cli_commands.get_hookimpls():
            try:
                impl.function(subparsers=sub)
            except Exception as err:  # anything a broken plugin raises
                print(f"nasbench: warning: the commands of plugin '{impl.plugin_name}' are "
                      f"unavailable: {type(err).__name__}: {err}", file=sys.stderr)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasbench`` command."""
    from nasbench.registry import make_plugin_manager

    try:
        pm = make_plugin_manager()
        parser = build_parser(pm)
        parser.set_defaults(plugin_manager=pm)
        args = parser.parse_args(argv)
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except UserError as err:
        print(f"nasbench: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("nasbench: interrupted; finished trials are saved. Continue with "
              "'nasbench run --resume --out DIR STUDY.toml'.", file=sys.stderr)
        return 130


def _closed_pipe() -> int:
    """The reader of our output went away (``nasbench list | head``): stop quietly.

    Later writes (and the interpreter's final flush) go to the null device, so no second
    error is printed; the exit status is the shell's for a process ended by SIGPIPE.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (embedded use)
        pass
    return 128 + 13


if __name__ == "__main__":
    sys.exit(main())
