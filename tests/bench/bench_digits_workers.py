"""Training throughput on Dask: ``examples/digits_training.toml`` on one worker and on two.

Run:  python tests/bench/bench_digits_workers.py [--seeds 2 --evals 6 --baseline 2]
      [--workers 2]

The example study (NAS-Bench-201 cells trained with the ``lightning`` evaluator on digits;
random search and aging evolution; the final protocol retrains every run's answer twice),
reduced by default to ``--seeds`` repetitions of ``--evals`` evaluations and ``--baseline``
random-sampling runs (the example: 3, 12 and 6), runs on a started ``LocalCluster`` of one
single-threaded worker and then on one of ``--workers``; each evaluation uses one torch thread
(the evaluator's ``threads = 1``; checked in the tables' ``info.threads`` and on the workers).
It prints trainings per minute (search evaluations and final-protocol evaluations) of each and
their ratio (target: at least 1.8x with two workers), and whether the two produced the same
tables. The clock starts once the workers have imported torch and Lightning (import time,
several seconds per process, is start-up, not throughput); the cluster's own start-up is
printed apart.

Under load from elsewhere the workers compete for the cores with everything else, and the
ratio says less about the harness than about the machine's scheduler; so a control runs
first: a fixed single-threaded torch workload in one process and in ``--workers`` processes
(2.00x on two idle cores), and the ratio is also printed against it. The load average is
printed before and after.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tomllib
from pathlib import Path

import pandas as pd

from nasbench.protocol import study_from_dict
from nasbench.registry import load_plugins
from nasbench.run import run_study
from nasbench.run.executors import dask_client

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_training.toml"
MEASURED = ("wall_time", "seconds", "latency", "cost")
"""Parts of the names of columns that hold measured times (they differ from run to run)."""


def _warm() -> tuple[int, int]:
    """On a worker: import what training needs; its pid and torch's thread count."""
    import lightning_fabric  # noqa: F401
    import pytorch_lightning  # noqa: F401
    import torch

    return os.getpid(), torch.get_num_threads()


def _spin(_: int) -> float:
    """A fixed amount of single-threaded torch work (the control); its seconds."""
    import torch

    torch.set_num_threads(1)
    a = torch.randn(256, 256)
    t = time.perf_counter()
    for _ in range(400):
        a = torch.tanh(a @ a) * 0.5
    return time.perf_counter() - t


def _control(workers: int) -> float:
    """How much more of a fixed torch workload ``workers`` processes get done than one, in
    the same wall time, right now: what this machine offers a second worker at its present
    load (2.0 on two idle cores)."""
    from concurrent.futures import ProcessPoolExecutor

    rates = {}
    for n in (1, workers):
        with ProcessPoolExecutor(n) as pool:
            list(pool.map(_spin, range(n)))  # start-up and imports
            t = time.perf_counter()
            list(pool.map(_spin, range(2 * n)))
            rates[n] = 2 * n / (time.perf_counter() - t)
    return rates[workers] / rates[1]


def _study(args: argparse.Namespace):
    config = tomllib.loads(EXAMPLE.read_text())
    config["study"]["seeds"] = args.seeds
    config["budget"]["evaluations"] = args.evals
    config["baseline"]["samples"] = args.baseline
    return config


def _run(config: dict, workers: int, out: Path) -> tuple[float, float, int, dict]:
    """Seconds of the study on a started cluster of ``workers``, its start-up, the number of
    trainings, and the workers' (pid -> torch threads) after the study."""
    plugins = load_plugins()
    study = study_from_dict(config, plugins)
    t = time.perf_counter()
    with dask_client(workers, None, 1) as client:
        client.wait_for_workers(workers)
        client.run(_warm)
        started = time.perf_counter() - t
        t = time.perf_counter()
        run_study(study, plugins, out, progress=False, scheduler=client.scheduler.address,
                  threads=1)
        elapsed = time.perf_counter() - t
        threads = dict(client.run(_warm).values())
    trials = pd.read_parquet(out / "trials.parquet")
    final = pd.read_parquet(out / "final.parquet")
    trainings = int((~trials["repeat"]).sum()) + len(final)
    return elapsed, started, trainings, threads


def _differences(a: Path, b: Path) -> list[str]:
    """The columns (measured times aside) in which the tables of ``a`` and ``b`` differ."""
    out = []
    for name in ("trials.parquet", "runs.parquet", "final.parquet"):
        x, y = pd.read_parquet(a / name), pd.read_parquet(b / name)
        for col in sorted(set(x.columns) | set(y.columns)):
            if any(m in col for m in MEASURED):
                continue
            if col not in x or col not in y or not x[col].equals(y[col]):
                out.append(f"{name}:{col}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--evals", type=int, default=6)
    parser.add_argument("--baseline", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = _study(args)
    print(f"{EXAMPLE.name}, reduced: {args.seeds} seeds x {args.evals} evaluations x 2 "
          f"strategies, {args.baseline} baseline runs, final protocol 2 repeats per run; "
          f"{os.cpu_count()} CPUs; load average before {os.getloadavg()[0]:.2f}")
    control = _control(args.workers)
    print(f"control: {args.workers} processes get {control:.2f}x the fixed torch work of one "
          "done in the same time (2.00x on two idle cores)")
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, args.workers):
            out = Path(tmp) / f"w{workers}"
            elapsed, started, n, threads = _run(config, workers, out)
            rates[workers] = n / elapsed * 60
            used = sorted(set(pd.read_parquet(out / "trials.parquet")["info.threads"]) |
                          set(pd.read_parquet(out / "final.parquet")["info.threads"]))
            print(f"{workers} worker(s): {n} trainings in {elapsed:6.1f} s = "
                  f"{rates[workers]:6.1f} per minute (cluster start-up and imports "
                  f"{started:.1f} s, not counted; torch threads per evaluation {used}, per "
                  f"worker {sorted(threads.values())})")
        diff = _differences(Path(tmp) / "w1", Path(tmp) / f"w{args.workers}")
    print(f"{args.workers} workers / 1 worker: {rates[args.workers] / rates[1]:.2f}x "
          f"(target >= 1.8x); identical tables (measured times aside): "
          f"{'yes' if not diff else 'NO, ' + ', '.join(diff)}; "
          f"load average after {os.getloadavg()[0]:.2f}; against the control "
          f"{rates[args.workers] / rates[1] / control:.2f}")


if __name__ == "__main__":
    main()
