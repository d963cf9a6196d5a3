"""Published measurements read as scorings: from the tables shipped with nasbench (a data
directory overrides them, ``nasbench.data``), or, for data nasbench may not ship, from the
user's imported copy.

* ``zc201:<dataset>/<proxy>``: NAS-Bench-Suite-Zero's zero-cost proxy scores and validation
  accuracy of 725 NAS-Bench-201 cells (Krishnakumar et al., NeurIPS 2022 Datasets and
  Benchmarks; automl/NASLib, Apache-2.0), keyed by NAS-Bench-201 string so they align with
  ``nb201:...`` columns. Table: ``zc_nb201`` (shipped).
* ``macro:<seed0|seed1|seed2|mean_acc|params|flops>``: NAS-Bench-Macro's CIFAR-10 test
  accuracy of all 6,561 architectures, per training seed (Su et al., CVPR 2021;
  github.com/xiusu/NAS-Bench-Macro, Apache-2.0).
  Table: ``nasbench_macro`` (shipped).
* ``transnas:<task>`` (and ``<task>/zen_score``): TransNAS-Bench-101 micro space, final
  validation metric of 4,096 cells on each of 7 tasks (Duan et al., CVPR 2021; via
  automl/NASLib). Table: ``transnas101_micro`` (shipped).
* ``yang2020:<seed|depth|protocols>/<column>``: the raw results of Yang, Esperança &
  Carlucci, "NAS evaluation is frustratingly hard", ICLR 2020
  (github.com/antoyang/NAS-Benchmark): 24 DARTS-space architectures under two training seeds,
  32 at 8 and 20 cells, 8 under ten training protocols. Not shipped (no licence): imported
  with ``nasbench data import yang2020 DIR``, or read from ``<data dir>/yang2020/``. Files:
  ``seed_correlation_24.csv``, ``depth_correlation_32.csv``, ``performance_Augmentation.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from nasbench.results.scorings import Scoring, ScoringSource

from nasbench.data import locate, read_frame, read_table
from nasbench.data.recipes import ZC_EDGES, ZC_OPS, zc_to_nb201
from nasbench.errors import UserError, available

# -- NAS-Bench-Suite-Zero on NAS-Bench-201 --------------------------------------------------------
ZC201_TABLE = "zc_nb201"
ZC201_CITATION = ("Krishnakumar et al., NAS-Bench-Suite-Zero, NeurIPS 2022 Datasets and "
                  "Benchmarks (automl/NASLib, Apache-2.0)")
ZC201_DATASETS = ("cifar10", "cifar100", "imagenet16_120")
ZC201_EDGES = ZC_EDGES
"""The source file's tuple order: edge (target <- source)."""
ZC201_OPS = ZC_OPS
"""The source file's op indices."""
_ZC201_UNITS = {"val_accuracy": "%", "params": "M", "flops": "MFLOPs"}
zc201_to_nb201 = zc_to_nb201


def _zc201_frame(data_dir: Path | None) -> Any:
    return read_frame(ZC201_TABLE, data_dir)


def _zc201_arguments(data_dir: Path | None) -> list[str]:
    columns = _zc201_frame(data_dir).columns
    measures = sorted({c.split("/", 1)[1] for c in columns if "/" in c}
                      - {"order"} - {c.split("/", 1)[1] for c in columns if c.endswith("_time")})
    return [f"{d}/{m}" for d in ZC201_DATASETS for m in measures]


def zc201_cells(dataset: str, data_dir: Path | None) -> Any:
    """The cells scored on ``dataset``, in the source file's order, with every column."""
    frame = _zc201_frame(data_dir)
    order = frame[f"{dataset}/order"]
    return frame[order.notna()].sort_values(f"{dataset}/order", kind="stable")


def _zc201_load(argument: str, data_dir: Path | None) -> Scoring:
    names = _zc201_arguments(data_dir)
    if argument not in names:
        raise UserError(f"zc201 has no scoring '{argument}'; available: {available(names)}.")
    dataset, measure = argument.split("/")
    rows = zc201_cells(dataset, data_dir)
    return Scoring(f"zc201:{argument}", rows["arch"].to_numpy(dtype=object),
                   rows[f"{dataset}/{measure}"].to_numpy(dtype=np.float64),
                   True, _ZC201_UNITS.get(measure, ""), ZC201_CITATION)


# -- NAS-Bench-Macro ------------------------------------------------------------------------------
MACRO_TABLE = "nasbench_macro"
MACRO_CITATION = "Su et al., NAS-Bench-Macro, CVPR 2021 (xiusu/NAS-Bench-Macro, Apache-2.0)"
MACRO_SEEDS = 3
_MACRO_COLUMNS = {"mean_acc": ("test_acc", "%"), "params": ("params", ""),
                  "flops": ("flops", "")}


def _macro_arguments(_data_dir: Path | None) -> list[str]:
    return [*(f"seed{i}" for i in range(MACRO_SEEDS)), *_MACRO_COLUMNS]


def _macro_load(argument: str, data_dir: Path | None) -> Scoring:
    if argument not in _macro_arguments(data_dir):
        raise UserError(
            f"macro has no scoring '{argument}'; available: {available(_macro_arguments(None))}."
        )
    frame = read_frame(MACRO_TABLE, data_dir)
    if argument.startswith("seed"):
        column, unit = f"test_acc#{int(argument[4:])}", "%"
    else:
        column, unit = _MACRO_COLUMNS[argument]
    return Scoring(f"macro:{argument}", frame["arch"].to_numpy(dtype=object),
                   frame[f"cifar10/{column}"].to_numpy(dtype=np.float64), True, unit,
                   MACRO_CITATION)


# -- TransNAS-Bench-101 ---------------------------------------------------------------------------
TRANSNAS_TABLE = "transnas101_micro"
TRANSNAS_CITATION = ("Duan et al., TransNAS-Bench-101, CVPR 2021 (micro space, via "
                     "automl/NASLib)")


def transnas_tasks(data_dir: Path | None) -> list[str]:
    """The tasks of the table, in the order of its columns."""
    columns = read_table(TRANSNAS_TABLE, data_dir).column_names
    return list(dict.fromkeys(c.split("/", 1)[0] for c in columns if c.endswith("/val_metric")))


def _transnas_arguments(data_dir: Path | None) -> list[str]:
    tasks = transnas_tasks(data_dir)
    return [*tasks, *(f"{t}/zen_score" for t in tasks)]


def _transnas_load(argument: str, data_dir: Path | None) -> Scoring:
    task, _, column = argument.partition("/")
    column = column or "val_metric"
    if task not in transnas_tasks(data_dir) or column not in ("val_metric", "zen_score"):
        raise UserError(
            f"transnas has no scoring '{argument}'; available: "
            f"{available(_transnas_arguments(data_dir))}."
        )
    frame = read_frame(TRANSNAS_TABLE, data_dir)
    return Scoring(f"transnas:{argument}", frame["arch"].to_numpy(dtype=object),
                   frame[f"{task}/{column}"].to_numpy(dtype=np.float64), True, "",
                   TRANSNAS_CITATION)


# -- Yang et al. 2020 -----------------------------------------------------------------------------
YANG_CITATION = ("Yang, Esperança & Carlucci, NAS evaluation is frustratingly hard, ICLR 2020 "
                 "(raw results: github.com/antoyang/NAS-Benchmark)")
YANG_FILES = {"seed": "yang2020/seed_correlation_24.csv",
              "depth": "yang2020/depth_correlation_32.csv",
              "protocols": "yang2020/performance_Augmentation.csv"}


def yang_table(data_dir: Path | None, part: str) -> Any:
    """One of Yang et al.'s per-architecture tables, one row per architecture."""
    import pandas as pd

    frame = pd.read_csv(locate(data_dir, YANG_FILES[part], "Yang et al.'s raw results",
                               importer="yang2020"))
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
