"""Time per step of the sampled one-shot strategies against the steps they are measured by:
a GDAS step against a single-path (RSWS) step on the same supernet (target: within 1.5x), and
UNAS steps against a first-order DARTS step (target: within 2x).

Every way is the strategy's own ``train_step`` (weights and, where the method has one, the
architecture step), through the supernet handle, on Fashion-MNIST minibatches of the same size
(default 64) and one torch thread, with the allocator set as a study's session sets it
(:func:`nasbench.allocator.tune_for_training`). The ways are timed in interleaved rounds in one
process (each round times ``--steps`` steps of every way), and each way's figure is the median
over rounds of its mean step time, so that a machine shared with other work slows all ways
alike. Printed side by side in one run, with the ratios and whether each target is met (judged
on the medians), and each way's fastest round with the ratio of fastest rounds: on a shared
machine the fastest round is the least disturbed one.

The GDAS step is also split into its two passes, and timed as a lower bound on any
implementation of the published two-pass step (the weights' pass and the forward of a fresh
sample without autograd: less than the architecture pass computes), to show how far the
algorithm itself lies from the target.

Run from the repository root (best on an otherwise idle machine)::

    python tests/bench/bench_estimators.py
    python tests/bench/bench_estimators.py --C 16 --image-size 0 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

WAYS: dict[str, tuple[str, dict[str, Any]]] = {
    "rsws (single path)": ("rsws", {}),
    "gdas": ("gdas", {}),
    "gdas, weights' pass only": ("gdas", {"_pass": "weights"}),
    "gdas, architecture pass only": ("gdas", {"_pass": "architecture"}),
    "gdas, lower bound (see below)": ("gdas", {"_pass": "bound"}),
    "snas (gdas variant)": ("gdas", {"variant": "snas"}),
    "darts 1st order": ("darts", {}),
    "unas relaxed, valid_loss": ("unas", {"estimator": "relaxed", "objective": "valid_loss"}),
    "unas rebar, valid_loss": ("unas", {"estimator": "rebar", "objective": "valid_loss"}),
    "unas relaxed, generalisation": ("unas", {"estimator": "relaxed",
                                              "objective": "generalisation"}),
    "unas rebar, generalisation (default)": ("unas", {}),
    "unas rebar, generalisation, flops cost": ("unas", {"cost_weight": 0.1}),
}
TARGETS = {"gdas": ("rsws (single path)", 1.5)}
"""Way -> (the way it is measured against, the largest ratio the issue allows)."""


def _strategy(name: str, extra: dict[str, Any], args: argparse.Namespace, make_context: Any
              ) -> Any:
    import numpy as np
    from nasbench.spaces.nb201 import Nb201Space

    from nasbench.params import build_params
    from nasbench.registry import load_plugins

    cls = load_plugins().strategies.get(name)
    extra = dict(extra)
    one_pass = extra.pop("_pass", None)
    values = {"batch_size": args.batch, "epochs": 50, **extra}
    if name == "unas":
        values["warmup_epochs"] = 0
    strategy = cls(build_params(cls.Params, values))
    strategy.setup(Nb201Space(), np.random.default_rng(0), make_context())
    if one_pass is not None:
        return _GdasPass(strategy, one_pass)
    return strategy


class _GdasPass:
    """One of the two passes of a GDAS step: the weights' (a training step on one sampled
    path) or the architecture's (the straight-through estimate on a fresh sample and one Adam
    step of the logits), to show what each costs; or ``bound``, a lower bound on any
    implementation of the published step: the weights' pass and then only the value of a
    fresh sample on a minibatch of the architecture half (a forward of one path without
    autograd), where the architecture pass must also build the graph, run a backward to every
    cell's mixing weights and step the logits."""

    def __init__(self, strategy: Any, which: str) -> None:
        self.strategy = strategy
        self.which = which

    def train_step(self) -> None:
        from nasbench.supernet.estimators import straight_through

        s = self.strategy
        batch_size = s.params.batch_size
        if self.which in ("weights", "bound"):
            s.supernet.train_step(s.supernet.batch("w", batch_size), weights=s.hard_sample())
        if self.which == "bound":
            s.supernet.mixture_gradient(s.hard_sample(), s.supernet.batch("alpha", batch_size),
                                        need_grad=False)
        if self.which != "architecture":
            return
        estimate = straight_through(s.logits, s.objective(s.supernet.batch("alpha", batch_size)),
                                    s.rng, tau=s.temperature())
        s.apply(estimate.grad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--image-size", type=int, default=16,
                        help="resize images to this side (0: keep the dataset's)")
    parser.add_argument("--train-samples", type=int, default=4096)
    parser.add_argument("--C", type=int, default=8)
    parser.add_argument("--N", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per way and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from nasbench.allocator import tune_for_training

    tune_for_training()  # before the first tensor, as a study's session does
    import torch
    from nasbench.spaces.nb201 import Nb201Space

    from nasbench.testing.supernet import supernet_contexts

    torch.set_num_threads(1)
    image_size = args.image_size or None
    make_context = supernet_contexts(Nb201Space(), args.dataset, size={"C": args.C, "N": args.N},
                                     image_size=image_size, train_samples=args.train_samples)
    strategies = {way: _strategy(name, extra, args, make_context)
                  for way, (name, extra) in WAYS.items()}
    for strategy in strategies.values():  # warm-up: first calls allocate and build caches
        for _ in range(2):
            strategy.train_step()
    rounds: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(args.rounds):
        for way, strategy in strategies.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                strategy.train_step()
            rounds[way].append(1000 * (time.perf_counter() - t0) / args.steps)
    ms = {way: statistics.median(times) for way, times in rounds.items()}
    fastest = {way: min(times) for way, times in rounds.items()}

    print(f"NB201 supernet C={args.C}, N={args.N}, {args.dataset} at "
          f"{args.image_size or 'native'} px, batch {args.batch}, one torch thread; median over "
          f"{args.rounds} interleaved rounds of {args.steps} steps (and, on a shared machine "
          "the least disturbed figure, the fastest round)\n")
    rsws, darts = ms["rsws (single path)"], ms["darts 1st order"]
    print(f"{'way':<42}{'ms/step':>9}{'x rsws':>8}{'x darts':>9}{'fastest':>9}{'ratio':>7}"
          "   target")
    for way in WAYS:
        if way in TARGETS:
            base, limit = TARGETS[way]
        elif way.startswith("unas"):
            base, limit = "darts 1st order", 2.0
        else:
            base, limit = None, None
        note, fast_ratio = "", ""
        if base is not None:
            ratio = ms[way] / ms[base]
            fast_ratio = f"{fastest[way] / fastest[base]:.2f}"
            note = f"<= {limit:g}x {base.split(' ')[0]}: {'met' if ratio <= limit else 'MISSED'}"
        print(f"{way:<42}{ms[way]:>9.1f}{ms[way] / rsws:>8.2f}{ms[way] / darts:>9.2f}"
              f"{fastest[way]:>9.1f}{fast_ratio:>7}   {note}")
    print("\nlower bound: the weights' pass, then the loss of a fresh sample on an architecture "
          "minibatch without autograd\n(the architecture pass also builds the graph, runs a "
          "backward to every cell's mixing weights and steps the logits)")


if __name__ == "__main__":
    main()
