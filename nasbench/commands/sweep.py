"""``nasbench sweep SWEEP.toml --out DIR``: run a base study at every point of a sweep."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nasbench.commands import _common
from nasbench.commands import plugins as _plugins


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a study at every point of a grid of config changes "
                       "(one results directory per point)")
    p.add_argument("sweep", metavar="SWEEP", help="sweep config (TOML; see docs/sweeps.md)")
    p.add_argument("--out", metavar="DIR", required=True, help="the sweep's directory")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out (without --resume an --out that holds "
                   "results is refused)")
    _common.add_quiet(p)
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="parallel worker processes for each point's runs")
    _common.add_data_dir(p, "; overrides [study] data_dir")
    _common.add_set(p)
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from nasbench.study_runner import run_study
    from nasbench.sweep import build_studies, load_sweep, prepare_sweep_directory, sweep_record

    plugins = _plugins(args)
    _common.positive_workers(args.workers)
    out = Path(args.out)
    sweep = load_sweep(args.sweep)
    data_dir = _common.data_dir(args) if args.data_dir else None
    studies = build_studies(sweep, plugins, data_dir=data_dir, extra=args.set)
    command = _common.command_line() if sys.argv else None
    prepare_sweep_directory(out, sweep_record(sweep, studies, command), args.resume)
    pending: list[str] = []
    for i, (point, study) in enumerate(studies, 1):
        if not args.quiet:
            print(f"[{i}/{len(studies)}] {point.name}", file=sys.stderr, flush=True)
        outcome = run_study(study, plugins, out / point.name, resume=args.resume,
                            workers=args.workers, progress=not args.quiet, command=command)
        if not outcome.complete:
            pending.append(point.name)
    print(f"Sweep: {out} ({len(studies)} points: {', '.join(p.name for p, _ in studies)})")
    if pending:
        print(f"Points with runs held by other workers: {', '.join(pending)}; run again with "
              f"--resume --out {out}.")
        return 0
    print(f"Sweep view: nasbench report {out}")
    return 0
