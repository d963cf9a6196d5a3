"""Where the time of ``nasbench suite`` + ``nasbench leaderboard --site`` goes.

Run:  python tests/bench/bench_suite.py [--seeds 5]
      [--evaluations 100] [--workers 2] [--problems nbgraph-cora ...] [--no-figures] [--out DIR]

Runs the suite with the built-in black-box strategies (random search, aging evolution, local
search, both REINFORCE variants, TPE via ``bayesian``) on every available tabular problem at
``--seeds`` seeds x ``--evaluations`` evaluations, then builds the site, and prints: the wall
time of each problem's study; the time each strategy spent inside its runs (from
``runs.parquet``'s wall time, summed over problems, i.e. CPU-seconds of the run loops, spread
over the workers); what remains per problem (start-up, consolidation); and the site's parts
(loading, table optima, aggregate, problem pages, strategy pages). The per-seed figures are
what a 100-seed run scales from: the run loops and the bootstrap of the pages grow linearly in
seeds, the fixed costs do not.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


STRATEGIES = ("random_search", "aging_evolution", "local_search", "reinforce",
              "reinforce_logits", "bayesian")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--evaluations", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--problems", nargs="+", help="a subset of the problems (default: all)")
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--out", help="suite directory (default: a temporary one)")
    args = ap.parse_args()

    import pandas as pd

    from nasbench.registry import load_plugins
    from nasbench.suite import SuiteProtocol, run_suite

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-suite-")) / "s"
    plugins = load_plugins()
    protocol = SuiteProtocol(seeds=args.seeds, evaluations=args.evaluations)
    start, cpu = time.perf_counter(), cpu_seconds()
    outcome = run_suite(plugins, out, problems=args.problems, strategies=STRATEGIES,
                        protocol=protocol,
                        workers=args.workers, progress=False, log=print)
    suite_s = time.perf_counter() - start
    suite_cpu = cpu_seconds() - cpu

    print(f"\nSuite: {len(outcome.problems)} problems x {len(STRATEGIES)} strategies x "
          f"{args.seeds} seeds x {args.evaluations} evaluations, --workers {args.workers}: "
          f"{suite_s:.1f} s wall, {suite_cpu:.1f} s CPU (all processes)")
    for s in outcome.skipped:
        print(f"  skipped {s.name}: {s.reason[:90]}")
    per_strategy: dict[str, float] = {}
    loops = 0.0
    for p in outcome.problems:
        runs = pd.read_parquet(p.directory / "runs.parquet")
        for label, secs in runs.groupby("strategy")["wall_time"].sum().items():
            per_strategy[label] = per_strategy.get(label, 0.0) + float(secs)
        loops += float(runs["wall_time"].sum())
    print("Time inside the run loops, per strategy (summed over problems and seeds):")
    for label, secs in sorted(per_strategy.items(), key=lambda kv: -kv[1]):
        per_run = 1000 * secs / (len(outcome.problems) * args.seeds)
        print(f"  {label:<18} {secs:8.1f} s  ({per_run:.0f} ms per run)")
    print(f"  all run loops      {loops:8.1f} s of worker time; the rest of the suite's wall "
          f"time ({suite_s:.1f} s) is start-up, scheduling and consolidation")

    from nasbench.results import site as site_mod
    from nasbench.results.schema import load_results

    from nasbench.suite import suite_directories

    options = site_mod.SiteOptions(figures=not args.no_figures)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    dirs, _ = suite_directories([out])
    results = [load_results(d) for d in dirs]
    timings["load results"] = time.perf_counter() - t
    t = time.perf_counter()
    problems = site_mod.load_problems(results)
    timings["problems + table optima"] = time.perf_counter() - t
    t = time.perf_counter()
    site_mod.aggregate(problems, options)
    timings["aggregate (bootstrap ranks, tests)"] = time.perf_counter() - t
    t, cpu = time.perf_counter(), cpu_seconds()
    index = site_mod.build_site([out], out.parent / "site", options)
    timings["whole site (again, all pages)"] = time.perf_counter() - t
    site_cpu = cpu_seconds() - cpu
    print(f"\nSite ({index}):")
    for name, secs in timings.items():
        print(f"  {name:<36} {secs:7.1f} s")
    total = suite_s + timings["whole site (again, all pages)"]
    print(f"\nSuite + site: {total:.1f} s wall, {suite_cpu + site_cpu:.1f} s CPU (site "
          f"{site_cpu:.1f} s CPU) at {args.seeds} seeds.")


if __name__ == "__main__":
    main()
