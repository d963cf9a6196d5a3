"""The leaderboard: per strategy, report metrics over seeds, mean rank, and the relative
improvement over random sampling.

Relative improvement (Yang et al., ICLR 2020): RI = 100 (Acc_m - Acc_r) / Acc_r, where Acc_m
is the mean of strategy m's final report metric over its seeds and Acc_r the mean of
architectures sampled uniformly from the same space and evaluated the same way (the
``random_sampling`` rows). Mean rank: within each repetition seed, strategies are ranked by the
first report metric (1 = best, ties averaged), then ranks are averaged over seeds.

With a final protocol (the study's ``[final]`` table), the report metrics are the final
figures: every incumbent and every random sample trained again under that protocol, so RI
compares like with like; the report metrics under the search protocol are shown beside them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nasbench.results.schema import Results

from nasbench.protocol import BASELINE_LABEL

if TYPE_CHECKING:
    import pandas as pd


def _orientation(results: Results, metric: str) -> bool:
    """Whether larger is better for ``metric``, as the evaluator declared it."""
    return bool(results.manifest["metrics"][metric]["higher_is_better"])


def leaderboard(results: Results) -> pd.DataFrame:
    """One row per strategy (the baseline included) with the statistics above."""
    import pandas as pd

    runs = results.runs
    metrics = results.report_metrics
    order = list(dict.fromkeys(runs["strategy"]))
    if BASELINE_LABEL in order:
        order.remove(BASELINE_LABEL)
        order.append(BASELINE_LABEL)
    grouped = runs.groupby("strategy", sort=False)
    table = pd.DataFrame(index=pd.Index(order, name="strategy"))
    table["n_seeds"] = grouped["seed"].nunique()
    for m in metrics:
        table[f"{m} mean"] = grouped[m].mean()
        table[f"{m} std"] = grouped[m].std(ddof=1)
    if f"search.{metrics[0]}" in runs.columns:
        table["search protocol mean"] = grouped[f"search.{metrics[0]}"].mean()
        table["search protocol std"] = grouped[f"search.{metrics[0]}"].std(ddof=1)
    table["search mean"] = grouped["search_metric"].mean()
    table["search std"] = grouped["search_metric"].std(ddof=1)
    table["evaluations"] = grouped["n_evaluations"].mean()
    table["mean rank"] = _mean_rank(runs, metrics[0], _orientation(results, metrics[0]))
    if BASELINE_LABEL in table.index:
        for m in metrics:
            base = table.loc[BASELINE_LABEL, f"{m} mean"]
            sign = 1.0 if _orientation(results, m) else -1.0
            table[f"{m} RI %"] = sign * 100.0 * (table[f"{m} mean"] - base) / base
    return table


def _mean_rank(runs: pd.DataFrame, metric: str, higher_is_better: bool) -> pd.Series:
    """Average over seeds of each strategy's rank within the seed (only seeds every strategy
    ran, so ranks compare like with like)."""
    wide = runs.pivot_table(index="seed", columns="strategy", values=metric, aggfunc="mean")
    wide = wide.dropna(axis=0, how="any")
    if wide.empty:
        return wide.mean()
    ranks = wide.rank(axis=1, ascending=not higher_is_better, method="average")
    return ranks.mean(axis=0)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def to_markdown(results: Results, table: pd.DataFrame) -> str:
    """The leaderboard as a Markdown page with its protocol stated."""
    m = results.manifest
    config = m["config"]
    metrics = results.report_metrics
    budget = config["budget"]
    limits = []
    if budget.get("evaluations"):
        limits.append(f"{budget['evaluations']} evaluations")
    if budget.get("cost"):
        limits.append(f"{budget['cost']:g} s of evaluation cost")
    has_ri = any(c.endswith("RI %") for c in table.columns)
    header = ["strategy", "seeds"]
    for metric in metrics:
        header.append(f"{metric} (mean ± std)")
    if has_ri:
        header += [f"RI {metric} %" for metric in metrics]
    final = config.get("final")
    header += ["mean rank"]
    if final:
        header.append(f"search protocol: {metrics[0]}")
    header += [f"search: {results.search_metric}", "evals"]
    lines = [
        f"# Leaderboard: {results.study}",
        "",
        f"Space `{config['space']['name']}`, evaluator `{config['evaluator']['name']}` on "
        f"`{config['evaluator']['dataset']}`; search metric `{results.search_metric}` "
        f"(validation); budget per run: {' or '.join(limits)}; "
        f"{len(config['study']['seeds'])} repetition seeds (root seed {config['study']['seed']}).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    for label, row in table.iterrows():
        cells = [f"`{label}`", str(int(row["n_seeds"]))]
        for metric in metrics:
            cells.append(f"{_fmt(row[f'{metric} mean'])} ± {_fmt(row[f'{metric} std'])}")
        if has_ri:
            cells += [_fmt(row[f"{metric} RI %"]) for metric in metrics]
        cells.append(_fmt(row["mean rank"]))
        if final:
            cells.append(f"{_fmt(row['search protocol mean'])} ± "
                         f"{_fmt(row['search protocol std'])}")
        cells += [
            f"{_fmt(row['search mean'])} ± {_fmt(row['search std'])}",
            _fmt(row["evaluations"], 1),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"- `{BASELINE_LABEL}`: one architecture drawn uniformly from the space per seed, "
        "evaluated exactly like the strategies' incumbents (the baseline of Yang et al., 2020).",
        "- RI: relative improvement over random sampling, 100 (mean_m − mean_random) / "
        "mean_random (sign flipped for metrics where lower is better).",
        f"- mean rank: rank by `{metrics[0]}` within each seed (1 = best, ties averaged), "
        "averaged over the seeds every row shares.",
        *([_final_note(config, metrics[0])] if final else []),
        "- Incumbents are chosen by the search metric only; report metrics are never seen by "
        "a strategy.",
        f"- Config hash `{m['config_hash'][:16]}`, nasbench {m['versions'].get('nasbench')}, "
        f"git {str((m.get('git') or {}).get('revision'))[:10]}; see manifest.json.",
        "",
    ]
    return "\n".join(lines)


def _final_note(config: dict[str, Any], metric: str) -> str:
    """What the final protocol changed from the search protocol, in one line."""
    final = config["final"]
    search, trained = config["evaluator"], final["evaluator"]
    if trained["name"] == search["name"]:
        changed = [f"{k} = {v!r}" for k, v in trained.items()
                   if k != "name" and search.get(k) != v]
        how = f"the search protocol with {', '.join(changed)}" if changed else (
            "the search protocol")
    else:
        how = f"evaluator `{trained['name']}`"
    return (
        f"- Final protocol: every incumbent and every random sample evaluated again under "
        f"{how}, {final['repeats']} time(s) with fresh seeds; report metrics are the means. "
        f"`search protocol: {metric}` is the same metric under the search protocol."
    )


def write_leaderboard(results: Results) -> tuple[str, Any]:
    """Write ``report/leaderboard.md`` in the results directory; returns (markdown, path)."""
    table = leaderboard(results)
    text = to_markdown(results, table)
    out = results.directory / "report"
    out.mkdir(exist_ok=True)
    path = out / "leaderboard.md"
    path.write_text(text)
    return text, path
