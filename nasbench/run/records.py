"""Typed records of a run: one per trial of the search, one per final-protocol evaluation.

Each record is a frozen dataclass written to the run's log as a plain tuple
(:meth:`to_log`, tagged with the record's kind) and read back with :meth:`from_log`; the same
fields become the columns of ``trials.parquet`` and ``final.parquet`` through one function,
:func:`columns`. Nothing else knows the log's layout.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture

if TYPE_CHECKING:
    from nasbench.api import SearchSpace
    from nasbench.protocol import Study
    from nasbench.run.plan import RunSpec


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A finished evaluation, as a run's cache keeps it.

    Attributes:
        status: ``ok``, ``failed`` or ``diverged``.
        reason: why it failed (empty when ok).
        values: the study's wanted metrics (search metric first, then report metrics).
        cost: the evaluator's cost (simulated or measured seconds, or its cost units).
        eval_seed: the seed it was evaluated with.
        info: extra facts the evaluator reported.
    """

    status: str
    reason: str
    values: tuple[float | None, ...]
    cost: float
    eval_seed: int
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One trial of a search run (a proposal, evaluated or answered from the run's cache)."""

    kind: ClassVar[str] = "trial"
    trial: int
    arch: Architecture
    fidelity: float | None
    status: str
    reason: str
    repeat: bool
    cost: float
    strategy_cost: float
    cum_cost: float
    eval_seed: int
    incumbent: Architecture | None
    wall_time: float
    values: tuple[float | None, ...]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def evaluation(self) -> Evaluation:
        return Evaluation(self.status, self.reason, self.values, self.cost, self.eval_seed,
                          self.info)

    def to_log(self) -> tuple:
        return ("trial", self.trial, self.arch, self.fidelity, self.status, self.reason,
                self.repeat, self.cost, self.strategy_cost, self.cum_cost, self.eval_seed,
                self.incumbent, self.wall_time, self.values, self.info)

    @classmethod
    def from_log(cls, row: Sequence[Any]) -> TrialRecord:
        (_, trial, arch, fidelity, status, reason, repeat, cost, strategy_cost, cum_cost,
         eval_seed, incumbent, wall, values, info) = row
        return cls(int(trial), tuple(arch), fidelity, str(status), str(reason), bool(repeat),
                   float(cost), float(strategy_cost), float(cum_cost), int(eval_seed),
                   tuple(incumbent) if incumbent is not None else None, float(wall),
                   tuple(values), dict(info))


@dataclass(frozen=True, slots=True)
class FinalRecord:
    """One evaluation of a run's chosen architecture under the study's final protocol."""

    kind: ClassVar[str] = "final"
    repeat: int
    arch: Architecture
    arch_key: str
    status: str
    reason: str
    cost: float
    eval_seed: int
    wall_time: float
    values: tuple[float | None, ...]
    info: dict[str, Any] = field(default_factory=dict)

    def to_log(self) -> tuple:
        return ("final", self.repeat, self.arch, self.arch_key, self.status, self.reason,
                self.cost, self.eval_seed, self.wall_time, self.values, self.info)

    @classmethod
    def from_log(cls, row: Sequence[Any]) -> FinalRecord:
        _, repeat, arch, key, status, reason, cost, eval_seed, wall, values, info = row
        return cls(int(repeat), tuple(arch), str(key), str(status), str(reason), float(cost),
                   int(eval_seed), float(wall), tuple(values), dict(info))


RECORD_TYPES: dict[str, type[TrialRecord] | type[FinalRecord]] = {
    "trial": TrialRecord, "final": FinalRecord}


def from_log(row: Sequence[Any]) -> TrialRecord | FinalRecord | None:
    """The record a log frame holds, or ``None`` for a frame of another kind or shape."""
    cls = RECORD_TYPES.get(row[0]) if row else None
    if cls is None:
        return None
    try:
        return cls.from_log(row)
    except (TypeError, ValueError):
        return None


TRIAL_COLUMNS = (
    "run_id", "strategy", "strategy_name", "seed", "trial", "arch", "arch_key", "fidelity",
    "search_metric", "status", "reason", "repeat", "cost", "strategy_cost", "cum_cost",
    "eval_seed", "incumbent", "wall_time",
)
"""Leading columns of ``trials.parquet`` (report metrics and ``info.*`` columns follow)."""

FINAL_COLUMNS = (
    "run_id", "kind", "strategy", "seed", "arch", "arch_key", "repeat", "eval_seed", "status",
    "reason", "cost", "wall_time", "search_metric",
)
"""Leading columns of ``final.parquet`` (report metrics and ``info.*`` columns follow)."""


class Names:
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


def columns(names: Names, study: Study, spec: RunSpec,
            records: Sequence[TrialRecord] | Sequence[FinalRecord],
            kind: type[TrialRecord] | type[FinalRecord] = TrialRecord) -> dict[str, list[Any]]:
    """The table columns of one run's records of one ``kind``: ``trials.parquet`` rows for
    :class:`TrialRecord`, ``final.parquet`` rows for :class:`FinalRecord`."""
    n = len(records)
    final = kind is FinalRecord
    order = FINAL_COLUMNS if final else TRIAL_COLUMNS
    run = {
        "run_id": [spec.run_id] * n,
        "kind": ["baseline" if spec.is_baseline else "search"] * n,
        "strategy": [spec.label] * n,
        "strategy_name": [spec.label if spec.is_baseline else study.strategy(spec.label).name] * n,
        "seed": [spec.seed] * n,
    }
    cols: dict[str, list[Any]] = {}
    own = {f.name for f in fields(FinalRecord if final else TrialRecord)}
    for name in order:
        if name in run:
            cols[name] = run[name]
        elif name == "arch":
            cols[name] = [names.string(r.arch) for r in records]
        elif name == "arch_key":
            cols[name] = [names.key(r.arch) for r in records]
        elif name == "incumbent":
            cols[name] = [names.string(r.incumbent) if r.incumbent is not None else None
                          for r in records]  # type: ignore[union-attr]
        elif name == "search_metric":
            cols[name] = [r.values[0] for r in records]
        elif name in own:
            cols[name] = [getattr(r, name) for r in records]
    wanted = tuple(dict.fromkeys((study.search_metric, *study.report_metrics)))
    for name in study.report_metrics:
        j = wanted.index(name)
        cols[name] = [r.values[j] for r in records]
    for k in dict.fromkeys(k for r in records for k in r.info):
        cols[f"info.{k}"] = [r.info.get(k) for r in records]
    return cols


def concat(parts: list[dict[str, list[Any]]], order: Iterable[str]) -> dict[str, list[Any]]:
    """Concatenate column dicts; a column missing from a part is filled with None."""
    names = list(dict.fromkeys([*order, *(k for p in parts for k in p)]))
    out: dict[str, list[Any]] = {k: [] for k in names}
    for part in parts:
        n = len(next(iter(part.values()), []))
        for k in names:
            out[k].extend(part.get(k, [None] * n))
    return out


def floats(values: list[Any]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]
