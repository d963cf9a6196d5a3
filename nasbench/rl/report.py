"""How long each strategy of a DQN study took to find a network close to the brute-force best.

The comparison the original ENAS-for-DQN study made (ENAS about 12 h against about 20 h of
brute force): for every run, the first point (in environment steps, and in measured seconds)
at which its incumbent, the network it would return, is one whose brute-force test return
(the mean over the table's seeds) is within ``tolerance`` of the best network's. Judging by the
table, not by the run's own noisy measurement, keeps a lucky evaluation from counting as a
find.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def time_to_near_best(trials: Any, table_test: Mapping[str, float], *,
                      tolerance: float = 0.05) -> Any:
    """One row per run: whether and when its incumbent came within ``tolerance`` of the best.

    Args:
        trials: the study's ``trials.parquet`` as a DataFrame (``strategy``, ``seed``,
            ``trial``, ``incumbent``, ``cum_cost``, ``wall_time``).
        table_test: architecture string -> brute-force test return.
        tolerance: relative distance to the best test return that counts as found.
    """
    import pandas as pd

    best = max(table_test.values())
    threshold = best - tolerance * abs(best)
    rows = []
    for (strategy, seed), run in trials.sort_values("trial").groupby(["strategy", "seed"]):
        seconds = run["wall_time"].cumsum()
        hit = [table_test.get(a, float("-inf")) >= threshold for a in run["incumbent"]]
        first = next((i for i, h in enumerate(hit) if h), None)
        rows.append({
            "strategy": strategy, "seed": seed, "found": first is not None,
            "env_steps": float(run["cum_cost"].iloc[first]) if first is not None else None,
            "seconds": float(seconds.iloc[first]) if first is not None else None,
            "budget_used": float(run["cum_cost"].iloc[-1]),
        })
    return pd.DataFrame(rows)


def summarise(per_run: Any) -> Any:
    """Per strategy: runs, runs that found one, median environment steps and seconds to it."""
    grouped = per_run.groupby("strategy")
    out = grouped.agg(runs=("found", "size"), found=("found", "sum"),
                      median_env_steps=("env_steps", "median"),
                      median_seconds=("seconds", "median"),
                      mean_budget_used=("budget_used", "mean"))
    return out.sort_values(["found", "median_env_steps"], ascending=[False, True])
