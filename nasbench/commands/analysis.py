"""The analysis commands of the ``nasbench`` command line: ``report``, ``correlate``, ``import``.

Each handler reads results or benchmark tables, never runs anything, and turns every user
mistake into a :class:`~nasbench.errors.UserError`. The parsers are built for every command,
``nasbench list`` included, so they import nothing heavy: defaults that live in numpy-backed
modules are filled in by the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nasbench.commands import _common
from nasbench.errors import DataNotFoundError, UserError, available


def _add_bootstrap_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("intervals")
    g.add_argument("--resamples", type=int,
                   help="bootstrap resamples per interval (default 1000)")
    g.add_argument("--confidence", type=float,
                   help="coverage of every interval (default 0.95)")
    g.add_argument("--seed", type=int, default=0,
                   help="seed of the bootstrap resamples (default 0)")


def _bootstrap(args: argparse.Namespace) -> object:
    from nasbench.results.stats import CONFIDENCE, RESAMPLES, BootstrapOptions

    if args.resamples is None:
        args.resamples = RESAMPLES
    if args.confidence is None:
        args.confidence = CONFIDENCE
    if args.resamples < 1:
        raise UserError(f"--resamples must be at least 1, got {args.resamples}.")
    if not 0.0 < args.confidence < 1.0:
        raise UserError(f"--confidence must be between 0 and 1, got {args.confidence}.")
    if args.seed < 0:
        raise UserError(f"--seed must be non-negative, got {args.seed}.")
    return BootstrapOptions(args.resamples, args.confidence, args.seed)


def _data_dir(args: argparse.Namespace) -> Path | None:
    return _common.data_dir(args)


# -- report ---------------------------------------------------------------------------------------
def add_report_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``nasbench report DIR [DIR ...]``."""
    p.add_argument("dirs", nargs="+", metavar="DIR", help="results directories (of 'nasbench "
                   "run' or 'nasbench import')")
    p.add_argument("--out", metavar="DIR", help="where to write the report (default: "
                   "DIR/report for one directory; required for several)")
    p.add_argument("--post-hoc", default="nemenyi", metavar="TEST",
                   help="post-hoc test after the Friedman test: nemenyi (default) or holm")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="significance level of the post-hoc comparisons (default 0.05)")
    p.add_argument("--across", choices=("first", "all"), default="first",
                   help="report metrics that count as problems across directories: each "
                   "directory's first (default) or all")
    p.add_argument("--no-figures", action="store_true", help="tables only (faster)")
    p.add_argument("--no-print", action="store_true",
                   help="write the report without printing its leaderboard")
    _common.add_quiet(p)
    p.add_argument("--order", choices=("rank", "config"), default="rank",
                   help="leaderboard rows by mean rank (default) or in the config's order")
    _add_bootstrap_arguments(p)


def cmd_report(args: argparse.Namespace) -> int:
    from nasbench.results.leaderboard import LeaderboardOptions
    from nasbench.results.report import ReportOptions, write_report
    from nasbench.results.schema import load_for_report
    from nasbench.results.significance import POST_HOCS

    if args.post_hoc not in POST_HOCS:
        raise UserError(f"--post-hoc {args.post_hoc!r} is unknown; available: "
                        f"{available(POST_HOCS)}.")
    if not 0.0 < args.alpha < 1.0:
        raise UserError(f"--alpha must be between 0 and 1, got {args.alpha}.")
    if args.out is None and len(args.dirs) > 1:
        raise UserError("several results directories make one report: name where it goes "
                        "with --out DIR.")
    if len(args.dirs) == 1 and (Path(args.dirs[0]) / "sweep.json").is_file():
        return _report_sweep(args)
    results = [load_for_report(d) for d in args.dirs]
    out = Path(args.out) if args.out else Path(args.dirs[0]) / "report"
    options = ReportOptions(LeaderboardOptions(_bootstrap(args), args.post_hoc, args.alpha,
                                               args.order),
                            args.across, not args.no_figures)
    paths = write_report(results, out, options)
    return _print_paths(args, paths)


def _print_paths(args: argparse.Namespace, paths: dict[str, Path]) -> int:
    """Print the Markdown report (unless ``--no-print``) and where each file went."""
    if not args.no_print:
        print(paths["markdown"].read_text())
    if not args.quiet:
        for name, path in paths.items():
            print(f"{name}: {path}", file=sys.stderr)
    return 0


def _report_sweep(args: argparse.Namespace) -> int:
    """The sweep view of a ``nasbench sweep`` directory (see nasbench.results.sweep)."""
    from nasbench.results.sweep import write_sweep_report

    out = Path(args.out) if args.out else Path(args.dirs[0]) / "report"
    paths = write_sweep_report(Path(args.dirs[0]), out, _bootstrap(args), not args.no_figures)
    return _print_paths(args, paths)


# -- correlate ------------------------------------------------------------------------------------
def add_correlate_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``nasbench correlate``."""
    p.add_argument("scorings", nargs="*", metavar="SCORING",
                   help="two scoring specs SOURCE:ARGUMENT (proxy first, ground truth second), "
                   "e.g. nb201:cifar10/valid_12ep nb201:cifar10/test_200ep")
    p.add_argument("--study", metavar="NAME",
                   help="run a ready-made study instead (see --list), or 'all'")
    p.add_argument("--input", action="append", default=[], metavar="NAME=DIR",
                   help="a results directory a ready-made study reads (repeatable), e.g. "
                   "--input supernet=runs/ws-supernet")
    p.add_argument("--list", action="store_true",
                   help="list the scoring sources and the ready-made studies")
    p.add_argument("--out", metavar="DIR", help="output directory (default "
                   "runs/correlate/<name>)")
    _common.add_data_dir(p, ", e.g. yang2020/")
    p.add_argument("--top", action="append", metavar="K",
                   help="k of precision@k, a count or a percentage; repeatable "
                   "(default: 10 and 5%%)")
    p.add_argument("--threshold", type=float, default=0.1,
                   help="rounding of percent scorings for the sparse Kendall tau (default 0.1)")
    p.add_argument("--exact-max-n", type=int,
                   help="above this many architectures, the bootstrap replicates of Spearman "
                   "and Kendall are linearised (default 1000)")
    _add_bootstrap_arguments(p)


def _correlation_options(args: argparse.Namespace) -> object:
    from nasbench.results.correlation import EXACT_MAX_N, CorrelationOptions, parse_top

    exact_max_n = EXACT_MAX_N if args.exact_max_n is None else args.exact_max_n
    tops = tuple(args.top) if args.top else ("10", "5%")
    for top in tops:
        parse_top(top, 100)
    if args.threshold < 0:
        raise UserError(f"--threshold must be non-negative, got {args.threshold}.")
    return CorrelationOptions(_bootstrap(args), tops, args.threshold, exact_max_n)


def cmd_correlate(args: argparse.Namespace) -> int:
    from nasbench.results import studies
    from nasbench.results.scorings import sources

    data_dir = _data_dir(args)
    if args.list:
        print("Scoring sources (SOURCE:ARGUMENT):")
        for name, source in sources().items():
            print(f"  {name:<10} {source.summary}")
        print("\nReady-made studies (nasbench correlate --study NAME):")
        for study in studies.STUDIES.values():
            reads = f" (--input {', '.join(study.inputs)})" if study.inputs else ""
            print(f"  {study.name:<14} {study.summary}{reads}")
        return 0
    options = _correlation_options(args)
    inputs = _inputs(args.input)
    if args.study:
        names = list(studies.STUDIES) if args.study == "all" else [args.study]
        for name in names:
            if name not in studies.STUDIES:
                raise UserError(f"unknown study '{name}'; available: "
                                f"{available(studies.STUDIES)}, all.")
        if args.study == "all":  # studies of results directories run when those are given
            names = [n for n in names if set(studies.STUDIES[n].inputs) <= set(inputs)
                     and not studies.STUDIES[n].trains]
        for name in names:
            base = Path(args.out) if args.out else Path("runs") / "correlate"
            out = base / name if args.out is None or len(names) > 1 else base
            try:
                paths = studies.run_study(name, data_dir, options, out, inputs)
            except DataNotFoundError as exc:
                if args.study != "all":
                    raise
                # 'all' runs what the available data allows: Yang et al.'s results, for one,
                # do not ship with nasbench.
                print(f"{name}: not run: {exc}", file=sys.stderr)
                continue
            print(f"{name}: {paths['html']}")
        return 0
    if len(args.scorings) != 2:
        raise UserError("correlate needs two scorings (e.g. nasbench correlate "
                        "nb201:cifar10/valid_12ep nb201:cifar10/test_200ep) or --study NAME; "
                        "'nasbench correlate --list' shows both.")
    out = Path(args.out) if args.out else Path("runs") / "correlate" / "pair"
    paths, text = studies.run_pair(args.scorings[0], args.scorings[1], data_dir, options, out)
    print(text)
    print(f"html: {paths['html']}", file=sys.stderr)
    return 0


def _inputs(values: list[str]) -> dict[str, Path]:
    """``--input NAME=DIR`` options as a mapping."""
    out = {}
    for value in values:
        name, sep, directory = value.partition("=")
        if not sep or not name or not directory:
            raise UserError(f"--input {value!r}: write NAME=DIR, e.g. --input "
                            "supernet=runs/ws-supernet.")
        out[name] = Path(directory)
    return out


# -- import ---------------------------------------------------------------------------------------
def add_import_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``nasbench import``."""
    p.add_argument("table", nargs="?", metavar="TABLE",
                   help="runs table (CSV or Parquet) of the 'runs' format")
    p.add_argument("--describe", metavar="FILE",
                   help="TOML description of the runs table (docs/analysis.md)")
    p.add_argument("--format", choices=("runs", "yang2020"), default="runs",
                   help="'runs' (the documented format, default) or 'yang2020' (the raw "
                   "results of Yang et al., ICLR 2020, from the data directory)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="directory to create; one subdirectory per study when there are several")
    _common.add_data_dir(p, ": the raw results of --format yang2020")


def cmd_import(args: argparse.Namespace) -> int:
    from nasbench.results.importers import import_runs, write_results_directory, yang2020_results

    if args.format == "yang2020":
        imported = yang2020_results(_data_dir(args))
    else:
        if not args.table or not args.describe:
            raise UserError("import needs a runs table and its description: nasbench import "
                            "RUNS.csv --describe RUNS.toml --out DIR (see docs/analysis.md).")
        imported = import_runs(Path(args.table), Path(args.describe))
    out = Path(args.out)
    for results in imported:
        target = out / results.study if len(imported) > 1 else out
        write_results_directory(results, target)
        print(target)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="leaderboards, statistics, anytime curves and an HTML "
                       "report of results directories")
    add_report_arguments(p)
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("correlate", help="rank correlations between two scorings of "
                       "architectures, or a ready-made correlation study")
    add_correlate_arguments(p)
    p.set_defaults(handler=cmd_correlate)

    p = sub.add_parser("import", help="turn results nasbench did not produce into a results "
                       "directory")
    add_import_arguments(p)
    p.set_defaults(handler=cmd_import)
