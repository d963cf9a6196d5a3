"""Benchmark of the analysis: correlations with intervals over NAS-Bench-201, and a large report.

Run it alone on the machine (it is CPU-bound)::

    python tests/bench/bench_analysis.py

It prints, side by side with their targets and baselines:

1. ``correlate`` over all 15,625 NAS-Bench-201 cells (12-epoch validation vs 200-epoch test
   accuracy on CIFAR-10): every statistic with a 1,000-resample bootstrap interval; against
   the naive baseline (scipy on each explicit resample) and with the accuracy of the fast
   replicates (linearised Spearman and Kendall) against exact ones on the same
   resamples;
2. ``nasbench report`` over a real study of 10 strategy entries (random search, local search,
   REINFORCE and aging evolution under several hyper-parameters) x 500 seeds x 100 evaluations
   on the NAS-Bench-201 table (the study is run first unless ``--study-dir`` names one
   already run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

STRATEGIES = """
[[strategies]]
name = "random_search"

[[strategies]]
name = "random_search"
label = "random_search_b"

[[strategies]]
name = "local_search"

[[strategies]]
name = "local_search"
label = "local_search_init_50"
initial_samples = 50

[[strategies]]
name = "reinforce_logits"
label = "reinforce_lr_0_5"
learning_rate = 0.5

[[strategies]]
name = "reinforce_logits"
label = "reinforce_lr_0_01"
learning_rate = 0.01
""" + "".join(
    f"""
[[strategies]]
name = "aging_evolution"
label = "ae_p{p}_s{s}"
population_size = {p}
sample_size = {s}
""" for p, s in ((10, 3), (20, 5), (50, 10), (100, 25)))

STUDY = """
[study]
name = "bench-10x500"
seed = 0
seeds = 500

[space]
name = "nb201"

[evaluator]
name = "tabular"
dataset = "cifar10"
search_metric = "valid_12ep"
report_metrics = ["test_200ep", "cifar100/test_200ep", "imagenet16_120/test_200ep"]

[budget]
evaluations = 100
""" + STRATEGIES


def bench_correlation(exact_resamples: int) -> None:
    from nasbench.results import correlation
    from nasbench.results.correlation import CorrelationOptions, correlate
    from nasbench.results.scorings import load_scoring
    from nasbench.results.stats import BootstrapOptions, percentile_interval, resample_indices
    from scipy import stats

    x = load_scoring("nb201:cifar10/valid_12ep")
    y = load_scoring("nb201:cifar10/test_200ep")
    options = CorrelationOptions(BootstrapOptions(resamples=1000))
    t0 = time.perf_counter()
    result = correlate(x, y, options)
    cold = time.perf_counter() - t0
    warm, cpu = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        correlate(x, y, options)
        warm.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print("\n== correlate: NB201 CIFAR-10 valid_12ep vs test_200ep, n = 15,625, B = 1,000 ==")
    print(f"{'statistic':<16}{'value':>9}{'95% CI':>22}")
    for name, est in result.estimates.items():
        print(f"{name:<16}{est.value:>9.4f}   [{est.low:.4f}, {est.high:.4f}]")
    print(f"all statistics with intervals: first call {cold:.3f} s, then median "
          f"{statistics.median(warm):.3f} s (min {min(warm):.3f} s; CPU time median "
          f"{statistics.median(cpu):.3f} s); target < 1 s")

    # The naive baseline and the exact replicates: scipy on each explicit resample.
    ox, oy = x.aligned(y)
    rng = options.bootstrap.generator("correlation", x.name, y.name)
    indices = resample_indices(rng, ox.size, exact_resamples)
    t0 = time.perf_counter()
    exact_rho = np.array([stats.spearmanr(ox[i], oy[i])[0] for i in indices])
    exact_tau = np.array([stats.kendalltau(ox[i], oy[i])[0] for i in indices])
    naive = (time.perf_counter() - t0) / exact_resamples * 1000
    fast = correlation._replicates(
        ox, oy, np.round(ox / 0.1), np.round(oy / 0.1),
        correlation.TopOfRankings(ox, oy, (10,)), {"p@10": 10}, False,
        BootstrapOptions(resamples=exact_resamples, seed=options.bootstrap.seed), x.name, y.name)
    print(f"naive baseline (scipy spearmanr + kendalltau per resample): {naive:.2f} s "
          f"per 1,000 resamples, without precision@k, regret or sparse tau")
    print(f"fast vs exact replicates on the same {exact_resamples} resamples:")
    for name, exact in (("spearman", exact_rho), ("kendall", exact_tau)):
        lo_f, hi_f = percentile_interval(fast[name])
        lo_e, hi_e = percentile_interval(exact)
        err = np.abs(fast[name] - exact)
        print(f"  {name:<9} interval fast [{lo_f:.4f}, {hi_f:.4f}] exact [{lo_e:.4f}, "
              f"{hi_e:.4f}]; replicate error max {err.max():.2e}, replicate sd "
              f"{exact.std():.2e}")


def run_large_study(directory: Path, workers: int) -> float:
    from nasbench.protocol import load_study
    from nasbench.registry import load_plugins
    from nasbench.run import run_study

    plugins = load_plugins()
    config = directory.parent / "bench-10x500.toml"
    config.write_text(textwrap.dedent(STUDY))
    t0 = time.perf_counter()
    outcome = run_study(load_study(config, plugins), plugins, directory, workers=workers,
                        progress=False)
    assert outcome.complete
    return time.perf_counter() - t0


def bench_report(study_dir: Path) -> None:
    from nasbench.results.report import ReportOptions, write_report
    from nasbench.results.schema import load_results

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        results = load_results(study_dir)
        t_load = time.perf_counter() - t0
        timings, cpu = {}, {}
        for figures in (False, True):
            t0, c0 = time.perf_counter(), time.process_time()
            paths = write_report([results], Path(tmp) / str(figures),
                                 ReportOptions(figures=figures))
            timings[figures] = time.perf_counter() - t0
            cpu[figures] = time.process_time() - c0
        size = paths["html"].stat().st_size
    trials = len(results.trials) if results.trials is not None else 0
    print(f"\n== nasbench report: {results.runs['strategy'].nunique() - 1} strategies + "
          f"baseline, {results.runs['seed'].nunique()} seeds, {trials:,} trials ==")
    print(f"load tables {t_load:.2f} s; report without figures {timings[False]:.2f} s "
          f"(CPU {cpu[False]:.2f} s); full report (9 figures, HTML {size / 1e6:.1f} MB) "
          f"{timings[True]:.2f} s (CPU {cpu[True]:.2f} s); target < 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study-dir", type=Path,
                        help="results of the 10 x 500 study (run into it when absent)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--exact-resamples", type=int, default=200,
                        help="resamples for the exact-vs-fast comparison (default 200)")
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args()
    bench_correlation(args.exact_resamples)
    if args.skip_report:
        return 0
    study_dir = args.study_dir or Path("runs") / "bench-10x500"
    if not (study_dir / "runs.parquet").is_file():
        study_dir.parent.mkdir(parents=True, exist_ok=True)
        print(f"\nrunning the 10 x 500 study into {study_dir} ...", file=sys.stderr)
        elapsed = run_large_study(study_dir, args.workers)
        print(f"study ran in {elapsed:.0f} s with {args.workers} workers")
    bench_report(study_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
