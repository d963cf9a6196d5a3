"""The driver: plans a study's runs, hands them to an executor, writes what comes back, and
consolidates the tables once every run is done.

A study runs in-process by default; on a Dask ``LocalCluster`` with ``workers > 1``; on an
existing Dask cluster when a scheduler address is given (``--scheduler``,
``$NASBENCH_SCHEDULER`` or the study's ``[execution] scheduler``). Results never depend on
which: every random stream descends from the study's root seed by named axes.
"""

from __future__ import annotations

import os
from pathlib import Path

from nasbench import numerics
from nasbench.errors import UserError
from nasbench.protocol import Study
from nasbench.registry import Plugins, load_plugins
from nasbench.run.collector import collector_for_studies
from nasbench.run.executors import (
    run_in_process,
    run_on_dask,
    scheduler_address,
    share_of_cores,
)
from nasbench.run.loop import RunJob
from nasbench.run.plan import StudyOutcome, expected_trials, prepare_directory, run_specs
from nasbench.run.progress import Progress
from nasbench.run.tables import RunState, TableSink, scan_log
from nasbench.run.writer import Writer
from nasbench.store import RESULTS_FORMAT, Layout, exclusive, load_checkpoint


def run_study(
    study: Study,
    plugins: Plugins,
    directory: Path,
    *,
    resume: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    threads: int | None = None,
    progress: bool = True,
    command: str | None = None,
) -> StudyOutcome:
    """Run (or resume) every run of ``study`` into ``directory`` and consolidate the tables.

    Args:
        workers: with more than one, a Dask ``LocalCluster`` of that many worker processes.
        scheduler: the address of an existing Dask scheduler (overrides ``workers``).
        threads: numeric-library threads per evaluation (default: the cores divided among
            the workers).
    """
    # Before anything imports torch: the kernel libraries read their settings when they load.
    numerics.ensure(study.numerics, numerics.study_trains(study, plugins))
    address = scheduler_address(scheduler, study)
    executor = address or ("in-process" if workers <= 1 else "local-cluster")
    prepare_directory(study, plugins, directory, resume=resume, command=command,
                      executor=executor, workers=1 if address else workers)
    layout = Layout(directory)
    with exclusive(layout.lock) as mine:
        if not mine:
            raise UserError(
                f"another nasbench process is writing {directory}. Wait for it to end, or "
                "choose another directory with --out."
            )
        return _drive(study, plugins, directory, workers, scheduler, threads, progress)


def _drive(study: Study, plugins: Plugins, directory: Path, workers: int,
           scheduler: str | None, threads: int | None, progress: bool) -> StudyOutcome:
    layout = Layout(directory)
    refuse_legacy(layout)
    specs = run_specs(study)
    sink = TableSink(study, study.make_space(plugins), directory, specs)
    by_id = {spec.run_id: spec for spec in specs}

    def earlier(run_id: str, state: RunState) -> None:
        if run_id in by_id:
            sink.add(run_id, *state.ordered(), state.summary)  # type: ignore[arg-type]

    open_runs = scan_log(layout, repair=True, on_done=earlier)
    jobs: list[RunJob] = []
    for spec in specs:
        if spec.run_id in sink.done:
            continue
        state = open_runs.get(spec.run_id)
        records, finals = state.ordered() if state is not None else ([], [])
        checkpoint = load_checkpoint(layout.checkpoint(spec.run_id), spec.run_id) \
            if records else None
        jobs.append(RunJob(spec, tuple(records), tuple(finals), checkpoint))
    del open_runs
    bar = Progress({j.spec.run_id: expected_trials(study, j.spec) for j in jobs}, progress,
                   study.name)
    writer = Writer(directory, on_trials=bar.trials, on_done=bar.run_done,
                    on_finished=sink.add)
    for job in jobs:
        writer.start(job.spec, list(job.records), list(job.finals))
    address = scheduler_address(scheduler, study)
    cores = os.cpu_count() or 1
    with collector_for_studies():
        try:
            if address is None and workers <= 1:
                run_in_process(study, plugins, directory, jobs, writer, threads or cores)
            else:
                # on an existing cluster each worker takes its share of its own machine
                run_on_dask(study, plugins, jobs, writer, workers=workers, address=address,
                            threads=threads or (None if address is not None
                                                else share_of_cores(cores, workers)),
                            environment=numerics.environment(study.numerics))
        finally:
            writer.close()
            bar.close()
            if not sink.complete:
                sink.abort()
    if not sink.complete:
        pending = sink.pending
        return StudyOutcome(directory, False, len(specs) - len(pending), len(specs), pending,
                            sink.failed)
    sink.close()
    return StudyOutcome(directory, True, len(specs), len(specs), [], sink.failed)


def refuse_legacy(layout: Layout) -> None:
    """Refuse a directory of results format 1 (a log per run), naming the conversion."""
    if layout.legacy_logs():
        raise UserError(
            f"{layout.root} was written by an earlier nasbench in results format 1 (a log per "
            f"run under runs/); this version reads format {RESULTS_FORMAT} (one study.log). "
            f"Convert it with 'nasbench upgrade {layout.root}', then run again."
        )


def finish(study: Study, directory: Path, plugins: Plugins | None = None) -> StudyOutcome:
    """Write the tables if every run is done; report what is pending otherwise."""
    layout = Layout(directory)
    refuse_legacy(layout)
    specs = run_specs(study)
    space = study.make_space(plugins if plugins is not None else load_plugins())
    sink = TableSink(study, space, directory, specs)
    by_id = {spec.run_id for spec in specs}
    scan_log(layout, on_done=lambda rid, st: sink.add(rid, *st.ordered(), st.summary)
             if rid in by_id else None)
    if not sink.complete:
        sink.abort()
        pending = sink.pending
        return StudyOutcome(directory, False, len(specs) - len(pending), len(specs), pending,
                            sink.failed)
    sink.close()
    return StudyOutcome(directory, True, len(specs), len(specs), [], sink.failed)
