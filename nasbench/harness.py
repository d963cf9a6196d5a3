"""The harness: runs a study's strategies under one protocol, durably and resumably.

For every strategy x repetition seed (a *run*) the harness alternates ``strategy.ask()``,
``evaluator.evaluate()`` and ``strategy.tell()`` until the run's budget ends, appending each
finished trial to the run's log. It alone connects strategies and evaluators and alone writes
results. After the searches it evaluates the random-sampling baseline; when the study declares
a final protocol, it then evaluates every run's incumbent and every baseline architecture under
it (:mod:`nasbench.final`). Once every run is done it consolidates ``trials.parquet`` and
``runs.parquet`` (and ``final.parquet``).

Resuming: a run's log holds every finished trial; its checkpoint holds the strategy's state
and random generator at some earlier trial. On resume the harness restores the checkpoint and
*replays* the logged trials after it (asking the strategy again, checking it proposes the same
architectures, and telling it the logged results without evaluating anything), then goes on.
A resumed run therefore ends with exactly the results of an uninterrupted one.

Repeats: a strategy that proposes an architecture its run already evaluated gets the cached
result at zero cost. By default repeats do not count towards ``budget.evaluations``
(``count_repeats = true`` makes them count); they are recorded with ``repeat = true``.

One-shot strategies (those that ``require`` the capability ``supernet``) get a handle to a
supernet built from the study's space, dataset and ``[supernet]`` protocol
(:class:`~nasbench.api.SupernetAccess`). The seconds a strategy spends in it between two
trials are charged to the later trial (``strategy_cost``) and count towards the run's
cumulative cost and ``budget.cost``, exactly like an evaluator's training time.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasbench import manifest as env
from nasbench import seeding
from nasbench.api import (
    Architecture,
    EvalResult,
    Evaluator,
    EvaluatorContext,
    Observation,
    SearchSpace,
    StrategyContext,
    SupernetAccess,
    Trial,
)
from nasbench.errors import ResumeError, UserError
from nasbench.final import FINAL_COLUMNS, final_columns, final_summary, read_final_log
from nasbench.protocol import BASELINE_LABEL, Study
from nasbench.registry import Plugins, load_plugins
from nasbench.store import (
    FLUSH_SECONDS,
    RunLog,
    columns_from_records,
    exclusive,
    load_checkpoint,
    read_json,
    save_checkpoint,
    write_json,
    write_table,
)

CHECKPOINT_SECONDS = 2.0
"""Least time between two checkpoints of a strategy's state."""
CHECKPOINT_SHARE = 0.05
"""Largest share of a run's time spent writing checkpoints: a strategy with a large state (a
supernet's weights) is checkpointed less often than every ``CHECKPOINT_SECONDS``."""

TRIAL_COLUMNS = (
    "run_id", "strategy", "strategy_name", "seed", "trial", "arch", "arch_key", "fidelity",
    "search_metric", "status", "reason", "repeat", "cost", "strategy_cost", "cum_cost",
    "eval_seed", "incumbent", "wall_time",
)
RUN_COLUMNS = (
    "run_id", "kind", "strategy", "strategy_name", "seed", "n_trials", "n_evaluations",
    "n_repeats", "n_failed", "total_cost", "strategy_cost", "stop_reason", "incumbent",
    "incumbent_key", "search_metric",
)


class StrategyError(Exception):
    """A strategy broke the contract (e.g. proposed an architecture outside its space)."""


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


@dataclass
class _Cached:
    """A finished evaluation, as the run's cache and log keep it."""

    status: str
    reason: str
    values: list[float | None]
    """The study's wanted metrics (search metric first, then report metrics), in order."""
    cost: float
    eval_seed: int
    info: dict[str, Any] = field(default_factory=dict)


class Session:
    """The space and evaluator of a study, set up once per process."""

    def __init__(self, study: Study, plugins: Plugins, directory: Path, threads: int = 1) -> None:
        self.study = study
        self.plugins = plugins
        self.directory = directory
        self.space: SearchSpace = study.make_space(plugins)
        self.evaluator: Evaluator = study.make_evaluator(plugins)
        self.evaluator.check(self.space, study.dataset, study.data_dir)
        self.context = EvaluatorContext(
            dataset=study.dataset,
            search_metric=study.search_metric,
            report_metrics=study.report_metrics,
            data_dir=study.data_dir,
            cache_dir=directory / "cache",
            threads=threads,
            root_seed=study.root_seed,
        )
        self.wanted = self.context.wanted_metrics
        self.evaluator.setup(self.space, self.context)
        self.final_evaluator: Evaluator | None = study.make_final_evaluator(plugins)
        if self.final_evaluator is not None:
            self.final_evaluator.check(self.space, study.dataset, study.data_dir)
            self.final_evaluator.setup(self.space, self.context)
        hook = plugins.manager.hook.nasbench_trial_finished
        self.observer: Callable[..., Any] | None = hook if hook.get_hookimpls() else None
        self._valid: set[Architecture] = set()
        self.threads = threads
        self._supernet_data: Any = None

    def open_supernet(self, spec: RunSpec) -> SupernetAccess:
        """A fresh supernet handle for run ``spec``, seeded from its repetition and label."""
        from nasbench.supernet.handle import SupernetHandle, supernet_data

        study = self.study
        assert study.supernet is not None, "the study declares no supernet protocol"
        seed = seeding.int_seed(study.root_seed, "supernet", spec.label, spec.seed)
        if "supernet_access" in self.evaluator.capabilities:  # it trains them itself (dqn)
            return self.evaluator.open_supernet(self.space, seed=seed)  # type: ignore[attr-defined]
        protocol = study.supernet.params
        if self._supernet_data is None:
            dataset = self.plugins.datasets.get(study.supernet.dataset)()
            self._supernet_data = supernet_data(
                self.space, dataset, protocol, data_dir=study.data_dir,
                cache_dir=self.directory / "cache", root_seed=study.root_seed)
        threads = self.threads if protocol.threads == "auto" else protocol.threads
        return SupernetHandle(self.space, self._supernet_data, protocol, seed=seed,
                              threads=threads)

    def is_valid(self, arch: Architecture) -> bool:
        """Whether ``arch`` belongs to the space (remembered, since strategies revisit)."""
        if arch in self._valid:
            return True
        if not self.space.is_valid(arch):
            return False
        if len(self._valid) > 1_000_000:
            self._valid.clear()
        self._valid.add(arch)
        return True

    def eval_seed(self, rep_seed: int, arch: Architecture) -> int:
        """The evaluation seed of ``arch`` in repetition ``rep_seed`` (0 for seedless
        evaluators): shared by every strategy of the repetition, so equal architectures get
        equal results."""
        if not self.evaluator.seeded:
            return 0
        key = self.space.arch_key(arch)
        return seeding.int_seed(self.study.root_seed, "evaluator", rep_seed, key)

    def evaluate(self, trial: Trial, eval_seed: int, *,
                 final: bool = False) -> tuple[_Cached, float]:
        """Evaluate (under the final protocol if ``final``), turning a plugin's exception into a
        failed result; returns wall time."""
        evaluator = self.final_evaluator if final else self.evaluator
        assert evaluator is not None
        t0 = time.perf_counter()
        try:
            result = evaluator.evaluate(
                self.space, trial, seed=eval_seed, fidelity=trial.fidelity
            )
        except (UserError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a failed evaluation must not end the study
            result = EvalResult.failure(f"{type(exc).__name__}: {exc}")
        wall = time.perf_counter() - t0
        metrics = result.metrics
        cached = _Cached(result.status, result.reason, [metrics.get(m) for m in self.wanted],
                         float(result.cost), eval_seed,
                         dict(result.info) if result.info else {})
        return cached, wall

    def close(self) -> None:
        self.evaluator.close()
        if self.final_evaluator is not None:
            self.final_evaluator.close()


def log_path(directory: Path, run_id: str) -> Path:
    """Where the log of run ``run_id`` lives."""
    return directory / "runs" / f"{run_id}.log"


def _state_path(directory: Path, run_id: str) -> Path:
    return directory / "runs" / f"{run_id}.state.pkl"


def _done(directory: Path, run_id: str) -> dict[str, Any] | None:
    """The summary of a finished run, or ``None`` while it is not done."""
    return RunLog(log_path(directory, run_id)).read()[1]


class RunExecutor:
    """Executes (or resumes) one search run to the end of its budget."""

    def __init__(self, session: Session, spec: RunSpec, log: RunLog,
                 records: list[dict[str, Any]]) -> None:
        self.session = session
        self.study = session.study
        self.spec = spec
        self.strategy_spec = self.study.strategy(spec.label)
        self.log = log
        self.state_path = _state_path(session.directory, spec.run_id)
        info = self.study.search_metric_info
        self.sign = 1.0 if info.higher_is_better else -1.0
        # Derived entirely from the log, so nothing but the strategy needs checkpointing.
        self.n_trials = 0
        self.n_counted = 0
        self.n_repeats = 0
        self.n_failed = 0
        self.cum_cost = 0.0
        self.strategy_cost = 0.0
        self.cache: dict[tuple[Architecture, float | None], _Cached] = {}
        self.wall = 0.0
        self.records = records

    # -- bookkeeping shared by live trials and replay --------------------------------------------
    def _account(self, arch: Architecture, fidelity: float | None, cached: _Cached,
                 repeat: bool, cost: float, strategy_cost: float) -> None:
        self.n_trials += 1
        if repeat:
            self.n_repeats += 1
        else:
            self.cache[(arch, fidelity)] = cached
            if cached.status != "ok":
                self.n_failed += 1
        if not repeat or self.study.budget.count_repeats:
            self.n_counted += 1
        self.cum_cost += cost + strategy_cost
        self.strategy_cost += strategy_cost

    def _observation(self, cached: _Cached, cost: float, fidelity: float | None) -> Observation:
        raw = cached.values[0] if cached.status == "ok" else None
        value = None if raw is None or math.isnan(raw) else self.sign * raw
        return Observation(value, cost, cached.status, fidelity)  # type: ignore[arg-type]

    def stop_reason(self) -> str | None:
        b = self.study.budget
        if b.evaluations is not None and self.n_counted >= b.evaluations:
            return "budget: evaluations"
        if b.cost is not None and self.cum_cost >= b.cost:
            return "budget: cost"
        if b.max_proposals is not None and self.n_trials >= b.max_proposals:
            return "budget: max_proposals"
        return None

    # -- the run -----------------------------------------------------------------------------
    def execute(self, on_trials: Callable[[int], None] | None = None) -> dict[str, Any]:
        session = self.session
        space = session.space
        study = self.study
        spec = self.spec
        strategy = study.make_strategy(session.plugins, self.strategy_spec)
        rng = seeding.generator(study.root_seed, "strategy", spec.label, spec.seed)
        evaluator = session.evaluator
        supernet = session.open_supernet(spec) if "supernet" in strategy.requires else None
        strategy.setup(
            space,
            rng,
            StrategyContext(budget=study.budget, fidelities=evaluator.fidelities(),
                            supernet=supernet),
        )
        records = self.records
        checkpoint = load_checkpoint(self.state_path) if records else None
        start = 0
        if checkpoint is not None and checkpoint.get("n_trials", 0) <= len(records):
            rng.bit_generator.state = checkpoint["rng"]
            strategy.load_state_dict(checkpoint["strategy"])
            start = checkpoint["n_trials"]
            self.wall = checkpoint.get("wall", 0.0)
        for i, rec in enumerate(records):
            arch = tuple(rec["a"])
            cached = _Cached(rec["s"], rec["r"], rec["m"], rec["c"], rec["es"],
                             rec.get("info", {}))
            cost = 0.0 if rec["rep"] else rec["c"]
            strategy_cost = rec.get("sc", 0.0)
            if i >= start:
                trial = strategy.ask()
                if trial is None or trial.arch != arch or trial.fidelity != rec["f"]:
                    got = "nothing" if trial is None else space.to_string(trial.arch)
                    raise ResumeError(
                        f"cannot resume run {spec.run_id}: on replay its strategy proposed {got} "
                        f"as trial {i}, but the log records {space.to_string(arch)}. The "
                        "strategy's code or its dependencies changed since the run started; "
                        "start a new results directory."
                    )
                strategy.tell(trial, self._observation(cached, cost, trial.fidelity))
                self.wall += rec["w"]
            self._account(arch, rec["f"], cached, rec["rep"], cost, strategy_cost)

        observer = session.observer
        last_flush = last_ckpt = time.perf_counter()
        checkpoint_every = CHECKPOINT_SECONDS
        charged = supernet.seconds if supernet is not None else 0.0
        reported = 0
        stop = None
        try:
            while True:
                stop = self.stop_reason()
                if stop is not None:
                    break
                t_trial = time.perf_counter()
                trial = strategy.ask()
                if trial is None:
                    stop = "strategy finished"
                    break
                arch = trial.arch
                if not session.is_valid(arch):
                    raise StrategyError(
                        f"strategy '{self.strategy_spec.name}' proposed {arch!r}, which is not "
                        f"an architecture of space '{space.name}'"
                    )
                hit = self.cache.get((arch, trial.fidelity))
                if hit is not None:
                    cached, repeat, cost, wall_eval = hit, True, 0.0, 0.0
                else:
                    eval_seed = session.eval_seed(spec.seed, arch)
                    cached, wall_eval = session.evaluate(trial, eval_seed)
                    repeat, cost = False, cached.cost
                strategy.tell(trial, self._observation(cached, cost, trial.fidelity))
                strategy_cost = 0.0
                if supernet is not None:
                    strategy_cost, charged = supernet.seconds - charged, supernet.seconds
                self._account(arch, trial.fidelity, cached, repeat, cost, strategy_cost)
                incumbent = strategy.recommend()
                now = time.perf_counter()
                record = {
                    "t": self.n_trials - 1,
                    "a": arch,
                    "f": trial.fidelity,
                    "s": cached.status,
                    "r": cached.reason,
                    "rep": repeat,
                    "c": cached.cost,
                    "sc": strategy_cost,
                    "cc": self.cum_cost,
                    "es": cached.eval_seed,
                    "inc": incumbent,
                    "w": now - t_trial,
                    "m": cached.values,
                }
                if cached.info:
                    record["info"] = cached.info
                self.log.append(record)
                records.append(record)
                self.wall += now - t_trial
                if observer is not None:
                    observer(run_id=spec.run_id, record=self.readable(record))
                if now - last_flush >= FLUSH_SECONDS or wall_eval >= FLUSH_SECONDS:
                    self.log.flush()
                    last_flush = now
                    if on_trials is not None:
                        on_trials(self.n_trials - reported)
                        reported = self.n_trials
                    if now - last_ckpt >= checkpoint_every:
                        self._checkpoint(strategy, rng)
                        last_ckpt = time.perf_counter()
                        checkpoint_every = max(CHECKPOINT_SECONDS,
                                               (last_ckpt - now) / CHECKPOINT_SHARE)
        finally:
            # Whatever happens (a kill by signal aside), what finished is on disk.
            self.log.flush()
        if on_trials is not None and self.n_trials > reported:
            on_trials(self.n_trials - reported)
        if supernet is not None:  # supernet time after the last trial (e.g. a diverged chunk)
            self.cum_cost += supernet.seconds - charged
            self.strategy_cost += supernet.seconds - charged
        return self._summary(strategy.recommend(), stop)

    def readable(self, record: dict[str, Any]) -> dict[str, Any]:
        """A log record as the row ``trials.parquet`` will hold."""
        columns = trial_columns(_Names(self.session.space), self.study, self.spec, [record])
        return {k: v[0] for k, v in columns.items()}

    def _checkpoint(self, strategy: Any, rng: Any) -> None:
        save_checkpoint(
            self.state_path,
            {
                "n_trials": self.n_trials,
                "rng": rng.bit_generator.state,
                "strategy": strategy.state_dict(),
                "wall": self.wall,
            },
        )

    def _summary(self, incumbent: Architecture | None, stop: str | None) -> dict[str, Any]:
        session = self.session
        summary: dict[str, Any] = {
            "run_id": self.spec.run_id,
            "kind": "search",
            "strategy": self.spec.label,
            "strategy_name": self.strategy_spec.name,
            "seed": self.spec.seed,
            "n_trials": self.n_trials,
            "n_evaluations": self.n_trials - self.n_repeats,
            "n_repeats": self.n_repeats,
            "n_failed": self.n_failed,
            "total_cost": self.cum_cost,
            "strategy_cost": self.strategy_cost,
            "stop_reason": stop,
            "wall_time": self.wall,
        }
        summary.update(incumbent_summary(session, incumbent, self.spec.seed, self.cache))
        return summary


def incumbent_summary(
    session: Session,
    arch: Architecture | None,
    rep_seed: int,
    cache: dict[tuple[Architecture, float | None], _Cached] | None = None,
) -> dict[str, Any]:
    """The incumbent's identity, search metric and report metrics.

    Uses the run's own evaluation of the incumbent at the default fidelity when there is one,
    else evaluates it now (recorded as ``incumbent_evaluated = true``).
    """
    study = session.study
    space = session.space
    out: dict[str, Any] = {"incumbent": None, "incumbent_key": None, "search_metric": None,
                           "metrics": {m: None for m in study.report_metrics},
                           "incumbent_evaluated": False}
    if arch is None:
        return out
    key = space.arch_key(arch)
    cached = (cache or {}).get((arch, None))
    if cached is None:
        cached, _ = session.evaluate(Trial(arch), session.eval_seed(rep_seed, arch))
        out["incumbent_evaluated"] = True
    values = dict(zip(session.wanted, cached.values, strict=True))
    out.update(
        incumbent=space.to_string(arch),
        incumbent_key=key,
        search_metric=values[study.search_metric],
        metrics={m: values[m] for m in study.report_metrics},
        incumbent_status=cached.status,
    )
    return out


def run_baseline(session: Session, spec: RunSpec) -> dict[str, Any]:
    """Random sampling: one architecture drawn uniformly, evaluated like every incumbent."""
    t0 = time.perf_counter()
    rng = seeding.generator(session.study.root_seed, "baseline", spec.seed)
    arch = session.space.sample(rng)
    summary: dict[str, Any] = {
        "run_id": spec.run_id, "kind": "baseline", "strategy": BASELINE_LABEL,
        "strategy_name": BASELINE_LABEL, "seed": spec.seed, "n_trials": 1,
        "n_evaluations": 1, "n_repeats": 0, "n_failed": 0, "total_cost": 0.0,
        "strategy_cost": 0.0, "stop_reason": "sampled",
    }
    summary.update(incumbent_summary(session, arch, spec.seed))
    summary["n_failed"] = int(summary.get("incumbent_status", "ok") != "ok")
    summary["wall_time"] = time.perf_counter() - t0
    return summary


def execute(
    session: Session, spec: RunSpec, on_trials: Callable[[int], None] | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    """Run ``spec`` unless it is done or another process is running it.

    Returns its summary (``None`` when another process holds it) and, when it ran here, its
    log records (which spares consolidation reading them back).
    """
    log = RunLog(log_path(session.directory, spec.run_id))
    if not log.open_locked():
        return None, None
    try:
        records, summary = log.read()
        if summary is not None:
            return summary, None
        if spec.is_baseline:
            summary = run_baseline(session, spec)
            if on_trials is not None:
                on_trials(1)
        else:
            summary = RunExecutor(session, spec, log, records).execute(on_trials)
        if session.final_evaluator is not None:
            incumbent = summary["incumbent"]
            arch = session.space.from_string(incumbent) if incumbent is not None else None
            summary.update(final_summary(session, spec, arch, on_trials))
        log.finish(summary)
        if records:  # a checkpoint exists only beside a log with trials in it
            _state_path(session.directory, spec.run_id).unlink(missing_ok=True)
        return summary, records
    finally:
        log.close()


# -- the study -----------------------------------------------------------------------------------
@dataclass
class StudyOutcome:
    """Where a study's results are and whether every run is done."""

    directory: Path
    complete: bool
    runs_done: int
    runs_total: int
    pending: list[str]


def prepare_directory(study: Study, plugins: Plugins, directory: Path, *, resume: bool,
                      command: str | None = None) -> None:
    """Create the results directory and its manifest, or check it matches on resume."""
    manifest_path = directory / "manifest.json"
    if manifest_path.exists():
        existing = read_json(manifest_path)
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
    if directory.exists() and any(directory.iterdir()) and not resume:
        raise ResumeError(
            f"{directory} exists and is not a nasbench results directory. Choose another --out."
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "runs").mkdir(exist_ok=True)
    if study.source is not None and study.source.exists():
        shutil.copyfile(study.source, directory / "study.toml")
    write_json(manifest_path, build_manifest(study, plugins, command), sync=True)


def build_manifest(study: Study, plugins: Plugins, command: str | None) -> dict[str, Any]:
    specs = run_specs(study)
    seeds: dict[str, Any] = {"root": study.root_seed, "repetitions": list(study.seeds),
                             "baseline": list(study.baseline_seeds), "streams": {}}
    for spec in specs:
        axis = ("baseline", spec.seed) if spec.is_baseline else ("strategy", spec.label, spec.seed)
        ss = seeding.seed_sequence(study.root_seed, *axis)
        seeds["streams"][spec.run_id] = {"axis": list(axis), "entropy": ss.entropy,
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
    }


class _Progress:
    """A progress bar over the study's planned trials on a terminal; periodic lines elsewhere.

    Each run counts for its planned trials (its evaluation budget, plus its final-protocol
    repeats): a run that stops early is topped up when it ends, and trials beyond the plan
    (a cost-budgeted run, repeated architectures) do not push the bar past its total.
    """

    def __init__(self, total: int, enabled: bool, label: str) -> None:
        self.total = total
        self.done = 0
        self.enabled = enabled
        self._bar = None
        self._last_line = time.monotonic()
        self.label = label
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="trial", desc=label, dynamic_ncols=True,
                             smoothing=0.1)

    def advance(self, n: int) -> None:
        if n <= 0:
            return
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.enabled and time.monotonic() - self._last_line >= 10.0:
            self._last_line = time.monotonic()
            print(f"{self.label}: {self.done}/{self.total} trials", file=sys.stderr, flush=True)

    def run(self, planned: int) -> _RunProgress:
        """A counter for one run, which advances this bar by at most ``planned``."""
        return _RunProgress(self, planned)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class _RunProgress:
    """One run's share of the study's progress bar."""

    def __init__(self, bar: _Progress, planned: int) -> None:
        self._bar = bar
        self._left = planned

    def __call__(self, n: int) -> None:
        step = min(n, self._left)
        self._left -= step
        self._bar.advance(step)

    def finish(self) -> None:
        self(self._left)


def _expected_trials(study: Study, spec: RunSpec) -> int:
    final = study.final.repeats if study.final is not None else 0
    if spec.is_baseline:
        return 1 + final
    return (study.budget.evaluations or 1) + final


def run_study(
    study: Study,
    plugins: Plugins,
    directory: Path,
    *,
    resume: bool = False,
    workers: int = 1,
    progress: bool = True,
    command: str | None = None,
) -> StudyOutcome:
    """Run (or resume) every run of ``study`` into ``directory`` and consolidate the tables."""
    prepare_directory(study, plugins, directory, resume=resume, command=command)
    specs = run_specs(study)
    todo = [s for s in specs if _done(directory, s.run_id) is None]
    bar = _Progress(sum(_expected_trials(study, s) for s in todo), progress, study.name)
    ran: dict[str, _Ran] = {}
    try:
        if workers <= 1 or len(todo) <= 1:
            ran = _run_in_process(study, plugins, directory, todo, bar)
        else:
            _run_in_pool(study, directory, todo, bar, workers)
    finally:
        bar.close()
    return finish(study, directory, plugins, ran)


def _run_in_process(study: Study, plugins: Plugins, directory: Path, todo: list[RunSpec],
                    bar: _Progress) -> dict[str, _Ran]:
    ran: dict[str, _Ran] = {}
    if not todo:
        return ran
    session = Session(study, plugins, directory, threads=os.cpu_count() or 1)
    try:
        for spec in todo:
            counter = bar.run(_expected_trials(study, spec))
            summary, records = execute(session, spec, counter)
            counter.finish()
            if summary is not None and records is not None:
                ran[spec.run_id] = _Ran(summary, records)
    finally:
        session.close()
    return ran


_WORKER: Session | None = None


def _worker_init(study: Study, directory: Path, threads: int) -> None:
    global _WORKER
    _WORKER = Session(study, load_plugins(), directory, threads=threads)


def _worker_run(spec: RunSpec) -> str:
    assert _WORKER is not None
    execute(_WORKER, spec)
    return spec.run_id


def _run_in_pool(study: Study, directory: Path, todo: list[RunSpec], bar: _Progress,
                 workers: int) -> None:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_worker_init,
        initargs=(study, directory, threads),
    ) as pool:
        futures = {pool.submit(_worker_run, spec): spec for spec in todo}
        for fut in as_completed(futures):
            fut.result()
            bar.run(_expected_trials(study, futures[fut])).finish()


@dataclass(frozen=True, slots=True)
class _Ran:
    """A run executed by this process: its summary and records, kept to spare re-reading."""

    summary: dict[str, Any]
    records: list[dict[str, Any]]


def finish(
    study: Study,
    directory: Path,
    plugins: Plugins | None = None,
    ran: dict[str, _Ran] | None = None,
) -> StudyOutcome:
    """Consolidate the tables if every run is done; report what is pending otherwise."""
    ran = ran or {}
    specs = run_specs(study)
    summaries = []
    pending = []
    for spec in specs:
        summary = ran[spec.run_id].summary if spec.run_id in ran else _done(directory, spec.run_id)
        if summary is not None:
            summaries.append(summary)
        else:
            pending.append(spec.run_id)
    complete = not pending
    if complete:
        with exclusive(directory / ".consolidate.lock") as mine:
            if mine:
                space = study.make_space(plugins if plugins is not None else load_plugins())
                logs = {run_id: r.records for run_id, r in ran.items()}
                consolidate(study, space, directory, specs, summaries, logs)
    return StudyOutcome(directory, complete, len(summaries), len(specs), pending)


class _Names:
    """Memoised public strings and canonical keys of architectures (runs revisit them)."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._strings: dict[Architecture, str] = {}
        self._keys: dict[Architecture, str] = {}

    def string(self, arch: Architecture) -> str:
        s = self._strings.get(arch)
        if s is None:
            s = self._strings[arch] = self.space.to_string(arch)
        return s

    def key(self, arch: Architecture) -> str:
        k = self._keys.get(arch)
        if k is None:
            k = self._keys[arch] = self.space.arch_key(arch)
        return k


def trial_columns(
    names: _Names, study: Study, spec: RunSpec, records: list[dict[str, Any]]
) -> dict[str, list[Any]]:
    """The ``trials.parquet`` columns of one run's log records."""
    n = len(records)
    archs = [tuple(r["a"]) for r in records]
    to_string = names.string
    arch_key = names.key
    wanted = tuple(dict.fromkeys((study.search_metric, *study.report_metrics)))
    cols: dict[str, list[Any]] = {
        "run_id": [spec.run_id] * n,
        "strategy": [spec.label] * n,
        "strategy_name": [study.strategy(spec.label).name] * n,
        "seed": [spec.seed] * n,
        "trial": [r["t"] for r in records],
        "arch": [to_string(a) for a in archs],
        "arch_key": [arch_key(a) for a in archs],
        "fidelity": [r["f"] for r in records],
        "search_metric": [r["m"][0] for r in records],
        "status": [r["s"] for r in records],
        "reason": [r["r"] for r in records],
        "repeat": [r["rep"] for r in records],
        "cost": [r["c"] for r in records],
        "strategy_cost": [r.get("sc", 0.0) for r in records],
        "cum_cost": [r["cc"] for r in records],
        "eval_seed": [r["es"] for r in records],
        "incumbent": [to_string(tuple(r["inc"])) if r["inc"] is not None else None
                      for r in records],
        "wall_time": [r["w"] for r in records],
    }
    for name in study.report_metrics:
        j = wanted.index(name)
        cols[name] = [r["m"][j] for r in records]
    info_keys = dict.fromkeys(k for r in records if "info" in r for k in r["info"])
    for k in info_keys:
        cols[f"info.{k}"] = [r.get("info", {}).get(k) for r in records]
    return cols


def _concat(parts: list[dict[str, list[Any]]], order: Iterable[str]) -> dict[str, list[Any]]:
    """Concatenate column dicts; a column missing from a part is filled with None."""
    names = list(dict.fromkeys([*order, *(k for p in parts for k in p)]))
    out: dict[str, list[Any]] = {k: [] for k in names}
    for part in parts:
        n = len(next(iter(part.values()), []))
        for k in names:
            out[k].extend(part.get(k, [None] * n))
    return out


def _floats(values: list[Any]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def consolidate(
    study: Study,
    space: SearchSpace,
    directory: Path,
    specs: Iterable[RunSpec],
    summaries: list[dict[str, Any]],
    logs: dict[str, list[dict[str, Any]]],
) -> None:
    """Write ``trials.parquet`` and ``runs.parquet`` (and ``final.parquet``) from the run logs
    and summaries.

    With a final protocol, a run's report-metric columns hold its final figures (the mean over
    the final repeats), ``search.<metric>`` the same metrics under the search protocol, and
    ``final.*`` the final protocol's bookkeeping.
    """
    specs = list(specs)
    meta = {"study": study.name, "config_hash": study.config_hash,
            "search_metric": study.search_metric, "report_metrics": list(study.report_metrics)}
    metric_names = list(study.report_metrics)
    parts = []
    n_trials = 0
    names = _Names(space)
    for spec in specs:
        if spec.is_baseline:
            continue
        records = logs.get(spec.run_id)
        if records is None:
            records = RunLog(log_path(directory, spec.run_id)).read()[0]
        parts.append(trial_columns(names, study, spec, records))
        n_trials += len(records)
    trial_cols = _concat(parts, (*TRIAL_COLUMNS, *metric_names))
    for col in ("fidelity", "search_metric", *metric_names):
        trial_cols[col] = _floats(trial_cols[col])
    write_table(directory / "trials.parquet", trial_cols, meta)

    run_rows = []
    for s in summaries:
        row = {k: s.get(k) for k in RUN_COLUMNS}
        for m in metric_names:
            row[m] = s["metrics"].get(m)
        if study.final is not None:
            for m in metric_names:
                row[f"search.{m}"] = row[m]
                row[m] = s["final_metrics"].get(m)
        row["incumbent_evaluated"] = s.get("incumbent_evaluated", False)
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
        run_cols[col] = _floats(run_cols[col])
    write_table(directory / "runs.parquet", run_cols, meta)

    if study.final is not None:
        parts = [final_columns(space, study, spec, read_final_log(directory, spec.run_id))
                 for spec in specs]
        final_cols = _concat(parts, (*FINAL_COLUMNS, *metric_names))
        for col in ("search_metric", *metric_names):
            final_cols[col] = _floats(final_cols[col])
        write_table(directory / "final.parquet", final_cols, meta)

    manifest_path = directory / "manifest.json"
    manifest = read_json(manifest_path)
    manifest.update(status="complete", finished=env.now(),
                    trials=n_trials, runs_complete=len(run_rows))
    write_json(manifest_path, manifest, sync=True)
