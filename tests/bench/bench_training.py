"""Architectures trained per hour: the ``lightning`` evaluator against a naive Lightning
``Trainer.fit`` and a hand-written PyTorch loop.

Run:  python tests/bench/bench_training.py [--archs 8] [--epochs 10]
      python tests/bench/bench_training.py --accelerator auto    # on a machine with a GPU

Every way trains the same NB201 cells (C=16, N=1; sampled with a fixed seed) on the same
``digits`` splits for the same number of epochs with the same recipe (the evaluator's defaults:
batch 64, SGD with Nesterov momentum, per-step cosine schedule, weight decay 5e-4), one torch
thread each, and measures validation and test accuracy at the end:

(a) naive Lightning: the recipe's ``NetworkModule``, logging its training loss every step as
    Lightning's examples do, under a default ``Trainer`` (logger, checkpoint every epoch,
    progress bar, model summary; output to /dev/null) with a ``DataLoader`` over a
    ``TensorDataset`` (``shuffle=True``), then ``Trainer.validate`` and ``Trainer.test``;
(a') quiet Lightning: the same without the per-step log, and with the Trainer's logger,
    checkpoints, progress bar and model summary switched off: the cost of ``Trainer.fit`` and
    the ``DataLoader`` themselves;
(b) a plain PyTorch loop written by hand: tensors in memory, one permutation per epoch, batches
    sliced by index, no Lightning;
(c) ``LightningEvaluator.evaluate``, as the harness calls it (network construction, FLOP and
    parameter counts and the forked random state included).

Each way runs in its own process (so that its peak resident memory and its import time are its
own) and the architectures are interleaved (a, a', b, c for the first, then a', b, c, a, ...),
so that load from elsewhere on the machine falls on every way alike. (b) and (c) draw the same
random numbers in the same order: they must report the same accuracies to the last bit, which shows
that (c) saves time and not work. The figures are printed side by side; targets: (c) at least
2x (a), and within 1.3x of (b).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

WAYS = ("a", "a'", "b", "c")
NAMES = {"a": "(a) naive Lightning Trainer.fit + DataLoader",
         "a'": "(a') the same, quiet Trainer, no per-step log",
         "b": "(b) plain PyTorch loop, tensors in memory",
         "c": "(c) lightning evaluator"}

_STATE: dict[str, Any] = {}


def _setup(way: str, epochs: int, accelerator: str, size: dict[str, int]) -> tuple[float, int]:
    """Load what ``way`` needs in this worker; returns the seconds it took (imports
    included) and the optimisation steps of one epoch."""
    t0 = time.perf_counter()
    import logging
    import sys
    import warnings

    import torch

    warnings.filterwarnings("ignore")
    if way == "a":  # the naive Trainer prints its bar and tables; keep them off the report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.dup2(devnull, sys.stderr.fileno())

    torch.set_num_threads(1)
    from nasbench.api import EvaluatorContext
    from nasbench.params import build_params
    from nasbench.registry import load_plugins

    plugins = load_plugins()
    space = plugins.spaces.get("nb201")()
    cls = plugins.evaluators.get("lightning")
    params = build_params(cls.Params, {"epochs": epochs, "size": size,
                                       "accelerator": accelerator})
    evaluator = cls(params)
    evaluator.bind_plugins(plugins)
    evaluator.setup(space, EvaluatorContext("digits", "digits/valid_acc", ("digits/test_acc",)))
    import pytorch_lightning  # noqa: F401  (it sets its loggers' levels when imported)

    for name in ("pytorch_lightning", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from nasbench.training.loop import steps_per_epoch

    data = evaluator._data
    _STATE.update(space=space, evaluator=evaluator, params=params, data=data)
    return time.perf_counter() - t0, steps_per_epoch(len(data.y["train"]), params.batch_size)


def _train(way: str, arch: tuple[int, ...], seed: int) -> tuple[float, float, float]:
    """Train ``arch`` one way; returns (seconds, validation accuracy, test accuracy)."""
    t0 = time.perf_counter()
    train = {"a": _naive_lightning, "a'": _quiet_lightning, "b": _plain_loop, "c": _evaluator}
    valid, test = train[way](arch, seed)
    return time.perf_counter() - t0, valid, test


def _evaluator(arch: tuple[int, ...], seed: int) -> tuple[float, float]:
    from nasbench.api import Trial

    result = _STATE["evaluator"].evaluate(_STATE["space"], Trial(arch), seed=seed)
    return result.metrics["digits/valid_acc"], result.metrics["digits/test_acc"]


def _plain_loop(arch: tuple[int, ...], seed: int) -> tuple[float, float]:
    import torch
    import torch.nn.functional as F

    space, p, data = _STATE["space"], _STATE["params"], _STATE["data"]
    x, y = data.x["train"], data.y["train"]
    device = x.device
    n, bs = len(y), p.batch_size
    steps = n // bs + (n % bs >= 2)
    total = p.epochs * steps
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        with device:
            net = space.build(arch, input_shape=data.input_shape,
                              num_classes=data.num_classes, **p.size)
        opt = torch.optim.SGD(net.parameters(), lr=p.lr, momentum=p.momentum,
                              weight_decay=p.weight_decay, nesterov=True)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total)))
        gen = torch.Generator(device=device).manual_seed(seed)
        for _ in range(p.epochs):
            net.train()
            order = torch.randperm(n, generator=gen, device=device)
            for i in range(steps):
                idx = order[i * bs : (i + 1) * bs]
                loss = F.cross_entropy(net(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        net.eval()
        with torch.no_grad():
            accs = [100.0 * (net(data.x[s]).argmax(1) == data.y[s]).sum().item()
                    / len(data.y[s]) for s in ("valid", "test")]
    return accs[0], accs[1]


def _naive_lightning(arch: tuple[int, ...], seed: int) -> tuple[float, float]:
    import tempfile

    from nasbench.training.module import NetworkModule

    class LoggingModule(NetworkModule):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            loss = super().training_step(batch, batch_idx)
            self.log("train_loss", loss, prog_bar=True)
            return loss

    with tempfile.TemporaryDirectory() as root:
        return _trainer_fit(arch, seed, LoggingModule, default_root_dir=root)


def _quiet_lightning(arch: tuple[int, ...], seed: int) -> tuple[float, float]:
    from nasbench.training.module import NetworkModule

    return _trainer_fit(arch, seed, NetworkModule, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)


def _trainer_fit(arch: tuple[int, ...], seed: int, module_cls: Any,
                 **trainer_options: Any) -> tuple[float, float]:
    import pytorch_lightning as pl
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    space, p, data = _STATE["space"], _STATE["params"], _STATE["data"]
    torch.manual_seed(seed)
    net = space.build(arch, input_shape=data.input_shape, num_classes=data.num_classes,
                      **p.size)
    loader = DataLoader(TensorDataset(data.x["train"].cpu(), data.y["train"].cpu()),
                        batch_size=p.batch_size, shuffle=True)
    module = module_cls(net, p, epochs=p.epochs, steps_per_epoch=len(loader))
    trainer = pl.Trainer(max_epochs=p.epochs, accelerator=p.accelerator, devices=1,
                         **trainer_options)
    trainer.fit(module, loader)
    results = []
    for split, run in (("valid", trainer.validate), ("test", trainer.test)):
        loader = DataLoader(TensorDataset(data.x[split].cpu(), data.y[split].cpu()),
                            batch_size=1024)
        results.append(run(module, loader)[0][f"{split}_acc"])
    return results[0], results[1]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", type=int, default=8, help="architectures per way")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--C", type=int, default=16, help="channels of the first stage")
    parser.add_argument("--N", type=int, default=1, help="cells per stage")
    parser.add_argument("--accelerator", default="cpu", choices=("cpu", "auto"),
                        help="'auto': train on a GPU when there is one")
    args = parser.parse_args()

    import numpy as np
    from nasbench.spaces.nb201 import Nb201Space

    rng = np.random.default_rng(args.seed)
    archs = [Nb201Space().sample(rng) for _ in range(args.archs)]
    ctx = get_context("spawn")
    pools = {w: ProcessPoolExecutor(1, mp_context=ctx) for w in WAYS}
    try:
        size = {"C": args.C, "N": args.N}
        setup = {w: pools[w].submit(_setup, w, args.epochs, args.accelerator, size).result()
                 for w in WAYS}
        seconds: dict[str, list[float]] = {w: [] for w in WAYS}
        accs: dict[str, list[tuple[float, float]]] = {w: [] for w in WAYS}
        for i, arch in enumerate(archs):
            order = WAYS[i % len(WAYS) :] + WAYS[: i % len(WAYS)]
            for w in order:
                s, valid, test = pools[w].submit(_train, w, arch, 1000 + i).result()
                seconds[w].append(s)
                accs[w].append((valid, test))
            print(f"arch {i + 1}/{len(archs)} {arch}: "
                  + ", ".join(f"{w} {seconds[w][-1]:.2f}s" for w in WAYS), flush=True)
        peaks = {w: pools[w].submit(_peak_rss_mb).result() for w in WAYS}
    finally:
        for pool in pools.values():
            pool.shutdown()

    per_hour = {w: 3600.0 / statistics.mean(seconds[w]) for w in WAYS}
    steps = args.epochs * setup["c"][1]
    print()
    print(f"NB201 cells (C={args.C}, N={args.N}) on digits, {args.epochs} epochs, "
          f"{len(archs)} architectures per way, 1 torch thread, {os.cpu_count()} cores, "
          f"accelerator {args.accelerator}")
    print(f"{'way':<50}{'s/arch (mean)':>14}{'median':>9}{'ms/step':>9}{'archs/hour':>12}"
          f"{'vs (c)':>8}{'set-up s':>10}{'peak RSS MB':>13}{'valid acc':>11}")
    for w in WAYS:
        mean = statistics.mean(seconds[w])
        print(f"{NAMES[w]:<50}{mean:>14.2f}{statistics.median(seconds[w]):>9.2f}"
              f"{1000 * mean / steps:>9.2f}{per_hour[w]:>12.0f}"
              f"{per_hour['c'] / per_hour[w]:>8.2f}{setup[w][0]:>10.1f}{peaks[w]:>13.0f}"
              f"{statistics.mean(v for v, _ in accs[w]):>11.2f}")
    same = accs["b"] == accs["c"]
    quiet = per_hour["a'"]
    print(f"\n(c) / (a) speed-up: {per_hour['c'] / per_hour['a']:.2f}x (target >= 2), "
          f"(c) / (a'): {per_hour['c'] / quiet:.2f}x; "
          f"(b) / (c): {per_hour['b'] / per_hour['c']:.2f}x (target <= 1.3); "
          f"(b) and (c) accuracies bit-identical: {same}")


if __name__ == "__main__":
    main()
