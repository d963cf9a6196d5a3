"""The sweep view: does a study's conclusion survive when one of its settings changes?

A sweep directory (``nasbench sweep``) holds one ordinary results directory per point and a
``sweep.json`` listing the points and their axis values. This module reads each point through
:func:`nasbench.results.schema.load_results` and answers, per report metric:

* the leaderboard of every point side by side (mean over seeds; rank among the strategies);
* Kendall's tau-b between the strategy rankings of every pair of points, with a percentile
  bootstrap interval over seeds (the repetition seeds are resampled jointly at both points:
  a seed is paired across points, as it is across strategies);
* each strategy's relative improvement (RI) over random sampling and its rank as functions of
  each axis (figures);
* a one-paragraph verdict per axis (does the winner change; do the other ranks agree).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from nasbench.results.report_html import Document
from nasbench.results.schema import Results, load_results
from nasbench.results.stats import BootstrapOptions, percentile_interval, relative_improvement

from nasbench.errors import UserError

AGREE_TAU = 0.8
"""Tau at or above which two rankings are said to agree in the verdicts."""


@dataclass(frozen=True)
class SweepPointResults:
    name: str
    values: dict[str, Any]
    results: Results


@dataclass(frozen=True)
class TauPair:
    a: str
    b: str
    tau: float
    lo: float
    hi: float


def load_sweep_results(directory: Path) -> tuple[dict[str, Any], list[SweepPointResults]]:
    """``sweep.json`` and every point's results (a point not done is a clear error)."""
    path = Path(directory) / "sweep.json"
    if not path.is_file():
        raise UserError(f"{directory} is not a sweep directory (no sweep.json).")
    record = json.loads(path.read_text())
    points = []
    for p in record["points"]:
        try:
            results = load_results(Path(directory) / p["directory"], trials=False)
        except UserError:
            raise UserError(
                f"point {p['name']} of the sweep in {directory} is not complete. Finish the "
                f"sweep with: nasbench sweep SWEEP.toml --resume --out {directory}"
                + (f" (it was started as: {record['command']})" if record.get("command")
                   else "")) from None
        points.append(SweepPointResults(p["name"], dict(p["values"]), results))
    return record, points


def _labels(points: Sequence[SweepPointResults]) -> tuple[list[str], str | None]:
    """Strategy labels present at every point (config order), and the baseline label."""
    first = points[0].results
    baseline = next(iter(set(first.counterparts.values())), None)
    common = [s for s in first.strategies if s != baseline
              and all(s in set(p.results.runs["strategy"]) for p in points)]
    return common, baseline


def _seed_matrix(results: Results, labels: Sequence[str], metric: str,
                 seeds: Sequence[int]) -> np.ndarray:
    """metric[seed, strategy] over ``seeds`` (NaN where a run has no value)."""
    runs = results.runs
    table = runs.pivot_table(index="seed", columns="strategy", values=metric, aggfunc="mean")
    table = table.reindex(index=list(seeds), columns=list(labels))
    return table.to_numpy(dtype=np.float64)


def _ranks(means: np.ndarray, higher: bool) -> np.ndarray:
    """Ranks (1 = best, ties averaged) along the last axis."""
    from scipy.stats import rankdata

    key = -means if higher else means
    return rankdata(np.where(np.isnan(key), np.inf, key), axis=-1)


def _tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b between the rows of ``x`` and ``y`` (shape ``(R, n)``)."""
    i, j = np.triu_indices(x.shape[-1], k=1)
    sx, sy = np.sign(x[..., i] - x[..., j]), np.sign(y[..., i] - y[..., j])
    den = np.sqrt((sx != 0).sum(-1) * (sy != 0).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (sx * sy).sum(-1) / den, np.nan)


@dataclass
class MetricView:
    """One metric across the sweep."""

    metric: str
    higher: bool
    labels: list[str]
    means: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]
    ri: dict[str, np.ndarray]
    taus: list[TauPair]


def metric_view(points: Sequence[SweepPointResults], metric: str,
                options: BootstrapOptions, labels: Sequence[str] | None = None) -> MetricView:
    """Means, ranks, RI and pairwise tau (bootstrap over paired seeds) of ``metric``."""
    all_labels, baseline = _labels(points)
    labels = list(labels) if labels is not None else all_labels
    higher = points[0].results.higher_is_better(metric)
    means, ranks, ri, boot = {}, {}, {}, {}
    for p in points:
        seeds = sorted(set(p.results.runs.loc[p.results.runs["strategy"].isin(labels), "seed"]))
        m = _seed_matrix(p.results, labels, metric, seeds)
        means[p.name] = np.nanmean(m, axis=0)
        ranks[p.name] = _ranks(means[p.name], higher)
        if baseline is not None:
            base = p.results.runs.loc[p.results.runs["strategy"] == baseline, metric]
            ri[p.name] = np.asarray(relative_improvement(means[p.name], float(base.mean()),
                                                         higher), dtype=np.float64)
        boot[p.name] = (seeds, m)
    taus = []
    for ia, a in enumerate(points):
        for b in points[ia + 1:]:
            point = float(_tau_b(ranks[a.name][None], ranks[b.name][None])[0])
            sa, ma = boot[a.name]
            sb, mb = boot[b.name]
            common = sorted(set(sa) & set(sb))
            lo = hi = np.nan
            if len(common) >= 2:
                xa = ma[[sa.index(s) for s in common]]
                xb = mb[[sb.index(s) for s in common]]
                rng = options.generator("sweep-tau", metric, a.name, b.name)
                idx = rng.integers(0, len(common), size=(options.resamples, len(common)))
                ra = _ranks(np.nanmean(xa[idx], axis=1), higher)
                rb = _ranks(np.nanmean(xb[idx], axis=1), higher)
                lo, hi = percentile_interval(_tau_b(ra, rb), options.confidence)
            taus.append(TauPair(a.name, b.name, point, float(lo), float(hi)))
    return MetricView(metric, higher, labels, means, ranks, ri, taus)


def _axis_values(points: Sequence[SweepPointResults], axis: str) -> list[Any]:
    return list(dict.fromkeys(json.dumps(p.values.get(axis), sort_keys=True) for p in points))


def _fmt_value(text: str) -> str:
    value = json.loads(text)
    return value if isinstance(value, str) else json.dumps(value)


def _short(axis: str) -> str:
    return axis.split(".")[-1].replace("_", " ")


def axis_verdict(points: Sequence[SweepPointResults], view: MetricView, axis: str) -> str:
    """One paragraph: where the winner changes along ``axis``, and how well the other
    strategies' ranks agree between points that differ in ``axis`` only."""
    others = [a for p in points for a in p.values if a != axis]
    groups: dict[str, list[SweepPointResults]] = {}
    for p in points:
        rest = json.dumps({k: p.values.get(k) for k in dict.fromkeys(others)}, sort_keys=True)
        groups.setdefault(rest, []).append(p)
    sentences = []
    for rest, members in groups.items():
        if len(members) < 2:
            continue
        fixed = ", ".join(f"{_short(k)} = {v}" for k, v in json.loads(rest).items())
        where = f" (with {fixed})" if fixed else ""
        winners = {p.name: view.labels[int(np.argmin(view.ranks[p.name]))] for p in members}
        value = {p.name: _fmt_value(json.dumps(p.values.get(axis), sort_keys=True))
                 for p in members}
        counts: dict[str, int] = {}
        for w in winners.values():
            counts[w] = counts.get(w, 0) + 1
        usual = max(counts, key=lambda w: counts[w])
        axis_name = _short(axis)
        if len(counts) == 1:
            text = f"{usual} wins at every value of {axis_name}{where}"
        elif counts[usual] * 2 > len(members):
            odd = [p for p in members if winners[p.name] != usual]
            text = (f"{usual} wins at most values of {axis_name}{where}; the winner changes at "
                    f"{axis_name} " + ", ".join(f"{value[p.name]} ({winners[p.name]})"
                                               for p in odd))
        else:
            text = (f"the winner changes with {axis_name}{where}: " + ", ".join(
                f"{winners[p.name]} at {value[p.name]}" for p in members))
        # the other strategies' ranks, between every pair of these points
        keep = [i for i, label in enumerate(view.labels) if label not in set(winners.values())]
        taus = []
        names = [p.name for p in members]
        for ia, a in enumerate(names):
            for b in names[ia + 1:]:
                if len(keep) >= 2:
                    t = float(_tau_b(view.ranks[a][keep][None], view.ranks[b][keep][None])[0])
                    taus.append((t, a, b))
        if taus:
            low, a, b = min(taus)
            if low >= AGREE_TAU:
                text += (f"; ranks of the other {len(keep)} strategies agree at tau >= "
                         f"{low:.2f}")
            else:
                text += (f"; ranks of the other {len(keep)} strategies disagree: tau "
                         f"{low:.2f} between {_short(axis)} {value[a]} and {value[b]}")
        pair = [t for t in view.taus if {t.a, t.b} <= set(names)]
        if pair:
            worst = min(pair, key=lambda t: t.tau)
            text += (f" (all {len(view.labels)} strategies: tau >= {worst.tau:.2f}, seed "
                     f"interval of the lowest [{worst.lo:.2f}, {worst.hi:.2f}])")
        sentences.append(text + ".")
    if not sentences:
        return f"{_short(axis)}: no two points differ in this axis alone."
    return " ".join(sentences)


def _line_figure(points: Sequence[SweepPointResults], view: MetricView, axis: str,
                 values: dict[str, np.ndarray], ylabel: str, title: str) -> str:
    from nasbench.results.plots import _pyplot, _svg, color

    plt = _pyplot()
    ticks = _axis_values(points, axis)
    numeric = all(isinstance(json.loads(t), int | float) for t in ticks)
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    for i, label in enumerate(view.labels):
        xs, ys = [], []
        for k, t in enumerate(ticks):
            at = [values[p.name][i] for p in points
                  if json.dumps(p.values.get(axis), sort_keys=True) == t and p.name in values]
            if at:
                xs.append(json.loads(t) if numeric else k)
                ys.append(float(np.nanmean(at)))
        ax.plot(xs, ys, marker="o", color=color(i), label=label)
    if numeric:
        if all(json.loads(t) > 0 for t in ticks) and max(json.loads(t) for t in ticks) / max(
                min(json.loads(t) for t in ticks), 1e-12) >= 8:
            ax.set_xscale("log")
        ax.set_xticks([json.loads(t) for t in ticks], [_fmt_value(t) for t in ticks])
    else:
        ax.set_xticks(range(len(ticks)), [_fmt_value(t) for t in ticks])
    if ylabel == "rank":
        ax.invert_yaxis()
    ax.set_xlabel(axis)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.02, 1), loc="upper left")
    return _svg(fig, f"{title} {ylabel}")


def _fmt(x: float, digits: int = 2) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def sweep_document(record: dict[str, Any], points: Sequence[SweepPointResults],
                   options: BootstrapOptions | None = None, figures: bool = True
                   ) -> tuple[Document, dict[str, MetricView]]:
    """The sweep view as a document, and the numbers behind it per metric."""
    options = options or BootstrapOptions()
    doc = Document(f"Sweep {record.get('sweep', '')}")
    axes = list(record.get("axes", []))
    doc.paragraph(f"{len(points)} points ({record.get('mode', 'grid')}) over "
                  f"{', '.join(f'`{a}`' for a in axes)}; each point is a results directory "
                  f"(`nasbench report DIR/POINT`, `nasbench verify DIR/POINT`). Rankings are "
                  f"by the mean over seeds; tau is Kendall's tau-b between two points' "
                  f"rankings, with a {options.confidence:.0%} bootstrap interval over the "
                  f"seeds the points share ({options.resamples} resamples).")
    metrics = list(dict.fromkeys(m for p in points for m in p.results.report_metrics))
    metrics = [m for m in metrics if all(m in p.results.runs.columns for p in points)]
    views: dict[str, MetricView] = {}
    for metric in metrics:
        view = metric_view(points, metric, options)
        views[metric] = view
        doc.heading(1, metric)
        doc.heading(2, "Verdicts")
        doc.bullets([f"**{a}**: {axis_verdict(points, view, a)}" for a in axes])
        header = ["strategy", *[p.name for p in points]]
        rows = [[label, *[f"{_fmt(view.means[p.name][i])} (#{view.ranks[p.name][i]:g})"
                          for p in points]] for i, label in enumerate(view.labels)]
        doc.table(header, rows, caption=f"Mean {metric} over seeds (rank) at each point")
        if view.ri:
            rows = [[label, *[_fmt(view.ri[p.name][i]) for p in points]]
                    for i, label in enumerate(view.labels)]
            doc.table(header, rows, caption="RI over random sampling (%)")
        doc.table(["point", "point", "tau", "interval"],
                  [[t.a, t.b, _fmt(t.tau), f"[{_fmt(t.lo)}, {_fmt(t.hi)}]"] for t in view.taus],
                  caption="Kendall's tau between the strategy rankings of two points")
        if figures:
            for axis in axes:
                doc.figure(_line_figure(points, view, axis, view.ranks, "rank", metric),
                           f"rank of each strategy on {metric} against {axis}")
                if view.ri:
                    doc.figure(_line_figure(points, view, axis, view.ri, "RI (%)", metric),
                               f"RI over random sampling on {metric} against {axis}")
    return doc, views


def write_sweep_report(directory: Path, out: Path, options: BootstrapOptions | None = None,
                       figures: bool = True) -> dict[str, Path]:
    """Write ``sweep.md`` and ``sweep.html`` into ``out``; returns their paths."""
    record, points = load_sweep_results(directory)
    doc, _ = sweep_document(record, points, options, figures)
    md, page = doc.write(out, "sweep")
    return {"markdown": md, "html": page}
