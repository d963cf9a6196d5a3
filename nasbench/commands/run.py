"""``nasbench run [STUDY]``: run (or resume) a study, the embedded default when none is given."""

from __future__ import annotations

import argparse
import datetime as _dt
import shlex
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
    p.add_argument("--workers", type=int, metavar="N",
                   help="run on a Dask LocalCluster of N single-threaded worker processes "
                   "(default: the study's [execution] workers, else in this process)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on an existing Dask cluster (default: $NASBENCH_SCHEDULER, or the "
                        "study's [execution] scheduler)")
    _common.add_data_dir(p, "; overrides [study] data_dir")
    _common.add_set(p)
    p.set_defaults(handler=cmd_run)


def _latest(base: Path) -> Path | None:
    if not base.is_dir():
        return None
    dirs = sorted(p for p in base.iterdir() if (p / "manifest.json").is_file())
    return dirs[-1] if dirs else None


def resume_command(args: argparse.Namespace, out: Path) -> str:
    """The command that continues an interrupted study in ``out``."""
    words = ["nasbench", "run"]
    if args.study is not None:
        words.append(str(args.study))
    words += ["--out", str(out), "--resume"]
    if args.workers > 1:
        words += ["--workers", str(args.workers)]
    if args.scheduler:
        words += ["--scheduler", args.scheduler]
    return shlex.join(words)


def cmd_run(args: argparse.Namespace) -> int:
    from nasbench import numerics
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
    # Before numpy or torch load: their kernel libraries read the numerics variables then.
    numerics.prepare(study.numerics)
    from nasbench.run import run_study

    if args.workers is None:
        args.workers = study.execution.workers or 1
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
    try:
        outcome = run_study(
            study, plugins, out, resume=args.resume, workers=args.workers,
            scheduler=args.scheduler, progress=not args.quiet, command=command,
        )
    except KeyboardInterrupt:
        print(f"nasbench: interrupted; finished trials are saved. Continue with: "
              f"{resume_command(args, out)}", file=sys.stderr)
        return 130
    if outcome.failed:
        print(f"{len(outcome.failed)} run(s) failed ({', '.join(outcome.failed[:5])}"
              f"{', ...' if len(outcome.failed) > 5 else ''}); their reasons are in "
              f"{out}/runs/<run_id>.error.txt; runs.parquet records them (status, reason).",
              file=sys.stderr)
    from nasbench.results.leaderboard import write_leaderboard
    from nasbench.results.schema import load_results

    _, path = write_leaderboard(load_results(out, trials=False))
    print(f"Results: {out}")
    print(f"Full report with figures: nasbench report {out}")
    print(f"Leaderboard: {path}")
    return 0
