"""Per-evaluation overhead of every registered strategy on NAS-Bench-201's tabular evaluator.

Prints, in one run:

1. the strategy's own loop (ask, table lookup through the tabular evaluator, tell) in ms per
   trial, over RUNS runs of BUDGET evaluations each (NAS-Bench-201 protocol: reward CIFAR-10
   12-epoch validation accuracy);
2. the same runs through the harness (durable logs, cache, incumbent tracking), in ms per
   trial, from a study run into a temporary directory;
3. for ``bayesian``: optuna driving the same seeded TPE sampler directly on the same lookup, and
   the ratio of the strategy's cost to it (target: within 1.2x);
4. the LSTM controller's parts: one sample, and one policy-gradient step on a batch of m.

``bohb`` needs several fidelities, which NAS-Bench-201's table does not offer: it is timed in
its own loop only, on one rung (the harness refuses it on this benchmark).

Run on an otherwise idle machine, from the repository root::

    python tests/bench/bench_learning_strategies.py
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

RUNS = int(os.environ.get("BENCH_RUNS", "20"))
BUDGET = 100


def _data_dir() -> Path | None:
    """``$NASBENCH_DATA`` when set (overriding the shipped NAS-Bench-201 table), else None."""
    value = os.environ.get("NASBENCH_DATA")
    return Path(value) if value else None


def _evaluator(plugins: Any, space: Any, data_dir: Path | None) -> Any:
    from nasbench.api import EvaluatorContext

    evaluator = plugins.evaluators.get("tabular")()
    evaluator.bind_plugins(plugins)
    evaluator.check(space, "cifar10", data_dir)
    evaluator.setup(space, EvaluatorContext(
        "cifar10", "cifar10/valid_12ep",
        ("cifar10/test_200ep", "cifar100/test_200ep", "imagenet16_120/test_200ep"),
        data_dir=data_dir,
    ))
    return evaluator


def _generator(name: str, seed: int) -> np.random.Generator:
    """The generator the harness hands strategy ``name`` in repetition ``seed`` (root seed 0),
    so that every loop below follows the same trajectories as the harness."""
    from nasbench import seeding

    return seeding.generator(0, "strategy", name, seed)


def strategy_loop(plugins: Any, name: str, space: Any, evaluator: Any,
                  seed: int) -> tuple[float, int]:
    """Seconds and trials of one run of ask -> evaluate -> tell.

    Like the harness, a run ends after BUDGET distinct architectures (repeats are answered from
    a cache and do not count) or 20 x BUDGET proposals.
    """
    from nasbench.api import Budget, Observation, StrategyContext

    context = StrategyContext(budget=Budget(evaluations=BUDGET))
    strategy = plugins.strategies.get(name)()
    strategy.setup(space, _generator(name, seed), context)
    seen: dict[Any, float | None] = {}
    proposals = 0
    start = time.perf_counter()
    while len(seen) < BUDGET and proposals < 20 * BUDGET:
        trial = strategy.ask()
        proposals += 1
        if trial.arch not in seen:
            result = evaluator.evaluate(space, trial, seed=0)
            seen[trial.arch] = result.metrics.get("cifar10/valid_12ep")
        strategy.tell(trial, Observation(seen[trial.arch], 0.0))
    return time.perf_counter() - start, proposals


def raw_optuna(space: Any, evaluator: Any, seed: int) -> tuple[float, int]:
    """Seconds and trials of one run of optuna's ask/tell with the sampler ``bayesian`` builds
    in the same repetition (same seed), on the same lookup."""
    from nasbench.strategies.optuna_bridge import make_sampler, new_study

    from nasbench.api import Trial

    names = [(d.name, tuple(range(len(d.choices)))) for d in space.decisions()]
    study = new_study(make_sampler(
        "tpe", int(_generator("bayesian", seed).integers(2**31)), n_startup_trials=10,
        multivariate=True))
    seen: dict[Any, float] = {}
    proposals = 0
    start = time.perf_counter()
    while len(seen) < BUDGET and proposals < 20 * BUDGET:
        trial = study.ask()
        arch = tuple(trial.suggest_categorical(n, c) for n, c in names)
        proposals += 1
        if arch not in seen:
            result = evaluator.evaluate(space, Trial(arch), seed=0)
            seen[arch] = result.metrics["cifar10/valid_12ep"]
        study.tell(trial, seen[arch])
    return time.perf_counter() - start, proposals


def harness(plugins: Any, names: list[str],
            data_dir: Path | None) -> dict[str, tuple[float, float]]:
    """ms per trial through the harness: (mean per-trial wall time it records, run wall time
    divided by trials), per strategy."""
    import pandas as pd

    from nasbench.protocol import study_from_dict
    from nasbench.run import run_study

    out = {}
    for name in names:
        raw = {
            "study": {"name": f"bench-{name}", "seeds": RUNS,
                      **({"data_dir": str(data_dir)} if data_dir else {})},
            "space": {"name": "nb201"},
            "evaluator": {"name": "tabular", "dataset": "cifar10",
                          "search_metric": "valid_12ep",
                          "report_metrics": ["test_200ep", "cifar100/test_200ep",
                                             "imagenet16_120/test_200ep"]},
            "budget": {"evaluations": BUDGET},
            "baseline": {"samples": 1},
            "strategies": [{"name": name}],
        }
        study = study_from_dict(raw, plugins)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_study(study, plugins, Path(tmp) / "out", progress=False)
            total = time.perf_counter() - start
            trials = pd.read_parquet(Path(tmp) / "out" / "trials.parquet")
        out[name] = (1e3 * trials.wall_time.mean(), 1e3 * total / len(trials))
    return out


def controller_parts(space: Any, evaluator: Any) -> tuple[float, float, int]:
    """ms per sample, ms per policy-gradient step, and the batch size m of the defaults."""
    from nasbench.strategies.controller import ControllerConfig, LstmController
    from nasbench.strategies.reinforce import ReinforceParams

    from nasbench.api import Trial

    m = ReinforceParams().batch_size
    controller = LstmController(space, np.random.default_rng(0), ControllerConfig())
    archs = [controller.sample() for _ in range(50)]  # warm-up
    start = time.perf_counter()
    archs = [controller.sample() for _ in range(2000)]
    sample_ms = 1e3 * (time.perf_counter() - start) / 2000
    rewards = [evaluator.evaluate(space, Trial(a), seed=0).metrics["cifar10/valid_12ep"]
               for a in archs]
    controller.reinforce(archs[:m], rewards[:m])  # warm-up
    steps = 200
    start = time.perf_counter()
    for i in range(steps):
        batch = slice(i * m % 1900, i * m % 1900 + m)
        controller.reinforce(archs[batch], rewards[batch])
    return sample_ms, 1e3 * (time.perf_counter() - start) / steps, m


def main() -> None:
    import optuna
    import torch
    from nasbench.spaces.nb201 import Nb201Space

    from nasbench.registry import load_plugins

    data_dir = _data_dir()
    plugins = load_plugins()
    space = Nb201Space()
    evaluator = _evaluator(plugins, space, data_dir)
    # The suite's black-box strategies (they search, without a supernet), single-objective ones
    # (a multi-objective strategy needs several metrics).
    from nasbench.suite import black_box_strategies

    names = sorted(n for n in black_box_strategies(plugins)
                   if not getattr(plugins.strategies.get(n), "multi_objective", False))
    print(f"# Strategy overhead on NAS-Bench-201 (tabular), {RUNS} runs x {BUDGET} evaluations")
    print(f"python {platform.python_version()}, torch {torch.__version__}, optuna "
          f"{optuna.__version__}, {os.cpu_count()} CPUs, torch threads "
          f"{torch.get_num_threads()}\n")

    # Each repetition times every strategy and raw optuna back to back, so that a change in the
    # machine's load touches them all alike.
    totals = {name: [0.0, 0] for name in [*names, "raw optuna"]}
    for seed in range(RUNS):
        for name in names:
            seconds, trials = strategy_loop(plugins, name, space, evaluator, seed)
            totals[name][0] += seconds
            totals[name][1] += trials
        seconds, trials = raw_optuna(space, evaluator, seed)
        totals["raw optuna"][0] += seconds
        totals["raw optuna"][1] += trials
    loop = {name: (1e3 * t[0] / t[1], t[1] // RUNS) for name, t in totals.items()}
    runnable = [n for n in names if not plugins.strategies.get(n).requires_fidelities]
    through_harness = harness(plugins, runnable, data_dir)
    print("| strategy | trials per run | own loop (ms/trial) | harness (ms/trial) "
          "| harness incl. set-up and tables (ms/trial) |")
    print("|---|---:|---:|---:|---:|")
    for name in names:
        ms, trials = loop[name]
        h = through_harness.get(name)
        cells = f"{h[0]:.3f} | {h[1]:.3f}" if h else "refused: one fidelity | -"
        print(f"| `{name}` | {trials} | {ms:.3f} | {cells} |")

    raw, raw_trials = loop["raw optuna"]
    print(f"\nraw optuna, same TPE sampler and seeds, same lookup: {raw:.3f} ms/trial "
          f"({raw_trials} trials per run); bayesian / raw optuna = "
          f"{loop['bayesian'][0] / raw:.2f} (own loop), "
          f"{through_harness['bayesian'][0] / raw:.2f} (through the harness)")

    sample_ms, step_ms, m = controller_parts(space, evaluator)
    print(f"LSTM controller (35 units, 2 layers): sample {sample_ms:.3f} ms, policy-gradient "
          f"step on m = {m}: {step_ms:.3f} ms, i.e. {sample_ms + step_ms / m:.3f} ms per "
          "evaluation")


if __name__ == "__main__":
    main()
