"""The driver's writer keeps the first copy of every trial when runs hand over batches whose
boundaries differ (a run re-executed after its worker died), and batches survive the trip
from a worker only when they are what they claim to be."""

from __future__ import annotations

from pathlib import Path

from nasbench.spaces.nb201 import Nb201Space

from nasbench.run.plan import RunSpec
from nasbench.run.records import Names, TrialBatch, TrialRecord
from nasbench.run.writer import Writer
from nasbench.store import Layout, StudyLog


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
