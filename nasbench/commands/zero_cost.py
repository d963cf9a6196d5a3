"""``nasbench zero-cost validate``: nasbench's zero-cost proxies against published scores.

The study is built by :mod:`nasbench.zero_cost_validation` and reported by
:mod:`nasbench.results.zero_cost_study`; this module only parses the command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nasbench.commands import _common
from nasbench.commands import plugins as _plugins
from nasbench.errors import UserError

MIN_CELLS = 4
"""Fewest cells a validation scores. A rank correlation needs three cells with finite scores,
and the spread always includes the worst cell, which has no path from input to output and
which synflow therefore scores -inf."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("zero-cost", help="zero-cost proxies: validation against published "
                       "scores")
    zc = p.add_subparsers(dest="zero_cost_command", metavar="COMMAND")
    zc.required = True
    v = zc.add_parser("validate", help="score NAS-Bench-Suite-Zero's 725 NAS-Bench-201 cells "
                      "with nasbench's proxies and correlate them with the published scores "
                      "and accuracy")
    add_validate_arguments(v)
    v.set_defaults(handler=cmd_validate)


def add_validate_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``nasbench zero-cost validate``."""
    _common.add_out_resume(p, "runs/zero_cost/<dataset>")
    p.add_argument("--dataset", default="fashion_mnist", metavar="NAME",
                   help="where the data-based proxies draw their minibatch (default "
                   "fashion_mnist; cifar10 where installed)")
    p.add_argument("--proxies", default="all", metavar="LIST",
                   help="comma-separated proxies, or 'all' (default); e.g. synflow,params,flops "
                   "reads no data")
    p.add_argument("--cells", type=int, default=725, metavar="N",
                   help=f"score this many cells ({MIN_CELLS} to 725), evenly spread over the "
                   "published ranking (default: all 725)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where networks are scored (default auto)")
    p.add_argument("--threads", default="auto", metavar="N",
                   help="torch threads (default auto: every core)")
    _common.add_data_dir(p)


def cmd_validate(args: argparse.Namespace) -> int:
    from nasbench.evaluators.zero_cost import PROXIES
    from nasbench.results.zero_cost_study import write_validation_report
    from nasbench.run import run_study
    from nasbench.zero_cost_validation import validation_study

    plugins = _plugins(args)
    data_dir = _common.data_dir(args)
    proxies = list(PROXIES) if args.proxies == "all" else \
        [p.strip() for p in args.proxies.split(",") if p.strip()]
    unknown = [p for p in proxies if p not in PROXIES]
    if unknown or not proxies:
        raise UserError(f"--proxies {args.proxies!r} names unknown proxies {unknown}; "
                        f"available: {', '.join(PROXIES)}, or all.")
    if not MIN_CELLS <= args.cells <= 725:
        raise UserError(f"--cells must be between {MIN_CELLS} and 725, got {args.cells}: a rank "
                        "correlation needs 3 cells with finite scores, and the spread includes "
                        "the worst cell, which synflow scores -inf. Use --cells "
                        f"{MIN_CELLS} or more (20 or more for intervals worth reading).")
    threads: int | str = args.threads if args.threads == "auto" else _positive(args.threads)
    out = Path(args.out) if args.out else Path("runs") / "zero_cost" / args.dataset
    _common.check_out(out, args.resume)
    study = validation_study(plugins, data_dir, dataset=args.dataset, proxies=proxies,
                             cells=args.cells, device=args.device, threads=threads)
    outcome = run_study(study, plugins, out, resume=args.resume, progress=not args.quiet,
                        command=_common.command_line())
    if not outcome.complete:
        raise UserError(f"{out} is still being scored by another process; run again with "
                        "--resume when it is done.")
    paths = write_validation_report(out, data_dir)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UserError(f"--threads must be a positive integer or auto, got {text!r}.")
    return value
