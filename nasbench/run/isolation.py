"""Evaluations in a child process, for studies that set ``[budget] trial_timeout`` or
``[budget] retries``.

The child holds its own session (space and evaluators) and evaluates one trial at a time. An
evaluation that runs past ``trial_timeout`` seconds is stopped (the child is killed and
replaced) and recorded ``failed``; a child that dies inside an evaluation (an abort, a
segmentation fault, the kernel's out-of-memory killer) is replaced and the evaluation tried
again, up to ``retries`` more times, then recorded ``failed``. Never a hang, and the run goes
on. The child talks to its parent over a private socket pair.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasbench.api import Trial
    from nasbench.protocol import Study
    from nasbench.registry import Plugins
    from nasbench.run.records import Evaluation

FD_VARIABLE = "NASBENCH_EVALUATION_FD"
_CHILD = "from nasbench.run.isolation import child; child()"


def extra_plugins(plugins: Plugins) -> list[object]:
    """Plugin objects registered directly (not through entry points), which other processes
    (Dask workers, evaluation children) must register too."""
    from_dists = {id(p) for p, _ in plugins.manager.list_plugin_distinfo()}
    return [p for p in plugins.manager.get_plugins() if id(p) not in from_dists]


def _signal_name(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


class IsolatedEvaluations:
    """Evaluates trials in a child process, with a time limit and retries."""

    def __init__(self, study: Study, plugins: Plugins, cache_dir: Path, threads: int,
                 wanted: tuple[str, ...]) -> None:
        self.setup = (study, extra_plugins(plugins), cache_dir, threads)
        self.timeout = study.budget.trial_timeout
        self.retries = study.budget.retries
        self.wanted = wanted
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        from nasbench.numerics import environment

        # the child's kernel libraries load with the study's numerics (before its torch import)
        env = {**os.environ, **environment(self.setup[0].numerics),
               FD_VARIABLE: str(theirs.fileno())}
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self._proc = subprocess.Popen([sys.executable, "-c", _CHILD],
                                      pass_fds=(theirs.fileno(),), env=env)
        theirs.close()
        self._conn = Connection(ours.detach())
        self._conn.send(self.setup)
        while not self._conn.poll(0.05):  # the child's set-up is not timed
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"the evaluation process ended during its set-up "
                    f"({_signal_name(self._proc.returncode)})")
        self._conn.recv()

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def evaluate(self, trial: Trial, eval_seed: int, final: bool) -> tuple[Evaluation, float]:
        from nasbench.run.records import Evaluation

        deaths = []
        for _ in range(1 + self.retries):
            if self._proc is None:
                self._start()
            assert self._conn is not None and self._proc is not None
            t0 = time.perf_counter()
            self._conn.send((trial, eval_seed, final))
            while True:
                waited = time.perf_counter() - t0
                if self.timeout is not None and waited >= self.timeout:
                    self._stop()
                    return self._failed(f"stopped: ran past trial_timeout ({self.timeout:g} s)",
                                        eval_seed), waited
                step = 0.05 if self.timeout is None else min(0.05, self.timeout - waited)
                try:
                    if self._conn.poll(max(step, 0.0)):
                        return self._conn.recv()
                except (EOFError, OSError):
                    pass
                if self._proc.poll() is not None:
                    deaths.append(_signal_name(self._proc.returncode))
                    self._stop()
                    break
        reason = (f"the evaluation process died ({', '.join(deaths)}) in {len(deaths)} "
                  "attempt(s)")
        return Evaluation("failed", reason, (None,) * len(self.wanted), 0.0, eval_seed), 0.0

    def _failed(self, reason: str, eval_seed: int) -> Evaluation:
        from nasbench.run.records import Evaluation

        return Evaluation("failed", reason, (None,) * len(self.wanted), 0.0, eval_seed)

    def close(self) -> None:
        if self._conn is not None and self._proc is not None and self._proc.poll() is None:
            try:
                self._conn.send(None)
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()


def child() -> None:
    """The child's loop: set up a session, then evaluate what the parent sends."""
    from nasbench.registry import load_plugins, make_plugin_manager
    from nasbench.run.session import Session

    conn = Connection(int(os.environ[FD_VARIABLE]))
    study, extra, cache_dir, threads = conn.recv()
    session = Session(study, load_plugins(make_plugin_manager(plugins=extra)), cache_dir,
                      threads, isolate=False)
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except EOFError:
            break
        if message is None:
            break
        trial, seed, final = message
        conn.send(session.evaluate(trial, seed, final=final))
    session.close()

