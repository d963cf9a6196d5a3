"""``nasbench suite`` and ``nasbench leaderboard``: the benchmark suite and its static site.

``suite`` runs every installed black-box strategy on every available tabular problem under one
protocol (:mod:`nasbench.suite`); ``leaderboard`` turns suite and study directories into a
static site that opens from ``file://`` (:mod:`nasbench.results.site`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nasbench.commands import plugins as _plugins
from nasbench.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "suite", help="run every black-box strategy on every available tabular problem")
    p.add_argument("--strategies", nargs="+", metavar="NAME",
                   help="strategies to run (default: every installed black-box strategy)")
    p.add_argument("--problems", nargs="+", metavar="PROBLEM",
                   help="problems to run: names such as nbgraph-cora, benchmark names, or "
                   "globs (default: every available one)")
    p.add_argument("--seeds", type=int, default=100, help="seeds per strategy (default 100)")
    p.add_argument("--evaluations", type=int, default=100,
                   help="evaluations per run (default 100)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes")
    p.add_argument("--data-dir", help="benchmark data directory (default $NASBENCH_DATA)")
    p.add_argument("--out",
                   help="suite directory, one study directory per problem (required unless "
                   "--list); an existing one is resumed")
    p.add_argument("--list", action="store_true",
                   help="list the problems and strategies the suite would run, and stop")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=cmd_suite)

    q = sub.add_parser("leaderboard",
                       help="a static leaderboard site over suite or study directories")
    q.add_argument("dirs", nargs="+", metavar="DIR",
                   help="suite directories (of 'nasbench suite') or results directories")
    q.add_argument("--site", required=True, metavar="OUT", help="directory to write the site to")
    q.add_argument("--reference", default="random_search",
                   help="strategy the wins/ties/losses are counted against "
                   "(default random_search)")
    q.add_argument("--alpha", type=float, default=0.05,
                   help="significance level of every test (default 0.05)")
    q.add_argument("--resamples", type=int, default=1000,
                   help="bootstrap resamples per interval (default 1000)")
    q.add_argument("--data-dir", help="benchmark data directory, for each problem's optimum "
                   "(default $NASBENCH_DATA)")
    q.add_argument("--no-figures", action="store_true",
                   help="problem pages without figures (faster)")
    q.set_defaults(handler=cmd_leaderboard)


def _data_dir(value: str | None) -> Path | None:
    from nasbench.data import default_data_dir

    return Path(value).expanduser() if value else default_data_dir()


def cmd_suite(args: argparse.Namespace) -> int:
    from nasbench.suite import (
        SuiteProtocol,
        discover_problems,
        run_suite,
        select_problems,
        select_strategies,
    )

    plugins = _plugins(args)
    data_dir = _data_dir(args.data_dir)
    if args.list:
        found, skipped = discover_problems(plugins, data_dir)
        print("Problems (benchmark-dataset: search metric -> report metric):")
        for p in select_problems(found, args.problems):
            print(f"  {p.name:<28} {p.search_metric} -> {p.report_metric}")
        for s in skipped:
            print(f"  {s.name:<28} skipped: {s.reason}")
        print("Strategies: " + ", ".join(select_strategies(plugins, args.strategies)))
        return 0
    if args.out is None:
        raise UserError("name the suite directory with --out DIR (an existing one is resumed).")
    protocol = SuiteProtocol(seeds=args.seeds, evaluations=args.evaluations)
    out = Path(args.out)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    outcome = run_suite(plugins, out, problems=args.problems, strategies=args.strategies,
                        protocol=protocol, workers=args.workers, data_dir=data_dir,
                        progress=not args.quiet, log=log)
    for s in outcome.skipped:
        log(f"skipped {s.name}: {s.reason}")
    print(f"Suite: {out} ({len(outcome.problems)} problems, {len(outcome.skipped)} skipped)")
    print(f"Site: nasbench leaderboard {out} --site {out / 'site'}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from nasbench.results.site import SiteOptions, build_site

    if not 0.0 < args.alpha < 1.0:
        raise UserError(f"--alpha must be between 0 and 1, got {args.alpha}.")
    if args.resamples < 1:
        raise UserError(f"--resamples must be at least 1, got {args.resamples}.")
    options = SiteOptions(reference=args.reference, alpha=args.alpha,
                          resamples=args.resamples, figures=not args.no_figures,
                          data_dir=_data_dir(args.data_dir))
    index = build_site([Path(d) for d in args.dirs], Path(args.site), options)
    print(index)
    return 0
