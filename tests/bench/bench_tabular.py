"""Throughput of tabular studies: the harness end to end against a bare numpy lookup loop.

Run:  python tests/bench/bench_tabular.py [--seeds 500 --evals 100]
      [--workers 2]

One study runs random search and aging evolution on NAS-Bench-201 (search metric CIFAR-10
valid_12ep, three report metrics). It prints evaluations per second of: a bare loop that draws
uniformly random cells and looks up the same four metrics in numpy arrays; each strategy's
loop in the harness (ask, evaluate, tell, trial logged durably; from the runs' wall time); and
the whole ``run_study`` call (set-up, both strategies, the random-sampling baseline, writing
trials.parquet and runs.parquet), side by side; and the whole call again on a Dask
``LocalCluster`` of ``--workers`` processes, twice: as ``--workers N`` runs it (the cluster's
start-up included), and on a cluster started beforehand (start-up excluded; the workers still
set up their sessions inside the study), with the start-up of such a cluster timed on its
own, and the CPU seconds each process spent on the study (in one process; on the started
cluster, the driver, which runs the scheduler, and each worker). Then the Dask overhead per
run: a study of ``--overhead-runs`` runs of one evaluation
each, in one process and on the cluster, and the difference per run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from nasbench.evaluators.table_benchmark import benchmark_class
from nasbench.spaces.nb201 import Nb201Space

from nasbench.protocol import study_from_dict
from nasbench.registry import load_plugins
from nasbench.run import run_study

METRICS = ("cifar10/valid_12ep", "cifar10/test_200ep", "cifar100/test_200ep",
           "imagenet16_120/test_200ep")


def harness_rates(seeds: int, evals: int, out: Path, workers: int = 1,
                  strategies: list[dict] | None = None,
                  scheduler: str | None = None) -> tuple[float, dict[str, float], int]:
    """End-to-end rate of one study with both strategies, and each strategy's in-loop rate."""
    plugins = load_plugins()
    study = study_from_dict(
        {
            "study": {"name": "bench-tabular", "seeds": seeds},
            "space": {"name": "nb201"},
            "evaluator": {"name": "tabular", "dataset": "cifar10", "search_metric": "valid_12ep",
                          "report_metrics": list(METRICS[1:])},
            "budget": {"evaluations": evals},
            "strategies": strategies or [{"name": "random_search"},
                                         {"name": "aging_evolution", "population_size": 10,
                                          "sample_size": 3}],
        },
        plugins,
    )
    t = time.perf_counter()
    run_study(study, plugins, out, progress=False, workers=workers, scheduler=scheduler)
    elapsed = time.perf_counter() - t
    import pandas as pd

    runs = pd.read_parquet(out / "runs.parquet")
    search = runs[runs["kind"] == "search"].groupby("strategy")
    per_strategy = (search["n_trials"].sum() / search["wall_time"].sum()).to_dict()
    trials = int(runs.loc[runs["kind"] == "search", "n_trials"].sum())
    return trials / elapsed, per_strategy, trials


def _cpu_seconds() -> float:
    """User and system CPU time of this process so far (every thread)."""
    t = os.times()
    return t.user + t.system


def bare_rate(n: int, data_dir: Path | None) -> float:
    from nasbench.data import shipped_descriptions

    bench = benchmark_class("nb201", shipped_descriptions()["nb201"])()
    bench.bind_space(Nb201Space())
    table = bench.load(data_dir, ("cifar10", "cifar100", "imagenet16_120"))
    rows = {arch: table.row(arch) for arch in
            (tuple(int(c) for c in np.unravel_index(i, (5,) * 6)) for i in range(5**6))}
    columns = [np.asarray(table.column(m)) for m in METRICS]
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    acc = 0.0
    for _ in range(n):
        row = rows[tuple(rng.integers(0, 5, size=6).tolist())]
        for col in columns:
            acc += col[row]
    return n / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--evals", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2,
                        help="also measure the whole study with this many worker processes")
    parser.add_argument("--overhead-runs", type=int, default=1000,
                        help="runs of one evaluation each, to measure Dask's cost per run")
    args = parser.parse_args()
    data_dir = Path(os.environ["NASBENCH_DATA"]) if os.environ.get("NASBENCH_DATA") else None
    # The libraries are imported before either side is timed (the bare loop's numpy, and the
    # pyarrow and pandas that writing a Parquet table imports): an import is the process's
    # cost, once, not the harness's. The harness's own set-up (plugins, its table, the
    # results directory and manifest) is timed.
    import pandas  # noqa: F401 - pyarrow imports it when it first converts a list
    import pyarrow.parquet  # noqa: F401

    n = args.seeds * args.evals
    print(f"NAS-Bench-201 tabular, {args.seeds} seeds x {args.evals} evaluations, "
          f"{os.cpu_count()} CPUs")
    bare = bare_rate(n, data_dir)
    print(f"{'bare numpy lookup loop':<28} {bare:>12,.0f} evaluations/s")
    cpu = _cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        total, per_strategy, trials = harness_rates(args.seeds, args.evals, Path(tmp) / "out")
    cpu_one = _cpu_seconds() - cpu
    for name, rate in per_strategy.items():
        print(f"{'harness loop: ' + name:<28} {rate:>12,.0f} evaluations/s "
              f"(ask, evaluate, tell, logged; bare loop {bare / rate:.1f}x faster)")
    print(f"{'harness end to end':<28} {total:>12,.0f} evaluations/s "
          f"({trials:,} trials: set-up, both strategies, baseline, Parquet tables; "
          f"bare loop {bare / total:.1f}x faster)")
    if args.workers > 1:
        from nasbench.run.executors import dask_client

        w = args.workers
        with tempfile.TemporaryDirectory() as tmp:
            par, _, _ = harness_rates(args.seeds, args.evals, Path(tmp) / "out", w)
        t = time.perf_counter()
        with dask_client(w, None, 1) as client:
            client.wait_for_workers(w)
            started = time.perf_counter() - t
            before, cpu = client.run(_cpu_seconds), _cpu_seconds()
            with tempfile.TemporaryDirectory() as tmp:
                warm, _, _ = harness_rates(args.seeds, args.evals, Path(tmp) / "out",
                                           scheduler=client.scheduler.address)
            cpu_driver = _cpu_seconds() - cpu
            cpu_workers = [v - before[k] for k, v in client.run(_cpu_seconds).items()]
        print(f"{f'end to end, {w} workers':<28} {par:>12,.0f} evaluations/s "
              f"(--workers {w}: LocalCluster start-up included; {par / total:.2f}x one "
              f"process; bare loop {bare / par:.1f}x faster)")
        print(f"{'  on a started cluster':<28} {warm:>12,.0f} evaluations/s "
              f"(start-up excluded; {warm / total:.2f}x one process; bare loop "
              f"{bare / warm:.1f}x faster)")
        print(f"{'  LocalCluster start-up':<28} {started:>12.2f} s "
              f"({w} worker processes and a client, before any task)")
        print(f"{'  CPU seconds of the study':<28} one process {cpu_one:.2f} s; on the started "
              f"cluster: driver {cpu_driver:.2f} s (scheduler included), workers "
              f"{', '.join(f'{c:.2f}' for c in sorted(cpu_workers))} s")
        n = args.overhead_runs
        times = {}
        for workers in (1, args.workers):
            for runs in (n, 2 * n):
                with tempfile.TemporaryDirectory() as tmp:
                    t = time.perf_counter()
                    harness_rates(runs, 1, Path(tmp) / "out", workers, [{"name": "random_search"}])
                    times[workers, runs] = time.perf_counter() - t
        here = times[1, 2 * n] - times[1, n]
        there = times[args.workers, 2 * n] - times[args.workers, n]
        print(f"runs of one evaluation, {n} more: +{here:.2f} s in one process, +{there:.2f} s "
              f"on {args.workers} workers; start-up of the cluster and its sessions "
              f"{times[args.workers, n] - times[1, n] - (there - here):.2f} s; Dask overhead "
              f"{1000 * (there - here) / n:+.2f} ms per run")


if __name__ == "__main__":
    main()
