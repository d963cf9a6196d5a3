"""The session's evaluations: a pure evaluator's answer to an equal trial is handed out again,
anything else is evaluated every time, and a failure is never remembered."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasbench.api import Trial
from nasbench.protocol import study_from_dict
from nasbench.registry import load_plugins
from nasbench.run.session import Session


def _session(tmp_path: Path) -> Session:
    plugins = load_plugins()
    study = study_from_dict({
        "study": {"name": "session", "seeds": 1},
        "space": {"name": "nb201"},
        "evaluator": {"name": "tabular", "dataset": "cifar10", "search_metric": "valid_12ep",
                      "report_metrics": ["test_200ep"]},
        "budget": {"evaluations": 10},
        "strategies": [{"name": "random_search"}],
    }, plugins)
    return Session(study, plugins, tmp_path)


def test_a_pure_evaluator_is_asked_once_per_trial(tmp_path: Path) -> None:
    session = _session(tmp_path)
    assert session.evaluator.pure
    calls = []
    evaluate = session.evaluator.evaluate

    def counting(space, trial, **kw):
        calls.append(trial.arch)
        return evaluate(space, trial, **kw)

    session.evaluator.evaluate = counting  # type: ignore[method-assign]
    arch = session.space.sample(np.random.default_rng(0))
    first, _ = session.evaluate(Trial(arch), 0)
    again, wall = session.evaluate(Trial(arch), 0)
    assert again is first and wall == 0.0 and calls == [arch]
    assert first.status == "ok" and first.values[0] == evaluate(
        session.space, Trial(arch), seed=0).metrics["cifar10/valid_12ep"]
    # another fidelity or seed is another trial
    session.evaluate(Trial(arch, fidelity=200.0), 0)
    session.evaluate(Trial(arch), 1)
    assert len(calls) == 3


def test_failures_and_impure_evaluators_are_evaluated_every_time(tmp_path: Path,
                                                                 monkeypatch) -> None:
    session = _session(tmp_path)
    arch = session.space.sample(np.random.default_rng(1))
    outcomes = iter([RuntimeError("out of memory"), None])
    evaluate = session.evaluator.evaluate

    def flaky(space, trial, **kw):
        error = next(outcomes)
        if error is not None:
            raise error
        return evaluate(space, trial, **kw)

    session.evaluator.evaluate = flaky  # type: ignore[method-assign]
    failed, _ = session.evaluate(Trial(arch), 0)
    assert failed.status == "failed" and "out of memory" in failed.reason
    assert session.evaluate(Trial(arch), 0)[0].status == "ok"  # asked again, not remembered

    monkeypatch.setattr(type(session.evaluator), "pure", False)
    impure = _session(tmp_path)
    a, _ = impure.evaluate(Trial(arch), 0)
    b, _ = impure.evaluate(Trial(arch), 0)
    assert a is not b and a == b
