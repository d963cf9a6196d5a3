"""``nasbench latency build|check``: per-operation latency lookup tables of a space."""

from __future__ import annotations

import argparse
import json

from nasbench.commands import plugins as _plugins
from nasbench.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("latency", help="build or check a per-operation latency lookup table")
    verbs = p.add_subparsers(dest="verb", required=True)
    b = verbs.add_parser("build", help="measure a space's operations on this machine")
    b.add_argument("space", help="nb201 or darts")
    b.add_argument("--out", required=True, help="JSON file to write")
    b.add_argument("--size", action="append", default=[], metavar="KEY=INT",
                   help="network size key, e.g. --size C=16 --size N=5 (repeatable)")
    b.add_argument("--input-shape", default="3,32,32", help="one example's shape (3,32,32)")
    b.add_argument("--num-classes", type=int, default=10)
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--runs", type=int, default=20, help="timed passes (median)")
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--references", type=int, default=5,
                   help="sampled networks measured whole to fix the fixed cost")
    b.add_argument("--threads", type=int, default=1)
    b.set_defaults(handler=cmd_build)
    c = verbs.add_parser("check", help="predicted against measured latency of sampled networks")
    c.add_argument("table", help="a table written by 'nasbench latency build'")
    c.add_argument("--samples", type=int, default=50)
    c.add_argument("--runs", type=int, default=10)
    c.add_argument("--warmup", type=int, default=2)
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--pairs", action="store_true", help="print every (predicted, measured)")
    c.set_defaults(handler=cmd_check)


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"{what} must be integers separated by commas, got {text!r}") from None


def _size(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--size takes KEY=INT, got {item!r}")
        out[key] = _ints(value, f"--size {key}")[0]
    return out


def cmd_build(args: argparse.Namespace) -> int:
    from nasbench.latency_table import SPACES, build_table

    if args.space not in SPACES:
        raise UserError(f"no latency table for space '{args.space}'; spaces with one: "
                        f"{', '.join(SPACES)}")
    for name in ("batch", "runs", "threads"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be at least 1")
    space = _plugins(args).spaces.get(args.space, "space")()
    table = build_table(space, size=_size(args.size),
                        input_shape=_ints(args.input_shape, "--input-shape"),
                        num_classes=args.num_classes, batch=args.batch, runs=args.runs,
                        warmup=args.warmup, references=args.references, threads=args.threads)
    table.save(args.out)
    print(f"wrote {args.out}: {args.space}, batch {table.batch}, fixed {table.fixed_ms:.2f} ms, "
          f"{table.settings['seconds']} s")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from nasbench.latency_table import LatencyTable, compare

    table = LatencyTable.load(args.table, key="table")
    if args.samples < 2:
        raise UserError("--samples must be at least 2 (a rank correlation needs pairs)")
    space = _plugins(args).spaces.get(table.space, "space")()
    out = compare(space, table, samples=args.samples, runs=args.runs, warmup=args.warmup,
                  seed=args.seed, threads=args.threads)
    if not args.pairs:
        out.pop("pairs")
    print(json.dumps(out, indent=2))
    return 0
