"""Validation of nasbench's zero-cost proxies on NAS-Bench-Suite-Zero's 725 NAS-Bench-201 cells.

NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks) published
the proxy scores of 725 NAS-Bench-201 cells, computed with NASLib on CIFAR-10 for the
benchmark network (C=16, N=5, 32x32 input, 10 classes). ``nasbench zero-cost validate``
scores the same cells with the ``zero_cost`` evaluator and the same network, then reports how
nasbench's scores rank the cells against the published scores and against NAS-Bench-201's
200-epoch CIFAR-10 test accuracy (:mod:`nasbench.results.zero_cost_study`).

The scoring is an ordinary nasbench study, built here rather than read from a file because
its architecture list comes from the data directory: the ``fixed_set`` strategy proposes the
725 cells, the harness evaluates them, and the results directory is durable and resumable
(run the command again to continue). synflow, params and flops read no data; the data-based
proxies read a minibatch of the chosen dataset (CIFAR-10 where installed; otherwise a real
substitute such as Fashion-MNIST resized to 32x32 with its channel repeated three times, so
that the network is exactly the benchmark's). The evaluation seed of a cell is the harness's,
so a cell's scores do not depend on which other cells are scored.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import UserError, available
from nasbench.hookspecs import hookimpl

if TYPE_CHECKING:
    from nasbench.protocol import Study
    from nasbench.registry import Plugins

STUDY_NAME = "zero-cost-nb201"
BENCHMARK_SHAPE = (3, 32, 32)
"""The input of NAS-Bench-201's CIFAR-10 network, which the published scores were computed on."""


def published_cells(data_dir: Path | None) -> list[tuple[str, float]]:
    """NAS-Bench-201 strings of the 725 cells and their published CIFAR-10 validation
    accuracy, in the file's order."""
    import json

    from nasbench.results.scoring_sources import ZC201_FILE, zc201_to_nb201

    from nasbench.data import locate

    path = locate(data_dir, ZC201_FILE, "NAS-Bench-Suite-Zero's NB201 scores")
    records = json.loads(path.read_text())["cifar10"]
    return [(zc201_to_nb201(key), float(r["val_accuracy"])) for key, r in records.items()]


def spread_subset(cells: list[tuple[str, float]], count: int) -> list[str]:
    """``count`` cells evenly spaced along the published accuracy ranking (all when ``count``
    is not smaller), so that a subset covers bad, middling and good cells alike."""
    ranked = [arch for arch, _ in sorted(cells, key=lambda c: (c[1], c[0]))]
    if count >= len(ranked):
        return ranked
    step = (len(ranked) - 1) / max(count - 1, 1)
    return [ranked[round(i * step)] for i in range(count)]


def evaluator_table(dataset: str, plugins: Plugins, proxies: list[str], device: str,
                    threads: int | str) -> dict[str, Any]:
    """The ``[evaluator]`` table that scores the benchmark network on ``dataset``."""
    cls = plugins.datasets.get(dataset, "--dataset")
    shape = tuple(cls.input_shape)
    if cls.data_kind != "image" or shape[0] not in (1, 3):
        image_datasets = [r.name for r in plugins.datasets
                          if r.cls.data_kind == "image" and r.cls.input_shape[0] in (1, 3)]
        raise UserError(f"--dataset {dataset} does not hold grey or colour images; image "
                        f"datasets: {available(image_datasets)}.")
    table: dict[str, Any] = {
        "name": "zero_cost", "dataset": dataset, "search_metric": proxies[0],
        "report_metrics": proxies[1:] or proxies[:1], "proxies": proxies,
        "size": {"C": 16, "N": 5}, "flops_convention": "suite_zero", "device": device,
        "threads": threads, "valid_samples": 64, "test_samples": 64,  # unused: keep small
    }
    if shape[1:] != BENCHMARK_SHAPE[1:]:
        table["image_size"] = BENCHMARK_SHAPE[1]
    if shape[0] == 1:
        table["channels"] = BENCHMARK_SHAPE[0]
    return table


def validation_study(plugins: Plugins, data_dir: Path | None, *, dataset: str,
                     proxies: list[str], cells: int, device: str = "auto",
                     threads: int | str = "auto", seed: int = 0) -> Study:
    """The study that scores (a spread subset of) the 725 cells."""
    from nasbench.protocol import study_from_dict

    archs = spread_subset(published_cells(data_dir), cells)
    evaluator = evaluator_table(dataset, plugins, proxies, device, threads)
    raw = {
        "study": {"name": f"{STUDY_NAME}-{dataset}", "seed": seed, "seeds": [0],
                  **({"data_dir": str(data_dir)} if data_dir is not None else {})},
        "space": {"name": "nb201"},
        "evaluator": evaluator,
        "budget": {"evaluations": len(archs)},
        "baseline": {"samples": 1},
        "strategies": [{"name": "fixed_set", "label": "cells", "archs": archs}],
    }
    return study_from_dict(raw, plugins)


# -- the command ----------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``nasbench zero-cost validate``."""
    p.add_argument("--out", help="results directory (default runs/zero_cost/<dataset>); run "
                   "again with the same options to continue it")
    p.add_argument("--dataset", default="fashion_mnist",
                   help="where the data-based proxies draw their minibatch (default "
                   "fashion_mnist; cifar10 where installed)")
    p.add_argument("--proxies", default="all",
                   help="comma-separated proxies, or 'all' (default); e.g. synflow,params,flops "
                   "reads no data")
    p.add_argument("--cells", type=int, default=725,
                   help="score this many cells, evenly spread over the published ranking "
                   "(default: all 725)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where networks are scored (default auto)")
    p.add_argument("--threads", default="auto",
                   help="torch threads (default auto: every core)")
    p.add_argument("--data-dir", help="data directory (default $NASBENCH_DATA)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def cmd_validate(args: argparse.Namespace) -> int:
    from nasbench.evaluators.zero_cost import PROXIES
    from nasbench.results.zero_cost_study import write_validation_report

    from nasbench.data import default_data_dir
    from nasbench.registry import load_plugins
    from nasbench.run import run_study

    plugins = load_plugins(args.plugin_manager)
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    proxies = list(PROXIES) if args.proxies == "all" else \
        [p.strip() for p in args.proxies.split(",") if p.strip()]
    unknown = [p for p in proxies if p not in PROXIES]
    if unknown or not proxies:
        raise UserError(f"--proxies {args.proxies!r} names unknown proxies {unknown}; "
                        f"available: {', '.join(PROXIES)}, or all.")
    if args.cells < 2:
        raise UserError(f"--cells must be at least 2, got {args.cells}.")
    threads: int | str = args.threads if args.threads == "auto" else _positive(args.threads)
    study = validation_study(plugins, data_dir, dataset=args.dataset, proxies=proxies,
                             cells=args.cells, device=args.device, threads=threads)
    out = Path(args.out) if args.out else Path("runs") / "zero_cost" / args.dataset
    resume = (out / "manifest.json").exists()
    outcome = run_study(study, plugins, out, resume=resume, progress=not args.quiet,
                        command=shlex.join(["nasbench", *sys.argv[1:]]))
    if not outcome.complete:
        raise UserError(f"{out} is still being scored by another process; run again when it "
                        "is done.")
    paths = write_validation_report(out, data_dir)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UserError(f"--threads must be a positive integer or auto, got {text!r}.")
    return value


@hookimpl
def nasbench_add_cli_commands(subparsers: Any) -> None:
    p = subparsers.add_parser("zero-cost", help="zero-cost proxies: validation against "
                              "published scores")
    sub = p.add_subparsers(dest="zero_cost_command", metavar="COMMAND")
    sub.required = True
    v = sub.add_parser("validate", help="score NAS-Bench-Suite-Zero's 725 NAS-Bench-201 cells "
                       "with nasbench's proxies and correlate them with the published scores "
                       "and accuracy")
    add_arguments(v)
    v.set_defaults(handler=cmd_validate)
