"""The study that validates nasbench's zero-cost proxies on NAS-Bench-Suite-Zero's cells.

NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks) published
the proxy scores of 725 NAS-Bench-201 cells, computed with NASLib on CIFAR-10 for the
benchmark network (C=16, N=5, 32x32 input, 10 classes). ``nasbench zero-cost validate``
(:mod:`nasbench.commands.zero_cost`) scores the same cells with the ``zero_cost`` evaluator
and the same network, then reports how nasbench's scores rank the cells against the
published scores and against NAS-Bench-201's 200-epoch CIFAR-10 test accuracy
(:mod:`nasbench.results.zero_cost_study`).

The scoring is an ordinary nasbench study, built here rather than read from a file because
its architecture list comes from the shipped ``zc_nb201`` table: the ``fixed_set`` strategy
proposes the 725 cells, the harness evaluates them, and the results directory is durable and
resumable (``--resume`` continues it). synflow, params and flops read no data; the
data-based proxies read a minibatch of the chosen dataset (CIFAR-10 where installed; otherwise a
real substitute such as Fashion-MNIST resized to 32x32 with its channel repeated three times, so
that the network is exactly the benchmark's). The evaluation seed of a cell is the harness's,
so a cell's scores do not depend on which other cells are scored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import UserError, available

if TYPE_CHECKING:
    from nasbench.protocol import Study
    from nasbench.registry import Plugins

STUDY_NAME = "zero-cost-nb201"
BENCHMARK_SHAPE = (3, 32, 32)
"""The input of NAS-Bench-201's CIFAR-10 network, which the published scores were computed on."""


def published_cells(data_dir: Path | None) -> list[tuple[str, float]]:
    """NAS-Bench-201 strings of the 725 cells and their published CIFAR-10 validation
    accuracy, in the source file's order (the shipped ``zc_nb201`` table, unless a data
    directory overrides it)."""
    from nasbench.results.scoring_sources import zc201_cells

    rows = zc201_cells("cifar10", data_dir)
    return [(str(a), float(v)) for a, v in zip(rows["arch"], rows["cifar10/val_accuracy"],
                                                strict=True)]


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
