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
from typing import Any

from nasbench import numerics
from nasbench.errors import UserError
from nasbench.protocol import Study
from nasbench.registry import Plugins, load_plugins
from nasbench.run.executors import run_in_process, run_on_dask, scheduler_address
from nasbench.run.loop import RunJob
from nasbench.run.plan import StudyOutcome, expected_trials, prepare_directory, run_specs
from nasbench.run.progress import Progress
from nasbench.run.records import TrialRecord
from nasbench.run.tables import consolidate, read_run
from nasbench.run.writer import Writer
from nasbench.store import Layout, exclusive, load_checkpoint


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
    prepare_directory(study, plugins, directory, resume=resume, command=command)
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
    jobs: list[RunJob] = []
    for spec in run_specs(study):
        records, finals, summary = read_run(layout, spec.run_id, repair=True)
        if summary is not None:
            continue
        checkpoint = load_checkpoint(layout.checkpoint(spec.run_id), spec.run_id) \
            if records else None
        jobs.append(RunJob(spec, tuple(records), tuple(finals), checkpoint))
    bar = Progress({j.spec.run_id: expected_trials(study, j.spec) for j in jobs}, progress,
                   study.name)
    writer = Writer(directory, on_trials=bar.trials, on_done=bar.run_done)
    for job in jobs:
        writer.start(job.spec, list(job.records), list(job.finals))
    address = scheduler_address(scheduler, study)
    cores = os.cpu_count() or 1
    try:
        if address is None and workers <= 1:
            run_in_process(study, plugins, directory, jobs, writer, threads or cores)
        else:
            run_on_dask(study, plugins, jobs, writer, workers=workers, address=address,
                        threads=threads or max(1, cores // max(1, workers)),
                        environment=numerics.environment(study.numerics))
    finally:
        writer.close()
        bar.close()
    return finish(study, directory, plugins, writer.finished())


def finish(
    study: Study,
    directory: Path,
    plugins: Plugins | None = None,
    ran: dict[str, tuple[dict[str, Any], list[TrialRecord]]] | None = None,
) -> StudyOutcome:
    """Consolidate the tables if every run is done; report what is pending otherwise."""
    ran = ran or {}
    layout = Layout(directory)
    specs = run_specs(study)
    summaries = []
    pending = []
    for spec in specs:
        summary = ran[spec.run_id][0] if spec.run_id in ran else read_run(layout, spec.run_id)[2]
        if summary is not None:
            summaries.append(summary)
        else:
            pending.append(spec.run_id)
    failed = [s["run_id"] for s in summaries if s.get("status") == "failed"]
    complete = not pending
    if complete:
        space = study.make_space(plugins if plugins is not None else load_plugins())
        logs = {run_id: records for run_id, (_, records) in ran.items()}
        consolidate(study, space, directory, specs, summaries, logs)
    return StudyOutcome(directory, complete, len(summaries), len(specs), pending, failed)
