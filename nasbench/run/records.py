"""Typed records of a run: one per trial of the search, one per final-protocol evaluation.

Each record is a frozen dataclass written to the run's log as a plain tuple
(:meth:`to_log`, tagged with the record's kind) and read back with :meth:`from_log`; the same
fields become the columns of ``trials.parquet`` and ``final.parquet`` through one function,
:func:`columns`. Nothing else knows the log's layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from nasbench.api import Architecture

if TYPE_CHECKING:
    from nasbench.api import SearchSpace
    from nasbench.protocol import Study
    from nasbench.run.plan import RunSpec

_NO_INFO: dict[str, Any] = {}


class Evaluation(NamedTuple):
    """A finished evaluation, as a run's cache keeps it (a named tuple: one is made for every
    evaluation, and a tuple costs a fraction of a frozen dataclass to build).

    Attributes:
        status: ``ok``, ``failed`` or ``diverged``.
        reason: why it failed (empty when ok).
        values: the study's wanted metrics (search metric first, then report metrics).
        cost: the evaluator's cost (simulated or measured seconds, or its cost units).
        eval_seed: the seed it was evaluated with.
        info: extra facts the evaluator reported (never modified).
    """

    status: str
    reason: str
    values: tuple[float | None, ...]
    cost: float
    eval_seed: int
    info: dict[str, Any] = _NO_INFO


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


TRIAL_FIELDS = ("trial", "arch", "fidelity", "status", "reason", "repeat", "cost",
                "strategy_cost", "cum_cost", "eval_seed", "incumbent", "wall_time", "values",
                "info")
"""The fields of a trial's log row, in order, after its kind (``"trial"``)."""


class TrialBatch:
    """Consecutive trials of one run, as the log rows :meth:`TrialRecord.to_log` writes.

    What a run hands to the driver at each flush: building it costs one tuple per trial (no
    record object), the driver appends its rows to the study log as they are, and
    :func:`columns` turns it into table columns by one transposition.

    Args:
        first: the index of its first trial (the run's trial count when it began).
        rows: ``("trial", index, ...)`` tuples with consecutive indices from ``first``.
    """

    __slots__ = ("first", "names", "rows")

    def __init__(self, first: int, rows: list[tuple] | None = None,
                 names: tuple[list[str], list[str], list[str | None]] | None = None) -> None:
        self.first = first
        self.rows: list[tuple] = [] if rows is None else rows
        self.names = names
        """The public strings of its architectures, their keys and the incumbents' strings,
        when a worker computed them (:meth:`named`), so that the driver need not."""

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def end(self) -> int:
        """The index after its last trial."""
        return self.first + len(self.rows)

    @classmethod
    def of(cls, records: Sequence[TrialRecord], first: int = 0) -> TrialBatch:
        """The batch of ``records`` (consecutive trials)."""
        return cls(records[0].trial if records else first, [r.to_log() for r in records])

    def named(self, names: Names) -> TrialBatch:
        """This batch with its architectures' strings and keys (computed where it ran)."""
        archs = [row[2] for row in self.rows]
        self.names = (names.strings(archs), names.keys(archs),  # type: ignore[assignment]
                      names.strings([row[11] for row in self.rows]))
        return self

    @classmethod
    def concat(cls, batches: Sequence[TrialBatch], first: int = 0) -> TrialBatch:
        """One batch of consecutive ``batches``."""
        if len(batches) == 1:
            return batches[0]
        named = None
        if batches and all(b.names is not None for b in batches):
            named = tuple([s for b in batches for s in b.names[i]]  # type: ignore[index]
                          for i in range(3))
        return cls(batches[0].first if batches else first,
                   [row for b in batches for row in b.rows], named)  # type: ignore[arg-type]

    def since(self, index: int) -> TrialBatch:
        """The trials from ``index`` on (a re-executed run handing over some again)."""
        skip = max(0, index - self.first)
        named = None if self.names is None else tuple(col[skip:] for col in self.names)
        return TrialBatch(max(index, self.first), self.rows[skip:],
                          named)  # type: ignore[arg-type]

    def records(self) -> list[TrialRecord]:
        return [TrialRecord.from_log(row) for row in self.rows]

    def to_wire(self) -> tuple:
        """Plain data, to travel from a worker to the driver."""
        return self.first, self.rows, self.names

    @classmethod
    def from_wire(cls, data: Sequence[Any]) -> TrialBatch | None:
        """The batch :meth:`to_wire` sent; ``None`` for anything else (each row must be a
        trial row with the next index, and each name column one entry per row)."""
        try:
            first, rows, names = data
            first = int(first)
            for i, row in enumerate(rows):
                if (not isinstance(row, tuple) or len(row) != len(TRIAL_FIELDS) + 1
                        or row[0] != "trial" or row[1] != first + i):
                    return None
            if names is not None and (len(names) != 3
                                      or any(len(col) != len(rows) for col in names)):
                return None
        except (TypeError, ValueError):
            return None
        return cls(first, list(rows), names)


class EncodedBatch:
    """Consecutive trials of one run as a Dask worker hands them to the driver, already in the
    form the driver writes: the study log's frame of their rows (length, checksum and
    pickled ``("run", run_id, rows)``, as :meth:`~nasbench.store.StudyLog.flush` would write
    it) and their rows of ``trials.parquet`` as an Arrow table (``None`` for a
    random-sampling run, whose trials the table leaves out).

    The driver appends the frame and keeps the table without making an object per trial, so
    the workers, not the driver, pay for turning trials into bytes and columns. The rows
    themselves are decoded only where a re-executed run hands over trials the driver already
    holds (:meth:`since`).
    """

    __slots__ = ("first", "frame", "n", "run_id", "table")

    def __init__(self, run_id: str, first: int, n: int, frame: bytes, table: Any) -> None:
        self.run_id = run_id
        self.first = first
        self.n = n
        self.frame = frame
        self.table = table

    def __len__(self) -> int:
        return self.n

    @property
    def end(self) -> int:
        """The index after its last trial."""
        return self.first + self.n

    @classmethod
    def encode(cls, run_id: str, batch: TrialBatch, table: Any) -> EncodedBatch:
        from nasbench.store import encode_frames

        return cls(run_id, batch.first, len(batch),
                   encode_frames([("run", run_id, batch.rows)]), table)

    @property
    def rows(self) -> list[tuple]:
        """The log rows its frame holds."""
        from nasbench.store import decode_frame

        return list(decode_frame(self.frame)[2])

    def since(self, index: int) -> EncodedBatch:
        """The trials from ``index`` on (a re-executed run handing over some again)."""
        from nasbench.store import encode_frames

        skip = max(0, index - self.first)
        rows = self.rows[skip:]
        return EncodedBatch(self.run_id, self.first + skip, len(rows),
                            encode_frames([("run", self.run_id, rows)]),
                            None if self.table is None else self.table.slice(skip))

    def to_wire(self, offset: int | None) -> tuple:
        """Plain data, to travel from a worker to the driver. Its table rows travel apart, in
        one Arrow table with those of the other batches sent with it (:func:`table_bytes`),
        from row ``offset`` on (``None``: no table rows)."""
        return self.run_id, self.first, self.n, self.frame, offset

    @classmethod
    def from_wire(cls, data: Sequence[Any], shared: Any = None) -> EncodedBatch | None:
        """The batch :meth:`to_wire` sent, its table rows sliced from ``shared`` (the table
        sent with it); ``None`` for anything else. What is checked without decoding a trial:
        the frame is one whole frame whose checksum holds, and the shared table holds one
        row per trial from the offset on (the rows are checked when the log is read)."""
        from nasbench.store import frame_is_intact

        try:
            run_id, first, n, frame, offset = data
            if not (isinstance(run_id, str) and isinstance(frame, bytes)
                    and frame_is_intact(frame)):
                return None
            first, n = int(first), int(n)
            table = None
            if offset is not None:
                offset = int(offset)
                if shared is None or offset < 0 or offset + n > shared.num_rows:
                    return None
                table = shared.slice(offset, n)
        except (TypeError, ValueError):
            return None
        return cls(run_id, first, n, frame, table)


def table_bytes(table: Any) -> bytes:
    """An Arrow table as the bytes of an Arrow IPC stream."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as out:
        out.write_table(table)
    return sink.getvalue().to_pybytes()


def table_from_bytes(data: Any) -> Any:
    """The table :func:`table_bytes` wrote; ``None`` for anything else."""
    import pyarrow as pa

    try:
        return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    except (TypeError, ValueError, pa.ArrowException):
        return None


class EncodedTrials:
    """A finished run's trials when some arrived encoded (:class:`EncodedBatch`): its batches
    in trial order, plain ones (:class:`TrialBatch`, e.g. logged before a resume) among them."""

    __slots__ = ("batches",)

    def __init__(self, batches: Sequence[TrialBatch | EncodedBatch]) -> None:
        self.batches = list(batches)

    def __len__(self) -> int:
        return sum(len(b) for b in self.batches)


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

    def strings(self, archs: Sequence[Architecture | None]) -> list[str | None]:
        """The strings of many architectures (``None`` stays ``None``), looked up in bulk."""
        return self._bulk(archs, self._strings, self.string)

    def keys(self, archs: Sequence[Architecture]) -> list[str]:
        """The canonical keys of many architectures, looked up in bulk."""
        return self._bulk(archs, self._keys, self.key)  # type: ignore[return-value]

    @staticmethod
    def _bulk(archs: Sequence[Architecture | None], memo: dict[Architecture, str],
              one: Any) -> list[str | None]:
        out: list[str | None] = list(map(memo.get, archs))
        if None in out:  # first sightings (and missing incumbents): name those only
            for i, name in enumerate(out):
                if name is None and archs[i] is not None:
                    out[i] = one(archs[i])
        return out


def columns(names: Names, study: Study, spec: RunSpec,
            records: Sequence[TrialRecord] | Sequence[FinalRecord] | TrialBatch,
            kind: type[TrialRecord] | type[FinalRecord] = TrialRecord) -> dict[str, list[Any]]:
    """The table columns of one run's records of one ``kind``: ``trials.parquet`` rows for
    :class:`TrialRecord` (or a :class:`TrialBatch`), ``final.parquet`` rows for
    :class:`FinalRecord`."""
    final = kind is FinalRecord
    if final:
        fields_of = {f.name: [getattr(r, f.name) for r in records]  # type: ignore[union-attr]
                     for f in fields(FinalRecord)}
        n = len(records)
    else:
        batch = records if isinstance(records, TrialBatch) else \
            TrialBatch.of(records)  # type: ignore[arg-type]
        n = len(batch)
        transposed = list(zip(*batch.rows, strict=True)) if n else [()] * (
            len(TRIAL_FIELDS) + 1)
        fields_of = {name: list(transposed[i + 1]) for i, name in enumerate(TRIAL_FIELDS)}
    order = FINAL_COLUMNS if final else TRIAL_COLUMNS
    run = {
        "run_id": [spec.run_id] * n,
        "kind": ["baseline" if spec.is_baseline else "search"] * n,
        "strategy": [spec.label] * n,
        "strategy_name": [spec.label if spec.is_baseline else study.strategy(spec.label).name] * n,
        "seed": [spec.seed] * n,
    }
    values = fields_of["values"]
    named = None if final else batch.names
    cols: dict[str, list[Any]] = {}
    for name in order:
        if name in run:
            cols[name] = run[name]
        elif name == "arch":
            cols[name] = names.strings(fields_of["arch"]) if named is None else named[0]
        elif name == "arch_key":
            cols[name] = names.keys(fields_of["arch"]) if named is None else named[1]
        elif name == "incumbent":
            cols[name] = names.strings(fields_of["incumbent"]) if named is None else named[2]
        elif name == "search_metric":
            cols[name] = [v[0] for v in values]
        elif name in fields_of:
            cols[name] = fields_of[name]
    wanted = tuple(dict.fromkeys((study.search_metric, *study.report_metrics)))
    by_metric = list(zip(*values, strict=True)) if values else [()] * len(wanted)
    for name in study.report_metrics:
        cols[name] = list(by_metric[wanted.index(name)])
    infos = fields_of["info"]
    for k in dict.fromkeys(k for info in infos if info for k in info):
        cols[f"info.{k}"] = [info.get(k) for info in infos]
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


def floats(values: list[Any]) -> Any:
    """``values`` as a float64 array, ``None`` as NaN (numpy converts in one pass)."""
    import numpy as np

    return np.asarray(values, dtype=np.float64)
