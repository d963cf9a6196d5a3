"""The allocator's thresholds: set once in a process that trains, never for table lookups."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nasbench import allocator
from nasbench.protocol import study_from_dict
from nasbench.registry import load_plugins
from nasbench.run.session import Session


def test_thresholds_are_set_once_where_glibc_offers_mallopt(monkeypatch) -> None:
    calls = []
    real = allocator._mallopt
    monkeypatch.setattr(allocator, "_tuned", None)
    monkeypatch.setattr(allocator, "_mallopt", lambda p, v: calls.append((p, v)) or real(p, v))
    linux = sys.platform.startswith("linux")  # glibc here; elsewhere nothing to set
    assert allocator.tune_for_training() is linux and allocator.tune_for_training() is linux
    expected = [(allocator.M_MMAP_THRESHOLD, 32 << 20), (allocator.M_TRIM_THRESHOLD, 64 << 20)]
    assert calls == (expected if linux else expected[:1])  # once, not again


@pytest.mark.parametrize(("evaluator", "tuned"), [
    ({"name": "tabular", "dataset": "cifar10", "search_metric": "valid_12ep"}, False),
    ({"name": "lightning", "dataset": "digits", "search_metric": "valid_acc", "epochs": 1}, True),
])
def test_a_session_that_trains_tunes_its_process(tmp_path: Path, monkeypatch, evaluator,
                                                  tuned) -> None:
    calls = []
    monkeypatch.setattr(allocator, "_tuned", None)
    monkeypatch.setattr(allocator, "_mallopt", lambda p, v: calls.append(p) or True)
    plugins = load_plugins()
    study = study_from_dict({
        "study": {"name": "allocator", "seeds": 1}, "space": {"name": "nb201"},
        "evaluator": evaluator, "budget": {"evaluations": 2},
        "strategies": [{"name": "random_search"}]}, plugins)
    Session(study, plugins, tmp_path).close()
    assert bool(calls) is tuned
