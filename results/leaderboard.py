"""The leaderboard: per strategy and report metric, statistics over seeds that hold up.

For each report metric of a results directory and each strategy (its random-sampling rows
included):

* mean, standard deviation, median, and a bootstrap interval of the mean over seeds;
* RI, the relative improvement over random sampling (Yang et al., ICLR 2020):
  RI = 100 (Acc_m - Acc_r) / Acc_r, where Acc_m is the mean of strategy m's final report
  metric over its seeds and Acc_r the mean over architectures sampled uniformly from the same
  space and evaluated the same way (the strategy's *counterpart*: the study's
  ``random_sampling`` rows, or the counterpart an import names); sign flipped for metrics
  where lower is better; with a two-sample bootstrap interval;
* a test of the strategy against its counterpart: Wilcoxon signed-rank when the runs are
  paired by seed, Mann-Whitney U otherwise (:mod:`~nasbench.results.significance`);
* mean rank: within each seed shared by every strategy the strategies are ranked (1 = best,
  ties averaged), then ranks are averaged over those seeds; rows are sorted by it (the
  config order is an option);
* where the study's evaluator reads a table that knows every architecture
  (:mod:`~nasbench.results.optimum`): the optimum of the metric and each strategy's regret to
  it;
* the cost (or, where evaluations cost nothing, the wall time) per run and the number of
  distinct architectures a run evaluated.

Small samples are flagged rather than silently printed: with one run there is no interval
and no test; with fewer than :data:`MIN_BOOTSTRAP` runs the percentile interval is marked
as unreliable; a test that cannot reach ``alpha`` with so few runs is marked with the
smallest p-value it could have given.

:func:`summary` returns this as a long table (one row per metric and strategy, with the
columns that trace it to its manifest); :func:`leaderboard` keeps the original wide table;
:func:`write_leaderboard` writes ``report/leaderboard.md`` and ``report/leaderboard.csv``
(what ``nasbench run`` does after a study); :mod:`~nasbench.results.report` adds the
figures, several directories and the comparison across them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from nasbench.results.report_html import Document
from nasbench.results.schema import Results
from nasbench.results.significance import (
    PostHoc,
    RankComparison,
    compare,
    compare_ranks,
    smallest_p,
)
from nasbench.results.stats import BootstrapOptions, mean_estimates, ri_estimate

from nasbench.protocol import BASELINE_LABEL

if TYPE_CHECKING:
    import pandas as pd
    from nasbench.results.optimum import Optimum

Order = Literal["rank", "config"]

MIN_BOOTSTRAP = 5
"""Fewer runs than this, and a percentile bootstrap interval of the mean is too narrow to
trust (it cannot be wider than the spread of the few values resampled); the table marks it."""

TRACE_COLUMNS = ("directory", "study", "config_hash", "space", "evaluator", "dataset",
                 "search_metric")
"""Columns of every summary row that lead back to the results directory and its manifest."""


@dataclass(frozen=True)
class LeaderboardOptions:
    """How statistics and tests are computed.

    Attributes:
        bootstrap: resamples, confidence and seed of every interval.
        post_hoc: ``nemenyi`` or ``holm`` after a Friedman test.
        alpha: significance level of the post-hoc comparisons and of the tests against the
            counterpart (a test that cannot reach it with so few runs is marked).
        order: rows by ``rank`` (mean rank, then mean; default) or in ``config`` order.
        optima: look up the optimum of each report metric where the study's table knows every
            architecture (reads the table once more).
    """

    bootstrap: BootstrapOptions = field(default_factory=BootstrapOptions)
    post_hoc: PostHoc = "nemenyi"
    alpha: float = 0.05
    order: Order = "rank"
    optima: bool = True


def seed_matrix(results: Results, metric: str, labels: list[str]) -> pd.DataFrame:
    """Seeds x strategies: the final ``metric`` of each run (mean over duplicate runs)."""
    runs = results.runs[results.runs["strategy"].isin(labels)]
    wide = runs.pivot_table(index="seed", columns="strategy", values=metric, aggfunc="mean")
    return wide.reindex(columns=labels)


def seed_ranks(results: Results, metric: str, options: LeaderboardOptions
               ) -> RankComparison | None:
    """Friedman test and post-hoc of every strategy over the seeds they all ran.

    ``None`` when seeds are not paired (imported results that do not declare pairing) or
    fewer than two strategies share at least two seeds.
    """
    if not results.paired_seeds:
        return None
    labels = results.strategies
    wide = seed_matrix(results, metric, labels).dropna(axis=0, how="any")
    if len(wide) < 2 and BASELINE_LABEL in labels:
        # The baseline may have drawn other seeds than the strategies; compare without it.
        labels = [s for s in labels if s != BASELINE_LABEL]
        wide = seed_matrix(results, metric, labels).dropna(axis=0, how="any")
    if len(wide) < 2 or len(labels) < 2:
        return None
    return compare_ranks(wide.to_numpy(), labels, higher_is_better=results.higher_is_better(
        metric), post_hoc=options.post_hoc, alpha=options.alpha)


def _values(results: Results, label: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    rows = results.runs[results.runs["strategy"] == label].sort_values("seed")
    return rows["seed"].to_numpy(), rows[metric].to_numpy(dtype=np.float64)


def _test_against(results: Results, label: str, counterpart: str, metric: str
                  ) -> tuple[str, float, float]:
    """The test of ``label`` against ``counterpart``: its name, p-value, and the smallest
    p-value it could give with these runs (``nan`` p with fewer than two runs a side)."""
    seeds_m, m = _values(results, label, metric)
    seeds_r, r = _values(results, counterpart, metric)
    if results.paired_seeds and np.array_equal(seeds_m, seeds_r):
        outcome = compare(m, r, paired=True)
        keep = np.isfinite(m) & np.isfinite(r)
        floor = smallest_p("wilcoxon", int(np.count_nonzero(m[keep] != r[keep])))
        enough = int(keep.sum()) >= 2
    else:
        outcome = compare(m, r, paired=False)
        n_m, n_r = int(np.isfinite(m).sum()), int(np.isfinite(r).sum())
        floor = smallest_p("mann-whitney", n_m, n_r)
        enough = min(n_m, n_r) >= 2
    return outcome.test, (outcome.p_value if enough else math.nan), floor


def _distinct(results: Results) -> dict[str, float]:
    """Run id -> distinct architectures (canonical keys) it evaluated, from the trials."""
    trials = results.trials
    if trials is None:
        path = Path(results.directory) / "trials.parquet"
        if not path.is_file():
            return {}
        try:
            return _distinct_streamed(path)
        except (OSError, ValueError, KeyError):
            return {}
    if "arch_key" not in trials or "run_id" not in trials:
        return {}
    done = trials[trials["status"] == "ok"] if "status" in trials else trials
    return {str(k): float(v) for k, v in done.groupby("run_id")["arch_key"].nunique().items()}


def _distinct_streamed(path: Path) -> dict[str, float]:
    """:func:`_distinct` read in frames of whole runs (the harness writes a run's rows
    together), so memory does not grow with the table; a table whose runs' rows are
    scattered is counted all at once."""
    import pyarrow.parquet as pq
    from nasbench.results.schema import ScatteredRuns, whole_run_frames

    names = pq.read_schema(path).names
    wanted = [c for c in ("run_id", "arch_key", "status") if c in names]
    if "run_id" not in wanted or "arch_key" not in wanted:
        return {}
    out: dict[str, float] = {}
    try:
        for frame in whole_run_frames(path, wanted):
            runs = frame["run_id"].astype(str)
            done = frame["status"] == "ok" if "status" in frame else None
            keys = frame["arch_key"] if done is None else frame["arch_key"].where(done)
            counts = keys.groupby(runs, sort=False).nunique()
            out.update((str(k), float(v)) for k, v in counts.items())
    except ScatteredRuns:
        return _distinct_whole(path, wanted)
    return out


def _distinct_whole(path: Path, wanted: list[str]) -> dict[str, float]:
    import pandas as pd

    trials = pd.read_parquet(path, columns=wanted)
    done = trials[trials["status"] == "ok"] if "status" in trials else trials
    return {str(k): float(v) for k, v in done.groupby("run_id")["arch_key"].nunique().items()}


def _optima(results: Results, options: LeaderboardOptions) -> dict[str, Optimum]:
    if not options.optima:
        return {}
    from nasbench.results.optimum import table_optima

    return table_optima(results)


def summary(results: Results, options: LeaderboardOptions | None = None,
            ranks: dict[str, RankComparison | None] | None = None) -> pd.DataFrame:
    """One row per (report metric, strategy) with every statistic of the module docstring.

    ``ranks`` are the :func:`seed_ranks` of each metric, when already computed.
    """
    import pandas as pd

    options = options or LeaderboardOptions()
    if ranks is None:
        ranks = {m: seed_ranks(results, m, options) for m in results.report_metrics}
    optima = _optima(results, options)
    distinct = _distinct(results)
    trace = results.describe()
    counterparts = results.counterparts
    runs = results.runs
    labels = results.strategies
    metrics = results.report_metrics
    rows: list[dict[str, Any]] = []
    for metric in metrics:
        higher = results.higher_is_better(metric)
        comparison = ranks.get(metric)
        mean_rank = (dict(zip(comparison.labels, comparison.mean_ranks, strict=True))
                     if comparison is not None else {})
        best = optima.get(metric)
        block: list[dict[str, Any]] = []
        for label in labels:
            part = runs[runs["strategy"] == label]
            values = part[metric].to_numpy(dtype=np.float64)
            finite = values[np.isfinite(values)]
            (mean,) = mean_estimates(values, options.bootstrap, results.config_hash, "mean",
                                     label, metric)
            if finite.size < 2:  # one value has no spread to resample: no interval
                mean = type(mean)(mean.value, math.nan, math.nan)
            costs = part["total_cost"].to_numpy(dtype=np.float64) if "total_cost" in part \
                else np.zeros(0)
            walls = part["wall_time"].to_numpy(dtype=np.float64) if "wall_time" in part \
                else np.zeros(0)
            kinds = [distinct[r] for r in part["run_id"].astype(str) if r in distinct] \
                if "run_id" in part else []
            row: dict[str, Any] = {k: trace[k] for k in TRACE_COLUMNS}
            row.update(
                metric=metric,
                higher_is_better=higher,
                unit=results.unit(metric),
                strategy=label,
                strategy_name=str(part["strategy_name"].iloc[0]) if len(part) else label,
                n=int(finite.size),
                mean=mean.value,
                std=float(np.std(finite, ddof=1)) if finite.size > 1 else math.nan,
                median=float(np.median(finite)) if finite.size else math.nan,
                ci_low=mean.low,
                ci_high=mean.high,
                counterpart=counterparts.get(label, ""),
                ri=math.nan, ri_low=math.nan, ri_high=math.nan, test="", p_value=math.nan,
                mean_rank=float(mean_rank.get(label, math.nan)),
                search_protocol_mean=_mean(part, f"search.{metric}"),
                search_protocol_std=_std(part, f"search.{metric}"),
                search_mean=float(part["search_metric"].mean()) if len(part) else math.nan,
                search_std=float(part["search_metric"].std(ddof=1)) if len(part) > 1
                else math.nan,
                evaluations=float(part["n_evaluations"].mean()) if len(part) else math.nan,
                cost_per_run=float(np.mean(costs)) if costs.size else math.nan,
                wall_per_run=float(np.mean(walls)) if walls.size else math.nan,
                distinct=float(np.mean(kinds)) if kinds else math.nan,
                optimum=best.best if best else math.nan,
                oracle=best.oracle if best else math.nan,
                regret=best.regret(mean.value) if best else math.nan,
                normalised_regret=best.normalised(mean.value) if best else math.nan,
                min_p=math.nan,
            )
            counterpart = counterparts.get(label)
            if counterpart is not None:
                _, base = _values(results, counterpart, metric)
                ri = ri_estimate(values, base, higher, options.bootstrap, results.config_hash,
                                 "ri", label, counterpart, metric)
                if min(finite.size, int(np.isfinite(base).sum())) < 2:
                    ri = type(ri)(ri.value, math.nan, math.nan)
                test, p_value, floor = _test_against(results, label, counterpart, metric)
                row.update(ri=ri.value, ri_low=ri.low, ri_high=ri.high, test=test,
                           p_value=p_value, min_p=floor)
            block.append(row)
        rows.extend(_ordered(block, options.order, higher))
    return pd.DataFrame(rows)


def _ordered(block: list[dict[str, Any]], order: Order, higher: bool) -> list[dict[str, Any]]:
    """One metric's rows by mean rank (then by mean, best first), or as configured."""
    if order == "config":
        return block

    def key(row: dict[str, Any]) -> tuple[float, float]:
        rank = row["mean_rank"]
        mean = row["mean"] if math.isfinite(row["mean"]) else -math.inf
        return (rank if math.isfinite(rank) else math.inf, -mean if higher else mean)

    return sorted(block, key=key)


def _mean(part: pd.DataFrame, column: str) -> float:
    """Mean of a column that only results with a final protocol have (nan without)."""
    return float(part[column].mean()) if column in part and len(part) else math.nan


def _std(part: pd.DataFrame, column: str) -> float:
    return float(part[column].std(ddof=1)) if column in part and len(part) > 1 else math.nan


def leaderboard(results: Results, options: LeaderboardOptions | None = None) -> pd.DataFrame:
    """One row per strategy (the baseline included): the summary in the original wide layout.

    Columns per report metric ``m``: ``m mean``, ``m std``, ``m median``, ``m ci low``,
    ``m ci high``, ``m RI %``, ``m RI low``, ``m RI high``, ``m p``; and ``n_seeds``,
    ``search mean``, ``search std``, ``evaluations``, ``mean rank`` (by the first metric).
    """
    import pandas as pd

    long = summary(results, options)
    labels = results.strategies
    table = pd.DataFrame(index=pd.Index(labels, name="strategy"))
    first = long[long["metric"] == results.report_metrics[0]].set_index("strategy")
    table["n_seeds"] = results.runs.groupby("strategy")["seed"].nunique()
    names = {"mean": "mean", "std": "std", "median": "median", "ci_low": "ci low",
             "ci_high": "ci high", "ri": "RI %", "ri_low": "RI low", "ri_high": "RI high",
             "p_value": "p"}
    for metric, part in long.groupby("metric", sort=False):
        part = part.set_index("strategy")
        for column, name in names.items():
            table[f"{metric} {name}"] = part[column]
    table["search mean"] = first["search_mean"]
    table["search std"] = first["search_std"]
    table["evaluations"] = first["evaluations"]
    table["mean rank"] = first["mean_rank"]
    if not results.counterparts:
        table = table.drop(columns=[c for c in table.columns if " RI " in c or
                                    c.endswith(("RI %", " p"))])
    return table


def fmt(value: Any, digits: int = 2) -> str:
    """A number for a table cell; ``–`` when missing. Whole numbers of a thousand or more
    (counts such as parameters) print as integers with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    if abs(value) >= 1000 and float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}" if abs(value) >= 1000 else f"{value:.{digits}f}"


def fmt_count(value: Any) -> str:
    """A count (evaluations, architectures): an integer when it is one, else one decimal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def fmt_p(value: float) -> str:
    """A p-value for a table cell (``<0.001`` below a thousandth)."""
    if value is None or math.isnan(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def p_text(value: float) -> str:
    """A p-value in a sentence: ``p < 0.001`` or ``p = 0.042``."""
    if value is None or math.isnan(value):
        return "p undefined"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def fmt_seconds(value: float) -> str:
    """A duration per run for a table cell."""
    if value is None or math.isnan(value):
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def metric_table_rows(part: pd.DataFrame, alpha: float = 0.05, unit: str = "s"
                      ) -> tuple[list[str], list[list[str]]]:
    """Header and cells of one metric's leaderboard (shared by Markdown and HTML); ``unit``:
    that of the evaluation cost (:meth:`Results.cost_unit`)."""
    has_ri = part["counterpart"].astype(bool).any()
    has_search = part["search_mean"].notna().any()
    has_final = ("search_protocol_mean" in part
                 and part["search_protocol_mean"].notna().any())
    has_regret = "regret" in part and part["regret"].notna().any()
    has_cost = "cost_per_run" in part and (part["cost_per_run"].fillna(0) > 0).any()
    has_wall = not has_cost and "wall_per_run" in part and part["wall_per_run"].notna().any()
    has_distinct = "distinct" in part and part["distinct"].notna().any()
    header = ["strategy", "runs", "mean ± std", "95% CI of mean", "median"]
    if has_regret:
        header.append("regret to optimum")
    if has_ri:
        header += ["RI %", "RI 95% CI", "test vs counterpart", "p"]
    header.append("mean rank")
    if has_final:
        header.append(f"search protocol: {part['metric'].iloc[0]}")
    if has_search:
        header += ["search metric", "evals"]
    if has_distinct:
        header.append("distinct archs")
    if has_cost:
        header.append(f"cost {unit}/run")
    elif has_wall:
        header.append("wall s/run")
    rows = []
    for _, r in part.iterrows():
        few = 2 <= r["n"] < MIN_BOOTSTRAP
        cells = [f"`{r['strategy']}`", str(r["n"]), f"{fmt(r['mean'])} ± {fmt(r['std'])}",
                 f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]" + (" †" if few else ""),
                 fmt(r["median"])]
        if has_regret:
            cells.append(fmt(r["regret"]))
        if has_ri:
            if r["counterpart"]:
                floor = r.get("min_p", math.nan)
                weak = isinstance(floor, float) and math.isfinite(floor) and \
                    math.isfinite(r["p_value"]) and floor > alpha
                cells += [fmt(r["ri"]),
                          f"[{fmt(r['ri_low'])}, {fmt(r['ri_high'])}]" + (" †" if few else ""),
                          f"{r['test']} vs `{r['counterpart']}`",
                          fmt_p(r["p_value"]) + (" ‡" if weak else "")]
            else:
                cells += ["–", "–", "–", "–"]
        cells.append(fmt(r["mean_rank"]))
        if has_final:
            cells.append(f"{fmt(r['search_protocol_mean'])} ± {fmt(r['search_protocol_std'])}")
        if has_search:
            cells += [f"{fmt(r['search_mean'])} ± {fmt(r['search_std'])}",
                      fmt_count(r["evaluations"])]
        if has_distinct:
            cells.append(fmt_count(r["distinct"]))
        if has_cost:
            cells.append(fmt_seconds(r["cost_per_run"]))
        elif has_wall:
            cells.append(fmt_seconds(r["wall_per_run"]))
        rows.append(cells)
    return header, rows


def small_sample_notes(part: pd.DataFrame, options: LeaderboardOptions) -> list[str]:
    """What the table of one metric cannot say because it has too few runs."""
    notes = []
    n = part["n"]
    if (n == 1).any():
        notes.append("Strategies with 1 run have no interval, no RI interval and no test: "
                     "one value says nothing about the spread over seeds.")
    if ((n >= 2) & (n < MIN_BOOTSTRAP)).any():
        notes.append(f"† fewer than {MIN_BOOTSTRAP} runs: a percentile bootstrap interval "
                     "of so few values understates the uncertainty; run more seeds.")
    floors = part.get("min_p")
    if floors is not None:
        weak = part[floors.notna() & part["p_value"].notna() & (floors > options.alpha)]
        if not weak.empty:
            worst = float(weak["min_p"].max())
            notes.append(f"‡ with this few runs the test cannot reach p < {options.alpha:g} "
                         f"whatever the data (smallest possible p up to {fmt_p(worst)}); "
                         "a large p here is no evidence of equality.")
    return notes


def protocol_line(results: Results) -> str:
    """One sentence stating the protocol the results were produced under."""
    d = results.describe()
    if results.imported:
        return (f"Imported results ({d['source'] or 'source in manifest.json'}); space "
                f"`{d['space'] or '?'}`, dataset `{d['dataset'] or '?'}`; {d['seeds']} runs per "
                f"strategy; seeds {'paired' if results.paired_seeds else 'not paired'}.")
    split = (results.manifest.get("metrics", {}).get(d["search_metric"]) or {}).get("split")
    role = {"valid": "validation", "train": "training"}.get(str(split), "")
    return (f"Space `{d['space']}`, evaluator `{d['evaluator']}` on `{d['dataset']}`; search "
            f"metric `{d['search_metric']}`{f' ({role})' if role else ''}; "
            f"budget per run: {d['budget']}; "
            f"{d['seeds']} repetition seeds (root seed "
            f"{results.manifest['config']['study']['seed']}).")


def ranks_text(ranks: RankComparison, blocks: str = "blocks") -> str:
    """One paragraph stating a Friedman test, its post-hoc and what it could not tell apart."""
    text = (f"Friedman test over {ranks.n_blocks} {blocks}: chi² = {fmt(ranks.statistic)}, "
            f"{p_text(ranks.p_value)}; {ranks.post_hoc} post-hoc at α = {ranks.alpha:g}; "
            f"Nemenyi critical difference {fmt(ranks.critical_difference)}.")
    groups = [", ".join(f"`{ranks.labels[i]}`" for i in clique) for clique in ranks.cliques()]
    if groups:
        text += " Not told apart: " + "; ".join(f"{{{g}}}" for g in groups) + "."
    return text


def pairwise_table(ranks: RankComparison) -> tuple[list[str], list[list[str]]]:
    """The post-hoc p-values of every pair, as a table."""
    header = ["", *ranks.labels]
    rows = [[a, *(fmt_p(ranks.pairwise_p[i, j]) if i != j else "" for j in
                  range(len(ranks.labels)))] for i, a in enumerate(ranks.labels)]
    return header, rows


@dataclass(frozen=True)
class DirectoryAnalysis:
    """Everything the leaderboard says about one results directory."""

    results: Results
    summary: pd.DataFrame
    ranks: dict[str, RankComparison | None]


def analyse(results: Results, options: LeaderboardOptions) -> DirectoryAnalysis:
    """Summary rows and the per-metric Friedman comparison over seeds, computed once."""
    ranks = {m: seed_ranks(results, m, options) for m in results.report_metrics}
    return DirectoryAnalysis(results, summary(results, options, ranks), ranks)


def directory_section(doc: Document, analysis: DirectoryAnalysis, options: LeaderboardOptions,
                      figures: Callable[[Document, str], None] | None = None,
                      level: int = 1) -> None:
    """Add the leaderboard of one results directory to ``doc``; ``figures(doc, metric)``
    may add the figures of each metric after its table. At ``level`` 0 the section has no
    heading of its own (the document is this one leaderboard)."""
    results = analysis.results
    m = results.manifest
    if level > 0:
        doc.heading(level, f"Leaderboard: {results.study}")
    doc.paragraph(protocol_line(results))
    for metric, part in analysis.summary.groupby("metric", sort=False):
        unit = f", {part['unit'].iloc[0]}" if part["unit"].iloc[0] else ""
        direction = "higher" if part["higher_is_better"].iloc[0] else "lower"
        doc.heading(level + 1, f"`{metric}` ({direction} is better{unit})")
        optimum = part["optimum"].iloc[0] if "optimum" in part else math.nan
        if math.isfinite(optimum):
            oracle = part["oracle"].iloc[0]
            doc.paragraph(
                f"The table knows every architecture: optimum of `{metric}` "
                f"{fmt(optimum)}; the architecture with the best search metric scores "
                f"{fmt(oracle)} (what a search that found the validation optimum reports). "
                "Regret = optimum − mean.")
        doc.table(*metric_table_rows(part, options.alpha, results.cost_unit()))
        for note in small_sample_notes(part, options):
            doc.paragraph(note)
        ranks = analysis.ranks.get(str(metric))
        if ranks is not None:
            doc.paragraph(ranks_text(ranks, "seeds"))
            doc.table(*pairwise_table(ranks), caption=f"Post-hoc p-values ({ranks.post_hoc})")
        if figures is not None:
            figures(doc, str(metric))
    counterparts = sorted(set(results.counterparts.values()))
    if counterparts == [BASELINE_LABEL]:
        baseline_note = (f"Random-sampling counterpart: `{BASELINE_LABEL}` draws one "
                         "architecture uniformly from the space per seed, evaluated exactly "
                         "like the strategies' incumbents (the baseline of Yang et al., 2020).")
    elif counterparts:
        baseline_note = ("Random-sampling counterparts, as the import names them: "
                         + ", ".join(f"`{c}`" for c in counterparts) + " (architectures "
                         "sampled at random from each method's space and evaluated with its "
                         "final protocol, after Yang et al., 2020).")
    else:
        baseline_note = "No random-sampling rows: RI is not defined."
    notes = [
        baseline_note,
        "RI: relative improvement over the counterpart, 100 (mean_m − mean_r) / mean_r "
        "(sign flipped where lower is better); intervals are "
        f"{options.bootstrap.confidence:.0%} percentile bootstrap intervals "
        f"({options.bootstrap.resamples} resamples, seed {options.bootstrap.seed}).",
        "p: Wilcoxon signed-rank test where runs are paired by seed, else Mann-Whitney U "
        "(two-sided).",
        "mean rank: rank within each seed every strategy ran (1 = best, ties averaged), "
        "averaged over those seeds" + ("; rows sorted by it." if options.order == "rank"
                                       else "; rows in config order."),
    ]
    notes += _transfer_notes(results)
    final = m.get("config", {}).get("final")
    if final:
        notes.append(_final_note(m["config"]))
    if not results.imported:
        notes.append("Incumbents are chosen by the search metric only; report metrics are "
                     "never seen by a strategy.")
    git = str((m.get("git") or {}).get("revision"))[:10]
    notes.append(f"Directory `{results.directory}`, config hash `{results.config_hash[:16]}`, "
                 f"nasbench {m.get('versions', {}).get('nasbench')}, git {git}; see "
                 "manifest.json.")
    doc.bullets(notes)


def _transfer_notes(results: Results) -> list[str]:
    """Report metrics on another dataset than the one searched on rate architectures found
    on the search dataset; say so, so that nobody reads them as searches of their own."""
    searched = results.describe()["dataset"]
    if not searched or results.imported:
        return []
    others = [m for m in results.report_metrics
              if "/" in m and m.split("/", 1)[0] != searched]
    if not others:
        return []
    names = ", ".join(f"`{m}`" for m in others)
    return [f"{names}: the architectures searched on `{searched}` (selected by "
            f"`{results.search_metric}`), measured on another dataset; they show how the "
            "incumbents transfer, not what a search on that dataset would find."]


def _final_note(config: dict[str, Any]) -> str:
    """What the final protocol changed from the search protocol, in one sentence."""
    final = config["final"]
    search, trained = config["evaluator"], final["evaluator"]
    if trained["name"] == search["name"]:
        changed = [f"{k} = {v!r}" for k, v in trained.items()
                   if k != "name" and search.get(k) != v]
        how = (f"the search protocol with {', '.join(changed)}" if changed
               else "the search protocol")
    else:
        how = f"evaluator `{trained['name']}`"
    return (f"Final protocol: every incumbent and every random sample evaluated again under "
            f"{how}, {final['repeats']} time(s) with fresh seeds; report metrics are the "
            "means. `search protocol: <metric>` is the same metric under the search protocol.")


def to_markdown(results: Results, table: pd.DataFrame | None = None,
                options: LeaderboardOptions | None = None) -> str:
    """The leaderboard of one results directory as Markdown, its protocol stated.

    ``table`` is accepted for compatibility and ignored: the page is built from
    :func:`summary`.
    """
    del table
    options = options or LeaderboardOptions()
    doc = Document(f"Leaderboard: {results.study}")
    directory_section(doc, analyse(results, options), options, level=0)
    return doc.markdown()


def write_leaderboard(results: Results, options: LeaderboardOptions | None = None,
                      out: Path | None = None) -> tuple[str, Path]:
    """Write ``leaderboard.md`` and ``leaderboard.csv`` into ``out`` (default: the results
    directory's ``report/``); returns the Markdown and its path."""
    options = options or LeaderboardOptions()
    analysis = analyse(results, options)
    doc = Document(f"Leaderboard: {results.study}")
    directory_section(doc, analysis, options, level=0)
    text = doc.markdown()
    out = out if out is not None else results.directory / "report"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "leaderboard.md"
    path.write_text(text)
    analysis.summary.to_csv(out / "leaderboard.csv", index=False)
    return text, path
