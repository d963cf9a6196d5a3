"""The tables of docs/baselines.md, from the results of examples/nb201_baselines.toml.

Prints (Markdown):

1. each strategy's 200-epoch test accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120
   (mean +- std over its runs) beside the numbers NAS-Bench-201 published for the strategies
   both share (Dong & Yang, ICLR 2020, Table 5: 500 runs, 12,000 simulated seconds);
2. each strategy against random search on CIFAR-10: the difference of means, Welch's t-test
   and a paired-by-seed sign count (runs share their repetition seed, not their trajectory);
3. how fast each strategy learns: the mean search metric of its proposals in successive tenths
   of the budget (random search stays flat; a strategy that learns climbs);
4. what random search is expected to return after N evaluations, computed from the table
   (Monte Carlo, 20,000 draws per N), to read the paper's time budget as a number of
   evaluations;
5. how far NAS-Bench-201's REINFORCE moves its policy in 100 evaluations, per learning rate
   (50 runs each, on the table).

Usage, after running the study::

    python tests/bench/nb201_baselines_tables.py runs/nb201-baselines
"""

from __future__ import annotations

import os
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


def random_search_by_budget(data_dir: Path | None, budgets: tuple[int, ...] = (
        25, 50, 75, 100, 125, 150, 200, 300), draws: int = 20_000) -> str:
    """Expected test accuracies of random search's answer (best of N uniform draws by the
    12-epoch validation accuracy), per budget N."""
    from nasbench.data import read_frame

    table = read_frame("nb201", data_dir).rename(columns=lambda c: c.replace("/", "_"))
    valid = table["cifar10_valid_12ep"].to_numpy()
    tests = [table[m.replace("/", "_")].to_numpy() for m in METRICS]
    rng = np.random.default_rng(0)
    lines = ["| N | CIFAR-10 | CIFAR-100 | ImageNet16-120 |", "|---:|---:|---:|---:|"]
    for n in budgets:
        idx = rng.integers(0, len(valid), size=(draws, n))
        best = idx[np.arange(draws), valid[idx].argmax(axis=1)]
        lines.append(f"| {n} | " + " | ".join(f"{t[best].mean():.2f}" for t in tests) + " |")
    paper = PUBLISHED["RS"]
    lines.append("| paper's RS (12,000 s) | "
                 + " | ".join(f"{m:.2f}" for m, _ in paper) + " |")
    return "\n".join(lines)


def policy_movement(data_dir: Path | None, rates: tuple[float, ...] = (0.001, 0.01, 0.5),
                    runs: int = 50, budget: int = 100) -> str:
    """Largest change of any logit, and largest relative distance of any operation's
    probability from uniform, after ``budget`` evaluations of ``reinforce_logits``."""
    from nasbench.spaces.nb201 import Nb201Space
    from nasbench.strategies.reinforce_logits import ReinforceLogits, ReinforceLogitsParams

    from nasbench.api import Budget, Observation, StrategyContext
    from nasbench.registry import load_plugins

    table = load_plugins().benchmarks.get("nb201")().load(data_dir, ("cifar10",))
    column = table.column("cifar10/valid_12ep")
    space = Nb201Space()
    lines = ["| learning rate | largest logit change | largest \\|5 p - 1\\| |",
             "|---:|---:|---:|"]
    for rate in rates:
        moved, spread = 0.0, 0.0
        for seed in range(runs):
            strategy = ReinforceLogits(ReinforceLogitsParams(learning_rate=rate))
            strategy.setup(space, np.random.default_rng(seed),
                           StrategyContext(budget=Budget(evaluations=budget)))
            start = None
            for _ in range(budget):
                trial = strategy.ask()
                if start is None:
                    start = {n: e.values.copy() for n, e in strategy._logits.items()}
                strategy.tell(trial, Observation(column[table.row(trial.arch)], 0.0))
            for name, entry in strategy._logits.items():
                moved = max(moved, float(np.abs(entry.values - start[name]).max()))
                probs = np.exp(entry.values) / np.exp(entry.values).sum()
                spread = max(spread, float(np.abs(len(probs) * probs - 1).max()))
        lines.append(f"| {rate:g} | {moved:.3f} | {spread:.3f} |")
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
    data_dir = Path(os.environ["NASBENCH_DATA"]) if os.environ.get("NASBENCH_DATA") else None
    print("\n## Random search's expected answer after N evaluations (from the table)\n")
    print(random_search_by_budget(data_dir))
    print("\n## How far reinforce_logits moves its policy in 100 evaluations\n")
    print(policy_movement(data_dir))


if __name__ == "__main__":
    main()
