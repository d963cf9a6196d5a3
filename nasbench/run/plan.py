"""The run plan: which runs a study has, and the results directory they go into."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench import manifest as env
from nasbench import numerics, seeding
from nasbench.errors import ResumeError
from nasbench.protocol import BASELINE_LABEL, Study
from nasbench.provenance import environment_record
from nasbench.registry import Plugins
from nasbench.store import Layout, read_json, write_json


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run: a strategy label (or the baseline) and a repetition seed."""

    run_id: str
    label: str
    seed: int

    @property
    def is_baseline(self) -> bool:
        return self.label == BASELINE_LABEL


def run_specs(study: Study) -> list[RunSpec]:
    """Every run of the study, search runs first, in config order."""
    specs = [RunSpec(f"{s.label}-{seed}", s.label, seed)
             for s in study.strategies for seed in study.seeds]
    specs += [RunSpec(f"{BASELINE_LABEL}-{seed}", BASELINE_LABEL, seed)
              for seed in study.baseline_seeds]
    return specs


def expected_trials(study: Study, spec: RunSpec) -> int:
    """The trials a run is planned to log (its evaluation budget and its final repeats)."""
    final = study.final.repeats if study.final is not None else 0
    if spec.is_baseline:
        return 1 + final
    return (study.budget.evaluations or 1) + final


@dataclass
class StudyOutcome:
    """Where a study's results are and whether every run is done."""

    directory: Path
    complete: bool
    runs_done: int
    runs_total: int
    pending: list[str]
    failed: list[str] = dataclasses.field(default_factory=list)


def prepare_directory(study: Study, plugins: Plugins, directory: Path, *, resume: bool,
                      command: str | None = None, executor: str | None = None,
                      workers: int = 1) -> None:
    """Create the results directory and its manifest, or check it matches on resume."""
    layout = Layout(directory)
    if layout.manifest.exists():
        existing = read_json(layout.manifest)
        if not resume:
            raise ResumeError(
                f"{directory} already holds results of study '{existing.get('study')}'. Pass "
                "--resume to continue it, or choose another directory with --out."
            )
        if existing.get("config_hash") != study.config_hash:
            old = existing.get("config", {})
            changed = sorted(
                k for k in set(old) | set(study.resolved)
                if old.get(k) != study.resolved.get(k)
            )
            raise ResumeError(
                f"{directory} holds a study with a different configuration (differences in: "
                f"{', '.join(changed) or 'versions'}). Resume it with the config it was "
                "started with, or start the changed study in a new directory with --out."
            )
        return
    if resume:
        what = "does not exist" if not directory.exists() else "holds no nasbench results"
        raise ResumeError(
            f"cannot resume {directory}: it {what}. Check the --out path, or run without "
            "--resume to start the study there."
        )
    if directory.exists() and any(directory.iterdir()):
        raise ResumeError(
            f"{directory} exists and is not a nasbench results directory. Choose another --out."
        )
    directory.mkdir(parents=True, exist_ok=True)
    layout.runs.mkdir(exist_ok=True)
    if study.source is not None and study.source.exists():
        shutil.copyfile(study.source, layout.study_copy)
    write_json(layout.manifest, build_manifest(study, plugins, command, executor, workers),
               sync=True)


def build_manifest(study: Study, plugins: Plugins, command: str | None,
                   executor: str | None = None, workers: int = 1) -> dict[str, Any]:
    specs = run_specs(study)
    # Each run's stream follows from the root seed and its axis: the rule, and the first
    # run's stream as a worked example, rather than one entry per run (a manifest read
    # whole must stay small at hundreds of thousands of runs).
    seeds: dict[str, Any] = {
        "root": study.root_seed, "repetitions": list(study.seeds),
        "baseline": list(study.baseline_seeds),
        "streams": ("numpy SeedSequence(entropy=root, spawn_key=words(axis)) with axis "
                    "('strategy', label, repetition seed) for a search run and ('baseline', "
                    "seed) for a random-sampling run (nasbench.seeding.seed_sequence)"),
    }
    if specs:
        first = specs[0]
        axis = ("baseline", first.seed) if first.is_baseline else \
            ("strategy", first.label, first.seed)
        ss = seeding.seed_sequence(study.root_seed, *axis)
        seeds["example"] = {"run_id": first.run_id, "axis": list(axis), "entropy": ss.entropy,
                            "spawn_key": list(ss.spawn_key)}
    seeds["evaluator"] = (
        "int_seed(root, 'evaluator', repetition seed, arch_key) for every evaluation"
    )
    if study.final is not None:
        seeds["final"] = (
            "int_seed(root, 'final', repetition seed, arch_key, repeat) for every final "
            "evaluation"
        )
    return {
        "study": study.name,
        "status": "running",
        "created": env.now(),
        "command": command,
        "config": study.resolved,
        "config_hash": study.config_hash,
        "search_metric": study.search_metric,
        "search_metric_higher_is_better": study.search_metric_info.higher_is_better,
        "report_metrics": list(study.report_metrics),
        "metrics": {name: dataclasses.asdict(info) for name, info in study.metric_info.items()},
        "runs": [s.run_id for s in specs],
        "seeds": seeds,
        "versions": env.versions(plugins.distributions()),
        "git": env.git_revision(),
        "machine": env.machine(),
        "numerics": numerics.machine_record(study.numerics,
                                            trains=numerics.study_trains(study, plugins)),
        "environment": environment_record(study.data_dir, executor=executor, workers=workers),
    }
