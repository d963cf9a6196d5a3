"""``nasbench space NAME``: a search space as JSON."""

from __future__ import annotations

import argparse
import json

from nasbench.commands import plugins as _plugins


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("space", help="describe a search space as JSON")
    p.add_argument("name", metavar="NAME", help="registry name of the space (see 'nasbench list')")
    p.add_argument("--no-unique", action="store_true",
                   help="skip counting distinct architectures (enumerates the space)")
    p.set_defaults(handler=cmd_space)


def cmd_space(args: argparse.Namespace) -> int:
    plugins = _plugins(args)
    space = plugins.spaces.get(args.name, "space")()
    out = space.describe()
    if "enumerate" in space.capabilities and not args.no_unique:
        out["unique"] = len({space.arch_key(a) for a in space.enumerate()})
    print(json.dumps(out, indent=2))
    return 0
