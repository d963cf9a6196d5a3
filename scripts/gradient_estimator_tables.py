"""Tables of the gradient-estimator study (``examples/nb201_gradient_estimators.toml``) beyond
the leaderboard: per strategy, the final accuracy and its relative improvement over random
sampling, how far its answers collapse to parameter-free cells, the gradient-estimate variance
the sampled strategies record, what the search cost; and UNAS's accuracy/parameters front over
its cost weights (the runs on the generalisation objective, the default).

    python scripts/gradient_estimator_tables.py runs/nb201-fashion-gradient-estimators/<time>

Prints Markdown. Reads the results directory only; runs nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from nasbench.results.collapse import parameter_free_edges, skip_edges
from nasbench.results.schema import load_for_report


def _table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(frame.columns))) + "|"
    rows = ["| " + " | ".join("–" if pd.isna(v) else str(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _mean_std(values: pd.Series) -> str:
    if len(values) < 2:
        return f"{values.mean():.2f}"
    return f"{values.mean():.2f} ± {values.std():.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()

    runs = pd.read_parquet(args.directory / "runs.parquet")
    config = json.loads((args.directory / "manifest.json").read_text())["config"]
    weights = {s.get("label") or s["name"]: float(s.get("cost_weight", 0.0))
               for s in config["strategies"] if s["name"] == "unas"
               and s.get("objective", "generalisation") == "generalisation"}
    accuracy = next(c for c in runs.columns if c.endswith("/test_acc") and "." not in c)
    params = next((c for c in runs.columns if c.endswith("/params") and "." not in c), None)
    answers = runs.dropna(subset=["incumbent"]).copy()
    answers["parameter_free"] = answers["incumbent"].map(parameter_free_edges)
    answers["skip"] = answers["incumbent"].map(skip_edges)
    random = answers.loc[answers["kind"] != "search", accuracy].mean()

    # the supernet's cost in GFLOPs, its measured seconds beside
    flops = load_for_report(args.directory).cost_unit() == "flops"

    rows = []
    for label, group in answers.groupby("strategy", sort=False):
        search = group["kind"] == "search"
        variance = group.get("strategy.grad_variance", pd.Series(dtype=float))
        rows.append({
            "strategy": label, "answers": len(group), "final test acc.": _mean_std(group[accuracy]),
            "RI %": round(100 * (group[accuracy].mean() - random) / random, 1) if search.all()
            else None,
            "params": round(group[params].mean()) if params else None,
            "parameter-free edges (of 6)": round(group["parameter_free"].mean(), 2),
            "skip edges": round(group["skip"].mean(), 2),
            "grad. variance": (f"{variance.mean():.3g}" if variance.notna().any() else None),
            **({"supernet GFLOPs": round(group["strategy_cost"].mean() / 1e9, 1)
                if search.all() else None,
                "supernet s (measured)": round(group["supernet_seconds"].mean(), 1)
                if search.all() and "supernet_seconds" in group else None} if flops else
               {"supernet s": round(group["strategy_cost"].mean(), 1) if search.all() else None}),
        })
    print(f"## Strategies (final protocol; RI against random sampling's {random:.2f}%)\n")
    print(_table(pd.DataFrame(rows)))

    front = answers[answers["strategy"].isin(weights)].copy()
    if not front.empty and params:
        front["cost weight"] = front["strategy"].map(weights)
        table = front.groupby("cost weight").agg(
            strategy=("strategy", "first"), answers=("incumbent", "size"),
            accuracy=(accuracy, "mean"), params=(params, "mean"),
            parameter_free=("parameter_free", "mean")).reset_index()
        print("\n## UNAS: accuracy against parameters over the cost weight (means over seeds)\n")
        print(_table(table.round({"accuracy": 2, "params": 0, "parameter_free": 2})))


if __name__ == "__main__":
    main()
