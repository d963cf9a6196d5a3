"""Training with the C allocator's thresholds as glibc sets them, as a Dask nanny sets them, and
as nasbench sets them for a study that trains (:mod:`nasbench.allocator`).

Run:  python tests/bench/bench_allocator.py [--archs 8] [--epochs 2] [--dataset fashion_mnist]

Each variant runs in a fresh process: the ``lightning`` evaluator trains the same NB201 cells
(C=8, N=1, 16x16 images, 2,000 training examples, one torch thread; evidence 1's network) one
after the other, after one warm-up training, and the process reports the seconds, the minor
page faults and the system CPU seconds of the timed trainings, and their accuracies:

* glibc's defaults (adaptive thresholds), as a process that trains by itself;
* ``MALLOC_TRIM_THRESHOLD_=65536``, as a Dask nanny starts its workers (distributed's default);
* each of these with :func:`nasbench.allocator.tune_for_training` called first, as a study's
  session does in every process that trains.

The accuracies must be identical in every variant (the thresholds move no result); the times
are printed side by side with the first variant's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

VARIANTS = (
    ("glibc defaults", {}, False),
    ("glibc defaults, tuned", {}, True),
    ("Dask nanny (MALLOC_TRIM_THRESHOLD_=65536)", {"MALLOC_TRIM_THRESHOLD_": "65536"}, False),
    ("Dask nanny, tuned", {"MALLOC_TRIM_THRESHOLD_": "65536"}, True),
)


def child(args: argparse.Namespace) -> None:
    if args.tune:
        from nasbench.allocator import tune_for_training

        assert tune_for_training(), "mallopt is not available here"
    import numpy as np
    from nasbench.evaluators.lightning import LightningEvaluator, LightningParams

    from nasbench.api import EvaluatorContext, Trial
    from nasbench.registry import load_plugins

    plugins = load_plugins()
    space = plugins.spaces.get("nb201")()
    evaluator = LightningEvaluator(LightningParams(
        epochs=args.epochs, image_size=16, size={"C": 8, "N": 1},
        train_samples=2000, valid_samples=1000, test_samples=1000, threads=1))
    evaluator.bind_plugins(plugins)
    evaluator.setup(space, EvaluatorContext(
        dataset=args.dataset, search_metric=f"{args.dataset}/valid_acc", report_metrics=(),
        threads=1, root_seed=0))
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(args.archs + 1)]
    evaluator.evaluate(space, Trial(archs[0]), seed=0)  # warm-up: imports, data, first kernels
    before, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    accuracies = [evaluator.evaluate(space, Trial(a), seed=i).metrics[
        f"{args.dataset}/valid_acc"] for i, a in enumerate(archs[1:])]
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "faults": after.ru_minflt - before.ru_minflt,
                      "system": after.ru_stime - before.ru_stime, "accuracies": accuracies}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tune", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"{args.archs} NB201 cells (C=8, N=1) on {args.dataset} at 16x16, {args.epochs} "
          f"epoch(s) of 2,000 examples each, one torch thread; {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.2f}")
    results = []
    for label, env, tune in VARIANTS:
        command = [sys.executable, __file__, "--child", "--archs", str(args.archs), "--epochs",
                   str(args.epochs), "--dataset", args.dataset, *(["--tune"] if tune else [])]
        environment = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
        out = subprocess.run(command, env={**environment, **env}, check=True,
                             capture_output=True, text=True).stdout
        results.append((label, json.loads(out.strip().splitlines()[-1])))
    base = results[0][1]["seconds"]
    for label, r in results:
        print(f"{label:<44} {r['seconds']:7.2f} s ({r['seconds'] / base:4.2f}x glibc defaults)"
              f"  {r['faults']:>10,} minor page faults  {r['system']:6.2f} s in the kernel")
    same = all(r["accuracies"] == results[0][1]["accuracies"] for _, r in results)
    print(f"accuracies identical in every variant: {same}")


if __name__ == "__main__":
    main()
