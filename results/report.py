"""``nasbench report``: the leaderboards of one or more results directories, with figures and
the comparison of strategies across them.

For every directory: its leaderboard (:mod:`~nasbench.results.leaderboard`), the distribution
of each report metric over runs, anytime curves (:mod:`~nasbench.results.anytime`) against
evaluations and, where evaluations cost something, against cost, and the critical-difference
diagram of the Friedman test over seeds. Across directories (each directory's first report
metric, or every report metric, is one *problem*): the Friedman test on the strategies' mean
per problem, its post-hoc and critical-difference diagram (Demšar, JMLR 2006), for the
strategy labels every problem has.

Outputs, in the chosen directory: ``leaderboard.md``, ``leaderboard.csv`` (one row per
directory, metric and strategy, each traceable to its manifest by directory and config
hash), ``anytime.csv`` and ``report.html`` (self-contained, figures inline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from nasbench.results import plots
from nasbench.results.anytime import AnytimeCurve, anytime_curves
from nasbench.results.leaderboard import (
    DirectoryAnalysis,
    LeaderboardOptions,
    analyse,
    directory_section,
    fmt,
    pairwise_table,
    ranks_text,
)
from nasbench.results.pareto import analyse_fronts, front_rows, front_section
from nasbench.results.report_html import Document
from nasbench.results.significance import RankComparison, compare_ranks
from nasbench.results.stats import Estimate

from nasbench.errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    from nasbench.results.schema import Results

Across = Literal["first", "all"]

CITATIONS = (
    "Yang, Esperança & Carlucci, NAS evaluation is frustratingly hard, ICLR 2020 (random "
    "sampling baseline, relative improvement).",
    "Lindauer & Hutter, Best practices for scientific research on neural architecture search, "
    "JMLR 2020 (anytime comparisons, several seeds).",
    "Demšar, Statistical comparisons of classifiers over multiple data sets, JMLR 2006 "
    "(Friedman test, Nemenyi post-hoc, critical-difference diagram).",
    "Benavoli, Corani & Mangili, Should we really use post-hoc tests based on mean-ranks?, "
    "JMLR 2016 (pairwise Wilcoxon with Holm's correction).",
    "Efron & Tibshirani, An Introduction to the Bootstrap, 1993 (percentile intervals).",
    "Deb, Pratap, Agarwal & Meyarivan, A fast and elitist multiobjective genetic algorithm: "
    "NSGA-II, IEEE TEVC 2002 (non-dominated sorting, crowding); Zitzler & Thiele, "
    "Multiobjective evolutionary algorithms: a comparative case study and the strength Pareto "
    "approach, IEEE TEVC 1999 (hypervolume); Blank & Deb, pymoo, IEEE Access 2020.",
)


@dataclass(frozen=True)
class ReportOptions:
    """What the report contains.

    Attributes:
        leaderboard: statistics and tests of each leaderboard.
        across: which report metrics of each directory are problems of the comparison
            across directories: the ``first`` (the metric of the dataset searched on), or
            ``all``.
        figures: draw the figures (the HTML page carries them; off, it has tables only).
    """

    leaderboard: LeaderboardOptions = field(default_factory=LeaderboardOptions)
    across: Across = "first"
    figures: bool = True


@dataclass(frozen=True)
class Report:
    """A built report: the document, the leaderboard rows, the anytime curves."""

    document: Document
    summary: pd.DataFrame
    anytime: pd.DataFrame
    across: RankComparison | None
    fronts: pd.DataFrame | None = None
    """One row per run of a multi-objective study: front size and hypervolumes."""


def across_problems(analyses: Sequence[DirectoryAnalysis], options: ReportOptions
                    ) -> tuple[RankComparison | None, list[str], pd.DataFrame | None]:
    """Friedman comparison of the strategies every problem has, on their mean per problem.

    Returns the comparison (``None`` with fewer than two problems or strategies), the
    problem names, and the problems x strategies matrix of means (oriented as measured).
    """
    import pandas as pd

    frames = []
    names: list[str] = []
    for a in analyses:
        for metric in _problem_metrics(a, options):
            part = a.summary[a.summary["metric"] == metric].set_index("strategy")
            name = f"{a.results.study}: {metric}"
            if name in names:
                name = f"{name} ({a.results.directory})"
            names.append(name)
            sign = 1.0 if a.results.higher_is_better(metric) else -1.0
            frames.append((part["mean"] * sign).rename(name))
    if len(frames) < 2:
        return None, names, None
    matrix = pd.concat(frames, axis=1).T
    labels = [s for s in analyses[0].results.strategies if s in matrix.columns]
    matrix = matrix.reindex(columns=labels).dropna(axis=1, how="any")
    if matrix.shape[1] < 2:
        return None, names, matrix
    lb = options.leaderboard
    ranks = compare_ranks(matrix.to_numpy(), list(matrix.columns), higher_is_better=True,
                          post_hoc=lb.post_hoc, alpha=lb.alpha)
    return ranks, names, matrix


def _anytime_rows(results: Results, curves: Sequence[AnytimeCurve]) -> list[dict[str, object]]:
    rows = []
    for c in curves:
        for x, mean, lo, hi in zip(c.x, c.mean, c.low, c.high, strict=True):
            rows.append({"directory": str(results.directory), "study": results.study,
                         "config_hash": results.config_hash, "metric": c.metric,
                         "strategy": c.strategy, "axis": c.axis, "x": float(x), "mean": mean,
                         "low": lo, "high": hi, "n_runs": c.n_runs})
    return rows


def _baseline(analysis: DirectoryAnalysis, metric: str) -> tuple[str, Estimate] | None:
    counterparts = set(analysis.results.counterparts.values())
    if len(counterparts) != 1:
        return None
    (label,) = counterparts
    row = analysis.summary[(analysis.summary["metric"] == metric)
                           & (analysis.summary["strategy"] == label)]
    if row.empty:
        return None
    r = row.iloc[0]
    return label, Estimate(float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]))


def build_report(results_list: Sequence[Results], options: ReportOptions | None = None
                 ) -> Report:
    """The report of ``results_list`` (see the module docstring)."""
    import pandas as pd

    options = options or ReportOptions()
    seen = set()
    for r in results_list:
        key = Path(r.directory).resolve()
        if key in seen:
            raise UserError(f"{r.directory} is given twice; name each results directory once.")
        seen.add(key)
    lb = options.leaderboard
    doc = Document("nasbench report")
    doc.paragraph(
        f"{len(results_list)} results director{'y' if len(results_list) == 1 else 'ies'}. "
        f"Intervals: {lb.bootstrap.confidence:.0%} percentile bootstrap, "
        f"{lb.bootstrap.resamples} resamples, seed {lb.bootstrap.seed}; post-hoc "
        f"{lb.post_hoc} at α = {lb.alpha:g}.")
    header = ["directory", "study", "config hash", "space", "evaluator", "dataset",
              "search metric", "seeds"]
    rows = []
    for r in results_list:
        d = r.describe()
        rows.append([f"`{d['directory']}`", d["study"], f"`{d['config_hash'][:12]}`",
                     d["space"], d["evaluator"] or "(imported)", d["dataset"],
                     d["search_metric"], str(d["seeds"])])
    doc.table(header, rows, caption="Inputs (each traceable to its manifest.json)")

    analyses = [analyse(r, lb) for r in results_list]
    anytime_rows: list[dict[str, object]] = []
    front_table: list[dict[str, object]] = []
    for analysis in analyses:
        results = analysis.results

        def figures(section: Document, metric: str, analysis: DirectoryAnalysis = analysis,
                    results: Results = results) -> None:
            baseline = _baseline(analysis, metric)
            for axis in ("evaluations", "cost"):
                curves = anytime_curves(results, metric, lb.bootstrap, axis)
                anytime_rows.extend(_anytime_rows(results, curves))
                if curves and options.figures:
                    section.figure(
                        plots.anytime_figure(curves, f"{results.study}: {metric} vs {axis}",
                                             metric, baseline),
                        f"Report metric of the incumbent vs {axis}: mean over seeds with its "
                        f"{lb.bootstrap.confidence:.0%} bootstrap band"
                        + (f"; dashed: `{baseline[0]}`." if baseline else "."))
            if not options.figures:
                return
            values = {s: results.runs.loc[results.runs["strategy"] == s, metric]
                      .to_numpy(dtype=np.float64) for s in results.strategies}
            section.figure(plots.distribution_figure(values, f"{results.study}: {metric}",
                                                     metric),
                           "Final report metric of every run (box: quartiles).")
            ranks = analysis.ranks.get(metric)
            if ranks is not None:
                section.figure(plots.cd_diagram(ranks, f"{results.study}: {metric}, ranks "
                                                       f"over {ranks.n_blocks} seeds"),
                               "Critical-difference diagram: mean rank over seeds; bars join "
                               f"strategies the {ranks.post_hoc} post-hoc does not tell apart.")

        directory_section(doc, analysis, lb, figures)
        front = analyse_fronts(results, lb.bootstrap, post_hoc=lb.post_hoc, alpha=lb.alpha)
        if front is not None:
            front_section(doc, results, front, options.figures)
            front_table.extend(front_rows(results, front))

    ranks, names, matrix = across_problems(analyses, options)
    if matrix is not None:
        doc.heading(1, "Across benchmarks")
        which = ("each directory’s first report metric" if options.across == "first"
                 else "every report metric")
        doc.paragraph(
            f"{len(names)} problems ({which}); a strategy’s value on a problem is its mean "
            "over seeds; strategies missing from a problem are left out.")
        if ranks is not None:
            doc.table(["strategy", "mean rank", *names],
                      [[label, fmt(ranks.mean_ranks[i]),
                        *(fmt(v) for v in matrix[label].to_numpy() *
                          _orientations(analyses, options))]
                       for i, label in enumerate(ranks.labels)],
                      caption="Mean rank across problems (1 = best) and mean per problem")
            doc.paragraph(ranks_text(ranks, "problems"))
            doc.table(*pairwise_table(ranks), caption=f"Post-hoc p-values ({ranks.post_hoc})")
            if options.figures:
                doc.figure(plots.cd_diagram(ranks, f"Across {ranks.n_blocks} problems"),
                           "Critical-difference diagram across problems.")
    doc.heading(1, "References")
    doc.bullets(list(CITATIONS))
    summary = pd.concat([a.summary for a in analyses], ignore_index=True)
    return Report(doc, summary, pd.DataFrame(anytime_rows), ranks,
                  pd.DataFrame(front_table) if front_table else None)


def _problem_metrics(analysis: DirectoryAnalysis, options: ReportOptions) -> list[str]:
    """The report metrics of one directory that are problems of the comparison across."""
    metrics = analysis.results.report_metrics
    return metrics[:1] if options.across == "first" else metrics


def _orientations(analyses: Sequence[DirectoryAnalysis], options: ReportOptions) -> np.ndarray:
    """+1/-1 per problem, to show means as measured (the matrix is oriented for ranking)."""
    return np.array([1.0 if a.results.higher_is_better(m) else -1.0
                     for a in analyses for m in _problem_metrics(a, options)])


def write_report(results_list: Sequence[Results], out: Path,
                 options: ReportOptions | None = None) -> dict[str, Path]:
    """Build the report and write its files into ``out``; returns their paths by name."""
    report = build_report(results_list, options)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "leaderboard.md", "csv": out / "leaderboard.csv",
             "anytime": out / "anytime.csv", "html": out / "report.html"}
    paths["markdown"].write_text(report.document.markdown())
    report.summary.to_csv(paths["csv"], index=False)
    report.anytime.to_csv(paths["anytime"], index=False)
    paths["html"].write_text(report.document.html())
    if report.fronts is not None:
        paths["fronts"] = out / "fronts.csv"
        report.fronts.to_csv(paths["fronts"], index=False)
    return paths
