"""Tables: ``trials.parquet``, ``runs.parquet`` and ``final.parquet``, written in row groups as
runs finish, so that a study of millions of trials never holds its tables in memory.

Rows keep the study's run order (the order of :func:`nasbench.run.plan.run_specs`), whatever
order runs finish in: a run that finishes before an earlier one waits in a small reorder
buffer. Each table is written to a hidden file beside it and renamed into place once every run
is done; a study killed before then rewrites its tables from the log when it resumes.
"""

from __future__ import annotations

import contextlib
import json
import os
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
    EncodedBatch,
    EncodedTrials,
    FinalRecord,
    Names,
    TrialBatch,
    TrialRecord,
    columns,
    concat,
    floats,
    from_log,
)
from nasbench.store import Layout, StudyLog, columns_from_records, read_json, warn, write_json

RUN_COLUMNS = (
    "run_id", "kind", "strategy", "strategy_name", "seed", "status", "n_trials",
    "n_evaluations", "n_repeats", "n_failed", "total_cost", "strategy_cost", "stop_reason",
    "incumbent", "incumbent_key", "search_metric",
)

ROW_GROUP_ROWS = 65_536
"""Rows gathered before a row group is written (bounded memory; row groups worth reading)."""

RUN_GROUP_ROWS = 2_048
"""The same for ``runs.parquet``, whose rows arrive one at a time as Python dicts (a few KB
each while they wait)."""


def trial_float_columns(study: Study) -> tuple[str, ...]:
    """The columns of ``trials.parquet`` written as floats (a missing value is NaN)."""
    return ("fidelity", "search_metric", *study.report_metrics)


def trial_table(names: Names, study: Study, spec: RunSpec,
                trials: Sequence[TrialRecord] | TrialBatch) -> Any:
    """``trials.parquet``'s rows of one run's ``trials``, as an Arrow table: the columns of
    :func:`~nasbench.run.records.columns`, typed as the table writer types them."""
    return trial_columns_table(study, [columns(names, study, spec, trials)])


def trial_columns_table(study: Study, parts: list[dict[str, list[Any]]]) -> Any:
    """Consecutive parts of ``trials.parquet`` (columns as :func:`~nasbench.run.records.columns`
    gives them, a column missing from a part is null there) as one Arrow table, typed as the
    table writer types them."""
    import pyarrow as pa

    cols = concat(parts, (*TRIAL_COLUMNS, *study.report_metrics))
    for col in trial_float_columns(study):
        cols[col] = floats(cols[col])
    return pa.table(cols)


class RunState:
    """What the log holds of one run: its trials (by index), finals (by repeat), summary."""

    __slots__ = ("finals", "summary", "trials")

    def __init__(self) -> None:
        self.trials: dict[int, TrialRecord] = {}
        self.finals: dict[int, FinalRecord] = {}
        self.summary: dict[str, Any] | None = None

    def add(self, row: tuple) -> None:
        if row[0] == "done":
            if len(row) == 2 and isinstance(row[1], dict):
                self.summary = row[1]
            return
        rec = from_log(row)
        if isinstance(rec, TrialRecord):
            self.trials.setdefault(rec.trial, rec)
        elif isinstance(rec, FinalRecord):
            self.finals.setdefault(rec.repeat, rec)

    def intact(self) -> bool:
        """Whether every trial the summary counts is in the log (a damaged frame in the middle
        of the log can take one away: the run is then executed again from its intact
        trials, which gives the same records)."""
        assert self.summary is not None
        if self.summary.get("kind") == "baseline":
            return True
        n = 0
        while n in self.trials:
            n += 1
        return n >= int(self.summary.get("n_trials") or 0)

    def ordered(self) -> tuple[list[TrialRecord], list[FinalRecord]]:
        """The trials in order, each once, up to the first missing one; finals by repeat."""
        out: list[TrialRecord] = []
        while len(out) in self.trials:
            out.append(self.trials[len(out)])
        return out, [self.finals[k] for k in sorted(self.finals)]


def scan_log(layout: Layout, *, repair: bool = False,
             on_done: Any = None) -> dict[str, RunState]:
    """Read the study log once: the state of every run that is not done, and each done run
    handed to ``on_done(run_id, state)`` as soon as its summary is read (then forgotten), so
    that memory holds only the runs still open."""
    open_runs: dict[str, RunState] = {}
    done: set[str] = set()
    for run_id, row in StudyLog(layout.study_log).scan(repair=repair):
        if run_id in done:
            continue
        state = open_runs.get(run_id)
        if state is None:
            state = open_runs[run_id] = RunState()
        state.add(row)
        if state.summary is not None:
            if not state.intact():
                warn(f"run {run_id}: its log lost trials it had finished; the run is executed "
                     "again from its intact trials")
                state.summary = None
                continue
            done.add(run_id)
            del open_runs[run_id]
            if on_done is not None:
                on_done(run_id, state)
    return open_runs


def read_run(layout: Layout, run_id: str
             ) -> tuple[list[TrialRecord], list[FinalRecord], dict[str, Any] | None]:
    """One run's logged trials (in order, each once), final evaluations and summary."""
    state = RunState()
    for rid, row in StudyLog(layout.study_log).scan():
        if rid == run_id:
            state.add(row)
    trials, finals = state.ordered()
    return trials, finals, state.summary


class _TableWriter:
    """One Parquet table written row group by row group.

    A row group whose columns or types differ from those written before (a column that was
    all missing so far, an ``info.*`` key seen first now) starts a new segment; closing
    merges the segments under one schema, row group by row group, as one whole-column write
    would have typed them (nulls take the type of the values, integers widen to floats).
    """

    def __init__(self, path: Path, order: Sequence[str], float_cols: Sequence[str],
                 metadata: Mapping[str, Any], rows: int | None = None) -> None:
        self.path = path
        self.group_rows = rows
        self.order = tuple(order)
        self.float_cols = tuple(float_cols)
        self.meta = {b"nasbench": json.dumps(dict(metadata), default=str).encode()}
        self.parts: list[dict[str, list[Any]]] = []
        self.rows = 0
        self.n_rows = 0
        self.segments: list[Path] = []
        self._writer: Any = None

    def add(self, cols: dict[str, list[Any]] | Any) -> None:
        """Add rows: columns as lists, or an Arrow table typed as :meth:`_batch` types them
        (float columns already floats)."""
        n = len(next(iter(cols.values()), [])) if isinstance(cols, dict) else cols.num_rows
        if n:
            self.parts.append(cols)
            self.rows += n
        if self.rows >= (self.group_rows or ROW_GROUP_ROWS):
            self._write()

    def _from_lists(self, parts: list[dict[str, list[Any]]]) -> Any:
        import pyarrow as pa

        cols = concat(parts, self.order)
        for col in self.float_cols:
            cols[col] = floats(cols[col])
        return pa.table(cols)

    def _batch(self) -> Any:
        import pyarrow as pa

        pieces: list[Any] = []
        lists: list[dict[str, list[Any]]] = []
        for part in self.parts:  # consecutive parts of lists become one table, in order
            if isinstance(part, dict):
                lists.append(part)
                continue
            if lists:
                pieces.append(self._from_lists(lists))
                lists = []
            pieces.append(part)
        if lists or not pieces:
            pieces.append(self._from_lists(lists))
        self.parts, self.rows = [], 0
        if len(pieces) == 1:
            return pieces[0]
        # a column missing from a piece is null there; a null-typed or integer column
        # takes its type from the others (as one whole-column conversion would)
        return pa.concat_tables(pieces, promote_options="permissive").combine_chunks()

    def _write(self) -> None:
        import pyarrow.parquet as pq

        if not self.parts:
            return
        table = self._batch()
        self.n_rows += table.num_rows
        if self._writer is not None:
            fits = _cast_to(table, self._writer.schema)
            if fits is None:
                self._writer.close()
                self._writer = None
            else:
                table = fits
        if self._writer is None:
            seg = self.path.with_name(f".{self.path.name}.{os.getpid()}.{len(self.segments)}")
            self.segments.append(seg)
            self._writer = pq.ParquetWriter(seg, table.schema.with_metadata(self.meta))
        self._writer.write_table(table.replace_schema_metadata(self.meta))

    def close(self) -> int:
        """Write what is left, put the table in place; the number of rows written."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.segments and not self.parts:  # no rows at all: typed as before
            empty = pa.table(concat([], self.order))
            for col in self.float_cols:
                empty = empty.set_column(empty.schema.get_field_index(col), col,
                                         pa.array([], pa.float64()))
            pq.write_table(empty.replace_schema_metadata(self.meta), self.path)
            return 0
        self._write()
        self._writer.close()
        self._writer = None
        if len(self.segments) == 1:
            os.replace(self.segments[0], self.path)
            return self.n_rows
        schemas = [pq.read_schema(seg) for seg in self.segments]
        unified = pa.unify_schemas(schemas, promote_options="permissive").with_metadata(self.meta)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.merge")
        with pq.ParquetWriter(tmp, unified) as out:
            for seg in self.segments:
                source = pq.ParquetFile(seg)
                for i in range(source.num_row_groups):
                    out.write_table(_conform(source.read_row_group(i), unified))
        for seg in self.segments:
            seg.unlink()
        os.replace(tmp, self.path)
        return self.n_rows

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        for seg in self.segments:
            seg.unlink(missing_ok=True)


def _cast_to(table: Any, schema: Any) -> Any:
    """``table`` cast to ``schema`` when only its all-null columns differ; else ``None``."""
    import pyarrow as pa

    if table.schema.names != schema.names:
        return None
    for field, want in zip(table.schema, schema, strict=True):
        if field.type != want.type and not pa.types.is_null(field.type):
            return None
    return table.cast(schema.remove_metadata()) if table.schema != schema else table


def _conform(table: Any, schema: Any) -> Any:
    """``table`` with ``schema``'s columns, in its order and types (missing ones null)."""
    import pyarrow as pa

    arrays = []
    for field in schema:
        if field.name in table.column_names:
            arrays.append(table.column(field.name).cast(field.type))
        else:
            arrays.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class TableSink:
    """Builds a study's tables from its finished runs, in run order, in row groups.

    :meth:`add` takes each run once it is done (from the log of an earlier session or from
    this one's writer); :meth:`close` writes what remains and marks the study complete.
    """

    def __init__(self, study: Study, space: SearchSpace, directory: Path,
                 specs: Iterable[RunSpec]) -> None:
        self.study = study
        self.layout = Layout(directory)
        self.specs = list(specs)
        self._next = 0
        self._waiting: dict[str, tuple[Sequence[TrialRecord] | TrialBatch | EncodedTrials,
                                       list[FinalRecord],
                                       dict]] = {}
        self.names = Names(space)
        self.n_trials = 0
        self.n_runs = 0
        self._run_rows: list[dict[str, Any]] = []
        self.done: set[str] = set()
        self.failed: list[str] = []
        meta = {"study": study.name, "config_hash": study.config_hash,
                "search_metric": study.search_metric,
                "report_metrics": list(study.report_metrics)}
        metrics = list(study.report_metrics)
        final = study.final is not None
        self.search_names = [f"search.{m}" for m in metrics] if final else []
        run_floats = ["search_metric", *metrics, *self.search_names]
        if final:
            run_floats.append("final.search_metric")
        self.trials = _TableWriter(self.layout.trials_table, (*TRIAL_COLUMNS, *metrics),
                                   trial_float_columns(study), meta)
        self.runs = _TableWriter(self.layout.runs_table,
                                 (*RUN_COLUMNS, *metrics, *self.search_names), run_floats, meta,
                                 RUN_GROUP_ROWS)
        self.finals = _TableWriter(self.layout.final_table, (*FINAL_COLUMNS, *metrics),
                                   ("search_metric", *metrics), meta) if final else None

    @property
    def complete(self) -> bool:
        return self._next == len(self.specs)

    @property
    def pending(self) -> list[str]:
        return [s.run_id for s in self.specs if s.run_id not in self.done]

    def add(self, run_id: str, trials: Sequence[TrialRecord] | TrialBatch | EncodedTrials,
            finals: list[FinalRecord],
            summary: dict[str, Any]) -> None:
        if run_id in self.done:
            return
        self.done.add(run_id)
        if summary.get("status") == "failed":
            self.failed.append(run_id)
        self._waiting[run_id] = (trials, finals, summary)
        while self._next < len(self.specs) and self.specs[self._next].run_id in self._waiting:
            spec = self.specs[self._next]
            self._emit(spec, *self._waiting.pop(spec.run_id))
            self._next += 1

    def _emit(self, spec: RunSpec, trials: Sequence[TrialRecord] | TrialBatch | EncodedTrials,
              finals: list[FinalRecord],
              summary: dict[str, Any]) -> None:
        study = self.study
        if not spec.is_baseline:
            if isinstance(trials, EncodedTrials):  # tables built where the run ran
                for batch in trials.batches:
                    if isinstance(batch, EncodedBatch):
                        # (a batch that came without its rows is converted here)
                        table = batch.table if batch.table is not None else trial_table(
                            self.names, study, spec, TrialBatch(batch.first, batch.rows))
                    else:
                        table = trial_table(self.names, study, spec, batch)
                    self.trials.add(table)
            else:
                self.trials.add(columns(self.names, study, spec, trials))
            self.n_trials += len(trials)
        if self.finals is not None:
            self.finals.add(columns(self.names, study, spec, finals, FinalRecord))
        self._run_rows.append(_run_row(study, summary))
        if len(self._run_rows) >= RUN_GROUP_ROWS:
            self._add_run_rows()
        self.n_runs += 1

    def _add_run_rows(self) -> None:
        """Hand the waiting rows of ``runs.parquet`` to its writer as columns (one pass over
        the rows, not a dict of one-element lists per run)."""
        if self._run_rows:
            self.runs.add(columns_from_records(
                self._run_rows, (*RUN_COLUMNS, *self.study.report_metrics, *self.search_names)))
            self._run_rows = []

    def close(self) -> None:
        """Put the tables in place and mark the manifest complete (every run is done)."""
        self._add_run_rows()
        self.trials.close()
        self.runs.close()
        if self.finals is not None:
            self.finals.close()
        manifest = read_json(self.layout.manifest)
        manifest.update(status="complete", finished=env.now(),
                        trials=self.n_trials, runs_complete=self.n_runs)
        write_json(self.layout.manifest, manifest, sync=True)

    def abort(self) -> None:
        """Drop the partial tables (the study did not finish; a resume rewrites them)."""
        for table in (self.trials, self.runs, self.finals):
            if table is not None:
                table.abort()


def _run_row(study: Study, s: Mapping[str, Any]) -> dict[str, Any]:
    """A run's row of ``runs.parquet``, from its summary.

    With a final protocol, a run's report-metric columns hold its final figures (the mean over
    the final repeats), ``search.<metric>`` the same metrics under the search protocol, and
    ``final.*`` the final protocol's bookkeeping.
    """
    metric_names = list(study.report_metrics)
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
    if "supernet_seconds" in s:
        row["supernet_seconds"] = s["supernet_seconds"]
    if study.final is not None:
        row.update({"final.search_metric": s["final_search_metric"],
                    "final.repeats": s["final_repeats"],
                    "final.n_failed": s["final_n_failed"], "final.cost": s["final_cost"]})
    return row
