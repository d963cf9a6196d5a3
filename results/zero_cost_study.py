"""The correlation study of nasbench's own zero-cost proxies on 725 NAS-Bench-201 cells.

Reads a results directory written by ``nasbench zero-cost validate``
(:mod:`nasbench.zero_cost_validation`) and reports, for every proxy nasbench
computed:

* how it ranks the cells against the score NAS-Bench-Suite-Zero published for the same proxy
  and cell (Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks; NASLib), which checks
  the implementation (synflow, params and flops read no data, so they must agree closely; the
  data-based proxies agree as far as the minibatch's dataset allows when it is not CIFAR-10);
* how it, and the published score, rank the cells against NAS-Bench-201's 200-epoch CIFAR-10
  test accuracy (Dong & Yang, ICLR 2020), the question a proxy is for;
* what each proxy cost per cell.

Like every correlation study it never re-runs anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from nasbench.results import plots
from nasbench.results.correlation import Correlation, CorrelationOptions, correlate
from nasbench.results.leaderboard import fmt
from nasbench.results.report_html import Document
from nasbench.results.schema import load_results
from nasbench.results.scorings import Scoring, load_scoring, sources
from nasbench.results.studies import StudyOutput, _statistics_note, correlation_rows

if TYPE_CHECKING:
    from nasbench.results.schema import Results

SCORED = "cells"
"""The strategy label of the scored cells in the results directory."""
PUBLISHED_NAMES = {"jacob_cov": "jacov"}
"""nasbench proxy -> NAS-Bench-Suite-Zero's name, where they differ."""
GROUND_TRUTH = "nb201:cifar10/test_200ep"
PASS_OF = {"grad_norm": "gradients", "snip": "gradients", "fisher": "gradients",
           "grasp": "grasp", "jacob_cov": "jacob_cov", "synflow": "synflow",
           "params": "size", "flops": "size"}
"""The computation each proxy's time is recorded under (``info.seconds_<pass>``)."""


def proxy_scorings(results: Results) -> dict[str, Scoring]:
    """Each proxy of the results directory as a scoring of the scored cells."""
    trials = results.trials
    if trials is None or trials.empty:
        from nasbench.errors import UserError

        raise UserError(f"{results.directory} holds no scored cells yet.")
    rows = trials[(trials["strategy"] == SCORED) & (trials["status"] == "ok")
                  & ~trials["repeat"]]
    out = {}
    for metric in dict.fromkeys((results.search_metric, *results.report_metrics)):
        column = "search_metric" if metric == results.search_metric else metric
        proxy = metric.split("/", 1)[1]
        out[proxy] = Scoring(f"nasbench {proxy}", rows["arch"].to_numpy(dtype=object),
                             rows[column].to_numpy(dtype=np.float64), True, "",
                             str(results.directory))
    return out


def validation(directory: Path, data_dir: Path | None,
               options: CorrelationOptions | None = None) -> StudyOutput:
    """The report of one ``nasbench zero-cost validate`` results directory."""
    options = options or CorrelationOptions()
    results = load_results(directory)
    ours = proxy_scorings(results)
    known = sources()

    def load(spec: str, label: str) -> Scoring:
        return load_scoring(spec, data_dir, available_sources=known).renamed(label)

    truth = load(GROUND_TRUTH, "CIFAR-10 test acc. (200 ep.)")
    published = {p: load(f"zc201:cifar10/{PUBLISHED_NAMES.get(p, p)}", f"published {p}")
                 for p in ours}
    config = results.manifest["config"]["evaluator"]
    doc = Document("nasbench's zero-cost proxies on NAS-Bench-Suite-Zero's 725 NAS-Bench-201 "
                   "cells")
    doc.paragraph(_setup_text(results, config))
    out: list[tuple[str, Correlation]] = []

    agreement = [correlate(ours[p], published[p], options) for p in ours]
    nasbench_truth = [correlate(ours[p], truth, options) for p in ours]
    published_truth = [correlate(published[p].renamed(f"published {p} (same cells)"),
                       _restricted(truth, ours[p]), options) for p in ours]
    doc.heading(1, "Summary")
    doc.table(["proxy", "cells", "ρ nasbench vs published", "ρ nasbench vs accuracy",
               "ρ published vs accuracy"],
              [[p, str(a.n), _rho(a), _rho(t), _rho(u)] for p, a, t, u in
               zip(ours, agreement, nasbench_truth, published_truth, strict=True)],
              caption="Spearman ρ [95% bootstrap interval]")

    doc.heading(1, "Agreement with the published scores")
    doc.paragraph("Each nasbench proxy against NAS-Bench-Suite-Zero's score of the same cell. "
                  "synflow, params and flops read no data, so only the random initialisation "
                  "separates them from the published values; the data-based proxies also see "
                  "a different minibatch, of another dataset unless it is CIFAR-10.")
    header, rows = correlation_rows(agreement)
    doc.table(["proxy", "published", *header[2:]], rows)
    out += [("agreement", c) for c in agreement]
    for c in agreement:
        if c.x in ("nasbench synflow", "nasbench snip", "nasbench jacob_cov"):
            doc.figure(plots.scatter_figure(c), f"{c.x} vs {c.y} ({c.n} cells).")

    doc.heading(1, "Against NAS-Bench-201's 200-epoch CIFAR-10 test accuracy")
    doc.paragraph("The same cells, ranked by each proxy, against the accuracy they reach "
                  "after training (Dong & Yang, ICLR 2020). Published rows use the published "
                  "score of exactly the cells nasbench scored.")
    both = [c for pair in zip(nasbench_truth, published_truth, strict=True) for c in pair]
    doc.table(*correlation_rows(both))
    out += [("accuracy", c) for c in both]
    doc.figure(plots.interval_figure([c.x for c in both], [c.estimates["spearman"] for c in both],
                                     "Spearman ρ with CIFAR-10 test accuracy", "Spearman ρ"),
               "Spearman ρ of each proxy with the 200-epoch test accuracy, nasbench's and the "
               "published, with bootstrap intervals.")
    synflow = next((c for c in nasbench_truth if c.x == "nasbench synflow"), None)
    if synflow is not None:
        doc.figure(plots.scatter_figure(synflow), "nasbench synflow vs accuracy.")

    doc.heading(1, "Cost per cell")
    doc.table(*_cost_rows(results, list(ours)),
              caption=f"Seconds per cell on {_device(results)}; proxies that share a pass share "
                      "its time")
    doc.paragraph(_statistics_note(options))
    return StudyOutput(doc, out)


def write_validation_report(directory: Path, data_dir: Path | None,
                            options: CorrelationOptions | None = None) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``correlations.csv`` into
    ``directory/report``; returns their paths."""
    output = validation(directory, data_dir, options)
    target = directory / "report"
    md, page = output.document.write(target, "report")
    csv = target / "correlations.csv"
    output.table().to_csv(csv, index=False)
    return {"markdown": md, "html": page, "csv": csv}


def _restricted(scoring: Scoring, to: Scoring) -> Scoring:
    """``scoring`` on the keys of ``to`` where ``to`` is finite."""
    keep = set(to.keys[np.isfinite(to.values)].tolist())
    mask = np.array([k in keep for k in scoring.keys.tolist()], dtype=bool)
    return Scoring(scoring.name, scoring.keys[mask], scoring.values[mask],
                   scoring.higher_is_better, scoring.unit, scoring.source)


def _rho(c: Correlation) -> str:
    e = c.estimates["spearman"]
    return f"{fmt(e.value, 3)} [{fmt(e.low, 3)}, {fmt(e.high, 3)}]"


def _setup_text(results: Results, config: dict) -> str:
    from nasbench.evaluators.zero_cost import PROXIES

    size = config.get("size", {})
    n = int((results.trials["strategy"] == SCORED).sum()) if results.trials is not None else 0
    if any(PROXIES[p].needs_data for p in config["proxies"]):
        reshaped = [f"resized to {config['image_size']}x{config['image_size']}"
                    if config.get("image_size") else "",
                    f"channel repeated {config['channels']} times" if config.get("channels")
                    else ""]
        how = ", ".join(r for r in reshaped if r) or "as they are"
        data = (f"Data-based proxies read one minibatch of {config.get('batch_size')} "
                f"`{config.get('dataset')}` training images ({how}); synflow, params and flops "
                "read none.")
    else:
        data = (f"None of these proxies reads data: `{config.get('dataset')}` only fixes the "
                "input shape and the number of classes.")
    return (f"{n} of NAS-Bench-Suite-Zero's 725 cells scored with NAS-Bench-201's network "
            f"(C={size.get('C')}, N={size.get('N')}, 32x32 input, 10 classes) at "
            f"initialisation. {data} FLOPs follow NAS-Bench-Suite-Zero's counting convention. "
            "Published scores: NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets "
            "and Benchmarks; NASLib), computed on CIFAR-10 minibatches. Results directory: "
            f"`{results.directory}`.")


def _cost_rows(results: Results, proxies: list[str]) -> tuple[list[str], list[list[str]]]:
    trials = results.trials
    assert trials is not None
    rows_of = trials[(trials["strategy"] == SCORED) & (trials["status"] == "ok")]
    rows = []
    for name in ("build", *dict.fromkeys(PASS_OF[p] for p in proxies)):
        column = f"info.seconds_{name}"
        if column not in rows_of.columns:
            continue
        seconds = rows_of[column].to_numpy(dtype=np.float64)
        label = "build the network" if name == "build" else \
            ", ".join(p for p in proxies if PASS_OF[p] == name)
        rows.append([label, fmt(float(np.mean(seconds)), 3), fmt(float(np.median(seconds)), 3),
                     fmt(float(np.max(seconds)), 3)])
    total = rows_of["cost"].to_numpy(dtype=np.float64)
    rows.append(["whole evaluation", fmt(float(np.mean(total)), 3),
                 fmt(float(np.median(total)), 3), fmt(float(np.max(total)), 3)])
    return ["computation", "mean s", "median s", "max s"], rows


def _device(results: Results) -> str:
    trials = results.trials
    if trials is None or "info.device" not in trials.columns:
        return "an unrecorded device"
    machine = results.manifest.get("machine", {})
    device = trials["info.device"].dropna()
    threads = trials["info.threads"].dropna() if "info.threads" in trials.columns else device[:0]
    return (f"{device.iloc[0] if len(device) else '?'} "
            f"({int(threads.iloc[0]) if len(threads) else '?'} torch thread(s); "
            f"{machine.get('cpu') or machine.get('processor') or 'machine in manifest.json'})")
