"""Tables of docs/weight_sharing.md beyond the leaderboard, from a results directory of
``examples/nb201_weight_sharing.toml``: what each strategy spent, what DARTS converged to, and
the NAS-Bench-201 CIFAR-10 accuracy of every answer.

    python scripts/weight_sharing_tables.py runs/nb201-weight-sharing

Prints Markdown. Reads the results and NAS-Bench-201's table (the shipped copy, unless
$NASBENCH_DATA overrides it); runs nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from nasbench.results.collapse import PARAMETER_FREE
from nasbench.results.collapse import cell_ops as _ops
from nasbench.results.schema import load_for_report


def _table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(frame.columns))) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()

    from nasbench.data import read_frame

    runs = pd.read_parquet(args.directory / "runs.parquet")
    trials = pd.read_parquet(args.directory / "trials.parquet")
    metric = next(c for c in runs.columns if c.endswith("/test_acc") and "." not in c)
    nb201 = read_frame("nb201").set_index("arch")["cifar10/test_200ep"]

    def cifar10(cell: str) -> float:
        return float(nb201[cell])

    order = list(dict.fromkeys(runs["strategy"]))
    search = runs[runs["kind"] == "search"]
    flops = load_for_report(args.directory).cost_unit() == "flops"
    scale, unit = (1e9, "GFLOPs of training") if flops else (1.0, "seconds of measured CPU time")
    search = search.assign(total_cost=search["total_cost"] / scale,
                           strategy_cost=search["strategy_cost"] / scale)
    measured = {"wall_s": ("wall_time", "mean")}
    if "supernet_seconds" in search:
        measured["supernet_s"] = ("supernet_seconds", "mean")
    spend = search.groupby("strategy", sort=False).agg(
        runs=("seed", "size"), cost=("total_cost", "mean"), supernet=("strategy_cost", "mean"),
        evaluations=("n_evaluations", "mean"),
        stopped=("stop_reason", lambda s: ", ".join(sorted(set(s)))),
        **(measured if flops else {}))
    spend = spend.reindex([s for s in order if s in spend.index]).reset_index()
    print(f"## Cost per run ({unit}, mean over seeds"
          + ("; measured wall and supernet seconds beside" if flops else "") + ")\n")
    print(_table(spend.round(1).astype(object).where(spend.notna(), "–")))

    answers = runs.dropna(subset=["incumbent"]).copy()
    answers["cifar10"] = answers["incumbent"].map(cifar10)
    answers["parameter_free"] = answers["incumbent"].map(
        lambda c: sum(op in PARAMETER_FREE for op in _ops(c)))
    answers["skip"] = answers["incumbent"].map(lambda c: _ops(c).count("skip_connect"))
    context = answers.groupby("strategy", sort=False).agg(
        answers=("incumbent", "size"), fashion=(metric, "mean"), cifar10=("cifar10", "mean"),
        skip=("skip", "mean"), parameter_free=("parameter_free", "mean"))
    context = context.reindex(order).reset_index().round(2)
    print("\n## Answers: final Fashion-MNIST test accuracy, NAS-Bench-201 CIFAR-10 200-epoch "
          "test accuracy of the same cells, skip connections and parameter-free edges (of 6)\n")
    print(_table(context))

    one_shot = answers[answers["strategy_name"].isin(["darts", "enas", "rsws"])]
    cells = one_shot[["strategy", "seed", "incumbent", metric, "cifar10"]].rename(
        columns={"incumbent": "cell", metric: "fashion test"})
    cells["cell"] = cells["cell"].map(lambda c: "`" + c.replace("|", "\\|") + "`")
    print("\n## One-shot answers, run by run\n")
    print(_table(cells.round(2)))

    darts = trials[trials["strategy_name"] == "darts"].copy()
    darts["skip"] = darts["arch"].map(lambda c: _ops(c).count("skip_connect"))
    darts["parameter_free"] = darts["arch"].map(
        lambda c: sum(op in PARAMETER_FREE for op in _ops(c)))
    trajectory = darts.groupby(["strategy", "trial"]).agg(
        skip=("skip", "mean"), parameter_free=("parameter_free", "mean"),
        search_metric=("search_metric", "mean")).reset_index().round(2)
    print("\n## DARTS proposals over training (mean over seeds)\n")
    print(_table(trajectory))


if __name__ == "__main__":
    main()
