"""The final protocol: after the search, train the chosen architectures again (Yang et al.).

A search protocol is cheap (few epochs, a subset of the data), and what a strategy finds under
it is not what it is worth. A study's ``[final]`` table declares the protocol that decides
(e.g. 50 epochs on the full training split, several seeds). Once a run's search is over, the
harness evaluates the run's incumbent under it ``repeats`` times, each with the seed
``int_seed(root, "final", repetition seed, arch_key, repeat)``; the random-sampling baseline's
architectures go through exactly the same protocol, so the relative improvement over random
sampling compares like with like.

Durability: every final evaluation is appended to the run's final log
(``runs/<run_id>.final.log``, the format of :mod:`nasbench.store`) and flushed as soon as it
ends, under the run's lock; a resumed run keeps the evaluations logged there and does only the
missing ones. A run is done, and its summary written, only after its final evaluations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench import seeding
from nasbench.api import Architecture, Trial
from nasbench.store import RunLog

if TYPE_CHECKING:
    from nasbench.api import SearchSpace
    from nasbench.harness import RunSpec, Session
    from nasbench.protocol import Study

FINAL_COLUMNS = (
    "run_id", "kind", "strategy", "seed", "arch", "arch_key", "repeat", "eval_seed", "status",
    "reason", "cost", "wall_time", "search_metric",
)
"""Leading columns of ``final.parquet`` (report metrics and ``info.*`` columns follow)."""


def final_log_path(directory: Path, run_id: str) -> Path:
    """Where the final evaluations of run ``run_id`` are logged."""
    return directory / "runs" / f"{run_id}.final.log"


def final_summary(session: Session, spec: RunSpec, arch: Architecture | None,
                  on_evaluation: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Evaluate ``arch`` under the final protocol (skipping what the final log already holds)
    and summarise: per metric, the mean over the repeats that ended ``ok``.

    Returns:
        ``final_metrics`` (report metric -> mean), ``final_search_metric``, ``final_repeats``,
        ``final_n_failed`` and ``final_cost`` (seconds, summed over the repeats).
    """
    study = session.study
    assert study.final is not None
    out: dict[str, Any] = {
        "final_metrics": dict.fromkeys(study.report_metrics), "final_search_metric": None,
        "final_repeats": 0, "final_n_failed": 0, "final_cost": 0.0,
    }
    if arch is None:
        return out
    key = session.space.arch_key(arch)
    log = RunLog(final_log_path(session.directory, spec.run_id))
    if not log.open_locked():
        raise RuntimeError(f"the final log of run {spec.run_id} is held by another process")
    try:
        done = {r["rep"]: r for r in log.read()[0] if r["k"] == key}
        for repeat in range(study.final.repeats):
            if repeat in done:
                continue
            seed = seeding.int_seed(study.root_seed, "final", spec.seed, key, repeat)
            cached, wall = session.evaluate(Trial(arch), seed, final=True)
            record = {"rep": repeat, "a": arch, "k": key, "s": cached.status,
                      "r": cached.reason, "c": cached.cost, "es": seed, "w": wall,
                      "m": cached.values, "info": cached.info}
            log.append(record)
            log.flush()
            done[repeat] = record
            if on_evaluation is not None:
                on_evaluation(1)
    finally:
        log.close()
    records = [done[r] for r in range(study.final.repeats)]
    ok = [r for r in records if r["s"] == "ok"]
    means = [_mean(r["m"][j] for r in ok) for j in range(len(session.wanted))]
    values = dict(zip(session.wanted, means, strict=True))
    out.update(
        final_metrics={m: values[m] for m in study.report_metrics},
        final_search_metric=values[study.search_metric],
        final_repeats=len(records),
        final_n_failed=len(records) - len(ok),
        final_cost=float(sum(r["c"] for r in records)),
    )
    return out


def _mean(values: Iterable[float | None]) -> float | None:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return sum(finite) / len(finite) if finite else None


def final_columns(space: SearchSpace, study: Study, spec: RunSpec,
                  records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The ``final.parquet`` columns of one run's final log."""
    n = len(records)
    wanted = tuple(dict.fromkeys((study.search_metric, *study.report_metrics)))
    cols: dict[str, list[Any]] = {
        "run_id": [spec.run_id] * n,
        "kind": ["baseline" if spec.is_baseline else "search"] * n,
        "strategy": [spec.label] * n,
        "seed": [spec.seed] * n,
        "arch": [space.to_string(tuple(r["a"])) for r in records],
        "arch_key": [r["k"] for r in records],
        "repeat": [r["rep"] for r in records],
        "eval_seed": [r["es"] for r in records],
        "status": [r["s"] for r in records],
        "reason": [r["r"] for r in records],
        "cost": [r["c"] for r in records],
        "wall_time": [r["w"] for r in records],
        "search_metric": [r["m"][0] for r in records],
    }
    for name in study.report_metrics:
        j = wanted.index(name)
        cols[name] = [r["m"][j] for r in records]
    for k in dict.fromkeys(k for r in records for k in r.get("info", {})):
        cols[f"info.{k}"] = [r.get("info", {}).get(k) for r in records]
    return cols


def read_final_log(directory: Path, run_id: str) -> list[dict[str, Any]]:
    """The final evaluations logged for run ``run_id``, in repeat order."""
    records = RunLog(final_log_path(directory, run_id)).read()[0]
    return sorted(records, key=lambda r: r["rep"])
