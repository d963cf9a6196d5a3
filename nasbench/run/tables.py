"""Consolidation: ``trials.parquet``, ``runs.parquet`` and ``final.parquet`` from the run logs,
once every run is done."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nasbench import manifest as env
from nasbench.api import SearchSpace
from nasbench.protocol import Study
from nasbench.run.plan import RunSpec
from nasbench.run.records import (
    FINAL_COLUMNS,
    TRIAL_COLUMNS,
    FinalRecord,
    Names,
    TrialRecord,
    columns,
    concat,
    floats,
    from_log,
)
from nasbench.store import Layout, RunLog, columns_from_records, read_json, write_json, write_table

RUN_COLUMNS = (
    "run_id", "kind", "strategy", "strategy_name", "seed", "status", "n_trials",
    "n_evaluations", "n_repeats", "n_failed", "total_cost", "strategy_cost", "stop_reason",
    "incumbent", "incumbent_key", "search_metric",
)


def read_run(layout: Layout, run_id: str, *, repair: bool = False
             ) -> tuple[list[TrialRecord], list[FinalRecord], dict[str, Any] | None]:
    """A run's logged trials (in order, each once, up to the first missing one), its final
    evaluations (by repeat) and its summary (``None`` while it is not done)."""
    rows, summary = RunLog(layout.log(run_id)).read(repair=repair)
    trials: dict[int, TrialRecord] = {}
    for row in rows:
        rec = from_log(row)
        if isinstance(rec, TrialRecord):
            trials.setdefault(rec.trial, rec)
    ordered = []
    while len(ordered) in trials:
        ordered.append(trials[len(ordered)])
    final_rows, _ = RunLog(layout.final_log(run_id)).read(repair=repair)
    finals: dict[int, FinalRecord] = {}
    for row in final_rows:
        rec = from_log(row)
        if isinstance(rec, FinalRecord):
            finals.setdefault(rec.repeat, rec)
    return ordered, [finals[k] for k in sorted(finals)], summary


def consolidate(
    study: Study,
    space: SearchSpace,
    directory: Path,
    specs: Iterable[RunSpec],
    summaries: Sequence[Mapping[str, Any]],
    logs: Mapping[str, Sequence[TrialRecord]],
) -> None:
    """Write ``trials.parquet`` and ``runs.parquet`` (and ``final.parquet``) from the run logs
    and summaries (``logs`` spares reading back the runs this process wrote).

    With a final protocol, a run's report-metric columns hold its final figures (the mean over
    the final repeats), ``search.<metric>`` the same metrics under the search protocol, and
    ``final.*`` the final protocol's bookkeeping.
    """
    layout = Layout(directory)
    specs = list(specs)
    meta = {"study": study.name, "config_hash": study.config_hash,
            "search_metric": study.search_metric, "report_metrics": list(study.report_metrics)}
    metric_names = list(study.report_metrics)
    names = Names(space)
    parts = []
    finals = []
    n_trials = 0
    for spec in specs:
        records = logs.get(spec.run_id)
        final_records: list[FinalRecord] = []
        if records is None or study.final is not None:
            read, final_records, _ = read_run(layout, spec.run_id)
            records = read if records is None else records
        if not spec.is_baseline:
            parts.append(columns(names, study, spec, list(records)))
            n_trials += len(records)
        if study.final is not None:
            finals.append(columns(names, study, spec, final_records, FinalRecord))
    trial_cols = concat(parts, (*TRIAL_COLUMNS, *metric_names))
    for col in ("fidelity", "search_metric", *metric_names):
        trial_cols[col] = floats(trial_cols[col])
    write_table(layout.trials_table, trial_cols, meta)

    run_rows = []
    for s in summaries:
        row = {k: s.get(k) for k in RUN_COLUMNS}
        row["status"] = s.get("status", "ok")
        row["reason"] = s.get("reason", "")
        for m in metric_names:
            row[m] = s["metrics"].get(m)
        if study.final is not None:
            for m in metric_names:
                row[f"search.{m}"] = row[m]
                row[m] = s["final_metrics"].get(m)
        row["incumbent_evaluated"] = s.get("incumbent_evaluated", False)
        row.update({k: v for k, v in s.items() if k.startswith("strategy.")})
        row["wall_time"] = s.get("wall_time")
        if study.final is not None:
            row.update({"final.search_metric": s["final_search_metric"],
                        "final.repeats": s["final_repeats"],
                        "final.n_failed": s["final_n_failed"], "final.cost": s["final_cost"]})
        run_rows.append(row)
    search_names = [f"search.{m}" for m in metric_names] if study.final is not None else []
    run_cols = columns_from_records(run_rows, (*RUN_COLUMNS, *metric_names, *search_names))
    float_cols = ["search_metric", *metric_names, *search_names]
    if study.final is not None:
        float_cols.append("final.search_metric")
    for col in float_cols:
        run_cols[col] = floats(run_cols[col])
    write_table(layout.runs_table, run_cols, meta)

    if study.final is not None:
        final_cols = concat(finals, (*FINAL_COLUMNS, *metric_names))
        for col in ("search_metric", *metric_names):
            final_cols[col] = floats(final_cols[col])
        write_table(layout.final_table, final_cols, meta)

    manifest = read_json(layout.manifest)
    manifest.update(status="complete", finished=env.now(),
                    trials=n_trials, runs_complete=len(run_rows))
    write_json(layout.manifest, manifest, sync=True)
