"""Threads per evaluation on an existing Dask cluster: each worker its share of its own
machine's cores."""

from __future__ import annotations

from nasbench.run.executors import host_slots, share_of_cores


def test_workers_share_their_own_hosts_cores() -> None:
    workers = {  # the scheduler's worker information, as client.scheduler_info() gives it
        "tcp://10.0.0.1:4001": {"host": "10.0.0.1", "nthreads": 1},
        "tcp://10.0.0.1:4002": {"host": "10.0.0.1", "nthreads": 1},
        "tcp://10.0.0.1:4003": {"host": "10.0.0.1", "nthreads": 2},
        "tcp://10.0.0.2:4001": {"host": "10.0.0.2", "nthreads": 1},
    }
    slots = host_slots(workers)
    assert slots == {"10.0.0.1": 4, "10.0.0.2": 1}
    # 16 cores each: four evaluations side by side on the first host, one on the second
    assert share_of_cores(16, slots["10.0.0.1"]) == 4
    assert share_of_cores(16, slots["10.0.0.2"]) == 16
    assert share_of_cores(2, 3) == 1  # never below one thread
