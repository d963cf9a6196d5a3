"""The driver's writer: the only code that writes a results directory while a study runs.

Runs (in this process or on Dask workers) hand over trial records, final evaluations,
checkpoints and summaries; the writer appends them to the run logs durably, as they arrive.
A run executed twice (its worker died and Dask ran it again) hands over its records again:
the writer keeps the first copy of each trial (by trial index) and of each final repeat, so
nothing is duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasbench.run.plan import RunSpec
from nasbench.run.records import FinalRecord, TrialRecord
from nasbench.store import FLUSH_SECONDS, Layout, RunLog, save_checkpoint, warn, write_atomic


class _Run:
    __slots__ = ("done", "finals", "log", "n_trials", "records", "summary")

    def __init__(self, log: RunLog, n_trials: int, finals: set[int],
                 records: list[TrialRecord]) -> None:
        self.log = log
        self.n_trials = n_trials
        self.finals = finals
        self.done = False
        self.summary: dict[str, Any] | None = None
        self.records = records


class Writer:
    """Appends what runs hand over to their logs; one per study, in the driver.

    Args:
        directory: the results directory.
        on_trials: told how many trial records of a run arrived (for the progress bar).
        on_done: told when a run's summary arrived.
    """

    def __init__(self, directory: Path,
                 on_trials: Callable[[str, int], None] | None = None,
                 on_done: Callable[[str], None] | None = None) -> None:
        self.layout = Layout(directory)
        self._runs: dict[str, _Run] = {}
        self._dirty: set[str] = set()
        self._on_trials = on_trials
        self._on_done = on_done
        self._last_flush = time.perf_counter()

    def start(self, spec: RunSpec, records: list[TrialRecord], finals: list[FinalRecord]) -> None:
        """Expect records of run ``spec``, which already logged ``records`` and ``finals``."""
        log = RunLog(self.layout.log(spec.run_id))
        self._runs[spec.run_id] = _Run(log, len(records), {f.repeat for f in finals},
                                       list(records))

    def record(self, run_id: str, record: TrialRecord | FinalRecord) -> None:
        run = self._runs[run_id]
        if run.done:
            return
        if isinstance(record, TrialRecord):
            if record.trial < run.n_trials:
                return  # a re-executed run handing over what is already logged
            if record.trial > run.n_trials:
                warn(f"run {run_id}: trial {record.trial} arrived after {run.n_trials - 1}; "
                     "dropped (the run is re-executed from its log)")
                return
            run.n_trials += 1
            run.log.append(record.to_log())
            run.records.append(record)
            if self._on_trials is not None:
                self._on_trials(run_id, 1)
        else:
            if record.repeat in run.finals:
                return
            run.finals.add(record.repeat)
            final_log = RunLog(self.layout.final_log(run_id))
            final_log.append(record.to_log())
            final_log.flush()
            final_log.close()
            if self._on_trials is not None:
                self._on_trials(run_id, 1)
        self._dirty.add(run_id)

    def checkpoint(self, run_id: str, n_trials: int, data: bytes) -> None:
        run = self._runs[run_id]
        if run.done or n_trials > run.n_trials:
            return
        self.flush()  # the trials a checkpoint covers are on disk before it
        save_checkpoint(self.layout.checkpoint(run_id), data)

    def flush(self) -> None:
        for run_id in self._dirty:
            self._runs[run_id].log.flush()
        self._dirty.clear()
        self._last_flush = time.perf_counter()

    def maybe_flush(self) -> None:
        if self._dirty and time.perf_counter() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def done(self, run_id: str, summary: dict[str, Any]) -> None:
        run = self._runs[run_id]
        if run.done:
            return
        self.flush()
        if summary.get("status") == "failed":
            summary = {**summary, "n_trials": run.n_trials}
            trace = summary.get("traceback", "")
            write_atomic(self.layout.error(run_id), f"{summary.get('reason')}\n\n{trace}".encode())
        run.log.finish(summary)
        run.log.close()
        run.done = True
        run.summary = summary
        self.layout.checkpoint(run_id).unlink(missing_ok=True)
        if self._on_done is not None:
            self._on_done(run_id)

    def finished(self) -> dict[str, tuple[dict[str, Any], list[TrialRecord]]]:
        """The runs finished through this writer: their summaries and trial records."""
        return {run_id: (r.summary, r.records) for run_id, r in self._runs.items()
                if r.done and r.summary is not None}

    def close(self) -> None:
        self.flush()
        for run in self._runs.values():
            run.log.close()

    def handle(self, message: tuple) -> None:
        """Apply one message from a worker (see :mod:`nasbench.run.executors`)."""
        kind = message[0]
        if kind == "rec":
            from nasbench.run.records import from_log

            rec = from_log(message[2])
            if rec is not None:
                self.record(message[1], rec)
        elif kind == "ckpt":
            self.checkpoint(message[1], message[2], message[3])
        elif kind == "done":
            self.done(message[1], message[2])
