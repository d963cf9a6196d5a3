"""Re-execute a sample of a results directory's runs and say whether they came out the same.

A run is identified by its ``run_id`` (``<strategy label>-<repetition seed>``, or
``random_sampling-<seed>`` for the baseline). Every random stream of a run descends from the
study's root seed by named axes (strategy label, repetition seed, architecture), never from
the other runs of the study, so a study restricted to one strategy and some of its seeds
re-executes exactly those runs. :func:`verify_directory` builds one such study per sampled
strategy from the manifest's resolved config, runs it in a temporary directory, and compares
the re-executed trials and run summaries with the recorded ones, field by field.
"""

from __future__ import annotations

import copy
import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasbench.errors import UserError
from nasbench.numerics import compare_trials, machine_record
from nasbench.protocol import BASELINE_LABEL, config_hash, study_from_dict
from nasbench.registry import Plugins

IGNORED_FIELDS = ("wall_time",)
"""Fields that measure the machine, not the result: never compared (see also
:func:`measured_fields`)."""


def measured_fields(columns: Iterable[str], *, cost_measured: bool) -> list[str]:
    """The fields among ``columns`` that measure the machine a study ran on rather than its
    result, so that a re-execution cannot repeat them: timings (``wall_time``, and a name whose
    last part says ``seconds``: ``info.train_seconds``, ``supernet_seconds``) and,
    where the evaluation cost is measured seconds (``cost_measured``), every cost
    (``cost``, ``total_cost``, ``final.cost``, a one-shot run's ``strategy_cost``). Counted
    costs (FLOPs, epochs, environment steps, a table's training time) are results and stay."""
    out = []
    for column in columns:
        name = column.rsplit(".", 1)[-1]
        if name == "wall_time" or "seconds" in name or (cost_measured and name.endswith("cost")):
            out.append(column)
    return out


@dataclass(frozen=True)
class RunVerdict:
    """What became of one sampled run: ``identical``; ``drift`` (the same trials and decisions,
    metrics that differ by floating point: see :func:`nasbench.numerics.compare_trials`);
    ``differs`` (different logic: another trial sequence, another decision, or a changed
    summary); or ``could not run``."""

    run_id: str
    status: str
    detail: str = ""


@dataclass
class VerifyReport:
    """The sampled runs' verdicts, and the differences found before anything ran."""

    directory: Path
    sampled: list[str]
    verdicts: list[RunVerdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def all_identical(self) -> bool:
        return bool(self.verdicts) and all(v.status == "identical" for v in self.verdicts)


def version_drift(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``python``, ``nasbench``, plugin and library versions that differ, one line each."""
    lines = []
    for key in ("python", "nasbench"):
        if recorded.get(key) != current.get(key):
            lines.append(f"{key} {recorded.get(key)} -> {current.get(key)}")
    for group in ("plugins", "libraries"):
        old, new = recorded.get(group) or {}, current.get(group) or {}
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                lines.append(f"{name} {old.get(name, '(absent)')} -> {new.get(name, '(absent)')}")
    return lines


def sample_runs(run_ids: Sequence[str], *, runs: int | None, fraction: float | None,
                seed: int) -> list[str]:
    """A uniform sample without replacement of ``run_ids``, in their recorded order."""
    import numpy as np

    n = len(run_ids)
    if runs is not None and fraction is not None:
        raise UserError("give --runs K or --fraction F, not both.")
    if runs is not None:
        if runs < 1:
            raise UserError(f"--runs must be at least 1, got {runs}.")
        k = min(runs, n)
    else:
        f = 0.1 if fraction is None else fraction
        if not 0 < f <= 1:
            raise UserError(f"--fraction must be in (0, 1], got {f}.")
        k = max(1, math.ceil(f * n))
    chosen = set(np.random.default_rng(seed).choice(n, size=k, replace=False).tolist())
    return [r for i, r in enumerate(run_ids) if i in chosen]


def _split(run_id: str, labels: Sequence[str]) -> tuple[str, int]:
    label, _, seed = run_id.rpartition("-")
    if label not in labels or not seed.lstrip("-").isdigit():
        raise UserError(f"run '{run_id}' is not <strategy label>-<seed> of this study.")
    return label, int(seed)


def sub_configs(config: Mapping[str, Any], sampled: Sequence[str],
                plugins: Plugins | None = None) -> list[dict[str, Any]]:
    """Study configs that together re-execute every run of ``sampled``: one per strategy
    label (its sampled seeds), plus one for baseline seeds no strategy's study covers. With
    ``plugins``, a sub-study whose strategy trains no supernet leaves the study's
    ``[supernet]`` out (a study without a one-shot strategy may not set one)."""
    specs = {s["label"]: s for s in config.get("strategies", [])}
    groups: dict[str, list[int]] = {}
    for run_id in sampled:
        label, seed = _split(run_id, [*specs, BASELINE_LABEL])
        groups.setdefault(label, []).append(seed)
    baseline = set(groups.pop(BASELINE_LABEL, []))
    out = []
    for label, seeds in groups.items():
        out.append(_restricted(config, specs[label], seeds, plugins))
        baseline -= set(seeds)  # the sub-study's baseline runs on its own seeds
    if baseline:
        first = next(iter(specs.values()))
        out.append(_restricted(config, first, sorted(baseline), plugins))
    return out


def _restricted(config: Mapping[str, Any], spec: Mapping[str, Any], seeds: Sequence[int],
                plugins: Plugins | None) -> dict[str, Any]:
    raw = copy.deepcopy(dict(config))
    raw.pop("baseline", None)  # resolved form; the baseline runs on the sub-study's seeds
    numerics = raw.pop("numerics", None)  # resolved form of [execution] numerics
    if numerics is not None:
        raw["execution"] = {**raw.get("execution", {}), "numerics": numerics}
    if plugins is not None and "supernet" not in getattr(
            plugins.strategies.get(spec["name"]), "requires", ()):
        raw.pop("supernet", None)
    raw["strategies"] = [copy.deepcopy(dict(spec))]
    raw["study"] = {**raw["study"], "seeds": sorted(set(seeds))}
    return raw


def _equal(a: Any, b: Any) -> bool:
    try:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
    except TypeError:
        pass
    if a is None or b is None:
        return a is b or (_nan(a) and _nan(b))
    return bool(a == b)


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def compare_run(run_id: str, old_trials: Any, new_trials: Any, old_run: Any, new_run: Any,
                ignore: Sequence[str] = IGNORED_FIELDS) -> RunVerdict:
    """Compare one run's trials (in order) and summary row; name the first difference."""
    skip = set(ignore)
    cols = [c for c in old_trials.columns if c not in skip]
    missing = [c for c in cols if c not in new_trials.columns]
    if missing:
        return RunVerdict(run_id, "differs", f"re-execution has no field {missing[0]}")
    a = old_trials.sort_values("trial")[cols].to_dict("records")
    b = new_trials.sort_values("trial")[cols].to_dict("records")
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        for c in cols:
            if not _equal(x[c], y[c]):
                first = (f"trial {x.get('trial', i)}, field {c}: recorded {x[c]!r}, "
                         f"re-executed {y[c]!r}")
                comparison = compare_trials(old_trials, new_trials)
                if comparison.verdict == "drift":  # same decisions, other floating point
                    return RunVerdict(run_id, "drift", f"{first}; {comparison.describe()}")
                return RunVerdict(run_id, "differs", first)
    if len(a) != len(b):
        return RunVerdict(run_id, "differs", f"trial {min(len(a), len(b))}: recorded "
                          f"{len(a)} trials, re-executed {len(b)}")
    if old_run is not None and new_run is not None:
        for c in old_run.index:
            if c in skip:
                continue
            if c not in new_run.index or not _equal(old_run[c], new_run[c]):
                return RunVerdict(run_id, "differs", f"run summary, field {c}: recorded "
                                  f"{old_run[c]!r}, re-executed {new_run.get(c)!r}")
    return RunVerdict(run_id, "identical")


def verify_directory(directory: Path, plugins: Plugins, *, runs: int | None = None,
                     fraction: float | None = None, seed: int = 0,
                     allow_version_drift: bool = False, data_dir: Path | None = None,
                     workers: int = 1, ignore: Sequence[str] = IGNORED_FIELDS) -> VerifyReport:
    """Re-execute a sample of ``directory``'s runs and compare them with the records.

    Raises:
        UserError: when the directory cannot be verified (not complete, an imported table,
            versions that differ without ``allow_version_drift``).
    """
    import time

    from nasbench import manifest as env
    from nasbench.provenance import compare_environments, environment_record
    from nasbench.results.schema import load_results
    from nasbench.study_runner import run_study

    t0 = time.perf_counter()
    results = load_results(directory)
    manifest = results.manifest
    if results.imported or results.trials is None:
        raise UserError(f"{directory} holds imported results; nasbench cannot re-execute them.")
    config = manifest.get("config")
    if not isinstance(config, Mapping) or "runs" not in manifest:
        raise UserError(f"{directory}/manifest.json has no resolved config or run list; it "
                        "cannot be re-executed.")
    notes: list[str] = []
    if config_hash(config) != manifest.get("config_hash"):
        notes.append("the manifest's config does not match its config hash (it was edited "
                     "after the study ran); re-executing the config as it reads now")
    drift = version_drift(manifest.get("versions", {}), env.versions(plugins.distributions()))
    if drift and not allow_version_drift:
        raise UserError(
            f"the installed versions differ from those that produced {directory}: "
            f"{'; '.join(drift)}. Install the recorded versions (manifest.json 'versions'), or "
            "pass --allow-version-drift to re-execute anyway (differences may then come from "
            "the versions).")
    notes += [f"version drift: {d}" for d in drift]
    sampled = sample_runs(list(manifest["runs"]), runs=runs, fraction=fraction, seed=seed)
    report = VerifyReport(Path(directory), sampled, notes=notes)
    configs = sub_configs(config, sampled, plugins)
    recorded_data = (manifest.get("environment") or {})
    studies = []
    for raw in configs:
        studies.append(study_from_dict(raw, plugins, data_dir=data_dir))
    current = environment_record(studies[0].data_dir if studies else data_dir)
    report.notes += [f"environment: {line}" for line in
                     compare_environments(recorded_data or None, current)]
    new_trials: dict[str, Any] = {}
    new_runs: dict[str, Any] = {}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="nasbench-verify-") as tmp:
        for i, study in enumerate(studies):
            out = Path(tmp) / f"part{i}"
            ids = [f"{s.label}-{x}" for s in study.strategies for x in study.seeds] + [
                f"{BASELINE_LABEL}-{x}" for x in study.baseline_seeds]
            try:
                run_study(study, plugins, out, workers=workers, progress=False)
                part = load_results(out)
            except Exception as err:  # a run that cannot execute is a verdict, not a crash
                for run_id in ids:
                    failed[run_id] = f"{type(err).__name__}: {err}"
                continue
            assert part.trials is not None
            for run_id, rows in part.trials.groupby("run_id"):
                new_trials[str(run_id)] = rows
            for _, row in part.runs.iterrows():
                new_runs[str(row["run_id"])] = row
    old_trials = dict(tuple(results.trials.groupby("run_id")))
    old_runs = {str(r["run_id"]): r for _, r in results.runs.iterrows()}
    first = studies[0]  # every sub-study has the same evaluators
    evaluators = [first.evaluator.name] + (
        [first.final.evaluator.name] if first.final is not None else [])
    cost_measured = results.cost_unit() == "s" and not all(
        plugins.evaluators.get(name).pure for name in evaluators)
    measured = [c for c in measured_fields([*results.trials.columns, *results.runs.columns],
                                           cost_measured=cost_measured) if c not in ignore]
    if measured:
        report.notes.append("not compared, since they measure the machine rather than the "
                            f"result: {', '.join(dict.fromkeys(measured))}")
    ignore = (*ignore, *measured)
    for run_id in sampled:
        if run_id in failed:
            report.verdicts.append(RunVerdict(run_id, "could not run", failed[run_id]))
        elif run_id not in new_runs:
            report.verdicts.append(RunVerdict(run_id, "could not run",
                                              "the re-execution recorded no such run"))
        else:  # the baseline's runs have a summary row and no trial rows
            empty = results.trials.iloc[0:0]
            report.verdicts.append(compare_run(
                run_id, old_trials.get(run_id, empty), new_trials.get(run_id, empty),
                old_runs.get(run_id), new_runs.get(run_id), ignore))
    if any(v.status == "drift" for v in report.verdicts):
        report.notes.append(_hardware_note(manifest.get("numerics") or {}))
    report.seconds = time.perf_counter() - t0
    return report


def _hardware_note(recorded: Mapping[str, Any]) -> str:
    """Both sides' hardware, for runs whose metrics drifted."""
    here = machine_record(recorded.get("numerics", "native"))

    def side(record: Mapping[str, Any]) -> str:
        torch = record.get("torch") or {}
        capability = torch.get("cpu_capability") if isinstance(torch, Mapping) else None
        return (f"{record.get('cpu_model', 'CPU not recorded')}, numerics "
                f"{record.get('numerics', 'native')}, torch kernels {capability or 'unknown'}")

    return (f"metrics drifted: recorded on {side(recorded)}; re-executed on {side(here)}. "
            "Studies run with [execution] numerics = \"portable\" give the same bits on any "
            "x86-64 machine with AVX2.")


def verify_command(directory: Path, manifest: Mapping[str, Any] | None = None,
                   fraction: float = 0.1) -> str:
    """The command that re-executes a sample of ``directory`` (for reports and the site)."""
    import shlex

    return f"nasbench verify {shlex.quote(str(directory))} --fraction {fraction:g}"
