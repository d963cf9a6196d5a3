"""The leaderboard site: strategies compared across benchmark problems, as static pages.

Input: results directories, one per *problem* (a benchmark table and dataset, as ``nasbench
suite`` writes them, or any study directories), each judged on its first report metric.
Output, in one directory that opens from ``file://`` with no network:

* ``index.html``: the aggregate table (mean rank over problems with a bootstrap interval,
  normalised regret to each problem's optimum, wins/ties/losses against a reference strategy),
  the Friedman test over problems with its Nemenyi critical-difference diagram (Demšar, JMLR
  2006), the problems, what was skipped, and how every figure is computed;
* ``problems/<problem>.html``: the full report of one problem (:mod:`~nasbench.results.report`);
* ``strategies/<strategy>.html``: one strategy's results on every problem.

Every table sorts by any column (a few lines of inline script; no library, no CDN).

How the aggregate figures are computed (also stated on the page):

* A strategy's score on a problem is the mean of the report metric over its seeds. Within a
  problem, strategies are ranked by that score (1 = best, ties averaged); the mean rank is
  the average over problems. Its interval resamples the seeds of every strategy on every
  problem (percentile bootstrap) and recomputes every rank: it shows how much the ranking
  owes to seed noise on *these* problems, not how it would change on other problems.
* Normalised regret on a problem (see :mod:`~nasbench.results.optimum`) is
  ``(optimum - score) / (optimum - table mean)``: 0 at the best architecture of the table, 1
  at the average architecture; averaged over the problems whose table knows every architecture.
* Wins/ties/losses: on each problem, the strategy's runs against the reference strategy's,
  by the Wilcoxon signed-rank test when paired by seed (else Mann-Whitney U) at ``alpha``; a
  win or loss needs p < alpha, anything else is a tie.
* The Friedman test and the Nemenyi post-hoc over problems use the strategies every problem
  has, on their scores.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from nasbench.results import plots
from nasbench.results.leaderboard import LeaderboardOptions, fmt, fmt_p, ranks_text
from nasbench.results.optimum import Optimum, table_optima
from nasbench.results.report import ReportOptions, build_report
from nasbench.results.report_html import Document
from nasbench.results.significance import RankComparison, compare, compare_ranks, smallest_p
from nasbench.results.stats import RESAMPLE_BLOCK, BootstrapOptions

from nasbench.errors import UserError
from nasbench.verify import verify_command

if TYPE_CHECKING:
    from nasbench.results.schema import Results

    from nasbench.suite import Skipped


@dataclass(frozen=True)
class SiteOptions:
    """What the site computes.

    Attributes:
        reference: the strategy wins, ties and losses are counted against.
        alpha: significance level of every test.
        resamples, confidence, seed: the bootstrap of every interval.
        figures: problem pages with figures (the index always has its CD diagram).
        data_dir: where benchmark tables are read from for the optima (default
            ``$NASBENCH_DATA`` and the installed tables).
    """

    reference: str = "random_search"
    alpha: float = 0.05
    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    figures: bool = True
    data_dir: Path | None = None


@dataclass
class ProblemScores:
    """One problem: every strategy's per-seed values of the problem's report metric."""

    name: str
    slug: str
    results: Results
    metric: str
    higher: bool
    values: dict[str, np.ndarray]
    seeds: dict[str, np.ndarray]
    optimum: Optimum | None

    def score(self, label: str) -> float:
        v = self.values.get(label)
        if v is None:
            return math.nan
        v = v[np.isfinite(v)]
        return float(v.mean()) if v.size else math.nan


@dataclass(frozen=True)
class Versus:
    """One strategy against the reference on one problem."""

    outcome: str  # "win", "tie", "loss" or "" (no test)
    test: str
    p_value: float
    floor: float


@dataclass
class Aggregate:
    """The figures of the index page."""

    labels: list[str]
    common: list[str]
    mean_rank: dict[str, float]
    rank_ci: dict[str, tuple[float, float]]
    norm_regret: dict[str, float]
    regret_ci: dict[str, tuple[float, float]]
    ranks_by_problem: dict[str, dict[str, float]]
    versus: dict[str, dict[str, Versus]]
    friedman: RankComparison | None
    problems_with_optimum: int
    notes: list[str] = field(default_factory=list)


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "page"
    slug, i = base, 1
    while slug.lower() in taken:
        i += 1
        slug = f"{base}-{i}"
    taken.add(slug.lower())
    return slug


def load_problems(results_list: Sequence[Results], data_dir: Path | None = None
                  ) -> list[ProblemScores]:
    """The problem of each results directory: its first report metric, per strategy."""
    from nasbench.registry import load_plugins

    plugins = load_plugins()
    problems: list[ProblemScores] = []
    taken: set[str] = set()
    for results in results_list:
        name = results.study.removeprefix("suite-")
        if any(p.name == name for p in problems):
            name = f"{name} ({results.directory})"
        metric = results.report_metrics[0]
        runs = results.runs
        values, seeds = {}, {}
        for label in results.strategies:
            part = runs[runs["strategy"] == label].sort_values("seed")
            values[label] = part[metric].to_numpy(dtype=np.float64)
            seeds[label] = part["seed"].to_numpy()
        optimum = table_optima(results, plugins, data_dir).get(metric)
        problems.append(ProblemScores(name, _slug(name, taken), results, metric,
                                      results.higher_is_better(metric), values, seeds, optimum))
    return problems


def _versus(problem: ProblemScores, label: str, reference: str, alpha: float) -> Versus:
    if label == reference or reference not in problem.values or label not in problem.values:
        return Versus("", "", math.nan, math.nan)
    a, b = problem.values[label], problem.values[reference]
    paired = (problem.results.paired_seeds
              and np.array_equal(problem.seeds[label], problem.seeds[reference]))
    result = compare(a, b, paired=paired)
    if paired:
        keep = np.isfinite(a) & np.isfinite(b)
        floor = smallest_p("wilcoxon", int(np.count_nonzero(a[keep] != b[keep])))
    else:
        floor = smallest_p("mann-whitney", int(np.isfinite(a).sum()), int(np.isfinite(b).sum()))
    diff = problem.score(label) - problem.score(reference)
    better = diff > 0 if problem.higher else diff < 0
    if math.isfinite(result.p_value) and result.p_value < alpha and diff != 0:
        outcome = "win" if better else "loss"
    else:
        outcome = "tie" if math.isfinite(result.p_value) else ""
    return Versus(outcome, result.test, result.p_value, floor)


def _bootstrap_means(rng: np.random.Generator, v: np.ndarray, resamples: int) -> np.ndarray:
    """``resamples`` bootstrap means of ``v``, drawn in blocks of ``RESAMPLE_BLOCK`` resamples
    (a ``resamples x n`` index matrix is 400 MB at 50,000 runs). The generator gives the same
    indices block after block as in one draw (every block but the last holds an even
    number of indices), so the means are those of one draw."""
    out = np.empty(resamples)
    for start in range(0, resamples, RESAMPLE_BLOCK):
        size = min(RESAMPLE_BLOCK, resamples - start)
        out[start:start + size] = v[rng.integers(0, v.size, size=(size, v.size))].mean(axis=1)
    return out


def aggregate(problems: Sequence[ProblemScores], options: SiteOptions) -> Aggregate:
    """Mean ranks, normalised regrets, wins/ties/losses and the Friedman test over problems."""
    from scipy.stats import rankdata

    labels = list(dict.fromkeys(s for p in problems for s in p.values))
    common = [s for s in labels if all(s in p.values and np.isfinite(p.score(s))
                                       for p in problems)]
    rng = np.random.default_rng(options.seed)
    b = options.resamples
    scores = np.full((len(problems), len(common)), np.nan)
    boot = np.full((b, len(problems), len(common)), np.nan)
    for i, p in enumerate(problems):
        sign = 1.0 if p.higher else -1.0
        for j, label in enumerate(common):
            v = p.values[label]
            v = v[np.isfinite(v)]
            scores[i, j] = sign * v.mean()
            boot[:, i, j] = sign * _bootstrap_means(rng, v, b)
    lo_q, hi_q = 50 * (1 - options.confidence), 50 * (1 + options.confidence)
    mean_rank: dict[str, float] = {}
    rank_ci: dict[str, tuple[float, float]] = {}
    ranks_by_problem: dict[str, dict[str, float]] = {p.name: {} for p in problems}
    if common:
        ranks = rankdata(-scores, axis=1, method="average")
        boot_ranks = rankdata(-boot, axis=2, method="average").mean(axis=1)
        for j, label in enumerate(common):
            mean_rank[label] = float(ranks[:, j].mean())
            rank_ci[label] = (float(np.percentile(boot_ranks[:, j], lo_q)),
                              float(np.percentile(boot_ranks[:, j], hi_q)))
            for i, p in enumerate(problems):
                ranks_by_problem[p.name][label] = float(ranks[i, j])
    with_opt = [i for i, p in enumerate(problems) if p.optimum is not None]
    norm_regret: dict[str, float] = {}
    regret_ci: dict[str, tuple[float, float]] = {}
    if with_opt:
        for j, label in enumerate(common):
            point, reps = [], []
            for i in with_opt:
                opt = problems[i].optimum
                assert opt is not None
                sign = 1.0 if problems[i].higher else -1.0
                point.append(opt.normalised(sign * scores[i, j]))
                reps.append(np.array([opt.normalised(sign * x) for x in boot[:, i, j]]))
            norm_regret[label] = float(np.mean(point))
            stacked = np.mean(reps, axis=0)
            regret_ci[label] = (float(np.percentile(stacked, lo_q)),
                                float(np.percentile(stacked, hi_q)))
    versus = {label: {p.name: _versus(p, label, options.reference, options.alpha)
                      for p in problems if label in p.values} for label in labels}
    friedman = None
    if len(problems) >= 2 and len(common) >= 2:
        friedman = compare_ranks(scores, common, higher_is_better=True, post_hoc="nemenyi",
                                 alpha=options.alpha)
    notes = []
    missing = [s for s in labels if s not in common]
    if missing:
        notes.append("Not ranked (missing from some problem): "
                     + ", ".join(f"`{s}`" for s in missing) + ".")
    return Aggregate(labels, common, mean_rank, rank_ci, norm_regret, regret_ci,
                     ranks_by_problem, versus, friedman, len(with_opt), notes)


def _wtl(versus: dict[str, Versus]) -> str:
    outcomes = [v.outcome for v in versus.values()]
    if not any(outcomes):
        return "–"
    return f"{outcomes.count('win')}/{outcomes.count('tie')}/{outcomes.count('loss')}"


def _interval(ci: tuple[float, float] | None) -> str:
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "–"


def _protocol_text(problems: Sequence[ProblemScores]) -> str:
    budgets = sorted({p.results.describe()["budget"] for p in problems})
    seeds = sorted({int(p.results.describe()["seeds"]) for p in problems})
    return (f"{len(problems)} problems; budget per run: {' / '.join(budgets)}; "
            f"{' / '.join(map(str, seeds))} seeds per strategy; strategies as each problem's "
            "study configures them (`nasbench suite` runs each with its default "
            "hyper-parameters), searching on the problem's search metric; the report metric is "
            "never seen by a strategy. `random_sampling` is the random-sampling baseline "
            "(one uniform sample per seed, Yang et al., ICLR 2020).")


def index_document(problems: Sequence[ProblemScores], agg: Aggregate, options: SiteOptions,
                   skipped: Sequence[Skipped]) -> Document:
    """The index page."""
    doc = Document("nasbench leaderboard")
    doc.paragraph(_protocol_text(problems))
    ref = options.reference
    order = sorted(agg.labels, key=lambda s: (agg.mean_rank.get(s, math.inf), s))
    header = ["strategy", "mean rank", f"{options.confidence:.0%} CI of mean rank",
              "normalised regret", f"{options.confidence:.0%} CI of regret",
              f"W/T/L vs {ref}", "problems"]
    rows = []
    for label in order:
        rows.append([f"[`{label}`](strategies/{_page(label)}.html)",
                     fmt(agg.mean_rank.get(label, math.nan)), _interval(agg.rank_ci.get(label)),
                     fmt(agg.norm_regret.get(label, math.nan), 3),
                     _interval(agg.regret_ci.get(label)) if label in agg.regret_ci else "–",
                     _wtl(agg.versus.get(label, {})),
                     str(len(agg.versus.get(label, {})))])
    doc.heading(1, "Aggregate")
    doc.table(header, rows, caption="Strategies across problems (sorted by mean rank; click a "
              "header to sort)")
    if agg.friedman is not None:
        doc.paragraph(ranks_text(agg.friedman, "problems"))
        doc.figure(plots.cd_diagram(agg.friedman, f"Mean rank across {agg.friedman.n_blocks} "
                                                  "problems"),
                   "Critical-difference diagram (Demšar, JMLR 2006): mean rank over problems; "
                   "bars join strategies the Nemenyi test does not tell apart at "
                   f"α = {options.alpha:g}.")
    else:
        doc.paragraph("No Friedman test: it needs at least two problems and two strategies "
                      "that every problem has.")
    if ref not in agg.labels:
        doc.paragraph(f"No wins/ties/losses: the reference strategy `{ref}` is on no problem "
                      "(choose one with --reference).")
    small = [p.name for p in problems
             if any(v.get(p.name) is not None and v[p.name].floor > options.alpha
                    for v in agg.versus.values())]
    notes = [
        "Mean rank: within each problem, strategies ranked by the mean of the report metric "
        "over seeds (1 = best, ties averaged), averaged over problems. Interval: percentile "
        f"bootstrap ({options.resamples} resamples, seed {options.seed}) over each "
        "strategy's seeds on every problem; it shows the ranking's sensitivity to seed noise "
        "on these problems, not to the choice of problems.",
        "Normalised regret: (optimum − score) / (optimum − table mean) on each problem whose "
        "table knows every architecture (0 = the best architecture of the table, 1 = the "
        "average architecture), averaged over those "
        f"{agg.problems_with_optimum} problem(s). The optimum is the best report value over "
        "the whole table, which no search on validation data can be sure to reach; each "
        "problem's page also gives the oracle (the report value of the best architecture by "
        "the search metric).",
        f"W/T/L: wins, ties and losses against `{ref}`, one per problem: Wilcoxon signed-rank "
        "test on runs paired by seed (else Mann-Whitney U), two-sided; a win or loss needs "
        f"p < {options.alpha:g}.",
        *agg.notes,
    ]
    if small:
        notes.append("With this few seeds the test against the reference cannot reach "
                     f"p < {options.alpha:g} on " + ", ".join(small) + ": every outcome there "
                     "is a tie by construction; run more seeds.")
    doc.bullets(notes)

    doc.heading(1, "Problems")
    prow = []
    for p in problems:
        d = p.results.describe()
        best = min(agg.ranks_by_problem[p.name].items(), key=lambda kv: kv[1],
                   default=("", math.nan))
        prow.append([f"[{p.name}](problems/{p.slug}.html)", f"`{d['search_metric']}`",
                     f"`{p.metric}`", str(d["seeds"]),
                     fmt(p.optimum.best) if p.optimum else "–",
                     fmt(p.optimum.oracle) if p.optimum else "–",
                     f"`{best[0]}`" if best[0] else "–",
                     fmt(p.score(best[0])) if best[0] else "–",
                     "–" if p.results.imported else f"`{verify_command(p.results.directory)}`"])
    doc.table(["problem", "search metric", "report metric", "seeds", "optimum", "oracle",
               "best strategy", "its mean", "re-execute a sample"], prow,
              caption="Problems (optimum: best report value in the table; oracle: report "
              "value of the best architecture by the search metric)")
    if skipped:
        doc.heading(1, "Skipped")
        doc.table(["problem", "why"], [[s.name, s.reason] for s in skipped],
                  caption="Problems not run here")
    doc.heading(1, "References")
    doc.bullets([
        "Demšar, Statistical comparisons of classifiers over multiple data sets, JMLR 2006.",
        "Mehta et al., NAS-Bench-Suite, ICLR 2022 (strategies rank differently across "
        "benchmarks).",
        "Yang, Esperança & Carlucci, NAS evaluation is frustratingly hard, ICLR 2020.",
    ])
    return doc


def _page(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label)


def strategy_document(label: str, problems: Sequence[ProblemScores], agg: Aggregate,
                      options: SiteOptions) -> Document:
    """One strategy's page: its results on every problem."""
    doc = Document(f"Strategy: {label}")
    doc.paragraph("[← leaderboard](../index.html)")
    rows = []
    for p in problems:
        if label not in p.values:
            continue
        v = p.values[label]
        v = v[np.isfinite(v)]
        vs = agg.versus[label].get(p.name, Versus("", "", math.nan, math.nan))
        score = p.score(label)
        rows.append([
            f"[{p.name}](../problems/{p.slug}.html)", f"`{p.metric}`", str(v.size),
            f"{fmt(score)} ± {fmt(float(np.std(v, ddof=1)) if v.size > 1 else math.nan)}",
            fmt(agg.ranks_by_problem[p.name].get(label, math.nan)),
            fmt(p.optimum.regret(score)) if p.optimum else "–",
            fmt(p.optimum.normalised(score), 3) if p.optimum else "–",
            vs.outcome or "–", fmt_p(vs.p_value) if vs.test else "–"])
    doc.table(["problem", "report metric", "runs", "mean ± std", "rank", "regret",
               "normalised regret", f"vs {options.reference}", "p"], rows,
              caption=f"`{label}` on every problem (click a header to sort)")
    if label in agg.mean_rank:
        doc.paragraph(f"Mean rank over problems {fmt(agg.mean_rank[label])} "
                      f"{_interval(agg.rank_ci.get(label))}; normalised regret "
                      f"{fmt(agg.norm_regret.get(label, math.nan), 3)}.")
    names = {str(n) for p in problems if label in p.values
             for n in p.results.runs.loc[p.results.runs["strategy"] == label, "strategy_name"]}
    doc.paragraph("Registered strategy: " + ", ".join(f"`{n}`" for n in sorted(names))
                  + "; its hyper-parameters are recorded in each problem's manifest.json.")
    return doc


def build_site(paths: Sequence[Path], out: Path, options: SiteOptions | None = None) -> Path:
    """Write the site of the given suite or results directories into ``out``; returns the
    index page."""
    from nasbench.results.schema import load_for_report

    from nasbench.suite import suite_directories

    options = options or SiteOptions()
    dirs, skipped = suite_directories(paths)
    if not dirs:
        raise UserError("no results directory to put on the site: the suite directories given "
                        "hold no problem yet. Run 'nasbench suite' first.")
    results_list = [load_for_report(d) for d in dirs]
    problems = load_problems(results_list, options.data_dir)
    agg = aggregate(problems, options)
    out.mkdir(parents=True, exist_ok=True)
    (out / "problems").mkdir(exist_ok=True)
    (out / "strategies").mkdir(exist_ok=True)
    lb = LeaderboardOptions(BootstrapOptions(options.resamples, options.confidence,
                                             options.seed), "nemenyi", options.alpha)
    for p in problems:
        report = build_report([p.results], ReportOptions(lb, "first", options.figures))
        doc = Document(f"Problem: {p.name}")
        doc.paragraph("[← leaderboard](../index.html)")
        if p.optimum is not None:
            doc.paragraph(
                f"The table holds {p.optimum.architectures:,} architectures: optimum of "
                f"`{p.metric}` {fmt(p.optimum.best)}, oracle (best by the search metric) "
                f"{fmt(p.optimum.oracle)}, table mean {fmt(p.optimum.mean)}.")
        doc.extend(report.document)
        (out / "problems" / f"{p.slug}.html").write_text(doc.html(sortable=True))
    for label in agg.labels:
        (out / "strategies" / f"{_page(label)}.html").write_text(
            strategy_document(label, problems, agg, options).html(sortable=True))
    index = out / "index.html"
    index.write_text(index_document(problems, agg, options, skipped).html(sortable=True))
    return index

