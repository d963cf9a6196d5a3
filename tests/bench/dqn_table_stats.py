"""How much RL noise reorders architectures in the ``dqn_cartpole`` table.

Prints, for the validation and the test return: the seed-to-seed Spearman rho and Kendall tau-b
(scipy's defaults) over the architectures every pair of seeds shares; the architecture spread
(standard deviation over architectures of the mean over seeds) beside the seed spread
(each architecture's standard deviation over seeds), and the architectures and groups where
the seed spread exceeds the architecture spread; the share of the variance the architecture
explains (between-architecture variance over total, one-way); and the build's cost.

    .venv/bin/python tests/bench/dqn_table_stats.py [--runs runs/dqn_table/runs.jsonl]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import pandas as pd
from scipy import stats


def load(path: Path) -> pd.DataFrame:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    frame = pd.DataFrame(rows)
    return frame[frame["status"] == "ok"]


def report(rows: pd.DataFrame, metric: str) -> None:
    wide = rows.pivot(index="arch", columns="seed", values=metric)
    print(f"\n== {metric} ({len(wide)} architectures, seeds {list(wide.columns)})")
    for a, b in itertools.combinations(wide.columns, 2):
        both = wide[[a, b]].dropna()
        if len(both) < 3:
            continue
        rho = stats.spearmanr(both[a], both[b]).statistic
        tau = stats.kendalltau(both[a], both[b]).statistic
        print(f"seed {a} vs seed {b}: {len(both)} architectures, Spearman {rho:.3f}, "
              f"Kendall {tau:.3f}")
    full = wide.dropna()
    if len(full) < 3 or full.shape[1] < 2:
        print("fewer than 3 architectures have every seed: no spread statistics")
        return
    means = full.mean(axis=1)
    seed_sd = full.std(axis=1, ddof=1)
    arch_sd = means.std(ddof=1)
    print(f"{len(full)} architectures with all {full.shape[1]} seeds: architecture spread "
          f"(sd of means) {arch_sd:.1f}; seed spread (sd over seeds) median "
          f"{seed_sd.median():.1f}, mean {seed_sd.mean():.1f}, max {seed_sd.max():.1f}")
    over = seed_sd[seed_sd > arch_sd].sort_values(ascending=False)
    print(f"seed spread exceeds the architecture spread for {len(over)} of {len(full)}: "
          + ", ".join(f"{a} ({v:.0f})" for a, v in over.items()))
    between = full.shape[1] * ((means - means.mean()) ** 2).sum() / (len(full) - 1)
    within = (seed_sd ** 2).mean()
    print(f"variance explained by the architecture (one-way, between / (between + within) "
          f"mean squares): {between / (between + within):.2f}")
    groups = pd.DataFrame({"seed_sd": seed_sd, "mean": means})
    groups["activations"] = [
        "/".join(part.split(":")[1] for part in arch.split("|")) for arch in groups.index]
    print("by activations (mean return, mean seed sd, count):")
    summary = groups.groupby("activations").agg(mean=("mean", "mean"),
                                                seed_sd=("seed_sd", "mean"),
                                                n=("mean", "size"))
    print(summary.round(1).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/dqn_table/runs.jsonl"))
    args = parser.parse_args()
    rows = load(args.runs)
    per_seed = rows.groupby("seed").size().to_dict()
    print(f"{len(rows)} evaluations, per seed {per_seed}; {rows['env_steps'].sum():,.0f} "
          f"environment steps, {rows['train_seconds'].sum() / 60:.1f} min measured (one "
          "thread, shared machine)")
    for metric in ("valid_return", "test_return", "curve_area"):
        report(rows, metric)
    best = rows.groupby("arch")["test_return"].mean().sort_values(ascending=False)
    print("\nbest five by mean test return:", ", ".join(f"{a} {v:.1f}"
                                                      for a, v in best.head(5).items()))


if __name__ == "__main__":
    main()
