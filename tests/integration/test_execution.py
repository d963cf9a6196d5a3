"""Execution on Dask: the same results in-process, on a LocalCluster and on an external
cluster (a real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1), and what
happens on each fault."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from nasbench.protocol import load_study
from nasbench.registry import load_plugins, make_plugin_manager
from nasbench.run import run_study
from nasbench.store import Layout, StudyLog
from tests.conftest import ROOT
from tests.integration.dask_plugins import ExecutionPlugins

MEASURED = ["wall_time"]

STUDY = """
[study]
name = "exec"
seeds = {seeds}
[space]
name = "nb201"
[evaluator]
name = "{evaluator}"
dataset = "synthetic"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
[budget]
evaluations = {evals}
[final]
repeats = 2
[[strategies]]
name = "random_search"
[[strategies]]
name = "aging_evolution"
population_size = 10
sample_size = 3
"""


def _plugins():
    return load_plugins(make_plugin_manager(plugins=[ExecutionPlugins()]))


def _study(tmp_path: Path, name: str = "s", *, seeds: int = 3, evals: int = 40,
           evaluator: str = "synthetic", extra: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(STUDY.format(seeds=seeds, evals=evals, evaluator=evaluator) + extra)
    return path


def _run(path: Path, out: Path, **kw):
    plugins = _plugins()
    return run_study(load_study(path, plugins), plugins, out, progress=False, **kw)


def _tables(out: Path) -> list[pd.DataFrame]:
    return [pd.read_parquet(out / name).drop(columns=MEASURED)
            for name in ("trials.parquet", "runs.parquet", "final.parquet")]


def _assert_same(a: Path, b: Path) -> None:
    for x, y in zip(_tables(a), _tables(b), strict=True):
        pd.testing.assert_frame_equal(x, y)


def _wait_for(condition, what: str, alive=lambda: True, limit: float = 60.0) -> None:
    """Poll ``condition`` (an event in the results directory or the cluster)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert alive(), f"gave up waiting for {what}: the process ended"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


# -- an external cluster --------------------------------------------------------------------------
@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]
    env: dict[str, str]

    def start_worker(self) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", self.address,
             "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.workers.append(proc)
        return proc

    def n_workers(self) -> int:
        from distributed import Client

        with Client(self.address, timeout="10s") as client:
            return len(client.scheduler_info()["workers"])

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout="10s") as client:
            client.wait_for_workers(n, timeout=60)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A ``dask scheduler`` on a free port of 127.0.0.1 and two ``dask worker`` processes,
    shared by this module's tests (a test that kills a worker starts a new one)."""
    tmp_path = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
        "PYTHONPATH", "")])}
    info = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(info.exists, "the scheduler's address", lambda: scheduler.poll() is None)
    address = json.loads(info.read_text())["address"]
    c = Cluster(address, scheduler, [], env)
    try:
        c.start_worker()
        c.start_worker()
        c.wait_for_workers(2)
        yield c
    finally:
        for proc in [*c.workers, scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*c.workers, scheduler]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _logged(out: Path) -> int:
    return sum(rec[0] != "done" for _, rec in StudyLog(Layout(out).study_log).scan())


# -- the tests ------------------------------------------------------------------------------------
def test_in_process_local_cluster_and_external_cluster_give_identical_results(
        tmp_path: Path, cluster: Cluster) -> None:
    path = _study(tmp_path)
    _run(path, tmp_path / "here")
    _run(path, tmp_path / "local", workers=2)
    _run(path, tmp_path / "external", scheduler=cluster.address)
    _assert_same(tmp_path / "here", tmp_path / "local")
    _assert_same(tmp_path / "here", tmp_path / "external")
    trials = pd.read_parquet(tmp_path / "external" / "trials.parquet")
    assert len(trials) >= 2 * 3 * 40 and not trials.duplicated(["run_id", "trial"]).any()
    # each worker took its share of the machine's cores (two single-threaded workers on one
    # host), not the driver's core count
    from distributed import Client

    from nasbench.run import executors

    key = load_study(path, _plugins()).config_hash
    with Client(cluster.address, timeout="10s") as client:
        threads = client.run(lambda: executors._SESSIONS[key].threads)
    assert set(threads.values()) == {max(1, len(os.sched_getaffinity(0)) // 2)}


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
        tmp_path: Path, cluster: Cluster) -> None:
    path = _study(tmp_path, seeds=4, evals=60, evaluator="paced")
    _run(path, tmp_path / "whole")
    out = tmp_path / "killed"
    errors: list[BaseException] = []

    def drive() -> None:
        try:
            _run(path, out, scheduler=cluster.address)
        except BaseException as exc:
            errors.append(exc)

    driver = threading.Thread(target=drive)
    driver.start()
    _wait_for(lambda: _logged(out) >= 60, "60 trials logged", driver.is_alive)
    victim = next(w for w in cluster.workers if w.poll() is None)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not Layout(out).runs_table.exists(), "the study ended before the kill"
    driver.join(timeout=120)
    cluster.start_worker()
    cluster.wait_for_workers(2)
    assert not driver.is_alive() and not errors, errors
    _assert_same(tmp_path / "whole", out)


def test_a_gpu_evaluator_asks_dask_for_a_gpu_and_is_refused_where_none_is_offered(
        tmp_path: Path, cluster: Cluster) -> None:
    from nasbench.errors import UserError

    path = _study(tmp_path, seeds=1, evals=5, evaluator="gpu_synthetic")
    with pytest.raises(UserError, match="no Dask worker offers the resource GPU"):
        _run(path, tmp_path / "s", scheduler=cluster.address)


def test_a_killed_driver_resumes_against_the_same_cluster(
        tmp_path: Path, cluster: Cluster) -> None:
    path = _study(tmp_path, seeds=4, evals=60, evaluator="paced")
    _run(path, tmp_path / "whole")
    out = tmp_path / "killed"
    script = ("import sys; from nasbench import registry; from nasbench.cli import main; "
              "from tests.integration.dask_plugins import ExecutionPlugins; "
              "make = registry.make_plugin_manager; "
              "registry.make_plugin_manager = lambda **kw: make(plugins=[ExecutionPlugins()]); "
              "sys.exit(main(sys.argv[1:]))")
    cmd = [sys.executable, "-c", script, "run", str(path), "--out", str(out), "--quiet",
           "--scheduler", cluster.address]
    proc = subprocess.Popen(cmd, env=cluster.env)
    _wait_for(lambda: _logged(out) >= 60, "60 trials logged", lambda: proc.poll() is None)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not Layout(out).runs_table.exists()
    done = subprocess.run([*cmd, "--resume"], env=cluster.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    _assert_same(tmp_path / "whole", out)


FAULTY = """
[study]
name = "faulty"
seeds = [{seed}]
[space]
name = "nb201"
[evaluator]
name = "{evaluator}"
dataset = "synthetic"
search_metric = "valid_acc"
report_metrics = ["test_acc"]
[budget]
evaluations = {evals}
{budget}
[[strategies]]
name = "random_search"
"""


def _faulty(tmp_path: Path, evaluator: str, budget: str, evals: int = 12,
            seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = tmp_path / f"{evaluator}.toml"
    path.write_text(FAULTY.format(evaluator=evaluator, budget=budget, evals=evals, seed=seed))
    _run(path, tmp_path / evaluator)
    return (pd.read_parquet(tmp_path / evaluator / "trials.parquet"),
            pd.read_parquet(tmp_path / evaluator / "runs.parquet"))


def test_a_process_dying_inside_an_evaluation_fails_the_trial_after_its_retries(
        tmp_path: Path) -> None:
    trials, runs = _faulty(tmp_path, "dying", "retries = 1", seed=3)
    died = trials[trials["status"] == "failed"]
    assert len(died) > 0, "no architecture of this seed hits the dying evaluator"
    assert died["reason"].str.contains(r"died \(SIGABRT, SIGABRT\) in 2 attempt").all()
    assert len(trials) == 12 and (runs["status"] == "ok").all()


def test_an_evaluation_past_trial_timeout_is_stopped_and_recorded_failed(tmp_path: Path) -> None:
    trials, _ = _faulty(tmp_path, "slow", "trial_timeout = 1", seed=3)
    stopped = trials[trials["status"] == "failed"]
    assert len(stopped) > 0, "no architecture of this seed hits the slow evaluator"
    assert stopped["reason"].str.contains("ran past trial_timeout").all()
    assert len(trials) == 12
