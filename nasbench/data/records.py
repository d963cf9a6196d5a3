"""Shipped tables in the shape of their original source files, record by record.

Tests and benchmark scripts that check published figures entry by entry (parameter counts,
FLOPs, proxy scores) read them in the source's own shape; these functions rebuild that shape
from the shipped tables (or from a data directory that overrides them).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from nasbench.data import read_frame
from nasbench.data.recipes import MACRO_SEEDS, ZC_DATASETS, ZC_PROXIES, nb201_to_zc


def suite_zero_records(data_dir: Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """NAS-Bench-Suite-Zero's records as ``zc_nasbench201.json`` holds them: dataset key
    (``cifar10``, ``cifar100``, ``ImageNet16-120``) -> cell tuple (e.g. ``"(0, 2, 3, 2, 3,
    1)"``) -> ``{"val_accuracy": float, proxy: {"score": float, "time": float}}``, in the
    file's order."""
    frame = read_frame("zc_nb201", data_dir)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for ours, theirs in ZC_DATASETS.items():
        rows = frame[frame[f"{ours}/order"].notna()].sort_values(f"{ours}/order", kind="stable")
        records: dict[str, dict[str, Any]] = {}
        for r in rows.to_dict("records"):
            rec: dict[str, Any] = {"val_accuracy": r[f"{ours}/val_accuracy"]}
            for p in ZC_PROXIES:
                if not math.isnan(r[f"{ours}/{p}"]):
                    rec[p] = {"score": r[f"{ours}/{p}"], "time": r[f"{ours}/{p}_time"]}
            records[nb201_to_zc(r["arch"])] = rec
        out[theirs] = records
    return out


def macro_records(data_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """NAS-Bench-Macro's records as ``nas-bench-macro_cifar10.json`` holds them: code ->
    ``{"test_acc": [three floats], "mean_acc", "std", "params": int, "flops": int}``."""
    frame = read_frame("nasbench_macro", data_dir)
    return {r["arch"]: {"test_acc": [r[f"cifar10/test_acc#{s}"] for s in range(MACRO_SEEDS)],
                        "mean_acc": r["cifar10/test_acc"], "std": r["cifar10/test_acc_std"],
                        "params": int(r["cifar10/params"]), "flops": int(r["cifar10/flops"])}
            for r in frame.to_dict("records")}
