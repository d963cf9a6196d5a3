"""Per strategy of a DQN study: environment steps (and seconds) to a network within 5% of the
brute-force best's test return, beside what the brute force cost.

    .venv/bin/python tests/bench/dqn_study_report.py runs/dqn_cartpole [--tolerance 0.05]

The brute force is the ``dqn_cartpole`` table (the mean test return over its seeds of every
network, and the environment steps and seconds its build took per seed); a study whose
protocol differs from the table's is judged against a table it does not match, so keep them
equal (examples/dqn_cartpole.toml does).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from nasbench.evaluators.dqn_table import DqnCartpoleBenchmark

from nasbench.rl.report import summarise, time_to_near_best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the study's output directory")
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    benchmark = DqnCartpoleBenchmark()
    table = benchmark.load(None, ("CartPole-v1",))
    described = benchmark.describe_table()
    frame = pd.read_parquet(Path(benchmark_path()))
    test = dict(zip(frame["arch"], frame["CartPole-v1/test_return"], strict=True))
    trials = pd.read_parquet(args.out / "trials.parquet")
    per_run = time_to_near_best(trials, test, tolerance=args.tolerance)
    best = max(test, key=test.get)
    seeds = len(described["seeds"])
    print(f"brute-force best: {best} (test return {test[best]:.1f}, mean of {seeds} seeds); "
          f"within {args.tolerance:.0%}: >= {test[best] - args.tolerance * abs(test[best]):.1f}")
    steps = sum(table.column("CartPole-v1/env_steps"))
    seconds = sum(table.column("CartPole-v1/train_seconds"))
    print(f"brute force, one seed of all {len(table)} networks: {steps:,.0f} environment "
          f"steps, {seconds / 60:.1f} min measured ({seeds} seeds: {seeds * steps:,.0f} steps)")
    print(summarise(per_run).to_string())


def benchmark_path() -> Path:
    from nasbench.evaluators.dqn_table import _paths

    return _paths(None)[0]


if __name__ == "__main__":
    main()
