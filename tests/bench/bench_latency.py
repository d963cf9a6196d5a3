"""Cost of measuring one NAS-Bench-201 network's latency at the default settings.

Run:  python tests/bench/bench_latency.py [--cells 10 --threads 1]

The target (issue 13): under 1 s per architecture. For each of ``--cells`` uniformly sampled
cells the script builds the benchmark network (C=16, N=5, 32x32x3 input, 10 classes) and
measures it exactly as an evaluator with ``latency = true`` and default settings does
(:func:`nasbench.latency.latency_metrics`: batch 1 and batch 8, one warm-up pass, median of 5),
and prints the wall time of each measurement (build excluded, as in the evaluators, where the
network exists already), with the latencies found. Timings on a shared machine are upper
bounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
from nasbench.spaces.nb201 import Nb201Space

from nasbench.hardware import describe_machine
from nasbench.latency import LatencyParams, latency_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space = Nb201Space()
    params = LatencyParams(latency=True)
    rng = np.random.default_rng(0)
    seconds, b1, b8 = [], [], []
    for _ in range(args.cells):
        arch = space.sample(rng)
        network = space.build(arch, input_shape=(3, 32, 32), num_classes=10)
        t0 = time.perf_counter()
        values, _ = latency_metrics(network, (3, 32, 32), params)
        seconds.append(time.perf_counter() - t0)
        b1.append(values["latency_ms"])
        b8.append(values[f"latency_ms_b{params.latency_batch}"])
    print(json.dumps({
        "machine": describe_machine(),
        "settings": {"batch": params.latency_batch, "runs": params.latency_runs,
                     "warmup": params.latency_warmup, "threads": args.threads},
        "seconds_per_network": {"median": statistics.median(seconds), "max": max(seconds)},
        "latency_ms_b1": {"median": statistics.median(b1), "min": min(b1), "max": max(b1)},
        "latency_ms_b8": {"median": statistics.median(b8), "min": min(b8), "max": max(b8)},
    }, indent=2))


if __name__ == "__main__":
    main()
