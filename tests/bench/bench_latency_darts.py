"""Time of a plain first-order DARTS step against a latency-aware one (FBNet / ProxylessNAS
expected latency from a per-operation lookup table), on the same supernet and minibatches.

Two DARTS strategies are set up on identical NAS-Bench-201 supernets (same seed) over the same
data; at every round both take one full step (architecture gradient, the latency term when on,
Adam on alpha, SGD on the weights) on the same pair of minibatches, in alternating order, so
that load on the machine falls on both alike. Printed: the median step time of each, their
ratio (target: latency-aware within 1.1x of plain), and the time of the latency term alone.

The lookup table is measured first, at the supernet's size and input shape. One torch thread.
From the repository root::

    python tests/bench/bench_latency_darts.py
    python tests/bench/bench_latency_darts.py --dataset fashion_mnist --C 16 --N 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--C", type=int, default=16)
    parser.add_argument("--N", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--form", default="add", choices=["add", "mul_log"])
    args = parser.parse_args()

    import numpy as np
    import torch
    from nasbench.spaces.nb201 import Nb201Space
    from nasbench.strategies.darts import Darts, DartsParams

    from nasbench.latency_table import build_table
    from nasbench.registry import load_plugins
    from nasbench.testing.supernet import supernet_contexts

    torch.set_num_threads(1)
    space = Nb201Space()
    size = {"C": args.C, "N": args.N}
    dataset = load_plugins().datasets.get(args.dataset)()
    make_context = supernet_contexts(space, args.dataset, size=size,
                                     train_samples=4 * args.batch)
    shape = tuple(make_context().supernet.input_shape)
    t0 = time.perf_counter()
    table = build_table(space, size=size, input_shape=shape, runs=5, warmup=1, references=2)
    print(f"latency table of nb201 C={args.C} N={args.N} on {dataset.name} {shape}: "
          f"{time.perf_counter() - t0:.1f} s to measure")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.json"
        table.save(path)
        common = {"epochs": 1, "batch_size": args.batch}
        runs = {
            "plain": DartsParams(**common),
            "latency": DartsParams(**common, latency_weight=0.6 if args.form == "mul_log"
                                   else 0.1, latency_form=args.form, latency_table=str(path)),
        }
        strategies = {}
        for name, params in runs.items():
            darts = Darts(params)
            darts.setup(space, np.random.default_rng(0), make_context())
            strategies[name] = darts
        handle = strategies["plain"].supernet
        times: dict[str, list[float]] = {name: [] for name in runs}
        for step in range(args.steps + 3):
            w_batch = handle.batch("w", args.batch)
            alpha_batch = handle.batch("alpha", args.batch)
            order = list(runs) if step % 2 == 0 else list(reversed(runs))
            for name in order:
                start = time.perf_counter()
                strategies[name].step_on(w_batch, alpha_batch)
                if step >= 3:  # the first steps warm up
                    times[name].append(time.perf_counter() - start)
        term = strategies["latency"].latency_loss
        alpha = strategies["latency"].alpha
        grads = [torch.zeros_like(a) for a in alpha]
        start = time.perf_counter()
        for _ in range(200):
            term.combine(alpha, 1.0, grads)
        term_ms = (time.perf_counter() - start) / 200 * 1e3
    plain = statistics.median(times["plain"]) * 1e3
    aware = statistics.median(times["latency"]) * 1e3
    print(f"supernet nb201 C={args.C} N={args.N}, batch {args.batch}, {args.steps} steps each, "
          f"one thread, form {args.form}")
    print(f"  plain first-order DARTS step   {plain:8.2f} ms (median)")
    print(f"  latency-aware DARTS step       {aware:8.2f} ms (median)")
    print(f"  ratio latency-aware / plain    {aware / plain:8.3f}  (target <= 1.1)")
    print(f"  the latency term alone         {term_ms:8.3f} ms")


if __name__ == "__main__":
    main()
