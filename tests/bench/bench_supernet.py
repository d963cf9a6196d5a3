"""Time per training step and peak memory: a stand-alone NAS-Bench-201 network against the
supernet trained one path at a time (ENAS, RSWS) and through its relaxation (DARTS, first and
second order).

Prints, side by side, for one mid-size cell (:func:`median_cell`):

* ``standalone``: the stand-alone network of the cell, one SGD step (forward, backward,
  optimiser), as the ``lightning`` evaluator trains it;
* ``single path (cell)``: the supernet's step on that cell's path, through the supernet handle;
* ``single path (uniform)``: the supernet's step on a uniformly drawn path at every step, as
  random search with weight sharing trains it (ENAS draws from its controller instead);
* ``darts 1st order``: one architecture step (gradient at the current weights) and one weight
  step through the relaxation;
* ``darts 2nd order``: the same with the unrolled architecture gradient.

Every way runs in its own process (one torch thread) on real Fashion-MNIST minibatches (or
digits, ``--dataset digits``), so that the peak memory it reports is its own: the peak
resident set size while it steps (reset before the first step) minus the resident set size
just before it, i.e. what training adds to the model and data in memory. Also printed: the size of a
supernet handle's checkpoint and the time to pickle it. Targets on the reference machine:
single path within 1.5x of the stand-alone step, DARTS first order within 8x.

Run on an otherwise idle machine, from the repository root::

    python tests/bench/bench_supernet.py
    python tests/bench/bench_supernet.py --C 16 --N 5 --image-size 32
"""

from __future__ import annotations

import argparse
import pickle
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

WAYS = ("standalone", "single path (cell)", "single path (uniform)", "darts 1st order",
        "darts 2nd order")


def median_cell() -> tuple[int, ...]:
    """The mid-size cell: median FLOPs among the 4,096 cells without ``none`` edges (the
    first in enumeration order among ties). Over all 15,625 cells the median is a cell whose
    first two nodes are zero, hardly a network.

    A cell's FLOPs are the empty cell's plus what each edge's operation adds, which does not
    depend on the edge; the increments are measured on real networks.
    """
    from nasbench.spaces.nb201 import OPS, Nb201Space

    from nasbench.netstats import count_flops

    space = Nb201Space()
    shape = (3, 32, 32)

    def flops(arch: tuple[int, ...]) -> int:
        return count_flops(space.build(arch, input_shape=shape, num_classes=10), shape)

    none = OPS.index("none")
    empty = flops((none,) * 6)
    added = [flops((op,) + (none,) * 5) - empty for op in range(len(OPS))]
    connected = [a for a in space.enumerate() if none not in a]
    cells = sorted(connected, key=lambda a: (sum(added[op] for op in a), a))
    middle = sum(added[op] for op in cells[len(cells) // 2])
    return next(a for a in connected if sum(added[op] for op in a) == middle)


def _status_mb(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    raise KeyError(field)


def _reset_peak() -> bool:
    """Reset the process's peak RSS (Linux >= 4.0), so that ``VmHWM`` then measures the peak
    of what follows; ``False`` where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _run(way: str, args: argparse.Namespace, cell: tuple[int, ...]) -> dict[str, Any]:
    import numpy as np
    import torch
    from nasbench.spaces.nb201 import Nb201Space

    from nasbench.testing.supernet import supernet_contexts
    from nasbench.training.optim import make_optimizer, recipe_loss
    from nasbench.training.recipe import TrainingRecipe

    torch.set_num_threads(1)
    space = Nb201Space()
    size = {"C": args.C, "N": args.N}
    image_size = None if args.image_size in (None, 0) else args.image_size
    recipe = TrainingRecipe(batch_size=args.batch, lr=0.025, momentum=0.9, nesterov=False,
                            weight_decay=3e-4, grad_clip=5.0)
    samples = "all" if args.train_samples == "all" else int(args.train_samples)
    handle = supernet_contexts(space, args.dataset, size=size, image_size=image_size,
                               train_samples=samples)().supernet
    handle.configure(recipe, args.steps + args.warmup)
    rng = np.random.default_rng(0)
    alpha = [(1e-3 * torch.randn(*s)).requires_grad_() for s in space.relaxation_shapes()]
    alpha_opt = torch.optim.Adam(alpha, lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    if way == "standalone":
        torch.manual_seed(0)
        x0, _ = handle.batch("w", args.batch)
        net = space.build(cell, input_shape=tuple(x0.shape[1:]), num_classes=10, **size)
        optimizer, scheduler = make_optimizer(net.parameters(), recipe, args.steps)
        net.train()

        def step() -> None:
            x, y = handle.batch("w", args.batch)
            loss = recipe_loss(recipe, net(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), recipe.grad_clip)
            optimizer.step()
            scheduler.step()
    elif way.startswith("single path"):
        def step() -> None:
            arch = cell if way.endswith("(cell)") else space.sample(rng)
            handle.train_step(handle.batch("w", args.batch), arch=arch)
    else:
        order = 1 if "1st" in way else 2

        def step() -> None:
            w_batch = handle.batch("w", args.batch)
            alpha_opt.zero_grad(set_to_none=True)
            handle.alpha_gradient(alpha, handle.batch("alpha", args.batch), w_batch=w_batch,
                                  order=order)
            alpha_opt.step()
            handle.train_step(w_batch, alpha=alpha)

    before = _status_mb("VmRSS")
    if not _reset_peak():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    out = {"ms": 1000 * statistics.median(times), "peak_mb": _status_mb("VmHWM") - before}
    if way == "single path (cell)":
        t0 = time.perf_counter()
        blob = pickle.dumps(handle.state_dict(), protocol=pickle.HIGHEST_PROTOCOL)
        out["checkpoint_mb"] = len(blob) / 2**20
        out["checkpoint_ms"] = 1000 * (time.perf_counter() - t0)
        out["params"] = sum(p.numel() for p in handle.model.parameters())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--image-size", type=int, default=0,
                        help="resize images to this side (0: keep the dataset's)")
    parser.add_argument("--train-samples", default="4096",
                        help="training examples held in memory ('all' for small datasets)")
    parser.add_argument("--C", type=int, default=16)
    parser.add_argument("--N", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    cell = median_cell()
    from nasbench.spaces.nb201 import Nb201Space

    print(f"cell of median FLOPs: {Nb201Space().to_string(cell)}")
    print(f"dataset {args.dataset}, image size {args.image_size or 'native'}, C={args.C}, "
          f"N={args.N}, batch {args.batch}, {args.steps} timed steps after {args.warmup}, "
          "one torch thread, one process per way\n")
    results = {}
    ctx = get_context("spawn")
    for way in WAYS:
        with ProcessPoolExecutor(1, mp_context=ctx) as pool:
            results[way] = pool.submit(_run, way, args, cell).result()
    base = results["standalone"]["ms"]
    print(f"{'way':<24}{'ms/step':>10}{'x standalone':>14}{'peak MB':>10}   target")
    targets = {"single path (cell)": 1.5, "single path (uniform)": 1.5, "darts 1st order": 8.0}
    for way in WAYS:
        r = results[way]
        target = targets.get(way)
        note = "" if target is None else (f"<= {target:g}x: "
                                          f"{'met' if r['ms'] / base <= target else 'MISSED'}")
        print(f"{way:<24}{r['ms']:>10.1f}{r['ms'] / base:>14.2f}{r['peak_mb']:>10.1f}   {note}")
    cp = results["single path (cell)"]
    print(f"\nsupernet: {cp['params']:,} parameters; handle checkpoint {cp['checkpoint_mb']:.1f} MB"
          f" pickled in {cp['checkpoint_ms']:.0f} ms")


if __name__ == "__main__":
    main()
