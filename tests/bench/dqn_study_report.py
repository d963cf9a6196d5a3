"""Per strategy of a DQN study: environment steps (and seconds) to a network within 5% of the
brute-force best's test return, beside what the brute force cost.

    .venv/bin/python tests/bench/dqn_study_report.py runs/dqn_cartpole [--tolerance 0.05]

The brute force is the ``dqn_cartpole`` table (the mean test return over its seeds of every
network, and the environment steps and seconds its build took per seed); a study whose
protocol differs from the table's is judged against a table it does not match, so keep them
equal (examples/dqn_cartpole.toml does). A study over a part of the space (fewer widths) is
judged against the table's networks of that part.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from nasbench.data import find_table
from nasbench.rl.report import summarise, time_to_near_best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the study's output directory")
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    location = find_table("dqn_cartpole")  # shipped, or a copy in $NASBENCH_DATA
    described = location.description
    frame = pd.read_parquet(location.path)
    networks = len(frame)
    space = study_space(args.out)
    keep = [_in(space, a) for a in frame["arch"]]
    frame = frame[keep]
    test = dict(zip(frame["arch"], frame["CartPole-v1/test_return"], strict=True))
    trials = pd.read_parquet(args.out / "trials.parquet")
    per_run = time_to_near_best(trials, test, tolerance=args.tolerance)
    best = max(test, key=test.get)
    seeds = len(described["seeds"])
    print(f"brute-force best: {best} (test return {test[best]:.1f}, mean of {seeds} seeds); "
          f"within {args.tolerance:.0%}: >= {test[best] - args.tolerance * abs(test[best]):.1f}")
    steps = frame["CartPole-v1/env_steps"].sum()
    seconds = frame["CartPole-v1/train_seconds"].sum()
    print(f"brute force, one seed of the study space's {len(frame)} networks (of "
          f"{networks} in the table): {steps:,.0f} environment "
          f"steps, {seconds / 60:.1f} min measured ({seeds} seeds: {seeds * steps:,.0f} steps)")
    print(summarise(per_run).to_string())


def study_space(out: Path) -> Any:
    """The study's ``mlp`` space (its widths and activations may be a part of the table's)."""
    import json

    from nasbench.spaces.mlp import MlpParams, MlpSpace

    from nasbench.params import build_params

    # the resolved config in manifest.json (written by every run, from the CLI or not)
    table = dict(json.loads((out / "manifest.json").read_text())["config"]["space"])
    table.pop("name", None)
    return MlpSpace(build_params(MlpParams, table, "space"))


def _in(space: Any, arch: str) -> bool:
    from nasbench.errors import InvalidArchitectureError

    try:
        space.from_string(arch)
    except InvalidArchitectureError:
        return False
    return True


if __name__ == "__main__":
    main()
