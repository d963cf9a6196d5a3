"""``nasbench run [STUDY]``: run (or resume) a study, the embedded default when none is given."""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from importlib import resources
from pathlib import Path

from nasbench.commands import _common
from nasbench.commands import plugins as _plugins
from nasbench.errors import UserError

DEFAULT_STUDY = "default.toml"
"""The embedded study that ``nasbench run`` runs when given no config."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a study (the embedded default when no STUDY is given)")
    p.add_argument("study", nargs="?", metavar="STUDY", help="study config (TOML)")
    _common.add_out_resume(p, "runs/<study>/<timestamp>; with --resume, the latest there")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="parallel worker processes")
    _common.add_data_dir(p, "; overrides [study] data_dir")
    _common.add_set(p)
    p.set_defaults(handler=cmd_run)


def _latest(base: Path) -> Path | None:
    if not base.is_dir():
        return None
    dirs = sorted(p for p in base.iterdir() if (p / "manifest.json").is_file())
    return dirs[-1] if dirs else None


def cmd_run(args: argparse.Namespace) -> int:
    from nasbench.harness import run_study
    from nasbench.protocol import load_study

    plugins = _plugins(args)
    if args.out is not None:
        _common.check_out(Path(args.out), args.resume)  # before the study is read: fail fast
    data_dir = _common.data_dir(args) if args.data_dir else None
    if args.study is None:
        with resources.as_file(resources.files("nasbench") / "studies" / DEFAULT_STUDY) as p:
            study = load_study(p, plugins, data_dir=data_dir, overrides=args.set)
        print(f"Running the embedded default study '{study.name}' "
              f"(pass a STUDY.toml to run your own).", file=sys.stderr)
    else:
        study = load_study(args.study, plugins, data_dir=data_dir, overrides=args.set)
    _common.positive_workers(args.workers)
    if args.out is not None:
        out = Path(args.out)
    else:
        base = Path("runs") / study.name
        if args.resume:
            latest = _latest(base)
            if latest is None:
                raise UserError(
                    f"--resume found no earlier results under {base}/. Pass --out DIR to name "
                    "the directory to resume."
                )
            out = latest
        else:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = base / stamp
    command = _common.command_line() if sys.argv else None
    outcome = run_study(
        study, plugins, out, resume=args.resume, workers=args.workers,
        progress=not args.quiet, command=command,
    )
    if not outcome.complete:
        print(
            f"{outcome.runs_done}/{outcome.runs_total} runs are done in {out}; the others are "
            f"held by other workers ({', '.join(outcome.pending[:5])}"
            f"{', ...' if len(outcome.pending) > 5 else ''}). The last worker to finish writes "
            f"the tables; or run again with --resume --out {out}.",
        )
        return 0
    from nasbench.results.leaderboard import write_leaderboard
    from nasbench.results.schema import load_results

    _, path = write_leaderboard(load_results(out, trials=False))
    print(f"Results: {out}")
    print(f"Full report with figures: nasbench report {out}")
    print(f"Leaderboard: {path}")
    return 0
