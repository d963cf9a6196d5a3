"""Durable results: every path of a results directory, the append-only study log,
checkpoints, and Parquet tables.

Layout of a results directory (:class:`Layout` names every path; nothing else builds one)::

    manifest.json               the resolved config, its hash, seeds, versions, machine
    study.toml                  the config as the user wrote it
    study.log                   every run's records (trials, final evaluations, summary);
                                each frame names its run (results format 2)
    runs/<run_id>.state         a running run's strategy state at some trial (a fast resume;
                                removed when the run ends)
    runs/<run_id>.error.txt     the traceback of a run that ended ``failed``
    cache/                      evaluators' private caches
    trials.parquet, runs.parquet, final.parquet   tables, written in row groups as runs end

Results format 1 kept a ``runs/<run_id>.log`` and ``.final.log`` per run; :func:`upgrade_layout`
(``nasbench upgrade DIR``) converts such a directory.

Only the driver (the ``nasbench run`` process) writes here; workers send their records back.

A log is a sequence of frames, each ``[payload length: u32][CRC-32: u32]
[payload]``; the payload is a pickle of a tuple of plain data (strings, numbers, booleans,
None, lists, tuples, dicts) read back by :class:`_PlainUnpickler`, which refuses to construct
any object, so a log can never run code. Frames are buffered and written together at least
every ``FLUSH_SECONDS``; a process killed at any instant (even with SIGKILL) leaves at worst a
torn last frame, which :meth:`StudyLog.scan` cuts off, saying so. A frame whose checksum fails
in the middle of a log (a damaged disk block) is skipped and named; the intact frames after it
are kept (the reader resynchronises on the next frame whose checksum holds).

Checkpoints are plain data too: an ``.npz`` archive (read with ``allow_pickle=False``) holding
the state's arrays and a JSON document of everything else (:func:`encode_state`). A checkpoint
that is damaged, of another format version, of another run or not a checkpoint at all is
ignored with a one-line warning naming the file; the run then replays from its log.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import pickle
import struct
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLUSH_SECONDS = 0.2
"""Longest time a finished trial may wait in the write buffer."""

CHECKPOINT_FORMAT = "nasbench-checkpoint/2"
"""Tag and version of checkpoint files; any other is ignored (the run replays from its log)."""

_HEADER = struct.Struct("<II")
_MAX_FRAME = 1 << 28


def warn(message: str) -> None:
    """One line on stderr: something in a results directory was ignored, and why."""
    print(f"nasbench: warning: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Layout:
    """Every path of one results directory."""

    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def study_copy(self) -> Path:
        return self.root / "study.toml"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def lock(self) -> Path:
        return self.root / ".driver.lock"

    @property
    def study_log(self) -> Path:
        """The study's one append-only log: every run's records, each frame naming its run."""
        return self.root / "study.log"

    @property
    def trials_table(self) -> Path:
        return self.root / "trials.parquet"

    @property
    def runs_table(self) -> Path:
        return self.root / "runs.parquet"

    @property
    def final_table(self) -> Path:
        return self.root / "final.parquet"

    def legacy_log(self, run_id: str) -> Path:
        """Results format 1: the log of run ``run_id`` (read only by ``nasbench upgrade``)."""
        return self.runs / f"{run_id}.log"

    def legacy_final_log(self, run_id: str) -> Path:
        """Results format 1: the final-protocol log of run ``run_id``."""
        return self.runs / f"{run_id}.final.log"

    def legacy_logs(self) -> list[Path]:
        """The per-run logs of results format 1 found here (none in format 2)."""
        return sorted(self.runs.glob("*.log")) if self.runs.is_dir() else []

    def checkpoint(self, run_id: str) -> Path:
        """The strategy state of run ``run_id`` at some trial."""
        return self.runs / f"{run_id}.state"

    def error(self, run_id: str) -> Path:
        """The traceback of run ``run_id`` when it ended ``failed``."""
        return self.runs / f"{run_id}.error.txt"


# -- run logs ------------------------------------------------------------------------------------
class _PlainUnpickler(pickle.Unpickler):
    """Unpickles builtin containers and scalars only; a log can never run code."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"run logs hold plain data only, not {module}.{name}")


def _loads_plain(data: bytes) -> Any:
    return _PlainUnpickler(io.BytesIO(data)).load()


def encode_frames(payloads: Iterable[Any]) -> bytes:
    """Frames of ``payloads`` (plain data), each with its length and checksum."""
    parts = []
    for payload in payloads:
        body = pickle.dumps(payload, protocol=5)
        parts.append(_HEADER.pack(len(body), zlib.crc32(body)))
        parts.append(body)
    return b"".join(parts)


def frame_is_intact(data: bytes) -> bool:
    """Whether ``data`` is exactly one frame whose length and checksum hold (not decoded)."""
    if len(data) < _HEADER.size:
        return False
    size, crc = _HEADER.unpack_from(data, 0)
    return size <= _MAX_FRAME and len(data) == _HEADER.size + size and \
        zlib.crc32(memoryview(data)[_HEADER.size:]) == crc


def decode_frame(data: bytes) -> Any:
    """The payload of one whole frame (plain data only)."""
    got = _frame_at(data, 0)
    if got is None or got[1] != len(data):
        raise ValueError("not one intact log frame")
    return got[0]


def _frame_at(data: bytes, pos: int) -> tuple[Any, int] | None:
    """The payload of an intact frame at ``pos`` and the position after it, or ``None``."""
    if pos + _HEADER.size > len(data):
        return None
    size, crc = _HEADER.unpack_from(data, pos)
    end = pos + _HEADER.size + size
    if size > _MAX_FRAME or end > len(data):
        return None
    body = data[pos + _HEADER.size : end]
    if zlib.crc32(body) != crc:
        return None
    try:
        return _loads_plain(body), end
    except Exception:
        return None


def _damage(data: bytes, pos: int) -> str:
    """What is wrong with the frame at ``pos``: its checksum, or content that is not plain
    data (refused unread: a planted pickle)."""
    if pos + _HEADER.size <= len(data):
        size, crc = _HEADER.unpack_from(data, pos)
        body = data[pos + _HEADER.size : pos + _HEADER.size + size]
        if len(body) == size and zlib.crc32(body) == crc:
            return "a record that is not plain data (refused, never loaded)"
    return "checksum error"


def read_frames(path: Path) -> tuple[list[Any], int, list[str]]:
    """The intact frames of ``path``, the length of its intact prefix, and what was damaged.

    A frame that fails its checksum is skipped: the reader looks for the next position where
    an intact frame starts. What is left after the last intact frame is a torn tail.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0, []
    out: list[Any] = []
    problems: list[str] = []
    pos = 0
    good = 0
    while pos < len(data):
        got = _frame_at(data, pos)
        if got is not None:
            out.append(got[0])
            pos = good = got[1]
            continue
        what = _damage(data, pos)
        resync = next((p for p in range(pos + 1, len(data) - _HEADER.size + 1)
                       if _frame_at(data, p) is not None), None)
        if resync is None:
            problems.append(f"{path}: {what} at byte {pos}; dropped a torn tail of "
                            f"{len(data) - pos} bytes")
            break
        problems.append(f"{path}: {what} at byte {pos}; skipped {resync - pos} damaged bytes")
        pos = resync
    return out, good, problems


class RunLog:
    """One run's append-only log of records, ending with its summary once the run is done.

    Frames are ``("trial", ...)``/``("final", ...)`` record tuples (see
    :mod:`nasbench.run.records`) and ``("done", summary)``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None
        self._buffer: list[Any] = []

    def read(self, *, repair: bool = False) -> tuple[list[tuple], dict[str, Any] | None]:
        """The intact records and the summary (``None`` while the run is not done).

        Damage is reported in one warning line per problem; with ``repair`` a torn tail is
        cut off the file (only the driver, the sole writer, repairs).
        """
        frames, good, problems = read_frames(self.path)
        for problem in problems:
            warn(problem)
        records: list[tuple] = []
        summary = None
        for frame in frames:
            if not isinstance(frame, tuple) or not frame:
                continue
            if frame[0] == "done" and len(frame) == 2 and isinstance(frame[1], dict):
                summary = frame[1]
            elif isinstance(frame[0], str):
                records.append(frame)
        if repair and problems and good < self.path.stat().st_size:
            with open(self.path, "r+b") as fh:  # a torn tail: nothing intact follows it
                fh.truncate(good)
        return records, summary

    def open(self) -> None:
        """Open for appending (the driver holds every log it writes open)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "ab")  # noqa: SIM115 - held while the run is running

    def append(self, frame: tuple) -> None:
        self._buffer.append(frame)

    def flush(self) -> None:
        """Write buffered frames to the operating system (they then survive a kill)."""
        if self._buffer:
            if self._fh is None:
                self.open()
            self._fh.write(encode_frames(self._buffer))
            self._fh.flush()
            self._buffer = []

    def finish(self, summary: dict[str, Any]) -> None:
        """Flush and append the run's summary: the run is done."""
        self.append(("done", summary))
        self.flush()

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(ValueError):
                self.flush()
            self._fh.close()
            self._fh = None


RESULTS_FORMAT = 2
"""Version of the results layout: 1 wrote a log per run under ``runs/``, 2 one log per study."""

_READ_BLOCK = 1 << 24


def iter_frames(path: Path, problems: list[str], end: list[int]) -> Iterator[Any]:
    """The intact frames of ``path``, read in blocks so that memory stays bounded.

    Damage is described in ``problems`` as it is met (as :func:`read_frames` does);
    ``end[0]`` is the length of the intact prefix once the iterator is exhausted.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        end[:] = [0]
        return
    with fh:
        buf = b""
        base = 0  # file offset of buf[0]
        pos = 0  # offset in buf
        eof = False
        end[:] = [0]

        def more(need: int) -> bool:
            nonlocal buf, base, pos, eof
            while not eof and len(buf) - pos < need:
                chunk = fh.read() if need > 2 * _MAX_FRAME else fh.read(max(_READ_BLOCK, need))
                if not chunk:
                    eof = True
                    break
                buf = buf[pos:] + chunk
                base += pos
                pos = 0
            return len(buf) - pos >= need

        while more(1):
            more(_HEADER.size)
            if len(buf) - pos >= _HEADER.size:
                size, _ = _HEADER.unpack_from(buf, pos)
                if size <= _MAX_FRAME:
                    more(_HEADER.size + size)
            got = _frame_at(buf, pos)
            if got is not None:
                pos = got[1]
                end[:] = [base + pos]
                yield got[0]
                continue
            # damaged: look for the next intact frame in the rest of the file
            more(1 << 62)
            what = _damage(buf, pos)
            resync = next((p for p in range(pos + 1, len(buf) - _HEADER.size + 1)
                           if _frame_at(buf, p) is not None), None)
            if resync is None:
                problems.append(f"{path}: {what} at byte {base + pos}; dropped a torn tail of "
                                f"{len(buf) - pos} bytes")
                return
            problems.append(f"{path}: {what} at byte {base + pos}; skipped {resync - pos} "
                            "damaged bytes")
            pos = resync


class StudyLog:
    """A study's one append-only log (results format 2): every run's records, in frames of
    ``("run", run_id, [record, ...])``; a record is a ``("trial", ...)``/``("final", ...)``
    tuple (see :mod:`nasbench.run.records`) or ``("done", summary)``, the run's last.

    The driver alone appends; each flush writes the frames waiting (one per run with records
    appended here, and the frames Dask workers encoded, one per batch of a run's trials), so a
    frame names its run and a kill tears at most the frames of one flush.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None
        self._pending: list[bytes | tuple[str, list[tuple]]] = []
        self._open: dict[str, list[tuple]] = {}

    def scan(self, *, repair: bool = False) -> Iterator[tuple[str, tuple]]:
        """Every intact ``(run_id, record)`` in the order written, in bounded memory.

        Damage is reported in one warning line per problem; with ``repair`` a torn tail is
        cut off the file once the scan is complete (only the driver, the sole writer, repairs).
        """
        problems: list[str] = []
        end = [0]
        for frame in iter_frames(self.path, problems, end):
            if (isinstance(frame, tuple) and len(frame) == 3 and frame[0] == "run"
                    and isinstance(frame[1], str) and isinstance(frame[2], list)):
                for rec in frame[2]:
                    if isinstance(rec, tuple) and rec and isinstance(rec[0], str):
                        yield frame[1], rec
        for problem in problems:
            warn(problem)
        if repair and problems and self.path.exists() and end[0] < self.path.stat().st_size:
            with open(self.path, "r+b") as fh:  # a torn tail: nothing intact follows it
                fh.truncate(end[0])

    def read_run(self, run_id: str) -> tuple[list[tuple], dict[str, Any] | None]:
        """The intact records of one run and its summary (``None`` while it is not done)."""
        records: list[tuple] = []
        summary = None
        for rid, rec in self.scan():
            if rid != run_id:
                continue
            if rec[0] == "done" and len(rec) == 2 and isinstance(rec[1], dict):
                summary = rec[1]
            else:
                records.append(rec)
        return records, summary

    def append(self, run_id: str, record: tuple) -> None:
        group = self._open.get(run_id)
        if group is None:
            group = self._open[run_id] = []
            self._pending.append((run_id, group))
        group.append(record)

    def append_frame(self, run_id: str, frame: bytes) -> None:
        """Append a frame of ``run_id``'s records encoded elsewhere
        (:class:`~nasbench.run.records.EncodedBatch`); its records come after those
        appended before and before those appended after."""
        self._open.pop(run_id, None)
        self._pending.append(frame)

    def flush(self) -> None:
        """Write buffered records to the operating system (they then survive a kill)."""
        if not self._pending:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "ab")  # noqa: SIM115 - held while the study runs
        self._fh.write(b"".join(
            item if isinstance(item, bytes) else encode_frames([("run", *item)])
            for item in self._pending))
        self._fh.flush()
        self._pending = []
        self._open = {}

    def close(self) -> None:
        """Write what is buffered (opening the log if nothing was written yet), then close."""
        with contextlib.suppress(ValueError):
            self.flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def upgrade_layout(root: Path) -> int:
    """Convert a results directory of format 1 (a log per run) to format 2 (one study log).

    Every run's intact records are written, run by run, to a new ``study.log`` (appended to
    one already there), which replaces the old one atomically before the per-run logs are
    removed; a conversion killed midway leaves the directory as it was, or converted.

    Returns:
        the number of per-run logs converted (0 when there was nothing to do).
    """
    layout = Layout(root)
    legacy = layout.legacy_logs()
    if not legacy:
        return 0
    tmp = layout.study_log.with_name(f".{layout.study_log.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        if layout.study_log.exists():
            with layout.study_log.open("rb") as old:
                while block := old.read(_READ_BLOCK):
                    out.write(block)
        finals = {p for p in legacy if p.name.endswith(".final.log")}
        for path in legacy:
            if path in finals:
                continue
            run_id = path.name.removesuffix(".log")
            records, summary = RunLog(path).read()
            final_records, _ = RunLog(layout.legacy_final_log(run_id)).read()
            rows = [*records, *final_records]
            if summary is not None:
                rows.append(("done", summary))
            if rows:
                out.write(encode_frames([("run", run_id, rows)]))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, layout.study_log)
    for path in legacy:
        path.unlink()
    return len(legacy)


@contextlib.contextmanager
def exclusive(path: Path) -> Any:
    """Hold a POSIX lock on ``path`` (created if needed); yields whether it was obtained.

    The driver holds the results directory's lock, so that two ``nasbench run`` processes
    never write one directory; the kernel releases it when the process dies.
    """
    fh = open(path, "ab")  # noqa: SIM115
    try:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(fh, fcntl.LOCK_UN)
    finally:
        fh.close()


# -- small files ---------------------------------------------------------------------------------
def write_atomic(path: Path, data: bytes, *, sync: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half.

    ``sync`` also survives power loss; without it the file survives the process being killed,
    and a file cut short by a crash of the machine reads as absent (see :func:`read_json`).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json(path: Path, obj: Any, *, sync: bool = False) -> None:
    text = json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n"
    write_atomic(path, text.encode(), sync=sync)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def read_json_or_none(path: Path) -> Any | None:
    """The JSON at ``path``, or ``None`` when it is absent or unreadable."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return None


# -- checkpoints: plain data in an .npz ----------------------------------------------------------
def encode_state(state: Any) -> bytes:
    """``state`` (dicts, lists, tuples, strings, numbers, booleans, None, bytes, numpy arrays
    and torch tensors) as the bytes of an ``.npz`` archive: arrays as arrays, the rest as JSON.

    Raises:
        TypeError: for any other object (a strategy whose state is not plain data).
    """
    import numpy as np

    arrays: dict[str, Any] = {}

    def enc(obj: Any) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if obj == obj and obj not in (float("inf"), float("-inf")) else \
                {"__float__": repr(obj)}
        if isinstance(obj, np.generic):
            return enc(obj.item())
        if isinstance(obj, (bytes, bytearray)):
            key = f"a{len(arrays)}"
            arrays[key] = np.frombuffer(bytes(obj), dtype=np.uint8)
            return {"__bytes__": key}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError("a checkpoint holds no arrays of Python objects")
            key = f"a{len(arrays)}"
            arrays[key] = obj
            return {"__array__": key}
        if type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
            key = f"a{len(arrays)}"
            arrays[key] = obj.detach().cpu().numpy()
            return {"__tensor__": key, "dtype": str(obj.dtype).removeprefix("torch.")}
        if isinstance(obj, tuple):
            return {"__tuple__": [enc(v) for v in obj]}
        if isinstance(obj, list):
            return [enc(v) for v in obj]
        if isinstance(obj, Mapping):
            if all(isinstance(k, str) and not k.startswith("__") for k in obj):
                return {k: enc(v) for k, v in obj.items()}
            return {"__items__": [[enc(k), enc(v)] for k, v in obj.items()]}
        raise TypeError(f"a checkpoint holds plain data only, not {type(obj).__name__}")

    doc = json.dumps(enc(state), allow_nan=False)
    arrays["__json__"] = np.frombuffer(doc.encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def decode_state(data: bytes) -> Any:
    """The state :func:`encode_state` encoded; reads no pickles (``allow_pickle=False``)."""
    import numpy as np

    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    doc = json.loads(bytes(arrays.pop("__json__")).decode())

    def dec(obj: Any) -> Any:
        if isinstance(obj, list):
            return [dec(v) for v in obj]
        if not isinstance(obj, dict):
            return obj
        if "__tuple__" in obj:
            return tuple(dec(v) for v in obj["__tuple__"])
        if "__items__" in obj:
            return {_hashable(dec(k)): dec(v) for k, v in obj["__items__"]}
        if "__array__" in obj:
            return arrays[obj["__array__"]]
        if "__bytes__" in obj:
            return arrays[obj["__bytes__"]].tobytes()
        if "__float__" in obj:
            return float(obj["__float__"])
        if "__tensor__" in obj:
            import torch

            return torch.from_numpy(arrays[obj["__tensor__"]].copy())
        return {k: dec(v) for k, v in obj.items()}

    return dec(doc)


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


def save_checkpoint(path: Path, data: bytes) -> None:
    """Write an encoded checkpoint (see :func:`checkpoint_bytes`) atomically."""
    write_atomic(path, data)


def checkpoint_bytes(run_id: str, state: Mapping[str, Any]) -> bytes:
    """A run's checkpoint (``n_trials``, ``rng``, ``strategy``, ``wall``) as file bytes."""
    return encode_state({"format": CHECKPOINT_FORMAT, "run_id": run_id, **state})


def load_checkpoint(path: Path, run_id: str) -> dict[str, Any] | None:
    """The checkpoint of run ``run_id`` at ``path``; ``None`` when absent, and ``None`` with a
    one-line warning when damaged, foreign, of another version or of another run."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        state = decode_state(data)
    except Exception as exc:
        warn(f"ignored {path}: not a readable checkpoint ({type(exc).__name__}); the run "
             "replays from its log")
        return None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        warn(f"ignored {path}: checkpoint format {found!r}, this version reads "
             f"{CHECKPOINT_FORMAT!r}; the run replays from its log")
        return None
    if state.get("run_id") != run_id or not isinstance(state.get("n_trials"), int):
        warn(f"ignored {path}: not a checkpoint of run {run_id}; the run replays from its log")
        return None
    return state


# -- tables --------------------------------------------------------------------------------------
def write_table(
    path: Path,
    columns: Mapping[str, Sequence[Any]],
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Write columns to a Parquet file atomically; ``metadata`` goes into the schema as JSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(dict(columns))
    if metadata:
        table = table.replace_schema_metadata({"nasbench": json.dumps(metadata, default=str)})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def columns_from_records(
    records: Iterable[Mapping[str, Any]], order: Sequence[str]
) -> dict[str, list[Any]]:
    """Rows -> columns; keys outside ``order`` follow in first-seen order; gaps are None."""
    rows = list(records)
    keys = list(order)
    seen = set(keys)
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                keys.append(k)
    return {k: [r.get(k) for r in rows] for k in keys}
