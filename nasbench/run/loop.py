"""One run's loop: replay what its log holds, then go on live, then the final protocol.

For a search run (strategy x repetition seed) the loop alternates ``strategy.ask()``,
``evaluator.evaluate()`` and ``strategy.tell()`` until the run's budget ends, handing each
finished trial to a :class:`Sink` (the driver's writer in-process; a channel back to the
driver on a worker). It alone connects strategies and evaluators.

Resuming: a run's log holds every finished trial; its checkpoint holds the strategy's state
and random generator at some earlier trial. :func:`replay` restores the checkpoint and tells
the strategy the logged trials after it (asking again, checking it proposes the same
architectures, evaluating nothing); :func:`live` then goes on. A resumed run therefore ends
with exactly the results of an uninterrupted one. Strategies that cannot save their state as
plain data (``checkpoints = False``: optuna's samplers) are replayed from their seed.

Repeats: a strategy that proposes an architecture its run already evaluated gets the cached
result at zero cost. By default repeats do not count towards ``budget.evaluations``
(``count_repeats = true`` makes them count); they are recorded with ``repeat = true``.

Incumbent: the loop tracks each run's best observed architecture by the search metric; a
strategy that overrides :meth:`~nasbench.api.Strategy.recommend` (a supernet's argmax) is
asked instead.

Failures: an evaluator that raises gives a failed trial; a strategy that raises (or breaks
the contract) ends its run ``failed`` with the reason and the traceback in the run's summary;
the study goes on.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from nasbench import seeding
from nasbench.api import (
    Architecture,
    Observation,
    Strategy,
    StrategyContext,
    SupernetAccess,
    Trial,
)
from nasbench.errors import ResumeError, UserError
from nasbench.incumbent import Incumbent
from nasbench.objectives import Scorer
from nasbench.protocol import BASELINE_LABEL
from nasbench.run.plan import RunSpec
from nasbench.run.records import Evaluation, FinalRecord, TrialBatch, TrialRecord
from nasbench.run.session import Session
from nasbench.store import FLUSH_SECONDS, checkpoint_bytes, warn

CHECKPOINT_SECONDS = 2.0
"""Least time between two checkpoints of a strategy's state."""
CHECKPOINT_SHARE = 0.05
"""Largest share of a run's time spent writing checkpoints: a strategy with a large state (a
supernet's weights) is checkpointed less often than every ``CHECKPOINT_SECONDS``."""


class StrategyError(Exception):
    """A strategy broke the contract (e.g. proposed an architecture outside its space)."""


class Sink(Protocol):
    """Where a run hands what it produces; only the driver writes it down.

    Trials travel in batches (:class:`TrialBatch`, handed over at each flush and at the run's
    end); final-protocol evaluations one by one, as each is expensive.
    """

    def trials(self, run_id: str, batch: TrialBatch) -> None: ...

    def record(self, run_id: str, record: FinalRecord) -> None: ...

    def checkpoint(self, run_id: str, n_trials: int, data: bytes) -> None: ...

    def flush(self) -> None: ...

    def done(self, run_id: str, summary: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class RunJob:
    """A run to execute and what the driver holds of it: its logged trials and final
    evaluations, and its last checkpoint (decoded, plain data)."""

    spec: RunSpec
    records: tuple[TrialRecord, ...] = ()
    finals: tuple[FinalRecord, ...] = ()
    checkpoint: dict[str, Any] | None = None


@dataclass
class RunState:
    """What a run has spent and seen; derived entirely from its trials, so that nothing but
    the strategy needs checkpointing."""

    sign: float
    scorer: Scorer | None = None
    """Reward or objectives of a study that declares them (the search metric otherwise)."""
    n_trials: int = 0
    n_counted: int = 0
    n_repeats: int = 0
    n_failed: int = 0
    cum_cost: float = 0.0
    strategy_cost: float = 0.0
    wall: float = 0.0
    cache: dict[tuple[Architecture, float | None], Evaluation] = field(default_factory=dict)
    best: Incumbent = field(default_factory=Incumbent)

    def observation(self, ev: Evaluation, cost: float, fidelity: float | None) -> Observation:
        if self.scorer is not None:
            value, objectives = self.scorer.score(ev.values) if ev.status == "ok" \
                else (None, None)
            return Observation(value, cost, ev.status, fidelity,  # type: ignore[arg-type]
                               objectives)
        raw = ev.values[0] if ev.status == "ok" else None
        value = None if raw is None or math.isnan(raw) else self.sign * raw
        return Observation(value, cost, ev.status, fidelity)  # type: ignore[arg-type]

    def account(self, arch: Architecture, fidelity: float | None, ev: Evaluation, repeat: bool,
                cost: float, strategy_cost: float, count_repeats: bool,
                observation: Observation | None = None) -> None:
        """Count a trial; ``observation`` is what the strategy was told (made again if
        ``None``)."""
        self.n_trials += 1
        if repeat:
            self.n_repeats += 1
        else:
            self.cache[(arch, fidelity)] = ev
            if ev.status != "ok":
                self.n_failed += 1
            self.best.update(arch, observation if observation is not None
                             else self.observation(ev, cost, fidelity))
        if not repeat or count_repeats:
            self.n_counted += 1
        self.cum_cost += cost + strategy_cost
        self.strategy_cost += strategy_cost


def recommends_itself(strategy: Strategy) -> bool:
    """Whether the strategy overrides ``recommend`` (else the harness's incumbent stands)."""
    return type(strategy).recommend is not Strategy.recommend


def recommendation(strategy: Strategy, state: RunState) -> Architecture | None:
    return strategy.recommend() if recommends_itself(strategy) else state.best.arch


# -- replay --------------------------------------------------------------------------------------
def replay(session: Session, job: RunJob, strategy: Strategy, rng: np.random.Generator,
           state: RunState) -> None:
    """Bring a fresh strategy to where the job's log ends without evaluating anything."""
    spec = job.spec
    space = session.space
    count_repeats = session.study.budget.count_repeats
    start = 0
    ckpt = job.checkpoint
    if ckpt is not None and getattr(type(strategy), "checkpoints", True) \
            and ckpt["n_trials"] <= len(job.records):
        try:
            rng.bit_generator.state = ckpt["rng"]
            strategy.load_state_dict(ckpt["strategy"])
            start = ckpt["n_trials"]
            state.wall = float(ckpt.get("wall", 0.0))
        except Exception as exc:
            warn(f"ignored the checkpoint of run {spec.run_id}: {type(exc).__name__}: {exc}; "
                 "the run replays from its log")
            raise _RestartReplay from exc
    for i, rec in enumerate(job.records):
        cost = 0.0 if rec.repeat else rec.cost
        if i >= start:
            trial = strategy.ask()
            if trial is None or trial.arch != rec.arch or trial.fidelity != rec.fidelity:
                got = "nothing" if trial is None else space.to_string(trial.arch)
                raise ResumeError(
                    f"cannot resume run {spec.run_id}: on replay its strategy proposed {got} "
                    f"as trial {i}, but the log records {space.to_string(rec.arch)}. The "
                    "strategy's code or its dependencies changed since the run started; "
                    "start a new results directory."
                )
            strategy.tell(trial, state.observation(rec.evaluation, cost, trial.fidelity))
            state.wall += rec.wall_time
        state.account(rec.arch, rec.fidelity, rec.evaluation, rec.repeat, cost,
                      rec.strategy_cost, count_repeats)


class _RestartReplay(Exception):
    """A checkpoint could not be restored: start the replay again from a fresh strategy."""


# -- live ----------------------------------------------------------------------------------------
def live(session: Session, spec: RunSpec, strategy: Strategy, rng: np.random.Generator,
         state: RunState, sink: Sink, supernet: SupernetAccess | None) -> str:
    """Ask, evaluate and tell until the budget ends; returns why the run stopped.

    Finished trials gather in a :class:`TrialBatch` (one log row each) handed to ``sink`` at
    least every ``FLUSH_SECONDS``, after any evaluation that took that long, and when the run
    ends. This is the innermost loop of every study: it makes no object per trial beyond the
    strategy's and evaluator's own, the observation and the row.
    """
    space = session.space
    study = session.study
    budget = study.budget
    max_evals, max_cost, max_proposals = budget.evaluations, budget.cost, budget.max_proposals
    count_repeats = budget.count_repeats
    observer = session.observer
    run_id = spec.run_id
    last_flush = last_ckpt = time.perf_counter()
    every = float(study.execution.checkpoint_seconds or CHECKPOINT_SECONDS)
    checkpoint_every = every
    checkpoints = getattr(type(strategy), "checkpoints", True)
    charged = supernet.cost if supernet is not None else 0.0
    own = recommends_itself(strategy)
    ask, tell, recommend = strategy.ask, strategy.tell, strategy.recommend
    evaluate, eval_seed, is_valid = session.evaluate, session.eval_seed, session.is_valid
    valid = session.valid_archs  # checked here first: most proposals were seen before
    seeded = session.evaluator.seeded  # a seedless evaluator's seed is 0 (Session.eval_seed)
    observation, account, cache, best = state.observation, state.account, state.cache, state.best
    clock = time.perf_counter
    batch = TrialBatch(state.n_trials)
    rows = batch.rows
    stop: str | None = None
    try:
        while True:
            if max_evals is not None and state.n_counted >= max_evals:
                stop = "budget: evaluations"
            elif max_cost is not None and state.cum_cost >= max_cost:
                stop = "budget: cost"
            elif max_proposals is not None and state.n_trials >= max_proposals:
                stop = "budget: max_proposals"
            if stop is not None:
                break
            t_trial = clock()
            trial = ask()
            if trial is None:
                stop = "strategy finished"
                break
            arch = trial.arch
            fidelity = trial.fidelity
            hit = cache.get((arch, fidelity))  # only valid architectures were evaluated
            if hit is not None:
                ev, repeat, cost, wall_eval = hit, True, 0.0, 0.0
            else:
                if arch not in valid and not is_valid(arch):
                    raise StrategyError(
                        f"strategy '{study.strategy(spec.label).name}' proposed {arch!r}, "
                        f"which is not an architecture of space '{space.name}'"
                    )
                ev, wall_eval = evaluate(trial, eval_seed(spec.seed, arch) if seeded else 0)
                repeat, cost = False, ev.cost
            obs = observation(ev, cost, fidelity)
            tell(trial, obs)
            strategy_cost = 0.0
            if supernet is not None:
                strategy_cost, charged = supernet.cost - charged, supernet.cost
            account(arch, fidelity, ev, repeat, cost, strategy_cost, count_repeats, obs)
            now = clock()
            rows.append(("trial", state.n_trials - 1, arch, fidelity, ev.status, ev.reason,
                         repeat, ev.cost, strategy_cost, state.cum_cost, ev.eval_seed,
                         recommend() if own else best.arch, now - t_trial, ev.values,
                         ev.info))
            state.wall += now - t_trial
            if observer is not None:
                record = TrialRecord.from_log(rows[-1])
                observer(run_id=run_id, record=readable(session, spec, record))
            if now - last_flush >= FLUSH_SECONDS or wall_eval >= FLUSH_SECONDS:
                sink.trials(run_id, batch)
                batch = TrialBatch(state.n_trials)
                rows = batch.rows
                sink.flush()
                last_flush = now
                if checkpoints and now - last_ckpt >= checkpoint_every:
                    checkpoints = _checkpoint(spec, strategy, rng, state, sink)
                    last_ckpt = clock()
                    checkpoint_every = max(every, (last_ckpt - now) / CHECKPOINT_SHARE)
    finally:
        # whatever happens (a kill by signal aside), what finished is handed over
        if rows:
            sink.trials(run_id, batch)
        sink.flush()
    if supernet is not None:  # supernet time after the last trial (e.g. a diverged chunk)
        state.cum_cost += supernet.cost - charged
        state.strategy_cost += supernet.cost - charged
    return stop


def _checkpoint(spec: RunSpec, strategy: Strategy, rng: np.random.Generator, state: RunState,
                sink: Sink) -> bool:
    """Hand over a checkpoint; ``False`` when the strategy's state is not plain data (the
    run is then resumed by replaying its log from the seed)."""
    try:
        data = checkpoint_bytes(spec.run_id, {
            "n_trials": state.n_trials, "rng": rng.bit_generator.state,
            "strategy": strategy.state_dict(), "wall": state.wall})
    except TypeError as exc:
        warn(f"run {spec.run_id}: strategy state is not plain data ({exc}); it will be resumed "
             "by replaying its log")
        return False
    sink.checkpoint(spec.run_id, state.n_trials, data)
    return True


def readable(session: Session, spec: RunSpec, record: TrialRecord) -> dict[str, Any]:
    """A trial record as the row ``trials.parquet`` will hold."""
    from nasbench.run.records import Names, columns

    cols = columns(Names(session.space), session.study, spec, TrialBatch.of([record]))
    return {k: v[0] for k, v in cols.items()}


# -- whole runs ----------------------------------------------------------------------------------
def search_run(session: Session, job: RunJob, sink: Sink) -> dict[str, Any]:
    """Replay and continue one search run; its summary (the final protocol aside)."""
    study = session.study
    spec = job.spec
    sign = 1.0 if study.search_metric_info.higher_is_better else -1.0
    scorer = None
    if study.objectives or study.reward is not None:
        scorer = Scorer(session.wanted, study.search_metric,
                        study.search_metric_info.higher_is_better, study.objectives,
                        study.reward)
    for attempt in range(2):
        strategy = study.make_strategy(session.plugins, study.strategy(spec.label))
        rng = seeding.generator(study.root_seed, "strategy", spec.label, spec.seed)
        supernet = session.open_supernet(spec) if "supernet" in strategy.requires else None
        strategy.setup(session.space, rng, StrategyContext(
            budget=study.budget, fidelities=session.fidelities, supernet=supernet,
            objectives=tuple(o.metric for o in study.objectives)))
        state = RunState(sign, scorer)
        try:
            replay(session, job if attempt == 0 else RunJob(spec, job.records, job.finals),
                   strategy, rng, state)
            break
        except _RestartReplay:
            continue
    stop = live(session, spec, strategy, rng, state, sink, supernet)
    summary: dict[str, Any] = {
        "run_id": spec.run_id,
        "kind": "search",
        "strategy": spec.label,
        "strategy_name": study.strategy(spec.label).name,
        "seed": spec.seed,
        "status": "ok",
        "n_trials": state.n_trials,
        "n_evaluations": state.n_trials - state.n_repeats,
        "n_repeats": state.n_repeats,
        "n_failed": state.n_failed,
        "total_cost": state.cum_cost,
        "strategy_cost": state.strategy_cost,
        "stop_reason": stop,
        "wall_time": state.wall,
    }
    if supernet is not None:  # measured beside the charged cost (this process's share)
        summary["supernet_seconds"] = supernet.seconds
    summary.update(incumbent_summary(session, recommendation(strategy, state), spec.seed,
                                     state.cache))
    summary.update({f"strategy.{k}": float(v) for k, v in strategy.diagnostics().items()})
    return summary


def incumbent_summary(
    session: Session,
    arch: Architecture | None,
    rep_seed: int,
    cache: dict[tuple[Architecture, float | None], Evaluation] | None = None,
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
    ev = (cache or {}).get((arch, None))
    if ev is None:
        ev, _ = session.evaluate(Trial(arch), session.eval_seed(rep_seed, arch))
        out["incumbent_evaluated"] = True
    values = dict(zip(session.wanted, ev.values, strict=True))
    out.update(
        incumbent=space.to_string(arch),
        incumbent_key=space.arch_key(arch),
        search_metric=values[study.search_metric],
        metrics={m: values[m] for m in study.report_metrics},
        incumbent_status=ev.status,
    )
    return out


def baseline_run(session: Session, spec: RunSpec) -> dict[str, Any]:
    """Random sampling: one architecture drawn uniformly, evaluated like every incumbent."""
    t0 = time.perf_counter()
    rng = seeding.generator(session.study.root_seed, "baseline", spec.seed)
    arch = session.space.sample(rng)
    summary: dict[str, Any] = {
        "run_id": spec.run_id, "kind": "baseline", "strategy": BASELINE_LABEL,
        "strategy_name": BASELINE_LABEL, "seed": spec.seed, "status": "ok", "n_trials": 1,
        "n_evaluations": 1, "n_repeats": 0, "n_failed": 0, "total_cost": 0.0,
        "strategy_cost": 0.0, "stop_reason": "sampled",
    }
    summary.update(incumbent_summary(session, arch, spec.seed))
    summary["n_failed"] = int(summary.get("incumbent_status", "ok") != "ok")
    summary["wall_time"] = time.perf_counter() - t0
    return summary


def final_run(session: Session, spec: RunSpec, arch: Architecture | None,
              logged: Sequence[FinalRecord], sink: Sink) -> dict[str, Any]:
    """Evaluate ``arch`` under the final protocol (skipping what is logged) and summarise (see
    :func:`final_summary`)."""
    study = session.study
    assert study.final is not None
    if arch is None:
        return final_summary(study, session.wanted, [])
    key = session.space.arch_key(arch)
    done = {r.repeat: r for r in logged if r.arch_key == key}
    for repeat in final_repeats_missing(study, key, logged):
        record = final_evaluation(session, spec, arch, repeat)
        sink.record(spec.run_id, record)
        sink.flush()
        done[repeat] = record
    return final_summary(study, session.wanted, [done[r] for r in range(study.final.repeats)])


def final_repeats_missing(study: Any, key: str, logged: Sequence[FinalRecord]) -> list[int]:
    """The final-protocol repeats of the architecture with key ``key`` not in ``logged``."""
    assert study.final is not None
    have = {r.repeat for r in logged if r.arch_key == key}
    return [r for r in range(study.final.repeats) if r not in have]


def final_evaluation(session: Session, spec: RunSpec, arch: Architecture,
                     repeat: int) -> FinalRecord:
    """One final-protocol evaluation of run ``spec``'s answer ``arch``: a unit of work of its
    own (a Dask task when the study runs on a cluster), seeded by the run, the architecture
    and the repeat alone."""
    study = session.study
    key = session.space.arch_key(arch)
    seed = seeding.int_seed(study.root_seed, "final", spec.seed, key, repeat)
    ev, wall = session.evaluate(Trial(arch), seed, final=True)
    return FinalRecord(repeat, arch, key, ev.status, ev.reason, ev.cost, seed, wall, ev.values,
                       ev.info)


def final_summary(study: Any, wanted: Sequence[str],
                  records: Sequence[FinalRecord]) -> dict[str, Any]:
    """A run's final figures from its final-protocol ``records`` (every repeat; none when the
    run has no answer): per metric, the mean over the repeats that ended ``ok``.

    Returns:
        ``final_metrics`` (report metric -> mean), ``final_search_metric``, ``final_repeats``,
        ``final_n_failed`` and ``final_cost`` (summed over the repeats).
    """
    if not records:
        return {"final_metrics": dict.fromkeys(study.report_metrics),
                "final_search_metric": None, "final_repeats": 0, "final_n_failed": 0,
                "final_cost": 0.0}
    ok = [r for r in records if r.status == "ok"]
    means = [_mean(r.values[j] for r in ok) for j in range(len(wanted))]
    values = dict(zip(wanted, means, strict=True))
    return {
        "final_metrics": {m: values[m] for m in study.report_metrics},
        "final_search_metric": values[study.search_metric],
        "final_repeats": len(records),
        "final_n_failed": len(records) - len(ok),
        "final_cost": float(sum(r.cost for r in records)),
    }


def _mean(values: Any) -> float | None:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return sum(finite) / len(finite) if finite else None


def execute_run(session: Session, job: RunJob, sink: Sink, *,
                defer_final: bool = False) -> dict[str, Any]:
    """Execute (or resume) one run to its end, final protocol included, and hand its summary
    to ``sink``. A strategy that raises ends the run ``failed``; the study goes on.

    With ``defer_final``, a run that found an answer under a study with a final protocol
    stops after its search and hands its summary to ``sink.searched`` instead: the executor
    runs each final-protocol evaluation as a unit of work of its own
    (:func:`final_evaluation`) and completes the summary (:func:`final_summary`).
    """
    spec = job.spec
    try:
        if spec.is_baseline:
            summary = baseline_run(session, spec)
        else:
            summary = search_run(session, job, sink)
        if session.final_evaluator is not None:
            incumbent = summary["incumbent"]
            if defer_final and incumbent is not None:
                sink.searched(spec.run_id, summary)  # type: ignore[attr-defined]
                return summary
            arch = session.space.from_string(incumbent) if incumbent is not None else None
            summary.update(final_run(session, spec, arch, job.finals, sink))
    except (UserError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a broken strategy ends its run, not the study
        summary = failed_summary(session, spec, exc, traceback.format_exc())
    sink.done(spec.run_id, summary)
    return summary


def failed_summary(session: Session, spec: RunSpec, exc: BaseException | str,
                   trace: str) -> dict[str, Any]:
    """The summary of a run that could not finish."""
    study = session.study
    reason = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    out: dict[str, Any] = {
        "run_id": spec.run_id, "kind": "baseline" if spec.is_baseline else "search",
        "strategy": spec.label,
        "strategy_name": spec.label if spec.is_baseline else study.strategy(spec.label).name,
        "seed": spec.seed, "status": "failed", "reason": reason, "traceback": trace,
        "n_trials": 0, "n_evaluations": 0, "n_repeats": 0, "n_failed": 0, "total_cost": 0.0,
        "strategy_cost": 0.0, "stop_reason": f"failed: {reason}", "wall_time": 0.0,
        "incumbent": None, "incumbent_key": None, "search_metric": None,
        "metrics": {m: None for m in study.report_metrics}, "incumbent_evaluated": False,
    }
    if study.final is not None:
        out.update(final_metrics=dict.fromkeys(study.report_metrics), final_search_metric=None,
                   final_repeats=0, final_n_failed=0, final_cost=0.0)
    return out
