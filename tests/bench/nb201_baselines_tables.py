"""The tables of docs/baselines.md, from the results of examples/nb201_baselines.toml.

Prints (Markdown):

1. each strategy's 200-epoch test accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120
   (mean +- std over its runs) beside the numbers NAS-Bench-201 published for the strategies
   both share (Dong & Yang, ICLR 2020, Table 5: 500 runs, 12,000 simulated seconds);
2. each strategy against random search on CIFAR-10: the difference of means, Welch's t-test
   and a paired-by-seed sign count (runs share their repetition seed, not their trajectory);
3. how fast each strategy learns: the mean search metric of its proposals in successive tenths
   of the budget (random search stays flat; a strategy that learns climbs).

Usage, after running the study::

    python tests/bench/nb201_baselines_tables.py runs/nb201-baselines
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

METRICS = ("cifar10/test_200ep", "cifar100/test_200ep", "imagenet16_120/test_200ep")

# NAS-Bench-201 (Dong & Yang, ICLR 2020), Table 5: test accuracy (%) of the architecture each
# strategy returns, mean +- std over 500 runs, reward = 12-epoch validation accuracy on
# CIFAR-10, budget 12,000 simulated seconds.
PUBLISHED = {
    "REA": ((93.92, 0.30), (71.84, 0.99), (45.54, 1.03)),
    "RS": ((93.70, 0.36), (71.04, 1.07), (44.57, 1.25)),
    "REINFORCE": ((93.85, 0.37), (71.71, 1.09), (45.24, 1.18)),
    "BOHB": ((93.61, 0.52), (70.85, 1.28), (44.42, 1.49)),
}
# Which of our rows corresponds to which of the paper's.
COUNTERPART = {
    "aging_evolution": "REA",
    "random_search": "RS",
    "reinforce_logits": "REINFORCE",
}


def _cell(values: pd.Series) -> str:
    return f"{values.mean():.2f} ± {values.std():.2f}"


def leaderboard(runs: pd.DataFrame) -> str:
    search = runs[runs.kind == "search"]
    order = search.groupby("strategy")[METRICS[0]].mean().sort_values(ascending=False).index
    lines = [
        "| strategy | runs | CIFAR-10 | CIFAR-100 | ImageNet16-120 | paper row | paper CIFAR-10 "
        "| paper CIFAR-100 | paper ImageNet16-120 |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for label in order:
        rows = search[search.strategy == label]
        ours = " | ".join(_cell(rows[m]) for m in METRICS)
        paper = COUNTERPART.get(label)
        theirs = (" | ".join(f"{m:.2f} ± {s:.2f}" for m, s in PUBLISHED[paper])
                  if paper else " | ".join("" for _ in METRICS))
        lines.append(f"| `{label}` | {len(rows)} | {ours} | {paper or ''} | {theirs} |")
    lines.append("| BOHB | not run | | | | BOHB | "
                 + " | ".join(f"{m:.2f} ± {s:.2f}" for m, s in PUBLISHED["BOHB"]) + " |")
    base = runs[runs.kind == "baseline"]
    lines.append(f"| random sampling | {len(base)} | "
                 + " | ".join(_cell(base[m]) for m in METRICS) + " | | | | |")
    return "\n".join(lines)


def against_random_search(runs: pd.DataFrame) -> str:
    search = runs[runs.kind == "search"]
    metric = METRICS[0]
    rs = search[search.strategy == "random_search"].set_index("seed")[metric]
    lines = [
        "| strategy | mean - RS (CIFAR-10) | Welch t | p (two-sided) | seeds better / worse "
        "/ tied |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in sorted(search.strategy.unique()):
        if label == "random_search":
            continue
        other = search[search.strategy == label].set_index("seed")[metric]
        t, p = stats.ttest_ind(other, rs, equal_var=False)
        paired = (other - rs.reindex(other.index)).dropna()
        lines.append(
            f"| `{label}` | {other.mean() - rs.mean():+.3f} | {t:.2f} | {p:.2g} | "
            f"{(paired > 0).sum()} / {(paired < 0).sum()} / {(paired == 0).sum()} |"
        )
    return "\n".join(lines)


def learning_curves(trials: pd.DataFrame, budget: int, parts: int = 10) -> str:
    """Mean search metric of the distinct architectures a strategy evaluated, per tenth of
    the budget (evaluation order within each run)."""
    fresh = trials[~trials.repeat].copy()
    fresh["order"] = fresh.groupby("run_id").cumcount()
    fresh["part"] = np.minimum(fresh.order * parts // budget, parts - 1)
    table = fresh.pivot_table(index="strategy", columns="part", values="search_metric",
                              aggfunc="mean")
    header = " | ".join(f"{i * budget // parts + 1}-{(i + 1) * budget // parts}"
                        for i in range(parts))
    lines = [f"| strategy | {header} |", "|---|" + "---:|" * parts]
    for label, row in table.iterrows():
        lines.append(f"| `{label}` | " + " | ".join(f"{v:.1f}" for v in row) + " |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = Path(sys.argv[1])
    runs = pd.read_parquet(directory / "runs.parquet")
    trials = pd.read_parquet(directory / "trials.parquet")
    budget = int(trials[~trials.repeat].groupby("run_id").size().max())
    print("## Test accuracy of the returned architectures\n")
    print(leaderboard(runs))
    print("\n## Against random search\n")
    print(against_random_search(runs))
    print(f"\n## Mean 12-epoch validation accuracy of the evaluated architectures, by "
          f"evaluation ({budget} per run)\n")
    print(learning_curves(trials, budget))


if __name__ == "__main__":
    main()
