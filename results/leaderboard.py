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
  ties averaged), then ranks are averaged over those seeds.

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
from typing import TYPE_CHECKING, Any

import numpy as np
from nasbench.results.report_html import Document
from nasbench.results.schema import Results
from nasbench.results.significance import PostHoc, RankComparison, compare, compare_ranks
from nasbench.results.stats import BootstrapOptions, mean_estimates, ri_estimate

from nasbench.protocol import BASELINE_LABEL

if TYPE_CHECKING:
    import pandas as pd

TRACE_COLUMNS = ("directory", "study", "config_hash", "space", "evaluator", "dataset",
                 "search_metric")
"""Columns of every summary row that lead back to the results directory and its manifest."""


@dataclass(frozen=True)
class LeaderboardOptions:
    """How statistics and tests are computed.

    Attributes:
        bootstrap: resamples, confidence and seed of every interval.
        post_hoc: ``nemenyi`` or ``holm`` after a Friedman test.
        alpha: significance level of the post-hoc comparisons.
    """

    bootstrap: BootstrapOptions = field(default_factory=BootstrapOptions)
    post_hoc: PostHoc = "nemenyi"
    alpha: float = 0.05


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
                  ) -> tuple[str, float]:
    seeds_m, m = _values(results, label, metric)
    seeds_r, r = _values(results, counterpart, metric)
    if results.paired_seeds and np.array_equal(seeds_m, seeds_r):
        outcome = compare(m, r, paired=True)
    else:
        outcome = compare(m, r, paired=False)
    return outcome.test, outcome.p_value


def summary(results: Results, options: LeaderboardOptions | None = None,
            ranks: dict[str, RankComparison | None] | None = None) -> pd.DataFrame:
    """One row per (report metric, strategy) with every statistic of the module docstring.

    ``ranks`` are the :func:`seed_ranks` of each metric, when already computed.
    """
    import pandas as pd

    options = options or LeaderboardOptions()
    if ranks is None:
        ranks = {m: seed_ranks(results, m, options) for m in results.report_metrics}
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
        for label in labels:
            part = runs[runs["strategy"] == label]
            values = part[metric].to_numpy(dtype=np.float64)
            finite = values[np.isfinite(values)]
            (mean,) = mean_estimates(values, options.bootstrap, results.config_hash, "mean",
                                     label, metric)
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
                search_mean=float(part["search_metric"].mean()) if len(part) else math.nan,
                search_std=float(part["search_metric"].std(ddof=1)) if len(part) > 1
                else math.nan,
                evaluations=float(part["n_evaluations"].mean()) if len(part) else math.nan,
            )
            counterpart = counterparts.get(label)
            if counterpart is not None:
                _, base = _values(results, counterpart, metric)
                ri = ri_estimate(values, base, higher, options.bootstrap, results.config_hash,
                                 "ri", label, counterpart, metric)
                test, p_value = _test_against(results, label, counterpart, metric)
                row.update(ri=ri.value, ri_low=ri.low, ri_high=ri.high, test=test,
                           p_value=p_value)
            rows.append(row)
    return pd.DataFrame(rows)


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
    """A number for a table cell; ``–`` when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def fmt_p(value: float) -> str:
    """A p-value for a table cell."""
    if value is None or math.isnan(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def metric_table_rows(part: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and cells of one metric's leaderboard (shared by Markdown and HTML)."""
    has_ri = part["counterpart"].astype(bool).any()
    has_search = part["search_mean"].notna().any()
    header = ["strategy", "runs", "mean ± std", "95% CI of mean", "median"]
    if has_ri:
        header += ["RI %", "RI 95% CI", "test vs counterpart", "p"]
    header.append("mean rank")
    if has_search:
        header += ["search metric", "evals"]
    rows = []
    for _, r in part.iterrows():
        cells = [f"`{r['strategy']}`", str(r["n"]), f"{fmt(r['mean'])} ± {fmt(r['std'])}",
                 f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]", fmt(r["median"])]
        if has_ri:
            if r["counterpart"]:
                cells += [fmt(r["ri"]), f"[{fmt(r['ri_low'])}, {fmt(r['ri_high'])}]",
                          f"{r['test']} vs `{r['counterpart']}`", fmt_p(r["p_value"])]
            else:
                cells += ["–", "–", "–", "–"]
        cells.append(fmt(r["mean_rank"]))
        if has_search:
            cells += [f"{fmt(r['search_mean'])} ± {fmt(r['search_std'])}",
                      fmt(r["evaluations"], 1)]
        rows.append(cells)
    return header, rows


def protocol_line(results: Results) -> str:
    """One sentence stating the protocol the results were produced under."""
    d = results.describe()
    if results.imported:
        return (f"Imported results ({d['source'] or 'source in manifest.json'}); space "
                f"`{d['space'] or '?'}`, dataset `{d['dataset'] or '?'}`; {d['seeds']} runs per "
                f"strategy; seeds {'paired' if results.paired_seeds else 'not paired'}.")
    return (f"Space `{d['space']}`, evaluator `{d['evaluator']}` on `{d['dataset']}`; search "
            f"metric `{d['search_metric']}` (validation); budget per run: {d['budget']}; "
            f"{d['seeds']} repetition seeds (root seed "
            f"{results.manifest['config']['study']['seed']}).")


def ranks_text(ranks: RankComparison, blocks: str = "blocks") -> str:
    """One paragraph stating a Friedman test, its post-hoc and what it could not tell apart."""
    text = (f"Friedman test over {ranks.n_blocks} {blocks}: chi² = {fmt(ranks.statistic)}, "
            f"p = {fmt_p(ranks.p_value)}; {ranks.post_hoc} post-hoc at α = {ranks.alpha:g}; "
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
        doc.table(*metric_table_rows(part))
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
        "averaged over those seeds.",
    ]
    if not results.imported:
        notes.append("Incumbents are chosen by the search metric only; report metrics are "
                     "never seen by a strategy.")
    git = str((m.get("git") or {}).get("revision"))[:10]
    notes.append(f"Directory `{results.directory}`, config hash `{results.config_hash[:16]}`, "
                 f"nasbench {m.get('versions', {}).get('nasbench')}, git {git}; see "
                 "manifest.json.")
    doc.bullets(notes)


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
