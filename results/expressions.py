"""Where each evaluated expression ranks: the leaderboard of a study over an expression space.

A study's strategies evaluate many trees; trees with one canonical form (``arch_key``) are one
function. This table pools every evaluation of the study (every strategy's trials, the
fixed candidates', and the random-sampling baseline's) by canonical form, ranks the functions
by their mean search metric (the validation metric strategies select on; report metrics are
shown, never used to rank), puts those that diverged at every evaluation last, and names the
space's references (ReLU, Swish, Adam, PowerSign, ...) wherever they fall.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench.errors import UserError


@dataclass(frozen=True)
class ExpressionRanking:
    """Every evaluated function of a study, best first, with the references' places."""

    table: Any
    """A DataFrame: rank, expression (canonical), evaluations, diverged, mean search metric,
    mean report metrics, reference name, strategies that proposed it, one raw tree."""
    search_metric: str
    report_metrics: list[str]
    references: dict[str, int | None]
    """Reference name -> rank (``None``: not evaluated)."""

    @property
    def functions(self) -> int:
        return len(self.table)


def rank_expressions(directory: str | Path, plugins: Any) -> ExpressionRanking:
    """The ranking of the expressions evaluated in a results directory.

    Raises:
        UserError: for a directory whose space is not an expression space.
    """
    import pandas as pd
    from nasbench.results.schema import load_results

    from nasbench.params import build_params

    results = load_results(directory)
    space_cfg = dict(results.manifest["config"]["space"])
    space_cls = plugins.spaces.get(space_cfg.pop("name"))
    space = space_cls(build_params(space_cls.Params, space_cfg, "space"))
    grammar = getattr(space, "grammar", None)
    if grammar is None:
        raise UserError(f"{directory}: space '{space.name}' is not an expression space; "
                        "'nasbench expressions' ranks the functions of expression spaces")
    metric = results.search_metric
    higher = bool(results.manifest.get("search_metric_higher_is_better", True))
    reports = [m for m in results.report_metrics if m != metric]
    frames = []
    if results.trials is not None:
        t = results.trials
        t = t[~t["repeat"].astype(bool)] if "repeat" in t else t
        frames.append(pd.DataFrame({
            "key": t["arch_key"], "arch": t["arch"], "strategy": t["strategy"],
            "status": t["status"], "value": t["search_metric"],
            **{m: t[m] if m in t else float("nan") for m in reports}}))
    base = results.runs[results.runs["kind"] == "baseline"]
    if len(base):
        frames.append(pd.DataFrame({
            "key": base["incumbent_key"], "arch": base["incumbent"],
            "strategy": base["strategy"],
            "status": ["ok" if v == v else "diverged" for v in base["search_metric"]],
            "value": base["search_metric"],
            **{m: base[m] if m in base else float("nan") for m in reports}}))
    pooled = pd.concat(frames, ignore_index=True)
    # Keys of the canonical form in use now, which may fold more than the run's did.
    pooled["key"] = [_current_key(space, arch, key) for arch, key in
                     zip(pooled["arch"], pooled["key"], strict=True)]
    pooled["ok"] = pooled["value"].notna()
    grouped = pooled.groupby("key", sort=False)
    table = pd.DataFrame({
        "evaluations": grouped.size(),
        "diverged": grouped["ok"].apply(lambda s: int((~s).sum())),
        metric: grouped["value"].mean(),
        **{m: grouped[m].mean() for m in reports},
        "strategies": grouped["strategy"].apply(lambda s: ", ".join(sorted(set(s)))),
        "tree": grouped["arch"].first(),
    })
    table.index.name = "expression"
    table = table.reset_index()
    ref_keys = {}
    for name, text in grammar.references.items():
        ref_keys.setdefault(space.arch_key(space.from_string(text)), []).append(name)
    table["reference"] = [", ".join(ref_keys.get(k, [])) for k in table["expression"]]
    table = table.sort_values(
        [metric, "expression"], ascending=[not higher, True], na_position="last",
        kind="mergesort").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    places: dict[str, int | None] = {}
    for key, names in ref_keys.items():
        hit = table.index[table["expression"] == key]
        for name in names:
            places[name] = int(table.loc[hit[0], "rank"]) if len(hit) else None
    return ExpressionRanking(table, metric, reports, places)


def _current_key(space: Any, arch: str, stored: str) -> str:
    try:
        return str(space.arch_key(space.from_string(arch)))
    except UserError:
        return stored


def ranking_markdown(ranking: ExpressionRanking, *, top: int = 15) -> str:
    """A summary of where the references rank, and the table's top rows plus every
    reference's row."""
    t = ranking.table
    n = ranking.functions
    metric = ranking.search_metric
    lines = [f"{n} distinct functions evaluated ({int(t['evaluations'].sum())} evaluations, "
             f"{int((t['diverged'] == t['evaluations']).sum())} diverged at every evaluation), "
             f"ranked by mean `{metric}`.", ""]
    for name, rank in ranking.references.items():
        if rank is None:
            lines.append(f"- {name}: not evaluated")
            continue
        row = t.iloc[rank - 1]
        extra = "".join(f", `{m}` {_number(row[m])}" for m in ranking.report_metrics)
        lines.append(f"- {name}: rank {rank} of {n} (top {100 * rank / n:.0f}%), "
                     f"`{metric}` {_number(row[metric])}{extra}")
    shown = t[(t["rank"] <= top) | (t["reference"] != "")]
    cols = ["rank", "expression", "reference", metric, *ranking.report_metrics,
            "evaluations", "diverged", "strategies"]
    lines += ["", "| " + " | ".join(cols) + " |",
              "|" + "|".join("---:" if c not in ("expression", "reference", "strategies")
                             else "---" for c in cols) + "|"]
    for _, row in shown.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if c == "expression":
                cells.append(f"`{v}`")
            elif isinstance(v, float):
                cells.append(_number(v))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _number(v: float) -> str:
    """Two decimals, or three significant digits for small values (learning rates)."""
    if v != v:
        return "–"
    return f"{v:.2f}" if v == 0 or abs(v) >= 0.1 else f"{v:.3g}"
