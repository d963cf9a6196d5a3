"""Executors: where runs execute. In this process, or on a Dask cluster (a ``LocalCluster``
of single-threaded worker processes, or an existing scheduler).

Every run is a unit of work. Tabular runs take milliseconds, and a Dask task costs about
2 ms of wall time, so runs travel in chunks of neighbouring runs (at most ``MAX_CHUNK_RUNS``
runs each, shrinking to single runs as the study nears its end), a few in flight at a time,
in the study's order. A worker
streams what its runs produce (trial records, final evaluations, checkpoints, summaries)
back to the driver through a ``distributed.Queue``, in batches at least every
``FLUSH_SECONDS``, from a thread of its own; trials travel encoded (their log frames, and
their table rows as one Arrow table per batch: :class:`~nasbench.run.records.EncodedBatch`),
so that the driver, which alone writes them down (:class:`~nasbench.run.writer.Writer`),
handles bytes rather than trials. Workers need no shared filesystem.

When a worker dies, Dask runs its task again on another worker; the task starts each of its
runs from what the driver held when it submitted them (the logged trials and checkpoint of a
resumed study, or the start), and the writer keeps only the first copy of every record, so
nothing is duplicated and the results equal an uninterrupted study's.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from nasbench.errors import UserError
from nasbench.protocol import Study
from nasbench.registry import Plugins, load_plugins, make_plugin_manager
from nasbench.run.collector import collector_for_studies
from nasbench.run.isolation import extra_plugins
from nasbench.run.loop import (
    RunJob,
    execute_run,
    final_evaluation,
    final_repeats_missing,
    final_summary,
)
from nasbench.run.plan import RunSpec
from nasbench.run.records import (
    EncodedBatch,
    FinalRecord,
    Names,
    TrialBatch,
    columns,
    from_log,
    table_bytes,
    table_from_bytes,
)
from nasbench.run.session import Session
from nasbench.run.tables import trial_columns_table
from nasbench.run.writer import Writer
from nasbench.store import FLUSH_SECONDS

SCHEDULER_ENV = "NASBENCH_SCHEDULER"
"""Environment variable naming an existing Dask scheduler (``tcp://HOST:PORT``)."""

TASKS_PER_WORKER = 4
"""Chunks in flight per worker, and the share of the runs left that a chunk takes (one
``TASKS_PER_WORKER * workers``-th): enough to balance uneven runs, few enough that the cost
of a Dask task (about 2 ms) stays invisible next to a chunk of tabular runs."""

PRELOAD = "nasbench.run.preload"
"""The module a worker imports when it starts (see :mod:`nasbench.run.preload`)."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


class _DirectSink:
    """In-process: hand everything straight to the driver's writer."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def trials(self, run_id: str, batch: TrialBatch) -> None:
        self.writer.trials(run_id, batch)

    def record(self, run_id: str, record: FinalRecord) -> None:
        self.writer.record(run_id, record)

    def checkpoint(self, run_id: str, n_trials: int, data: bytes) -> None:
        self.writer.checkpoint(run_id, n_trials, data)

    def flush(self) -> None:
        self.writer.flush()

    def done(self, run_id: str, summary: dict[str, Any]) -> None:
        # written with the next run's trials (its loop flushes them): not a second write per
        # run, a tabular run taking a millisecond
        self.writer.done(run_id, summary, flush=False)


def run_in_process(study: Study, plugins: Plugins, directory: Path, jobs: Sequence[RunJob],
                   writer: Writer, threads: int) -> None:
    """Execute every job here, one after the other."""
    if not jobs:
        return
    session = Session.for_directory(study, plugins, directory, threads=threads)
    sink = _DirectSink(writer)
    try:
        for job in jobs:
            execute_run(session, job, sink)
    finally:
        session.close()


# -- Dask ----------------------------------------------------------------------------------------
def scheduler_address(option: str | None, study: Study) -> str | None:
    """The existing scheduler to use: ``--scheduler``, else ``$NASBENCH_SCHEDULER``, else the
    study's ``[execution] scheduler``; ``None`` for none."""
    if option:
        return option
    if os.environ.get(SCHEDULER_ENV):
        return os.environ[SCHEDULER_ENV]
    return study.execution.scheduler


def needs_gpu(study: Study, plugins: Plugins) -> bool:
    """Whether the study's evaluators ask for a GPU (then each task asks Dask for one)."""
    for make in (study.make_evaluator, study.make_final_evaluator):
        evaluator = make(plugins)
        if evaluator is None:
            continue
        if getattr(evaluator, "needs_gpu", False):
            return True
        params = getattr(evaluator, "params", None)
        for name in ("accelerator", "device"):
            if getattr(params, name, None) in ("gpu", "cuda"):
                return True
    return False


@contextlib.contextmanager
def dask_client(workers: int, address: str | None, threads: int,
                gpu: bool = False, environment: dict[str, str] | None = None) -> Iterator[Any]:
    """A client of the existing scheduler at ``address``, or of a new ``LocalCluster`` of
    ``workers`` single-threaded processes whose numeric libraries use ``threads`` threads and
    that start with ``environment`` (the numerics variables, read when torch loads)."""
    from distributed import Client, LocalCluster

    if address is not None:
        try:
            client = Client(address, timeout="10s")
        except OSError as err:
            raise UserError(
                f"cannot reach the Dask scheduler at {address} ({err}). Start it (dask "
                "scheduler; dask worker ADDRESS), or check --scheduler / $NASBENCH_SCHEDULER."
            ) from None
        with client:
            yield client
        return
    env = {**dict.fromkeys(THREAD_VARIABLES, str(threads)), **(environment or {})}
    extra = {"resources": {"GPU": 1}} if gpu else {}
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=env, silence_logs=40,
                      preload=[PRELOAD], **extra) as cluster, \
            Client(cluster) as client:
        yield client


SEND_AHEAD = 8
"""Batches of messages a worker may hold for its sender thread (see :class:`_Sender`)."""

QUEUE_BATCHES = 64
"""Batches of records the scheduler holds for the driver; a worker that finds the queue full
waits, so a driver slower than its workers never accumulates a backlog in memory."""

MAX_CHUNK_RUNS = 64
"""Most runs in one chunk: a large study is cut into many chunks of neighbouring runs,
submitted a few at a time in the study's order, so that runs finish close to that order and
the driver's tables (written in run order) wait for few runs (memory stays bounded)."""


def _chunks(jobs: Sequence[RunJob], n: int) -> list[list[RunJob]]:
    """Neighbouring runs together, in chunks that shrink as the study nears its end (guided
    self-scheduling): each takes a ``1/n`` share of the runs left, at most MAX_CHUNK_RUNS and at
    least one. Early chunks are large (few Dask tasks); the last ones are single runs, so that
    no worker is left with a long chunk while the others idle."""
    out: list[list[RunJob]] = []
    i = 0
    while i < len(jobs):
        size = max(1, min(MAX_CHUNK_RUNS, -(-(len(jobs) - i) // max(1, n))))
        out.append(list(jobs[i:i + size]))
        i += size
    return out


def run_on_dask(study: Study, plugins: Plugins, jobs: Sequence[RunJob], writer: Writer, *,
                workers: int, address: str | None, threads: int | None,
                environment: dict[str, str] | None = None) -> None:
    """Execute the jobs on a Dask cluster, writing what they stream back as it arrives.

    ``threads``: numeric-library threads of every worker; ``None`` (an existing cluster):
    each worker takes its share of its own machine's cores (:func:`host_slots`)."""
    if not jobs:
        return
    from distributed import Queue

    gpu = needs_gpu(study, plugins)
    with dask_client(workers, address, threads or 1, gpu, environment) as client:
        info = client.scheduler_info()["workers"]
        plan: int | dict[str, int] = threads if threads is not None else host_slots(info)
        n_workers = max(1, len(info))
        resources = None
        if gpu:
            resources = {"GPU": 1}
            n_workers = sum(1 for w in info.values() if w.get("resources", {}).get("GPU"))
            if not n_workers:
                raise UserError(
                    "the study's evaluator needs a GPU, but no Dask worker offers the "
                    "resource GPU. Start GPU workers with 'dask worker ADDRESS --nthreads 1 "
                    "--resources GPU=1' (docs/scaling.md)."
                )
        channel = Queue(f"nasbench-{uuid.uuid4().hex}", client=client, maxsize=QUEUE_BATCHES)
        extra = extra_plugins(plugins)
        study_ref = client.scatter(study, broadcast=True)  # sent once, not with every chunk
        waiting = _chunks(jobs, n_workers * TASKS_PER_WORKER)
        waiting.reverse()
        in_flight = n_workers * TASKS_PER_WORKER
        futures: list[Any] = []
        defer = study.final is not None
        finals = _FinalJobs(client, study, study_ref, extra, writer, plan, resources,
                            {job.spec.run_id: job.spec for job in jobs})
        try:
            while True:
                running = [f for f in futures if not f.done()]
                failed = any(f.status == "error" for f in futures if f.done())
                while waiting and len(running) < in_flight and not failed:
                    fut = client.submit(_run_chunk, study_ref, extra, waiting.pop(),
                                        channel.name, plan, defer,
                                        key=f"nasbench-runs-{uuid.uuid4().hex}", pure=False,
                                        resources=resources)
                    futures.append(fut)
                    running.append(fut)
                # a finished chunk's future is let go, so that the scheduler forgets its task
                # (and the runs it carried): only errors are kept, to be raised
                futures = [f for f in futures if not f.done() or f.status == "error"]
                _drain(channel, writer, finals, wait=0.02)
                failed = failed or finals.failed
                if not running and not finals.pending and (not waiting or failed):
                    break
                if failed and not running:
                    break
            _drain(channel, writer, finals, wait=0)
        finally:
            writer.flush()
            for fut in [*futures, *finals.futures]:
                fut.cancel()
        futures += finals.futures
        errors = [f.exception() for f in futures if f.status == "error"]
        from distributed import KilledWorker

        killed = [e for e in errors if isinstance(e, KilledWorker)]
        if killed:
            raise UserError(
                f"Dask workers died again and again running the same runs ({killed[0]}). An "
                "evaluation probably crashes its process: set [budget] retries (and "
                "trial_timeout) to evaluate in a child process, so that such a trial is "
                "recorded failed; then run again with --resume (finished runs are kept)."
            )
        if errors:
            raise errors[0]


def _drain(channel: Any, writer: Writer, finals: _FinalJobs, wait: float) -> None:
    """Apply every message waiting in ``channel`` and every final-protocol evaluation done;
    when there is nothing, pause ``wait`` seconds (the scheduler holds the queue; a blocking
    get would log a timeout each time)."""
    batches = channel.get(batch=True)
    for batch in batches:
        shared = None  # the table rows of the encoded batches sent with it
        for message in batch:
            if message[0] == "table":
                shared = table_from_bytes(message[1])
            elif message[0] == "searched":
                finals.start(message[1], message[2])
            else:
                writer.handle(message, shared)
    got = finals.collect()
    writer.maybe_flush()
    if not batches and not got and wait > 0:
        time.sleep(wait)


class _FinalJobs:
    """The final-protocol evaluations of runs whose search ended on a worker, each a Dask
    task of its own (they are the expensive part of a training study: a run's repeats then
    train side by side, and beside other runs' searches). Once every repeat of a run is
    logged, its summary is completed and the run is done."""

    def __init__(self, client: Any, study: Study, study_ref: Any, extra: list[object],
                 writer: Writer, threads: int | dict[str, int],
                 resources: dict[str, int] | None, specs: dict[str, RunSpec]) -> None:
        self.client, self.study, self.study_ref, self.extra = client, study, study_ref, extra
        self.writer, self.threads, self.resources, self.specs = writer, threads, resources, specs
        self.wanted = tuple(dict.fromkeys((study.search_metric, *study.report_metrics)))
        self.pending: dict[str, tuple[dict[str, Any], list[Any]]] = {}
        self.started: set[str] = set()
        self.futures: list[Any] = []

    @property
    def failed(self) -> bool:
        return any(f.status == "error" for f in self.futures)

    def start(self, run_id: str, summary: dict[str, Any]) -> None:
        """Run ``run_id``'s search ended with ``summary``: submit its missing repeats."""
        spec = self.specs.get(run_id)
        if spec is None or run_id in self.started:
            return  # a chunk executed again reports its runs again
        self.started.add(run_id)
        missing = final_repeats_missing(self.study, summary["incumbent_key"],
                                        self.writer.finals(run_id))
        futs = [self.client.submit(_final_task, self.study_ref, self.extra, spec,
                                   summary["incumbent"], repeat, self.threads,
                                   key=f"nasbench-final-{uuid.uuid4().hex}", pure=False,
                                   resources=self.resources, priority=1)
                for repeat in missing]
        self.futures += futs
        self.pending[run_id] = (summary, futs)

    def collect(self) -> bool:
        """Log the evaluations that finished; complete the runs whose repeats are all in.
        Whether anything happened."""
        got = False
        for run_id, (summary, futs) in list(self.pending.items()):
            for fut in [f for f in futs if f.status == "finished"]:
                record = from_log(fut.result())
                if isinstance(record, FinalRecord):
                    self.writer.record(run_id, record)
                futs.remove(fut)
                got = True
            if not futs:
                del self.pending[run_id]
                key = summary["incumbent_key"]
                records = sorted((f for f in self.writer.finals(run_id) if f.arch_key == key),
                                 key=lambda f: f.repeat)
                summary.update(final_summary(self.study, self.wanted, records))
                self.writer.done(run_id, summary)
        return got


# -- on a worker ---------------------------------------------------------------------------------
_SESSIONS: dict[str, Session] = {}
_NAMES: dict[str, Names] = {}


class _Sender:
    """Puts batches of messages on the driver's queue from a thread of its own, in order, so
    that a run goes on computing while a put waits for the scheduler's answer (a round trip
    through the driver's process, slow when its cores are busy). At most ``SEND_AHEAD``
    batches wait here: a worker far ahead of the driver waits, as a full queue makes it."""

    def __init__(self, channel: Any) -> None:
        import queue
        import threading

        self.channel = channel
        self.waiting: queue.Queue[list[tuple] | None] = queue.Queue(maxsize=SEND_AHEAD)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="nasbench-sender", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            batch = self.waiting.get()
            if batch is None:
                return
            if self.error is None:
                try:
                    self.channel.put(batch)
                except BaseException as exc:  # raised in the task's thread, below
                    self.error = exc

    def put(self, batch: list[tuple]) -> None:
        self._raise()
        self.waiting.put(batch)

    def close(self) -> None:
        """Wait until every batch is on the driver's queue (or raise why one is not)."""
        self.waiting.put(None)
        self.thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


class _QueueSink:
    """On a worker: batch messages and put them on the driver's queue, at most every
    ``FLUSH_SECONDS`` (each put is a round trip to the scheduler), and at once for a
    checkpoint, which must follow the trials it covers."""

    def __init__(self, channel: Any, names: Names, study: Study,
                 specs: dict[str, RunSpec]) -> None:
        self.sender = _Sender(channel)
        self.names = names
        self.study = study
        self.specs = specs
        self.buffer: list[tuple] = []
        self.last = time.perf_counter()

    def trials(self, run_id: str, batch: TrialBatch) -> None:
        # encoded when sent (see _encode): the log frame and the table rows are made here,
        # not in the driver
        self.buffer.append(("trials", run_id, batch))

    def record(self, run_id: str, record: FinalRecord) -> None:
        self.buffer.append(("rec", run_id, record.to_log()))
        self.send()  # a final-protocol evaluation is expensive: on its way at once

    def checkpoint(self, run_id: str, n_trials: int, data: bytes) -> None:
        self.buffer.append(("ckpt", run_id, n_trials, data))
        self.send()

    def flush(self) -> None:
        if time.perf_counter() - self.last >= FLUSH_SECONDS:
            self.send()

    def send(self) -> None:
        if self.buffer:
            self.sender.put(self._encode(self.buffer))
            self.buffer = []
        self.last = time.perf_counter()

    def _encode(self, buffer: list[tuple]) -> list[tuple]:
        """The messages of ``buffer`` with every batch of trials encoded
        (:class:`~nasbench.run.records.EncodedBatch`): a log frame each, and the table rows
        of all of them in one Arrow table, sent first (one conversion for the lot, not one
        per run)."""
        parts: list[dict[str, list[Any]]] = []
        rows = 0
        out: list[tuple] = []
        for message in buffer:
            if message[0] != "trials":
                out.append(message)
                continue
            _, run_id, batch = message
            offset = None
            if not self.specs[run_id].is_baseline:  # whose trials the table leaves out
                parts.append(columns(self.names, self.study, self.specs[run_id],
                                     batch.named(self.names)))
                offset, rows = rows, rows + len(batch)
            out.append(("encoded", run_id,
                        EncodedBatch.encode(run_id, batch, None).to_wire(offset)))
        if parts:
            out.insert(0, ("table", table_bytes(trial_columns_table(self.study, parts))))
        return out

    def close(self) -> None:
        """Send what is left and wait until all of it is on the driver's queue."""
        self.send()
        self.sender.close()

    def done(self, run_id: str, summary: dict[str, Any]) -> None:
        self.buffer.append(("done", run_id, summary))
        self.flush()

    def searched(self, run_id: str, summary: dict[str, Any]) -> None:
        """The run's search ended; the driver runs its final protocol as tasks of their own."""
        self.buffer.append(("searched", run_id, summary))
        self.send()


def host_slots(workers: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Task slots (worker threads) of the cluster per host, from the scheduler's worker
    information: a worker's numeric libraries get its host's cores divided by them, so that
    the evaluations running side by side on one machine use its cores once."""
    slots: dict[str, int] = {}
    for worker in workers.values():
        host = str(worker.get("host", ""))
        slots[host] = slots.get(host, 0) + int(worker.get("nthreads", 1) or 1)
    return slots


def share_of_cores(cores: int, slots: int) -> int:
    """Threads per evaluation when ``slots`` evaluations share ``cores`` cores (at least 1)."""
    return max(1, cores // max(1, slots))


def _threads_here(threads: int | dict[str, int]) -> int:
    """This worker's threads: as given, or its share of its machine (see :func:`host_slots`;
    a worker that joined after the study started counts its own slots only)."""
    if isinstance(threads, int):
        return threads
    from distributed import get_worker
    from distributed.comm import get_address_host

    worker = get_worker()
    own = worker.state.nthreads
    slots = max(threads.get(get_address_host(worker.address), own), own)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    return share_of_cores(cores, slots)


def _worker_session(study: Study, extra: list[object], threads: int | dict[str, int]
                    ) -> Session:
    session = _SESSIONS.get(study.config_hash)
    if session is None:
        threads = _threads_here(threads)
        for name in THREAD_VARIABLES:
            os.environ[name] = str(threads)
        if "torch" in sys.modules:  # else torch reads OMP_NUM_THREADS when it is imported
            sys.modules["torch"].set_num_threads(threads)
        plugins = load_plugins(make_plugin_manager(plugins=extra))
        cache = Path(tempfile.gettempdir()) / "nasbench-worker-cache" / study.config_hash[:16]
        session = _SESSIONS[study.config_hash] = Session(study, plugins, cache, threads)
    return session


def _run_chunk(study: Study, extra: list[object], jobs: list[RunJob], channel_name: str,
               threads: int | dict[str, int], defer_final: bool = False) -> list[str]:
    """A Dask task: execute a chunk of runs, streaming their records to the driver (with
    ``defer_final``, each run's search only: see :class:`_FinalJobs`)."""
    from distributed import Queue, get_client

    session = _worker_session(study, extra, threads)
    names = _NAMES.get(study.config_hash)
    if names is None:
        names = _NAMES[study.config_hash] = Names(session.space)
    sink = _QueueSink(Queue(channel_name, client=get_client()), names, study,
                      {job.spec.run_id: job.spec for job in jobs})
    try:
        with collector_for_studies():
            for job in jobs:
                execute_run(session, job, sink, defer_final=defer_final)
    finally:
        sink.close()
    return [job.spec.run_id for job in jobs]


def _final_task(study: Study, extra: list[object], spec: RunSpec, incumbent: str, repeat: int,
                threads: int | dict[str, int]) -> tuple:
    """A Dask task: one final-protocol evaluation of a run's answer, as a log row."""
    session = _worker_session(study, extra, threads)
    return final_evaluation(session, spec, session.space.from_string(incumbent),
                            repeat).to_log()
