"""``nasbench upgrade DIR``: convert a results directory written by an earlier version."""

from __future__ import annotations

import argparse
from pathlib import Path

from nasbench.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "upgrade", help="convert a results directory of an earlier version to this one's layout",
        description="Convert a results directory of results format 1 (a log per run under "
        "runs/) to format 2 (one study.log), so that it can be resumed and reported on.")
    p.add_argument("directory", metavar="DIR", help="the results directory")
    p.set_defaults(handler=cmd_upgrade)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from nasbench.store import RESULTS_FORMAT, Layout, exclusive, upgrade_layout

    root = Path(args.directory)
    if not Layout(root).manifest.is_file():
        raise UserError(f"{root} is not a results directory (it has no manifest.json); give "
                        "the --out directory of a 'nasbench run'.")
    with exclusive(Layout(root).lock) as mine:
        if not mine:
            raise UserError(f"another nasbench process is writing {root}; wait for it to end.")
        n = upgrade_layout(root)
    if n:
        print(f"converted {n} per-run logs of {root} to results format {RESULTS_FORMAT} "
              "(study.log)")
    else:
        print(f"{root} is already in results format {RESULTS_FORMAT}; nothing to do")
    return 0
