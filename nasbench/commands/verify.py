"""``nasbench verify DIR``: re-execute a sample of a results directory's runs and compare."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nasbench.commands import _common
from nasbench.commands import plugins as _plugins


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="re-execute a random sample of a results directory's runs "
                       "and say, per run, whether it came out identical")
    p.add_argument("dir", metavar="DIR", help="results directory (with manifest.json)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--runs", type=int, metavar="K", help="re-execute K runs")
    how.add_argument("--fraction", type=float, metavar="F",
                     help="re-execute this share of the runs (default 0.1)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the sample of runs (default 0)")
    p.add_argument("--allow-version-drift", action="store_true",
                   help="re-execute even when installed versions differ from the recorded ones")
    p.add_argument("--ignore", action="append", default=[], metavar="FIELD",
                   help="a field not to compare besides wall_time (e.g. cost, for evaluators "
                   "that measure seconds); repeatable")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="parallel workers")
    _common.add_data_dir(p, " (default: the data the study recorded)")
    p.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from nasbench import numerics

    # Before numpy or torch load (the results are read with pandas): a portable study's
    # kernels must be pinned when they load, as 'nasbench run' pins them.
    numerics.prepare(_recorded_numerics(Path(args.dir)))
    from nasbench.verify import IGNORED_FIELDS, verify_directory

    plugins = _plugins(args)
    _common.positive_workers(args.workers)
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else None
    report = verify_directory(
        Path(args.dir), plugins, runs=args.runs, fraction=args.fraction, seed=args.seed,
        allow_version_drift=args.allow_version_drift, data_dir=data_dir, workers=args.workers,
        ignore=(*IGNORED_FIELDS, *args.ignore))
    for note in report.notes:
        print(f"note: {note}")
    width = max(len(v.run_id) for v in report.verdicts)
    for v in report.verdicts:
        detail = f"  ({v.detail})" if v.detail else ""
        print(f"{v.run_id:<{width}}  {v.status}{detail}")
    counts = {s: sum(v.status == s for v in report.verdicts)
              for s in ("identical", "drift", "differs", "could not run")}
    print(f"{len(report.verdicts)} runs re-executed in {report.seconds:.1f} s: "
          + ", ".join(f"{n} {s}" for s, n in counts.items()), file=sys.stdout)
    return 0 if report.all_identical else 1


def _recorded_numerics(directory: Path) -> str:
    """The numerics mode a results directory's manifest records (``native`` when it records
    none or cannot be read here: :func:`~nasbench.verify.verify_directory` says why)."""
    import json

    from nasbench.numerics import DEFAULT, MODES

    try:
        config = json.loads((directory / "manifest.json").read_text()).get("config") or {}
    except (OSError, ValueError, AttributeError):
        return DEFAULT
    mode = config.get("numerics") if isinstance(config, dict) else None
    return mode if mode in MODES else DEFAULT
