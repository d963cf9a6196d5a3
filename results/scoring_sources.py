"""Published measurements read as scorings, from the data directory (never copied).

* ``zc201:<dataset>/<proxy>``: NAS-Bench-Suite-Zero's zero-cost proxy scores and validation
  accuracy of 725 NAS-Bench-201 cells (Krishnakumar et al., NeurIPS 2022 Datasets and
  Benchmarks; automl/NASLib, Apache-2.0), keyed by NAS-Bench-201 string so they align with
  ``nb201:...`` columns. File: ``nb201/zc_nasbench201_725.json``.
* ``macro:<seed0|seed1|seed2|mean_acc|params|flops>``: NAS-Bench-Macro's CIFAR-10 test
  accuracy of all 6,561 architectures, per training seed (Su et al., CVPR 2021;
  github.com/xiusu/NAS-Bench-Macro, Apache-2.0).
  File: ``nasbench_macro/nas-bench-macro_cifar10.json``.
* ``transnas:<task>`` (and ``<task>/zen_score``): TransNAS-Bench-101 micro space, final
  validation metric of 4,096 cells on each of 7 tasks (Duan et al., CVPR 2021; via
  automl/NASLib). File: ``transnas101_micro/transnas101_micro_val.csv``.
* ``yang2020:<seed|depth|protocols>/<column>``: the raw results of Yang, Esperança &
  Carlucci, "NAS evaluation is frustratingly hard", ICLR 2020
  (github.com/antoyang/NAS-Benchmark): 24 DARTS-space architectures under two training seeds,
  32 at 8 and 20 cells, 8 under ten training protocols. Files under ``yang2020/``:
  ``seed_correlation_24.csv``, ``depth_correlation_32.csv``, ``performance_Augmentation.csv``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from nasbench.results.scorings import Scoring, ScoringSource

from nasbench.data import locate
from nasbench.errors import UserError, available

# -- NAS-Bench-Suite-Zero on NAS-Bench-201 --------------------------------------------------------
ZC201_FILE = "nb201/zc_nasbench201_725.json"
ZC201_CITATION = ("Krishnakumar et al., NAS-Bench-Suite-Zero, NeurIPS 2022 Datasets and "
                  "Benchmarks (automl/NASLib, Apache-2.0)")
ZC201_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100",
                  "imagenet16_120": "ImageNet16-120"}
"""nasbench dataset name -> the file's key."""
ZC201_EDGES = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
"""The file's tuple order: edge (target <- source)."""
ZC201_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
"""The file's op indices."""
_ZC201_UNITS = {"val_accuracy": "%", "params": "M", "flops": "MFLOPs"}


def zc201_to_nb201(text: str) -> str:
    """The NAS-Bench-201 string of an architecture tuple of NAS-Bench-Suite-Zero."""
    ops = dict(zip(ZC201_EDGES, (ZC201_OPS[int(i)] for i in text.strip("()").split(",")),
                   strict=True))
    nodes = ("|" + "|".join(f"{ops[(j, i)]}~{i}" for i in range(j)) + "|" for j in (1, 2, 3))
    return "+".join(nodes)


@lru_cache(maxsize=4)
def _zc201(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@lru_cache(maxsize=8)
def _zc201_keys(path: Path, dataset: str) -> np.ndarray:
    """The NAS-Bench-201 strings of one dataset's records, in the file's order."""
    return np.array([zc201_to_nb201(a) for a in _zc201(path)[dataset]], dtype=object)


def _zc201_arguments(data_dir: Path | None) -> list[str]:
    data = _zc201(locate(data_dir, ZC201_FILE, "NAS-Bench-Suite-Zero's NB201 scores"))
    first = next(iter(next(iter(data.values())).values()))
    measures = sorted(k for k, v in first.items() if isinstance(v, dict) or k == "val_accuracy")
    return [f"{d}/{m}" for d in ZC201_DATASETS for m in measures]


def _zc201_value(entry: Any) -> float:
    """A record's score (``{"score", "time"}`` for proxies); ``nan`` where it is missing."""
    if entry is None:
        return np.nan
    return float(entry["score"] if isinstance(entry, dict) else entry)


def _zc201_load(argument: str, data_dir: Path | None) -> Scoring:
    path = locate(data_dir, ZC201_FILE, "NAS-Bench-Suite-Zero's NB201 scores")
    names = _zc201_arguments(data_dir)
    if argument not in names:
        raise UserError(f"zc201 has no scoring '{argument}'; available: {available(names)}.")
    dataset, measure = argument.split("/")
    records = _zc201(path)[ZC201_DATASETS[dataset]]
    values = [_zc201_value(r.get(measure)) for r in records.values()]
    return Scoring(f"zc201:{argument}", _zc201_keys(path, ZC201_DATASETS[dataset]),
                   np.array(values),
                   True, _ZC201_UNITS.get(measure, ""), ZC201_CITATION)


# -- NAS-Bench-Macro ------------------------------------------------------------------------------
MACRO_FILE = "nasbench_macro/nas-bench-macro_cifar10.json"
MACRO_CITATION = "Su et al., NAS-Bench-Macro, CVPR 2021 (xiusu/NAS-Bench-Macro, Apache-2.0)"
MACRO_SEEDS = 3
_MACRO_UNITS = {"mean_acc": "%", "params": "", "flops": ""}


@lru_cache(maxsize=2)
def _macro(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _macro_arguments(_data_dir: Path | None) -> list[str]:
    return [*(f"seed{i}" for i in range(MACRO_SEEDS)), *_MACRO_UNITS]


def _macro_load(argument: str, data_dir: Path | None) -> Scoring:
    if argument not in _macro_arguments(data_dir):
        raise UserError(
            f"macro has no scoring '{argument}'; available: {available(_macro_arguments(None))}."
        )
    records = _macro(locate(data_dir, MACRO_FILE, "The NAS-Bench-Macro table"))
    if argument.startswith("seed"):
        seed = int(argument[4:])
        values = [r["test_acc"][seed] for r in records.values()]
        unit = "%"
    else:
        values = [r[argument] for r in records.values()]
        unit = _MACRO_UNITS[argument]
    return Scoring(f"macro:{argument}", np.array(list(records), dtype=object),
                   np.array(values, dtype=np.float64), True, unit, MACRO_CITATION)


# -- TransNAS-Bench-101 ---------------------------------------------------------------------------
TRANSNAS_FILE = "transnas101_micro/transnas101_micro_val.csv"
TRANSNAS_CITATION = ("Duan et al., TransNAS-Bench-101, CVPR 2021 (micro space, via "
                     "automl/NASLib)")


@lru_cache(maxsize=2)
def _transnas(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path)


def transnas_tasks(data_dir: Path | None) -> list[str]:
    frame = _transnas(locate(data_dir, TRANSNAS_FILE, "The TransNAS-Bench-101 table"))
    return list(dict.fromkeys(frame["task"]))


def _transnas_arguments(data_dir: Path | None) -> list[str]:
    tasks = transnas_tasks(data_dir)
    return [*tasks, *(f"{t}/zen_score" for t in tasks)]


def _transnas_load(argument: str, data_dir: Path | None) -> Scoring:
    frame = _transnas(locate(data_dir, TRANSNAS_FILE, "The TransNAS-Bench-101 table"))
    task, _, column = argument.partition("/")
    column = column or "val_metric"
    if task not in transnas_tasks(data_dir) or column not in ("val_metric", "zen_score"):
        raise UserError(
            f"transnas has no scoring '{argument}'; available: "
            f"{available(_transnas_arguments(data_dir))}."
        )
    rows = frame[frame["task"] == task]
    return Scoring(f"transnas:{argument}", rows["arch"].to_numpy(dtype=object),
                   rows[column].to_numpy(dtype=np.float64), True, "", TRANSNAS_CITATION)


# -- Yang et al. 2020 -----------------------------------------------------------------------------
YANG_CITATION = ("Yang, Esperança & Carlucci, NAS evaluation is frustratingly hard, ICLR 2020 "
                 "(raw results: github.com/antoyang/NAS-Benchmark)")
YANG_FILES = {"seed": "yang2020/seed_correlation_24.csv",
              "depth": "yang2020/depth_correlation_32.csv",
              "protocols": "yang2020/performance_Augmentation.csv"}


def yang_table(data_dir: Path | None, part: str) -> Any:
    """One of Yang et al.'s per-architecture tables, one row per architecture."""
    import pandas as pd

    frame = pd.read_csv(locate(data_dir, YANG_FILES[part], "Yang et al.'s raw results"))
    frame.columns = [c.strip() for c in frame.columns]
    if "architecture" in frame.columns:
        frame = frame.set_index("architecture")
    frame.index = frame.index.astype(str)
    return frame


def _yang_arguments(data_dir: Path | None) -> list[str]:
    return [f"{part}/{c}" for part in YANG_FILES for c in yang_table(data_dir, part).columns]


def _yang_load(argument: str, data_dir: Path | None) -> Scoring:
    part, _, column = argument.partition("/")
    if part not in YANG_FILES or column not in yang_table(data_dir, part).columns:
        raise UserError(
            f"yang2020 has no scoring '{argument}'; available: "
            f"{available(_yang_arguments(data_dir))}."
        )
    frame = yang_table(data_dir, part)
    return Scoring(f"yang2020:{argument}", frame.index.to_numpy(dtype=object),
                   frame[column].to_numpy(dtype=np.float64), True, "%", YANG_CITATION)


SOURCES: tuple[ScoringSource, ...] = (
    ScoringSource("zc201", "NAS-Bench-Suite-Zero proxies of 725 NAS-Bench-201 cells",
                  ZC201_CITATION, _zc201_arguments, _zc201_load),
    ScoringSource("macro", "NAS-Bench-Macro CIFAR-10 accuracy per training seed",
                  MACRO_CITATION, _macro_arguments, _macro_load),
    ScoringSource("transnas", "TransNAS-Bench-101 micro: validation metric per task",
                  TRANSNAS_CITATION, _transnas_arguments, _transnas_load),
    ScoringSource("yang2020", "Yang et al. 2020: seeds, depths and training protocols",
                  YANG_CITATION, _yang_arguments, _yang_load),
)
"""The published data sets nasbench reads as scorings."""
