"""``nasbench protocols STUDY``: the same architectures under several training protocols.

The file format and the runner live in :mod:`nasbench.protocol_study`; the comparison in
:mod:`nasbench.results.protocol_study`. This module only parses the command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nasbench.commands import _common
from nasbench.commands import plugins as _plugins


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "protocols", help="evaluate the same architectures under several protocols (seeds, "
        "depths, training tricks) and compare their rankings and accuracies")
    p.add_argument("study", metavar="STUDY", help="protocol-study file: a study plus "
                   "[variants.NAME] tables (e.g. examples/protocols/nb201_digits.toml)")
    _common.add_out_resume(p, "runs/<study name>; the report goes to DIR/report")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="protocols run in parallel, one worker process each")
    _common.add_data_dir(p)
    _common.add_set(p)
    p.set_defaults(handler=cmd_protocols)


def cmd_protocols(args: argparse.Namespace) -> int:
    from nasbench.protocol_study import load_protocol_study, run_protocol_study
    from nasbench.results.protocol_study import write_protocol_report

    plugins = _plugins(args)
    if args.out is not None:
        _common.check_out(Path(args.out), args.resume)  # before the study is read: fail fast
    protocols = load_protocol_study(args.study, plugins, overrides=args.set,
                                    data_dir=_common.data_dir(args) if args.data_dir else None)
    workers = _common.positive_workers(args.workers)
    out = Path(args.out) if args.out else Path("runs") / protocols[0].study.name
    _common.check_out(out, args.resume)
    directories = run_protocol_study(protocols, plugins, out, workers=workers,
                                     progress=not args.quiet, resume=args.resume)
    summaries = {p.name: p.summary for p in protocols}
    paths = write_protocol_report(directories, summaries, out / "report")
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
