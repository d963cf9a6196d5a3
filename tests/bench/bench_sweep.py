"""Benchmark of sweeps and verification.

Run it alone on the machine (it is CPU-bound)::

    python tests/bench/bench_sweep.py                 # the full sizes of issue 16
    python tests/bench/bench_sweep.py --seeds 5       # a small run, extrapolated

It prints, with their targets:

1. ``nasbench sweep`` of a 4-point (25, 50, 100, 200 evaluations) x 7-strategy NB201 budget
   sweep (examples/sweeps/nb201_budget.toml, whose 400-evaluation point is left out) with
   ``--workers 2``; target under 5 minutes at 100 seeds. At fewer seeds it also prints the
   time per seed and the 100-seed time that extrapolates linearly (runs are independent; the
   per-point process-pool start-up is a fixed cost, counted once per point);
2. ``nasbench verify --fraction 0.1`` of the examples/nb201_baselines.toml study (run first
   at ``--seeds`` seeds unless ``--study-dir`` names a complete run); target under 30 s at 500
   seeds. The time of verify grows with the sampled runs, so it is extrapolated the same way.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _nasbench(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nasbench.cli", *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _extrapolate(out: Path, seconds: float, seeds: int, workers: int) -> None:
    """Split the sweep's time into the runs' own time (``wall_time`` of runs.parquet, which
    grows with the seeds) and the rest (start-up, pools, tables), and scale the first."""
    import pandas as pd

    per_strategy: dict[str, float] = {}
    for runs_file in sorted(out.glob("*/runs.parquet")):
        runs = pd.read_parquet(runs_file)
        for label, t in runs.groupby("strategy")["wall_time"].sum().items():
            per_strategy[str(label)] = per_strategy.get(str(label), 0.0) + float(t)
    run_time = sum(per_strategy.values())
    fixed = max(0.0, seconds - run_time / workers)
    scaled = fixed + run_time / workers * 100 / seeds
    print("  run time by strategy (s, all points): " + ", ".join(
        f"{k} {v:.1f}" for k, v in sorted(per_strategy.items(), key=lambda kv: -kv[1])))
    print(f"  runs {run_time:.1f} s of work, the rest ~{fixed:.1f} s; at 100 seeds "
          f"~{scaled:.0f} s with {workers} workers (target < 300 s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="seeds of the sweep (100)")
    parser.add_argument("--verify-seeds", type=int, default=500,
                        help="seeds of the baselines study to verify (500)")
    parser.add_argument("--study-dir", help="a complete run of examples/nb201_baselines.toml")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sweep"
        sweep_file = Path(tmp) / "budget4.toml"
        text = (ROOT / "examples/sweeps/nb201_budget.toml").read_text()
        sweep_file.write_text(text.replace("[25, 50, 100, 200, 400]", "[25, 50, 100, 200]"))
        seconds = _nasbench("sweep", str(sweep_file), "--out", str(out), "--quiet",
                            "--workers", str(args.workers), "--set", f"study.seeds={args.seeds}")
        runs = 4 * 8 * args.seeds  # 7 strategies and the baseline per point
        print(f"sweep 4 points x 7 strategies x {args.seeds} seeds, --workers {args.workers}: "
              f"{seconds:.1f} s ({runs} runs)")
        _extrapolate(out, seconds, args.seeds, args.workers)
        t = _nasbench("report", str(out), "--no-print", "--quiet")
        print(f"report of the sweep view: {t:.1f} s")

        study = Path(args.study_dir) if args.study_dir else Path(tmp) / "baselines"
        if not args.study_dir:
            t = _nasbench("run", "examples/nb201_baselines.toml", "--out", str(study),
                          "--quiet", "--workers", str(args.workers),
                          "--set", f"study.seeds={args.verify_seeds}")
            print(f"nb201_baselines at {args.verify_seeds} seeds: {t:.1f} s")
        t = _nasbench("verify", str(study), "--fraction", "0.1")
        scale = 500 / args.verify_seeds
        print(f"verify --fraction 0.1 of {args.verify_seeds} seeds: {t:.1f} s; at 500 seeds "
              f"~{t * scale:.0f} s if linear in sampled runs (target < 30 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
