"""Build the ``dqn_cartpole`` benchmark table: every ``mlp`` architecture x several seeds.

Every one of the 100 networks of the default ``mlp`` space is the Q-network of the ``dqn``
evaluator on CartPole-v1 under :data:`TABLE_PROTOCOL` (a short protocol, chosen so that the
whole table is built on one core in about 40 minutes: see docs/rl.md for the arithmetic), once
per seed. Each finished evaluation is appended to ``<out>/runs.jsonl`` first, so that a killed
build resumes where it stopped; the table is then written in the shared format
(``dqn_cartpole.parquet`` + ``dqn_cartpole.json``, FORMATS.md): the mean over seeds of each
metric, and per-seed columns ``<metric>#<seed>``.

    .venv/bin/python tests/bench/build_dqn_cartpole_table.py --seeds 3 \
        --out runs/dqn_table --tables nasbench/data/tables

Seed 0 runs over every architecture first, then the other seeds architecture by architecture
in a fixed random order. Evaluations run one after another in one process with one torch
thread; ``--shard i/n`` runs
every n-th evaluation so that n processes (one per core) can share the work, and
``--tables`` only assembles what the shards wrote.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

TABLE_PROTOCOL: dict[str, Any] = {
    "preset": "rl_zoo", "env_steps": 5000, "buffer_size": 10_000, "batch_size": 64,
    "lr": 2.5e-3, "target_update": 100, "start_e": 1.0, "end_e": 0.05,
    "exploration_fraction": 0.2, "learning_starts": 500, "train_frequency": 4,
    "gradient_steps": 1, "gamma": 0.99, "loss": "mse", "max_grad_norm": 0.0,
    "eval_episodes": 5, "solved_window": 10, "threads": 1,
}
"""The table's protocol: the ``dqn`` evaluator's parameters (CartPole-v1)."""
ENV = "CartPole-v1"
METRICS = ("valid_return", "test_return", "curve_area", "steps_to_solve", "solved",
           "env_steps", "train_seconds")


def evaluation_seed(seed: int, arch_key: str) -> int:
    """The evaluation seed of one table cell (as the harness derives one per trial)."""
    from nasbench import seeding

    return seeding.int_seed(0, "dqn_cartpole", seed, arch_key)


def run(out: Path, seeds: int, shard: tuple[int, int],
        only_widths: tuple[int, ...] | None = None) -> None:
    from nasbench.evaluators.dqn import DqnEvaluator, DqnParams
    from nasbench.spaces.mlp import MlpSpace

    from nasbench.api import EvaluatorContext, Trial

    space = MlpSpace()
    evaluator = DqnEvaluator(DqnParams(**TABLE_PROTOCOL))
    evaluator.setup(space, EvaluatorContext(ENV, f"{ENV}/valid_return", ()))
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    done = {(r["arch"], r["seed"]) for r in _read(log)}
    jobs = _jobs(space, seeds)
    if only_widths is not None:
        jobs = [(seed, key) for seed, key in jobs
                if all(int(part.split(":")[0]) in only_widths for part in key.split("|"))]
    index, count = shard
    mine = [job for k, job in enumerate(jobs) if k % count == index and
            (job[1], job[0]) not in done]
    start = time.perf_counter()
    for k, (seed, key) in enumerate(mine, 1):
        result = evaluator.evaluate(space, Trial(space.from_string(key)),
                                    seed=evaluation_seed(seed, key))
        row = {"arch": key, "seed": seed, "status": result.status,
               **{m.split("/", 1)[1]: v for m, v in result.metrics.items()},
               "train_seconds": result.info.get("seconds", 0.0)}
        with log.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"[{k}/{len(mine)} {time.perf_counter() - start:.0f}s] seed {seed} {key}: "
              f"valid {row.get('valid_return', float('nan')):.1f} "
              f"({row.get('train_seconds', 0):.1f}s)", flush=True)


def _jobs(space: Any, seeds: int) -> list[tuple[int, str]]:
    """Seed 0 over every architecture first (a complete one-seed table as early as possible),
    then the other seeds architecture by architecture in a fixed random order, so that a build
    cut short leaves a uniformly drawn subset with every seed."""
    import numpy as np

    keys = [space.to_string(arch) for arch in _archs(space)]
    jobs = [(0, key) for key in keys]
    for k in np.random.default_rng(0).permutation(len(keys)):
        jobs += [(seed, keys[k]) for seed in range(1, seeds)]
    return jobs


def _archs(space: Any) -> list[tuple[int, ...]]:
    import itertools

    return [tuple(a) for a in itertools.product(*(range(len(d.choices))
                                                  for d in space.decisions()))]


def _read(log: Path) -> list[dict[str, Any]]:
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def assemble(out: Path, tables: Path) -> None:
    """Write ``dqn_cartpole.{parquet,json}`` from the finished evaluations."""
    import pandas as pd

    rows = pd.DataFrame(_read(out / "runs.jsonl"))
    rows = rows[rows["status"] == "ok"]
    seeds = sorted(rows["seed"].unique())
    table = pd.DataFrame({"arch": sorted(rows["arch"].unique())}).set_index("arch")
    for metric in METRICS:
        per_seed = rows.pivot(index="arch", columns="seed", values=metric)
        table[f"{ENV}/{metric}"] = per_seed.mean(axis=1)
        for seed in seeds:
            table[f"{ENV}/{metric}#{seed}"] = per_seed[seed]
    table = table.reset_index()
    tables.mkdir(parents=True, exist_ok=True)
    table.to_parquet(tables / "dqn_cartpole.parquet", compression="zstd", index=False)
    complete = int(rows.groupby("arch")["seed"].nunique().eq(len(seeds)).sum())
    description = {
        "format": 1, "name": "dqn_cartpole", "space": "mlp",
        "summary": f"Double DQN on CartPole-v1: {len(table)} mlp Q-networks x {len(seeds)} "
                   "seeds, 5,000 environment steps each",
        "citation": "nasbench (this table); Double DQN: van Hasselt, Guez & Silver, AAAI 2016",
        "source": "tests/bench/build_dqn_cartpole_table.py (the dqn evaluator, protocol in "
                  "'protocol')",
        "licence": "Apache-2.0", "licence_note": "generated by nasbench itself",
        "datasets": [ENV],
        "metrics": {
            "valid_return": {"split": "valid", "unit": "", "fidelity": None,
                             "doc": "mean greedy return, 5 validation episodes",
                             "higher_is_better": True},
            "test_return": {"split": "test", "unit": "", "fidelity": None,
                            "doc": "mean greedy return, 5 test episodes",
                            "higher_is_better": True},
            "curve_area": {"split": "train", "unit": "", "fidelity": None,
                           "doc": "mean training return per environment step",
                           "higher_is_better": True},
            "steps_to_solve": {"split": "train", "unit": "steps", "fidelity": None,
                               "doc": "steps until the last 10 training episodes averaged "
                                      "475, censored at 5000", "higher_is_better": False},
            "solved": {"split": "train", "unit": "", "fidelity": None,
                       "doc": "fraction of seeds that reached the threshold",
                       "higher_is_better": True},
            "env_steps": {"split": "other", "unit": "steps", "fidelity": None,
                          "doc": "environment steps charged (training and validation)",
                          "higher_is_better": False},
            "train_seconds": {"split": "other", "unit": "s", "fidelity": None,
                              "doc": "seconds of training and validation, one thread, "
                                     "shared 2-core machine", "higher_is_better": False},
        },
        "cost_metric": "env_steps",
        "fidelities": {},
        "search_metric": "valid_return", "report_metrics": ["test_return"],
        "optimum": {f"{ENV}/test_return": float(table[f"{ENV}/test_return"].max()),
                    f"{ENV}/valid_return": float(table[f"{ENV}/valid_return"].max())},
        "seeds": [int(s) for s in seeds], "complete_architectures": complete,
        "protocol": {"env": ENV, **TABLE_PROTOCOL},
        "regenerate": "tests/bench/build_dqn_cartpole_table.py --seeds 3 --out runs/dqn_table "
                      "--tables nasbench/data/tables",
        "build_seconds": float(rows["train_seconds"].sum()),
    }
    (tables / "dqn_cartpole.json").write_text(json.dumps(description, indent=1) + "\n")
    print(f"wrote {len(table)} architectures x {len(seeds)} seeds ({complete} complete) to "
          f"{tables}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/dqn_table"))
    parser.add_argument("--tables", type=Path, default=None,
                        help="also write dqn_cartpole.{parquet,json} here")
    parser.add_argument("--shard", default="0/1", help="i/n: run every n-th evaluation")
    parser.add_argument("--assemble-only", action="store_true")
    parser.add_argument("--only-widths", default=None,
                        help="e.g. 64,128,256: run only the networks of these widths (every "
                        "seed of a sub-space first)")
    args = parser.parse_args()
    index, count = (int(x) for x in args.shard.split("/"))
    if not args.assemble_only:
        widths = (tuple(int(w) for w in args.only_widths.split(","))
                  if args.only_widths else None)
        run(args.out, args.seeds, (index, count), widths)
    if args.tables is not None:
        assemble(args.out, args.tables)


if __name__ == "__main__":
    main()
