"""The driver's writer: the only code that writes a results directory while a study runs.

Runs hand over batches of trials (one per flush of a run: in this process a
:class:`~nasbench.run.records.TrialBatch`, its rows already in the log's form; from a Dask
worker an :class:`~nasbench.run.records.EncodedBatch`, its log frame and table rows made on
the worker), final evaluations, checkpoints and summaries; the writer appends them to the
study log durably, as they arrive, without unpacking a trial. A run executed twice (its worker
died and Dask ran it again) hands over its trials again: the writer keeps the first copy of
each trial (by trial index) and of each final repeat, so nothing is duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasbench.run.plan import RunSpec
from nasbench.run.records import (
    EncodedBatch,
    EncodedTrials,
    FinalRecord,
    TrialBatch,
    TrialRecord,
)
from nasbench.store import FLUSH_SECONDS, Layout, StudyLog, save_checkpoint, warn, write_atomic


class _Run:
    __slots__ = ("batches", "done", "finals", "n_trials", "saved")

    def __init__(self, n_trials: int, finals: list[FinalRecord],
                 batches: list[TrialBatch | EncodedBatch]) -> None:
        self.n_trials = n_trials
        self.finals = finals
        self.done = False
        self.batches = batches
        self.saved = n_trials > 0  # a checkpoint may exist (only runs with trials have one)


class Writer:
    """Appends what runs hand over to the study log; one per study, in the driver.

    A run's records are held only while it runs: once its summary arrives they go to
    ``on_finished`` (the table sink) and are forgotten, so memory follows the runs in
    flight, not the size of the study.

    Args:
        directory: the results directory.
        on_trials: told how many trial records of a run arrived (for the progress bar).
        on_done: told when a run's summary arrived.
        on_finished: given each finished run's id, trials, finals and summary.
    """

    def __init__(self, directory: Path,
                 on_trials: Callable[[str, int], None] | None = None,
                 on_done: Callable[[str], None] | None = None,
                 on_finished: Callable[[str, TrialBatch | EncodedTrials, list[FinalRecord],
                                        dict[str, Any]], None] | None = None) -> None:
        self.layout = Layout(directory)
        self.log = StudyLog(self.layout.study_log)
        self._runs: dict[str, _Run] = {}
        self._finished: set[str] = set()  # runs whose summary is logged (records then ignored)
        self._dirty = False
        self._on_trials = on_trials
        self._on_done = on_done
        self._on_finished = on_finished
        self._last_flush = time.perf_counter()
        self._stale: list[str] = []

    def start(self, spec: RunSpec, records: list[TrialRecord], finals: list[FinalRecord]) -> None:
        """Expect records of run ``spec``, which already logged ``records`` and ``finals``."""
        if spec.run_id not in self._finished:
            self._runs[spec.run_id] = _Run(len(records), list(finals),
                                           [TrialBatch.of(records)] if records else [])

    def trials(self, run_id: str, batch: TrialBatch | EncodedBatch) -> None:
        """Append a batch of a run's trials (the part not logged yet); an encoded batch's
        frame goes to the log as it is."""
        run = self._runs.get(run_id)
        if run is None or run.done or not len(batch):
            return
        if batch.first != run.n_trials:
            if batch.first > run.n_trials:
                warn(f"run {run_id}: trial {batch.first} arrived after {run.n_trials - 1}; "
                     "dropped (the run is re-executed from its log)")
                return
            if batch.end <= run.n_trials:
                return  # a re-executed run handing over what is already logged
            batch = batch.since(run.n_trials)
        run.n_trials = batch.end
        run.batches.append(batch)
        if isinstance(batch, EncodedBatch):
            self.log.append_frame(run_id, batch.frame)
        else:
            append = self.log.append
            for row in batch.rows:
                append(run_id, row)
        if self._on_trials is not None:
            self._on_trials(run_id, len(batch))
        self._dirty = True

    def record(self, run_id: str, record: FinalRecord | TrialRecord) -> None:
        """Append one record (a final-protocol evaluation, or a single trial)."""
        if isinstance(record, TrialRecord):
            self.trials(run_id, TrialBatch.of([record]))
            return
        run = self._runs.get(run_id)
        if run is None or run.done or any(f.repeat == record.repeat for f in run.finals):
            return
        run.finals.append(record)
        self.log.append(run_id, record.to_log())
        if self._on_trials is not None:
            self._on_trials(run_id, 1)
        self._dirty = True

    def finals(self, run_id: str) -> list[FinalRecord]:
        """The final-protocol evaluations of run ``run_id`` logged so far."""
        run = self._runs.get(run_id)
        return list(run.finals) if run is not None else []

    def checkpoint(self, run_id: str, n_trials: int, data: bytes) -> None:
        run = self._runs.get(run_id)
        if run is None or run.done or n_trials > run.n_trials:
            return
        self.flush()  # the trials a checkpoint covers are on disk before it
        save_checkpoint(self.layout.checkpoint(run_id), data)
        run.saved = True

    def flush(self) -> None:
        if self._dirty:
            self.log.flush()
            self._dirty = False
        self._remove_stale()
        self._last_flush = time.perf_counter()

    def _remove_stale(self) -> None:
        """Remove the checkpoints of runs whose summaries are written."""
        for run_id in self._stale:
            self.layout.checkpoint(run_id).unlink(missing_ok=True)
        self._stale = []

    def maybe_flush(self) -> None:
        if self._dirty and time.perf_counter() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def done(self, run_id: str, summary: dict[str, Any], *, flush: bool = True) -> None:
        """Append run ``run_id``'s summary: the run is done. It is written at once, or with
        ``flush=False`` at the next flush, at most ``FLUSH_SECONDS`` later (a driver that
        receives many summaries at a time writes them together)."""
        run = self._runs.get(run_id)
        if run is None or run.done:
            return
        if summary.get("status") == "failed":
            summary = {**summary, "n_trials": run.n_trials}
            trace = summary.get("traceback", "")
            write_atomic(self.layout.error(run_id), f"{summary.get('reason')}\n\n{trace}".encode())
        self.log.append(run_id, ("done", summary))
        self._dirty = True
        if flush:
            self.flush()
        else:
            self.maybe_flush()
        run.done = True
        if run.saved:  # once the summary is on disk (else a kill would leave neither)
            self._stale.append(run_id)
            if flush:
                self._remove_stale()
        # a finished run is forgotten but its id: the memory of the writer follows the runs
        # in flight, not the size of the study
        del self._runs[run_id]
        self._finished.add(run_id)
        trials: TrialBatch | EncodedTrials = \
            EncodedTrials(run.batches) if any(isinstance(b, EncodedBatch) for b in run.batches) \
            else TrialBatch.concat(run.batches)  # type: ignore[arg-type]
        finals = sorted(run.finals, key=lambda f: f.repeat)
        run.batches, run.finals = [], []
        if self._on_finished is not None:
            self._on_finished(run_id, trials, finals, summary)
        if self._on_done is not None:
            self._on_done(run_id)

    def close(self) -> None:
        self.log.close()
        self._remove_stale()

    def handle(self, message: tuple, shared: Any = None) -> None:
        """Apply one message from a worker (see :mod:`nasbench.run.executors`); ``shared``
        is the Arrow table that came with an encoded batch of trials."""
        kind = message[0]
        if kind == "encoded":
            encoded = EncodedBatch.from_wire(message[2], shared)
            if encoded is not None and encoded.run_id == message[1]:
                self.trials(message[1], encoded)
        elif kind == "trials":
            batch = TrialBatch.from_wire(message[2])
            if batch is not None:
                self.trials(message[1], batch)
        elif kind == "rec":
            from nasbench.run.records import from_log

            rec = from_log(message[2])
            if rec is not None:
                self.record(message[1], rec)
        elif kind == "ckpt":
            self.checkpoint(message[1], message[2], message[3])
        elif kind == "done":
            self.done(message[1], message[2], flush=False)
