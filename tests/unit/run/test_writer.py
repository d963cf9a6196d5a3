"""The driver's writer keeps the first copy of every trial when runs hand over batches whose
boundaries differ (a run re-executed after its worker died), and batches survive the trip
from a worker only when they are what they claim to be."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from nasbench.spaces.nb201 import Nb201Space

from nasbench.protocol import Study, study_from_dict
from nasbench.registry import load_plugins
from nasbench.run.plan import RunSpec
from nasbench.run.records import (
    EncodedBatch,
    EncodedTrials,
    Names,
    TrialBatch,
    TrialRecord,
    table_bytes,
    table_from_bytes,
)
from nasbench.run.tables import trial_table
from nasbench.run.writer import Writer
from nasbench.store import Layout, StudyLog, encode_frames


def _trial(i: int, wall: float) -> TrialRecord:
    arch = tuple((i + k) % 5 for k in range(6))
    return TrialRecord(i, arch, None, "ok", "", False, 1.0, 0.0, float(i + 1), 0, arch, wall,
                       (50.0 + i, 40.0 + i), {})


def _batch(start: int, stop: int, wall: float, names: Names) -> TrialBatch:
    return TrialBatch.of([_trial(i, wall) for i in range(start, stop)]).named(names)


def test_overlapping_and_repeated_batches_are_logged_once_in_order(tmp_path: Path) -> None:
    names = Names(Nb201Space())
    finished: list[tuple[str, TrialBatch, dict]] = []
    writer = Writer(tmp_path, on_finished=lambda rid, t, f, s: finished.append((rid, t, s)))
    writer.start(RunSpec("rs-0", "rs", 0), [], [])
    writer.trials("rs-0", _batch(0, 5, 0.1, names))
    writer.trials("rs-0", _batch(0, 3, 0.2, names))  # the run again, from its start
    writer.trials("rs-0", _batch(3, 8, 0.2, names))  # overlaps: only 5..7 are new
    writer.trials("rs-0", _batch(10, 12, 0.2, names))  # a gap: dropped with a warning
    writer.done("rs-0", {"status": "ok"})
    writer.close()

    rows = [rec for rid, rec in StudyLog(Layout(tmp_path).study_log).scan() if rid == "rs-0"]
    assert [r[1] for r in rows[:-1]] == list(range(8)) and rows[-1][0] == "done"
    assert [r[12] for r in rows[:-1]] == [0.1] * 5 + [0.2] * 3  # the first copy of each
    (_, trials, _), = finished
    assert [r[1] for r in trials.rows] == list(range(8))
    assert trials.names is not None
    assert trials.names[0] == [names.string(r[2]) for r in trials.rows]
    assert trials.names[1] == [names.key(r[2]) for r in trials.rows]


def test_a_batch_from_a_worker_is_checked_before_it_is_trusted() -> None:
    names = Names(Nb201Space())
    good = _batch(4, 7, 0.1, names)
    back = TrialBatch.from_wire(good.to_wire())
    assert back is not None and back.first == 4 and back.rows == good.rows
    first, rows, named = good.to_wire()
    assert TrialBatch.from_wire((first + 1, rows, named)) is None  # indices do not follow
    assert TrialBatch.from_wire((first, rows, (named[0], named[1], []))) is None
    assert TrialBatch.from_wire((first, [("final", *rows[0][1:])], None)) is None
    assert TrialBatch.from_wire("not a batch") is None


def _encoded(start: int, stop: int, wall: float, names: Names, spec: RunSpec) -> EncodedBatch:
    """A batch as a Dask worker encodes it (log frame and table rows made there)."""
    study = _study()
    batch = _batch(start, stop, wall, names)
    return EncodedBatch.encode(spec.run_id, batch, trial_table(names, study, spec, batch))


def _study() -> Study:
    return study_from_dict({
        "study": {"name": "wire", "seeds": 1},
        "space": {"name": "nb201"},
        "evaluator": {"name": "tabular", "dataset": "cifar10", "search_metric": "valid_12ep",
                      "report_metrics": ["test_200ep"]},
        "budget": {"evaluations": 10},
        "strategies": [{"name": "random_search"}],
    }, load_plugins())


def test_encoded_batches_are_logged_once_and_their_table_rows_kept_in_order(
        tmp_path: Path) -> None:
    names = Names(Nb201Space())
    spec = RunSpec("random_search-0", "random_search", 0)
    finished: list[tuple[str, object]] = []
    writer = Writer(tmp_path, on_finished=lambda rid, t, f, s: finished.append((rid, t)))
    writer.start(spec, [_trial(0, 0.05), _trial(1, 0.05)], [])  # logged before a resume
    writer.trials(spec.run_id, _encoded(0, 5, 0.1, names, spec))  # 0, 1 already held
    writer.trials(spec.run_id, _encoded(3, 8, 0.2, names, spec))  # overlaps: 5..7 are new
    writer.log.append(spec.run_id, ("note",))  # buffered between two encoded frames
    writer.trials(spec.run_id, _encoded(8, 9, 0.3, names, spec))
    writer.done(spec.run_id, {"status": "ok"})
    writer.close()

    rows = [rec for rid, rec in StudyLog(Layout(tmp_path).study_log).scan()]
    assert [r[0] for r in rows] == ["trial"] * 6 + ["note", "trial", "done"]
    assert [r[1] for r in rows if r[0] == "trial"] == list(range(2, 9))
    assert [r[12] for r in rows if r[0] == "trial"] == [0.1] * 3 + [0.2] * 3 + [0.3]
    (_, trials), = finished
    assert isinstance(trials, EncodedTrials) and len(trials) == 9
    kinds = [type(b).__name__ for b in trials.batches]
    assert kinds == ["TrialBatch", "EncodedBatch", "EncodedBatch", "EncodedBatch"]
    assert [b.table.num_rows for b in trials.batches[1:]] == [3, 3, 1]
    assert trials.batches[2].table.column("trial").to_pylist() == [5, 6, 7]


def test_an_encoded_batch_from_a_worker_is_checked_before_it_is_trusted() -> None:
    names = Names(Nb201Space())
    spec = RunSpec("random_search-0", "random_search", 0)
    good = _encoded(4, 7, 0.1, names, spec)
    other = _encoded(0, 4, 0.1, names, spec)
    # sent together: one table holds both batches' rows, this one's from row 4
    shared = table_from_bytes(table_bytes(pa.concat_tables([other.table, good.table])))
    back = EncodedBatch.from_wire(good.to_wire(4), shared)
    assert back is not None and (back.first, back.n, back.run_id) == (4, 3, spec.run_id)
    assert back.rows == [r.to_log() for r in (_trial(i, 0.1) for i in range(4, 7))]
    assert back.table.schema == good.table.schema
    assert back.table.to_pandas().equals(good.table.to_pandas())  # NaN fidelities equal
    run_id, first, n, frame, _ = good.to_wire(4)
    assert EncodedBatch.from_wire((run_id, first, n, frame, 5), shared) is None  # past the end
    assert EncodedBatch.from_wire((run_id, first, n, frame, 4), None) is None  # no table
    torn = frame[:-1] + bytes([frame[-1] ^ 1])
    assert EncodedBatch.from_wire((run_id, first, n, torn, 4), shared) is None  # checksum
    assert EncodedBatch.from_wire((run_id, first, n, frame + frame, 4), shared) is None
    assert EncodedBatch.from_wire("not a batch") is None
    assert table_from_bytes(b"not arrow") is None
    baseline = EncodedBatch.from_wire((run_id, first, n, frame, None))
    assert baseline is not None and baseline.table is None


def test_a_log_closed_before_any_flush_writes_what_it_buffered(tmp_path: Path) -> None:
    """A study whose writer never flushed (a short one, interrupted) still has its records
    on disk once the log is closed: closing opens the file if nothing opened it yet."""
    log = StudyLog(tmp_path / "study.log")
    log.append("r", ("trial", 0))
    log.append_frame("r", encode_frames([("run", "r", [("trial", 1)])]))
    log.append("r", ("done", {}))
    log.close()
    assert [rec for _, rec in StudyLog(tmp_path / "study.log").scan()] == [
        ("trial", 0), ("trial", 1), ("done", {})]


def test_a_run_whose_rows_came_encoded_is_tabled_like_one_converted_here(
        tmp_path: Path) -> None:
    """The table sink takes a run's trials as its workers encoded them (a batch that came
    without its table rows is converted from its frame) and writes the rows a run converted
    in the driver would have."""
    import pandas as pd

    from nasbench.run.tables import TableSink
    from nasbench.store import write_json

    names = Names(Nb201Space())
    study = _study()
    spec = RunSpec("random_search-0", "random_search", 0)
    summary = {"status": "ok", "metrics": {"cifar10/test_200ep": 1.0}}
    tables = []
    for encoded in (True, False):
        out = tmp_path / str(encoded)
        out.mkdir()
        write_json(Layout(out).manifest, {})
        sink = TableSink(study, Nb201Space(), out, [spec])
        if encoded:
            rowless = _encoded(0, 4, 0.1, names, spec)
            rowless.table = None
            trials = EncodedTrials([rowless, _encoded(4, 9, 0.1, names, spec)])
        else:
            trials = TrialBatch.of([_trial(i, 0.1) for i in range(9)])
        sink.add(spec.run_id, trials, [], summary)
        sink.close()
        tables.append(pd.read_parquet(Layout(out).trials_table))
    assert list(tables[0]["trial"]) == list(range(9))
    pd.testing.assert_frame_equal(tables[0], tables[1])
