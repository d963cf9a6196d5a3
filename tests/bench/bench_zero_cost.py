"""Throughput of the zero-cost proxies: networks scored per second, per proxy.

Run:  python tests/bench/bench_zero_cost.py
      [--cells 8 --device cpu --threads 1]

Two networks, each scored through the ``zero_cost`` evaluator exactly as a study pays for it
(network built from the evaluation seed, minibatch drawn, proxy computed):

* ``benchmark``: NAS-Bench-201's network (C=16, N=5) on 32x32 inputs with three channels
  (Fashion-MNIST resized, its channel repeated), minibatch 64: the network of the published
  scores;
* ``small``: one cell per stage (C=16, N=1) on scikit-learn's 8x8 digits, minibatch 64: the
  network of nasbench's small training studies.

The same cells (NAS-Bench-Suite-Zero cells spread over the published ranking) are scored by
every proxy alone and by all proxies together (shared passes). Beside each proxy: the mean
seconds NAS-Bench-Suite-Zero recorded for that proxy on the same cells (CIFAR-10, their
hardware; the file says no more), as the baseline.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from nasbench.evaluators.zero_cost import PROXIES, ZeroCostEvaluator, ZeroCostParams
from nasbench.spaces.nb201 import Nb201Space

from nasbench.api import EvaluatorContext, Trial
from nasbench.data import default_data_dir
from nasbench.data.records import suite_zero_records
from nasbench.params import build_params
from nasbench.registry import load_plugins
from nasbench.zero_cost_validation import published_cells, spread_subset

NETWORKS: dict[str, dict[str, Any]] = {
    "benchmark": {"dataset": "fashion_mnist", "size": {"C": 16, "N": 5}, "image_size": 32,
                  "channels": 3, "train_samples": 2000, "valid_samples": 16,
                  "test_samples": 16},
    "small": {"dataset": "digits", "size": {"C": 16, "N": 1}},
}
PUBLISHED_NAMES = {"jacob_cov": "jacov"}


def evaluator(name: str, proxies: list[str], device: str, threads: int,
              data_dir: Path | None) -> ZeroCostEvaluator:
    """A set-up zero_cost evaluator for network ``name`` computing ``proxies``."""
    config = dict(NETWORKS[name])
    dataset = config.pop("dataset")
    params = build_params(ZeroCostParams, {**config, "proxies": proxies, "device": device,
                                           "threads": threads}, "evaluator")
    ev = ZeroCostEvaluator(params)
    ev.bind_plugins(load_plugins())
    metric = f"{dataset}/{proxies[0]}"
    ev.setup(Nb201Space(), EvaluatorContext(dataset, metric, (metric,), data_dir=data_dir))
    return ev


def rate(ev: ZeroCostEvaluator, archs: list[tuple[int, ...]]) -> tuple[float, float]:
    """Networks per second and peak resident memory growth (MiB) over ``archs``."""
    space = Nb201Space()
    ev.evaluate(space, Trial(archs[0]), seed=0)  # warm-up: first-call allocations
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t = time.perf_counter()
    for i, arch in enumerate(archs):
        ev.evaluate(space, Trial(arch), seed=i)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return len(archs) / (time.perf_counter() - t), _peak_mib()


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def published_seconds(data_dir: Path | None, cells: list[str]) -> dict[str, float]:
    """Mean seconds per cell NAS-Bench-Suite-Zero recorded for each proxy on ``cells``."""
    from nasbench.results.scoring_sources import zc201_to_nb201

    records = suite_zero_records(data_dir)
    by_arch = {zc201_to_nb201(k): r for k, r in records["cifar10"].items()}
    out = {}
    for proxy in PROXIES:
        name = PUBLISHED_NAMES.get(proxy, proxy)
        times = [by_arch[c][name]["time"] for c in cells if name in by_arch[c]]
        out[proxy] = float(np.mean(times))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=8, help="cells scored per measurement")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--networks", default="benchmark,small")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data_dir = default_data_dir()
    space = Nb201Space()
    cells = spread_subset(published_cells(data_dir), args.cells + 1)[1:]  # skip the dead cell
    archs = [space.from_string(c) for c in cells]
    baseline = published_seconds(data_dir, cells)
    device = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor()
    print(f"zero-cost proxies: {len(archs)} NAS-Bench-201 cells per measurement, device "
          f"{args.device} ({device or platform.machine()}), {args.threads} torch thread(s), "
          f"torch {torch.__version__}")
    for network in args.networks.split(","):
        print(f"\n{network} network: {NETWORKS[network]}")
        print(f"{'proxy':<12} {'networks/s':>11} {'s/network':>10} {'peak RSS MiB':>13} "
              f"{'published s':>12}")
        for proxy in [*PROXIES, "all"]:
            names = list(PROXIES) if proxy == "all" else [proxy]
            ev = evaluator(network, names, args.device, args.threads, data_dir)
            per_second, peak = rate(ev, archs)
            ev.close()
            published = (f"{baseline[proxy]:.3f}" if network == "benchmark" and proxy != "all"
                         else "")
            print(f"{proxy:<12} {per_second:>11.2f} {1 / per_second:>10.3f} {peak:>13.0f} "
                  f"{published:>12}", flush=True)


if __name__ == "__main__":
    main()
