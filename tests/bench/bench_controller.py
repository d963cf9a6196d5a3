"""Cost of the LSTM controller: sampling, and one policy-gradient step through torch's autograd
against the hand-written numpy step (`strategies/controller_grad.py`), back to back.

Run:  python tests/bench/bench_controller.py [--batch 4] [--repeats 150]

Prints, for the NAS-RL controller (35 units, 2 layers) on NAS-Bench-201 and on the DARTS cell
space, the fastest and the median time of: drawing one architecture; the forward and backward
pass of a batch through autograd (``log_prob_and_entropy`` + ``backward``); the same by hand;
and the optimiser step. The fastest of many repeats is the figure to compare on a shared
machine; the median shows the load.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np


def _time(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * min(times), 1000 * float(np.median(times))


def _bench_space(space: object, m: int, repeats: int) -> None:
    """Print the four timings for one space."""
    import torch
    from nasbench.strategies.controller import ControllerConfig, LstmController
    from nasbench.strategies.controller_grad import log_prob_entropy_grad

    w = np.full(m, -1.0 / m, np.float32)
    zero = np.zeros(m, np.float32)
    controller = LstmController(space, np.random.default_rng(0), ControllerConfig())
    archs = [controller.sample() for _ in range(m)]

    def autograd_step() -> None:
        log_prob, _ = controller.log_prob_and_entropy(archs)
        loss = (log_prob * torch.from_numpy(w)).sum()
        for p in controller._optimizer.params:
            p.grad = None
        loss.backward()

    def numpy_step() -> None:
        log_prob_entropy_grad(controller, archs, w, zero)

    _, _, grads = log_prob_entropy_grad(controller, archs, w, zero)
    ordered = [grads.start, *(g for cell in grads.cells for g in cell)]
    for head in controller._heads:
        ordered.extend(grads.heads.get(head, [None, None, None]))
    rows = [
        ("sample one architecture", controller._sample_sequence),
        ("forward + backward, autograd", autograd_step),
        ("forward + backward, numpy", numpy_step),
        ("Adam step (numpy)", lambda: controller._optimizer.step(ordered)),
    ]
    print(f"\n{space.name} ({len(archs[0])} decisions)")
    for label, fn in rows:
        fastest, median = _time(fn, repeats)
        print(f"  {label:<32} {fastest:7.3f} / {median:7.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=4, help="architectures per step (m)")
    ap.add_argument("--repeats", type=int, default=150)
    args = ap.parse_args()

    import torch

    from nasbench.registry import load_plugins

    torch.set_num_threads(1)
    plugins = load_plugins()
    print(f"batch m = {args.batch}; fastest / median of {args.repeats} repeats, ms")
    for name in ("nb201", "darts"):
        _bench_space(plugins.spaces.get(name)(), args.batch, args.repeats)


if __name__ == "__main__":
    main()
