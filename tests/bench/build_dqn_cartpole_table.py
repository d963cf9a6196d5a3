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


def seed_log_from_table(table: Path, log: Path) -> int:
    """Write ``log`` from the per-seed columns of an assembled table (``runs.jsonl`` is not
    shipped), so that a build resumes from the shipped table instead of from scratch. Every
    non-NaN cell ``<metric>#<seed>`` becomes the finished evaluation it was assembled from.
    Refuses to overwrite an existing log. Returns the number of evaluations written."""
    import math

    import pandas as pd

    if log.exists():
        raise SystemExit(f"{log} exists: it already holds the evaluations to resume from; "
                         "remove it to seed it from a table instead")
    frame = pd.read_parquet(table)
    seeds = sorted({int(c.rsplit("#", 1)[1]) for c in frame.columns if "#" in c})
    lines = []
    for record in frame.to_dict("records"):
        for seed in seeds:
            row = {"arch": record["arch"], "seed": seed, "status": "ok"}
            row.update({m: record[f"{ENV}/{m}#{seed}"] for m in METRICS})
            if not any(isinstance(v, float) and math.isnan(v) for v in row.values()):
                lines.append(json.dumps(row))
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(line + "\n" for line in lines))
    return len(lines)


def _read(log: Path) -> list[dict[str, Any]]:
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


_METRICS = {
    "valid_return": ("valid", "", True, "mean greedy return, 5 validation episodes"),
    "test_return": ("test", "", True, "mean greedy return, 5 test episodes"),
    "curve_area": ("train", "", True, "mean training return per environment step"),
    "steps_to_solve": ("train", "steps", False, "steps until the last 10 training episodes "
                       "averaged 475, censored at 5000"),
    "solved": ("train", "", True, "fraction of seeds that reached the threshold"),
    "env_steps": ("other", "steps", False, "environment steps charged (training and "
                  "validation)"),
    "train_seconds": ("other", "s", False, "seconds of training and validation, one thread, "
                      "shared 2-core machine"),
}


def describe(columns: dict[str, list], seeds: list[int], complete: int,
             build_seconds: float) -> dict:
    """The table's JSON description (docs/benchmarks.md), served by the generic table-backed
    benchmark: per-seed metrics ``<metric>#<seed>`` beside the mean over the seeds run."""
    import math

    metrics: dict[str, dict] = {}
    for name, (split, unit, higher, doc) in _METRICS.items():
        metrics[name] = {"split": split, "unit": unit, "higher_is_better": higher,
                         "doc": f"{doc}; mean over the seeds run"}
        for seed in seeds:
            metrics[f"{name}#{seed}"] = {"split": split, "unit": unit,
                                         "higher_is_better": higher,
                                         "doc": f"{doc}; seed {seed}"}
    optimum = {}
    for metric in ("valid_return", "test_return"):
        finite = [v for v in columns[f"{ENV}/{metric}"] if v is not None and not math.isnan(v)]
        optimum[f"{ENV}/{metric}"] = float(max(finite))
    n = len(columns["arch"])
    return {
        "format": 1, "name": "dqn_cartpole", "kind": "benchmark", "space": "mlp",
        "summary": f"Double DQN on CartPole-v1: {n} mlp Q-networks x {len(seeds)} seeds "
                   f"({complete} with every seed), 5,000 environment steps each",
        "citation": "nasbench (this table); Double DQN: van Hasselt, Guez & Silver, AAAI 2016",
        "source": "generated by nasbench: tests/bench/build_dqn_cartpole_table.py (the dqn "
                  "evaluator, protocol in 'protocol')",
        "licence": "Apache-2.0",
        "licence_note": "Produced by this project with its own dqn evaluator; released under "
                        "nasbench's licence, Apache-2.0.",
        "datasets": [ENV],
        "metrics": metrics,
        "cost_metric": "env_steps",
        "fidelities": {},
        "search_metric": "valid_return", "report_metrics": ["test_return"],
        "notes": ("Every network has every seed." if complete == n else
                  f"Only {complete} of the {n} networks have every seed (the missing per-seed "
                  "cells are NaN), so the mean column averages over different numbers of "
                  "seeds (docs/benchmarks.md)."),
        "rows": n,
        "optimum": optimum,
        "seeds": [int(s) for s in seeds], "complete_architectures": complete,
        "protocol": {"env": ENV, **TABLE_PROTOCOL},
        "generated_by": "tests/bench/build_dqn_cartpole_table.py",
        "regenerate": "tests/bench/build_dqn_cartpole_table.py --seeds 3 --out runs/dqn_table "
                      "--tables nasbench/data/tables",
        "build_seconds": float(build_seconds),
    }


def record_in_manifest(written: list[Path], description: dict) -> None:
    """Enter the written files in nasbench/data/manifest.json when they are the shipped ones,
    marked ``generated_by`` (no ``derived_from``): the rebuild from the original sources
    (scripts/build_tables.py, tests/unit/data/test_rebuild_tables.py) leaves them alone."""
    from nasbench.data import PACKAGE_DIR
    from nasbench.data.build import manifest_text
    from nasbench.data.recipes import sha256

    if not all(p.resolve().parent == (PACKAGE_DIR / "tables").resolve() for p in written):
        return
    path = PACKAGE_DIR / "manifest.json"
    manifest = json.loads(path.read_text())
    for file in written:
        manifest["files"][f"tables/{file.name}"] = {
            "sha256": sha256(file), "bytes": file.stat().st_size,
            "table": description["name"], "generated_by": description["generated_by"],
            "source": description["source"], "licence": description["licence"],
            "citation": description["citation"], "why_shippable": description["licence_note"],
        }
    path.write_text(manifest_text(manifest))


def assemble(out: Path, tables: Path) -> None:
    """Write ``dqn_cartpole.{parquet,json}`` from the finished evaluations, with the
    deterministic writer of the shipped tables. Then update nasbench/data/manifest.json
    (sha256, bytes) for the two files: ``nasbench data verify`` checks them."""
    import pandas as pd

    from nasbench.data.recipes import to_arrow, write_table

    rows = pd.DataFrame(_read(out / "runs.jsonl"))
    rows = rows[rows["status"] == "ok"]
    seeds = sorted(int(s) for s in rows["seed"].unique())
    table = pd.DataFrame({"arch": sorted(rows["arch"].unique())}).set_index("arch")
    for metric in METRICS:
        per_seed = rows.pivot(index="arch", columns="seed", values=metric)
        table[f"{ENV}/{metric}"] = per_seed.mean(axis=1)
        for seed in seeds:
            table[f"{ENV}/{metric}#{seed}"] = per_seed[seed]
    table = table.reset_index()
    columns = {name: table[name].tolist() for name in table.columns}
    complete = int(rows.groupby("arch")["seed"].nunique().eq(len(seeds)).sum())
    description = describe(columns, seeds, complete, float(rows["train_seconds"].sum()))
    written = write_table(to_arrow(columns), description, tables, "dqn_cartpole")
    record_in_manifest(written, description)
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
    parser.add_argument("--from-table", type=Path, default=None,
                        help="first write <out>/runs.jsonl from this table's per-seed columns "
                        "(e.g. nasbench/data/tables/dqn_cartpole.parquet), to resume a build "
                        "whose log is gone")
    parser.add_argument("--only-widths", default=None,
                        help="e.g. 64,128,256: run only the networks of these widths (every "
                        "seed of a sub-space first)")
    args = parser.parse_args()
    index, count = (int(x) for x in args.shard.split("/"))
    if args.from_table is not None:
        n = seed_log_from_table(args.from_table, args.out / "runs.jsonl")
        print(f"seeded {args.out / 'runs.jsonl'} with {n} evaluations from {args.from_table}")
    if not args.assemble_only:
        widths = (tuple(int(w) for w in args.only_widths.split(","))
                  if args.only_widths else None)
        run(args.out, args.seeds, (index, count), widths)
    if args.tables is not None:
        assemble(args.out, args.tables)


if __name__ == "__main__":
    main()
