"""The comparison of a protocol study: rankings and accuracy of the same architectures under
several protocols (Yang, Esperança & Carlucci, ICLR 2020, at the scale nasbench runs).

Reads the results directories of ``nasbench protocols`` (:mod:`nasbench.protocol_study`), one
per protocol, and reports:

* rank correlations, with bootstrap intervals, between the base protocol under its first seed
  and every other column: the base under its other seeds (seed stability) and each variant
  under the same seed (depth, training tricks, ...), plus the matrix of all pairs;
* the spread of accuracy across protocols against across architectures (ranges and a two-way
  decomposition of the variance), the seeds' own noise beside it.

It never re-runs anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from nasbench.results import plots
from nasbench.results.correlation import Correlation, CorrelationOptions, correlate
from nasbench.results.leaderboard import fmt
from nasbench.results.report_html import Document
from nasbench.results.schema import Results, load_results
from nasbench.results.scorings import Scoring
from nasbench.results.studies import (
    StudyOutput,
    _matrix,
    _statistics_note,
    correlation_rows,
    protocol_spread_section,
)

from nasbench.errors import UserError

BASE = "base"


def protocol_scorings(name: str, results: Results) -> dict[int, Scoring]:
    """Repetition seed -> the first report metric of each architecture the protocol's
    ``fixed_set`` evaluated under it, labelled ``<protocol> s<seed>``."""
    trials = results.trials
    label = _fixed_set_label(results)
    metric = results.report_metrics[0]
    if trials is None or trials.empty:
        raise UserError(f"{results.directory} holds no evaluated architectures yet.")
    rows = trials[(trials["strategy"] == label) & ~trials["repeat"]]
    out = {}
    for seed, part in rows.groupby("seed", sort=True):
        values = np.where(part["status"] == "ok", part[metric].to_numpy(dtype=np.float64),
                          np.nan)
        info = results.manifest["metrics"][metric]
        out[int(seed)] = Scoring(f"{name} s{seed}", part["arch"].to_numpy(dtype=object),
                                         values, info["higher_is_better"], info.get("unit", ""),
                                         str(results.directory))
    return out


def _fixed_set_label(results: Results) -> str:
    strategies = results.manifest["config"]["strategies"]
    labels = [s["label"] for s in strategies if s["name"] == "fixed_set"]
    if len(labels) != 1:
        raise UserError(f"{results.directory} is not a protocol of a protocol study: it has no "
                        "single fixed_set strategy.")
    return labels[0]


def protocol_comparison(directories: Mapping[str, Path], summaries: Mapping[str, str],
                        options: CorrelationOptions | None = None) -> StudyOutput:
    """The report of a protocol study whose protocols' results are in ``directories``
    (``base`` first)."""
    options = options or CorrelationOptions()
    results = {name: load_results(path) for name, path in directories.items()}
    by_seed = {name: protocol_scorings(name, r) for name, r in results.items()}
    columns = {s.name: s for seeds in by_seed.values() for s in seeds.values()}
    base = results[BASE]
    metric = base.report_metrics[0]
    first_seed = min(by_seed[BASE])
    reference = by_seed[BASE][first_seed].name
    ev = base.manifest["config"]["evaluator"]
    doc = Document(f"Protocol study: {base.study}")
    archs = _shared_keys(columns)
    doc.paragraph(
        f"The same {len(archs)} architectures of space `{base.manifest['config']['space']['name']}`"
        f" (the `fixed_set` strategy) evaluated by `{ev['name']}` on `{ev['dataset']}` under "
        f"{len(results)} protocols, after Yang, Esperança & Carlucci (ICLR 2020). Metric: "
        f"`{metric}`. Columns are `<protocol> s<seed>`; the evaluation seed of an architecture "
        "depends only on the study's root seed, the repetition seed and the architecture, so "
        "columns with the same seed differ only by their protocol.")
    doc.table(["protocol", "what differs from the base", "seeds", "results"],
              [[name, summaries.get(name, ""), ", ".join(str(s) for s in r.runs["seed"].unique()
                                                         if s is not None),
                f"`{r.directory}`"] for name, r in results.items()],
              caption="Protocols")

    out: list[tuple[str, Correlation]] = []
    doc.heading(1, "Do the rankings survive the protocol?")
    pairs = [correlate(columns[reference], columns[c], options) for c in columns
             if c != reference]
    header, rows = correlation_rows(pairs)
    doc.table(["protocol", "against", *header[2:]], rows, caption=f"Against `{reference}`")
    out += [("against base", c) for c in pairs]
    for c in pairs:
        doc.figure(plots.scatter_figure(c), f"{c.x} vs {c.y} ({c.n} architectures).")
    names = list(columns)
    everything = [correlate(columns[a], columns[b], options)
                  for a, b in itertools.combinations(names, 2)]
    out += [("all pairs", c) for c in everything]
    for statistic, title in (("spearman", "Spearman ρ"), ("kendall", "Kendall τ")):
        doc.figure(plots.heatmap_figure(_matrix(everything, names, statistic), names,
                                        f"{title} between protocols"),
                   f"{title} between every pair of columns.")

    doc.heading(1, "Accuracy across protocols and across architectures")
    paired = [seeds[first_seed] for seeds in by_seed.values() if first_seed in seeds]
    matrix = np.column_stack([_aligned(s, archs) for s in paired])
    complete = np.all(np.isfinite(matrix), axis=1)
    doc.paragraph(f"Columns of seed {first_seed} ({', '.join(s.name for s in paired)}); "
                  f"{int(complete.sum())} architectures were evaluated successfully under all "
                  "of them.")
    protocol_spread_section(doc, matrix[complete], [s.name for s in paired])
    base_seeds = list(by_seed[BASE].values())
    if len(base_seeds) > 1:
        a, b = (_aligned(s, archs) for s in base_seeds[:2])
        gap = np.abs(a - b)[np.isfinite(a) & np.isfinite(b)]
        doc.paragraph(
            f"Seed noise: between `{base_seeds[0].name}` and `{base_seeds[1].name}` one "
            f"architecture's `{metric}` moves by {fmt(float(gap.mean()))} points on average "
            f"(median {fmt(float(np.median(gap)))}, max {fmt(float(gap.max()))}).")
    doc.paragraph(_statistics_note(options))
    return StudyOutput(doc, out)


def write_protocol_report(directories: Mapping[str, Path], summaries: Mapping[str, str],
                          out: Path, options: CorrelationOptions | None = None
                          ) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``correlations.csv`` into ``out``."""
    output = protocol_comparison(directories, summaries, options)
    md, page = output.document.write(out, "report")
    csv = out / "correlations.csv"
    output.table().to_csv(csv, index=False)
    return {"markdown": md, "html": page, "csv": csv}


def _shared_keys(columns: Mapping[str, Scoring]) -> list[str]:
    keys = [set(s.keys.tolist()) for s in columns.values()]
    first = next(iter(columns.values())).keys.tolist()
    return [k for k in first if all(k in ks for ks in keys)]


def _aligned(scoring: Scoring, keys: list[str]) -> np.ndarray:
    index = {k: i for i, k in enumerate(scoring.keys.tolist())}
    return np.array([scoring.values[index[k]] for k in keys], dtype=np.float64)
