"""Comparing multi-objective searches on the fronts they find.

For a study with ``[[objectives]]``: each run's answer is the non-dominated set of the
architectures it evaluated, on the validation-side objectives (its *front*); its test-side
counterpart is the same architectures measured on each objective's ``test_metric``, with their
own non-dominated subset. A run's quality is the hypervolume of its front (pymoo's
implementation), computed in normalised objective space:

* each objective is oriented for minimisation and mapped to [0, 1] between the *ideal* (the
  best value) and the *nadir* (the worst), taken over the whole benchmark table when the study
  reads one, otherwise over every architecture any run of the study evaluated;
* each architecture (by its canonical ``arch_key``) counts once in a run's front;
* the reference point is 1.1 in every normalised objective (nadir plus a tenth of the range),
  so that points on the nadir still add volume. The report states both bounds.

Per strategy: mean hypervolume over runs with a percentile-bootstrap interval, its relative
improvement over the hypervolume of ``random_search`` runs of the same study (the same budget
spent on uniform samples; Yang et al. 2020's RI applied to hypervolume), and a Friedman test
with Nemenyi's post-hoc over seeds. Where the table holds every architecture, the true front
and its hypervolume are given too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from nasbench.results.significance import RankComparison, compare_ranks
from nasbench.results.stats import BootstrapOptions, Estimate, mean_estimates, ri_estimate

if TYPE_CHECKING:
    from nasbench.results.report_html import Document
    from nasbench.results.schema import Results

REFERENCE = 1.1
"""The reference point in every normalised objective (nadir + 10% of the ideal-nadir range)."""

RANDOM_LABEL = "random_search"
"""The strategy whose hypervolume relative improvements are measured against."""


@dataclass(frozen=True)
class ObjectiveColumn:
    metric: str
    higher_is_better: bool
    test_metric: str | None
    on_test: bool


@dataclass(frozen=True)
class RunFront:
    """One run's answer: its front on the search-side objectives and the test-side one."""

    run_id: str
    strategy: str
    seed: int
    archs: tuple[str, ...]
    front: np.ndarray  # n x k, as measured
    test_front: np.ndarray | None  # n x k, the same architectures' test-side values
    hypervolume: float
    test_hypervolume: float


@dataclass(frozen=True)
class FrontAnalysis:
    """Everything the report shows about a multi-objective study."""

    objectives: tuple[ObjectiveColumn, ...]
    ideal: np.ndarray
    nadir: np.ndarray
    bounds_from: str
    runs: tuple[RunFront, ...]
    hypervolume: dict[str, Estimate]
    test_hypervolume: dict[str, Estimate]
    ri: dict[str, Estimate]
    ranks: RankComparison | None
    true_front: np.ndarray | None
    true_hypervolume: float | None


def objective_columns(results: Results) -> tuple[ObjectiveColumn, ...]:
    """The study's resolved ``[[objectives]]`` (empty for a single-objective study)."""
    raw = (results.manifest.get("config") or {}).get("objectives") or []
    return tuple(ObjectiveColumn(o["metric"], o["direction"] == "maximise",
                                 o.get("test_metric"), bool(o.get("accept_test_split")))
                 for o in raw)


def _oriented(values: np.ndarray, objectives: Sequence[ObjectiveColumn]) -> np.ndarray:
    """Values turned into costs (every objective minimised)."""
    signs = np.array([-1.0 if o.higher_is_better else 1.0 for o in objectives])
    return np.asarray(values, dtype=np.float64) * signs


def non_dominated_mask(values: np.ndarray, objectives: Sequence[ObjectiveColumn]) -> np.ndarray:
    """Which rows of ``values`` (as measured) are on their Pareto front (pymoo's sorting)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    mask = np.zeros(len(values), dtype=bool)
    if len(values):
        front = NonDominatedSorting().do(_oriented(values, objectives),
                                         only_non_dominated_front=True)
        mask[np.asarray(front, dtype=np.intp)] = True
    return mask


def hypervolume(values: np.ndarray, objectives: Sequence[ObjectiveColumn], ideal: np.ndarray,
                nadir: np.ndarray) -> float:
    """Hypervolume (pymoo) of ``values`` (as measured) in the normalised space, reference
    point :data:`REFERENCE`; 0 for no points."""
    from pymoo.indicators.hv import HV

    if len(values) == 0:
        return 0.0
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    normalised = (_oriented(values, objectives) - ideal) / span
    return float(HV(ref_point=np.full(len(objectives), REFERENCE))(normalised))


def _table_values(results: Results, metrics: Sequence[str]) -> np.ndarray | None:
    """Every architecture's values of ``metrics`` in the study's table, if it reads one."""
    from nasbench.results.optimum import _table_of

    from nasbench.registry import load_plugins

    loaded = _table_of(results, load_plugins(), None)
    if loaded is None:
        return None
    table, evaluator = loaded
    column = getattr(evaluator, "whole_column", None)
    try:
        cols = [np.asarray(column(table, m) if column is not None else table.column(m),
                           dtype=np.float64) for m in metrics]
    except KeyError:
        return None
    values = np.stack(cols, axis=1)
    return values[np.isfinite(values).all(axis=1)]


def analyse_fronts(results: Results, options: BootstrapOptions | None = None,
                   *, post_hoc: str = "nemenyi", alpha: float = 0.05,
                   table: np.ndarray | bool | None = True) -> FrontAnalysis | None:
    """The fronts, hypervolumes and tests of a multi-objective study; ``None`` for a
    single-objective one.

    Args:
        results: the results directory.
        options: bootstrap settings.
        post_hoc, alpha: the post-hoc test over seeds and its level.
        table: every architecture's objective values (as measured); ``True`` to read the
            study's table when it has one, ``None``/``False`` for none.
    """
    objectives = objective_columns(results)
    if not objectives or results.trials is None:
        return None
    options = options or BootstrapOptions()
    metrics = [o.metric for o in objectives]
    tests = [o.test_metric for o in objectives]
    has_test = all(t is not None for t in tests)
    trials = results.trials
    if results.search_metric not in trials.columns:  # the search metric's column is named so
        trials = trials.assign(**{results.search_metric: trials["search_metric"]})
    ok = trials[(trials["status"] == "ok") & (~trials["repeat"].astype(bool))]
    ok = ok[np.isfinite(ok[metrics].to_numpy(dtype=np.float64)).all(axis=1)]
    search = results.runs[results.runs["kind"] == "search"] if "kind" in results.runs else \
        results.runs
    all_values = ok[metrics].to_numpy(dtype=np.float64)
    if table is True:
        table = _table_values(results, metrics)
    elif table is False:
        table = None
    source = table if table is not None and len(table) else all_values
    bounds_from = "the whole table" if source is table else "every architecture the runs " \
        "evaluated"
    oriented = _oriented(source, objectives)
    ideal, nadir = oriented.min(axis=0), oriented.max(axis=0)
    fronts: list[RunFront] = []
    for _, run in search.iterrows():
        # one point per architecture: a re-proposed isomorphic cell is the same answer
        rows = ok[ok["run_id"] == run["run_id"]].drop_duplicates("arch_key")
        values = rows[metrics].to_numpy(dtype=np.float64)
        mask = non_dominated_mask(values, objectives)
        front = values[mask]
        archs = tuple(str(a) for a in rows["arch_key"].to_numpy()[mask])
        test_front = None
        test_hv = float("nan")
        if has_test:
            test_vals = rows[tests].to_numpy(dtype=np.float64)[mask]
            test_vals = test_vals[np.isfinite(test_vals).all(axis=1)]
            test_front = test_vals[non_dominated_mask(test_vals, objectives)]
            test_hv = hypervolume(test_front, objectives, ideal, nadir)
        fronts.append(RunFront(str(run["run_id"]), str(run["strategy"]), int(run["seed"]),
                               archs, front, test_front,
                               hypervolume(front, objectives, ideal, nadir), test_hv))
    labels = [s for s in results.strategies if any(f.strategy == s for f in fronts)]
    hv: dict[str, Estimate] = {}
    test_hv_est: dict[str, Estimate] = {}
    ri: dict[str, Estimate] = {}
    per = {s: np.array([f.hypervolume for f in fronts if f.strategy == s]) for s in labels}
    for s in labels:
        hv[s] = mean_estimates(per[s], options, results.config_hash, s, "hypervolume")[0]
        test_hv_est[s] = mean_estimates(
            np.array([f.test_hypervolume for f in fronts if f.strategy == s]), options,
            results.config_hash, s, "test_hypervolume")[0]
        if RANDOM_LABEL in per and s != RANDOM_LABEL:
            ri[s] = ri_estimate(per[s], per[RANDOM_LABEL], True, options,
                                results.config_hash, s, "hypervolume_ri")
    ranks = None
    seeds = sorted({f.seed for f in fronts})
    if len(labels) >= 2 and len(seeds) >= 2:
        matrix = np.full((len(seeds), len(labels)), np.nan)
        for f in fronts:
            matrix[seeds.index(f.seed), labels.index(f.strategy)] = f.hypervolume
        ranks = compare_ranks(matrix, labels, higher_is_better=True,
                              post_hoc=post_hoc, alpha=alpha)  # type: ignore[arg-type]
    true_front = true_hv = None
    if table is not None and len(table):
        true_front = table[non_dominated_mask(table, objectives)]
        true_hv = hypervolume(true_front, objectives, ideal, nadir)
    return FrontAnalysis(objectives, ideal, nadir, bounds_from, tuple(fronts), hv,
                         test_hv_est, ri, ranks, true_front, true_hv)


def _fmt(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:.4f}"


def _interval(e: Estimate) -> str:
    if not np.isfinite(e.low):
        return _fmt(e.value)
    return f"{_fmt(e.value)} [{_fmt(e.low)}, {_fmt(e.high)}]"


def front_figure(analysis: FrontAnalysis, title: str) -> str:
    """Each strategy's front of its median-hypervolume run, over the table's true front."""
    from nasbench.results import plots

    plt = plots._pyplot()
    o = analysis.objectives
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    # the attained region's outline: a point covers the x beyond it that are worse
    where = "pre" if o[1].higher_is_better else "post"
    if analysis.true_front is not None:
        tf = analysis.true_front[np.argsort(analysis.true_front[:, 1])]
        ax.step(tf[:, 1], tf[:, 0], where=where, color="black", lw=1.2, label="true front")
    labels = list(dict.fromkeys(f.strategy for f in analysis.runs))
    for i, s in enumerate(labels):
        runs = sorted((f for f in analysis.runs if f.strategy == s), key=lambda f: f.hypervolume)
        median = runs[len(runs) // 2]
        pts = median.front[np.argsort(median.front[:, 1])]
        ax.step(pts[:, 1], pts[:, 0], where=where, color=plots.color(i), alpha=0.8,
                label=f"{s} (seed {median.seed})")
        ax.scatter(pts[:, 1], pts[:, 0], color=plots.color(i), s=12)
    ax.set_xlabel(o[1].metric)
    ax.set_ylabel(o[0].metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return plots._svg(fig, title)


def front_section(doc: Document, results: Results, analysis: FrontAnalysis,
                  figures: bool = True) -> None:
    """The report's section on a multi-objective study."""
    o = analysis.objectives
    doc.heading(2, f"{results.study}: Pareto fronts")
    names = ", ".join(f"{x.metric} ({'max' if x.higher_is_better else 'min'})" for x in o)
    doc.paragraph(
        f"Objectives: {names}. Each run's answer is the non-dominated set of the architectures "
        f"it evaluated. Hypervolume (pymoo) in the space normalised between the ideal and the "
        f"nadir of {analysis.bounds_from}, reference point {REFERENCE} in every objective; "
        "ideal " + ", ".join(f"{_bound(v, x)}" for v, x in zip(analysis.ideal, o, strict=True))
        + "; nadir " + ", ".join(f"{_bound(v, x)}" for v, x in
                                 zip(analysis.nadir, o, strict=True)) + ".")
    if any(x.on_test for x in o):
        doc.paragraph("**Selected on test data**: an objective is a test-split metric "
                      "(accept_test_split, the benchmark has no validation split); these fronts "
                      "overstate what a search would find on unseen data.")
    rows = []
    for s, e in analysis.hypervolume.items():
        n = sum(1 for f in analysis.runs if f.strategy == s)
        size = np.mean([len(f.front) for f in analysis.runs if f.strategy == s])
        ri = analysis.ri.get(s)
        rows.append([s, str(n), f"{size:.1f}", _interval(e),
                     _interval(analysis.test_hypervolume[s]),
                     _interval(ri) if ri is not None else "–"])
    doc.table(["strategy", "runs", "front size", "hypervolume", "test-side hypervolume",
               f"RI over {RANDOM_LABEL} (%)"], rows,
              caption="Hypervolume per run: mean with its bootstrap interval")
    if analysis.true_hypervolume is not None:
        doc.paragraph(f"True front (whole table): {len(analysis.true_front)} architectures, "
                      f"hypervolume {_fmt(analysis.true_hypervolume)}.")
    if analysis.ranks is not None:
        r = analysis.ranks
        doc.paragraph(
            f"Friedman test on hypervolume over {r.n_blocks} seeds: "
            f"χ² = {_fmt(r.statistic)}, p = {_fmt(r.p_value)}; mean ranks "
            + ", ".join(f"{lab} {rank:.2f}" for lab, rank in zip(r.labels, r.mean_ranks,
                                                                    strict=True))
            + f"; {r.post_hoc} critical difference {_fmt(r.critical_difference)}.")
    if figures and len(o) == 2:
        doc.figure(front_figure(analysis, f"{results.study}: fronts"),
                   "Front of each strategy's median-hypervolume run; black: the table's true "
                   "front where the table holds every architecture.")


def _bound(v: float, o: ObjectiveColumn) -> str:
    return f"{-v if o.higher_is_better else v:.6g}"


def front_rows(results: Results, analysis: FrontAnalysis) -> list[dict[str, Any]]:
    """One row per run: its hypervolumes and front size (for CSV output)."""
    return [{"study": results.study, "config_hash": results.config_hash, "run_id": f.run_id,
             "strategy": f.strategy, "seed": f.seed, "front_size": len(f.front),
             "hypervolume": f.hypervolume, "test_hypervolume": f.test_hypervolume}
            for f in analysis.runs]
