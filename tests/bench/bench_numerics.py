"""What portable numerics cost: the same small training study under native and portable
kernels, each in its own ``nasbench run`` process, alternating, and whether results differ.

    python tests/bench/bench_numerics.py [--cells 3] [--epochs 4] [--repeats 2]

Prints, per mode, the training seconds summed over the cells (the evaluator's
``info.train_seconds``: process start-up and imports excluded) of every repeat, the CPU
capability torch used, and how the two modes' trials compare (identical, or floating-point
drift and its size). The study is tests/reference/nb201_digits_portable.toml (NB201 cells,
C=8, N=1, on digits, one torch thread) with its sizes overridden.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from nasbench.numerics import compare_trials

STUDY = Path(__file__).resolve().parents[1] / "reference" / "nb201_digits_portable.toml"


def run(out: Path, mode: str, cells: int, epochs: int) -> tuple[float, pd.DataFrame, dict]:
    cmd = [sys.executable, "-m", "nasbench.cli", "run", str(STUDY), "--out", str(out),
           "--set", f"execution.numerics={mode}", "--set", f"budget.evaluations={cells}",
           "--set", f"strategies[0].sample={cells}", "--set", f"evaluator.epochs={epochs}"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    trials = pd.read_parquet(out / "trials.parquet")
    machine = json.loads((out / "manifest.json").read_text())["numerics"]
    return float(trials["info.train_seconds"].sum()), trials, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"native": [], "portable": []}
    trials: dict[str, pd.DataFrame] = {}
    machines: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for mode in ("native", "portable"):
                seconds, t, m = run(Path(tmp) / f"{mode}-{r}", mode, args.cells, args.epochs)
                times[mode].append(seconds)
                if mode in trials:
                    again = compare_trials(trials[mode], t)
                    print(f"{mode} repeat {r}: {again.describe()}")
                trials[mode], machines[mode] = t, m
    print(f"CPU: {machines['native']['cpu_model']}, {machines['native']['cores']} cores, "
          f"torch {machines['native']['torch']['version']}")
    print(f"{args.cells} NB201 cells (C=8, N=1) x {args.epochs} epochs on digits (600 images), "
          f"1 thread; training seconds per study, {args.repeats} repeats:")
    for mode in times:
        cap = machines[mode]["torch"]["cpu_capability"]
        print(f"  {mode:9s} ({cap:6s}): median {statistics.median(times[mode]):.2f} s  "
              f"[{', '.join(f'{s:.2f}' for s in times[mode])}]")
    ratio = statistics.median(times["portable"]) / statistics.median(times["native"])
    print(f"portable / native: {ratio:.2f}x")
    print(f"native vs portable: {compare_trials(trials['native'], trials['portable']).describe()}")


if __name__ == "__main__":
    main()
