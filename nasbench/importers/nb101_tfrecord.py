"""NAS-Bench-101's released dataset (``nasbench_only108.tfrecord``, ``nasbench_full.tfrecord``)
converted into a nasbench table, without TensorFlow.

The release (Ying et al., ICML 2019; https://github.com/google-research/nasbench, Apache-2.0;
files at https://storage.googleapis.com/nasbench/) is a TFRecord file
(:mod:`nasbench.importers.tfrecord`). As the released ``nasbench/api.py`` reads it, every record
is the UTF-8 JSON list ``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]``:

* ``module_hash``: the cell's graph hash (:func:`nasbench.spaces.nb101_graph.graph_hash`);
* ``epochs``: the training budget (108 in ``only108``; 4, 12, 36 and 108 in ``full``);
* ``raw_adjacency``: the pruned cell's adjacency matrix, row-major, as a string of 0/1 digits;
* ``raw_operations``: its vertex labels, comma-separated (``input,...,output``);
* ``raw_metrics``: base64 of a serialised ``ModelMetrics`` protobuf
  (:mod:`nasbench.importers.protobuf`), whose ``evaluation_data`` holds the evaluations at
  initialisation [0], half-way [1] and the end of training [2].

Each cell is trained three times per budget (three records). The table has one row per cell
(``arch``: the nb101 space's string, ``arch_key``: the hash), and per budget ``E`` present:
``cifar10/valid_{E}ep``, ``test_{E}ep``, ``train_{E}ep`` (accuracies in %, mean of the repeats),
``train_time_{E}ep`` (seconds of training, without evaluation), each also per repeat
(``#0``, ``#1``, ``#2``, file order) and half-way (``@{E/2}``); and ``cifar10/params``.
Fidelities: the budgets, each charged its training time; with one budget (``only108``), its
half-way point (54) and the end (108), as the released API's ``stop_halfway`` offers.
The hash of every record is recomputed from its graph and must equal ``module_hash``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from nasbench.data.importers import Importer
from nasbench.data.recipes import FORMAT, NB101_META
from nasbench.errors import UserError
from nasbench.hookspecs import hookimpl

from .protobuf import WireError, decode_model_metrics
from .tfrecord import read_records

Progress = Callable[[int, int], None]

STEM = "nb101"
CITATION: str = NB101_META["citation"]
SOURCE: str = NB101_META["source"]

_FIELDS = ("valid", "test", "train", "train_time")


def _metric_info(name: str) -> dict[str, Any]:
    """The metric description of an unqualified column name such as ``valid_108ep@54#1``."""
    base = name.split("#")[0]
    family, _, at = base.partition("@")
    kind, _, budget = family.rpartition("_")
    epochs = float(at) if at else float(budget[:-2])
    split = {"valid": "valid", "test": "test", "train": "train", "train_time": "other"}[kind]
    what = {"valid": "validation accuracy", "test": "test accuracy",
            "train": "training accuracy", "train_time": "training time"}[kind]
    doc = f"{what} after {epochs:g} epochs of the {budget[:-2]}-epoch schedule"
    doc += f", repeat {name.split('#')[1]}" if "#" in name else ", mean of the repeats"
    return {"split": split, "unit": "s" if kind == "train_time" else "%",
            "fidelity": epochs, "doc": doc, "higher_is_better": kind != "train_time"}


class Nb101Importer(Importer):
    """``nasbench data import nb101 nasbench_only108.tfrecord``."""

    name: ClassVar[str] = "nb101"
    summary: ClassVar[str] = "NAS-Bench-101 (423,624 cells, CIFAR-10) from its TFRecord file"
    source: ClassVar[str] = SOURCE
    licence: ClassVar[str] = NB101_META["licence"]
    citation: ClassVar[str] = CITATION
    version: ClassVar[str] = "1"

    def convert(self, source: Path, dest: Path, progress: Progress | None = None) -> list[str]:
        from nasbench.spaces.nb101 import Nb101Space, from_spec
        from nasbench.spaces.nb101_graph import INPUT_LABEL, OUTPUT_LABEL, graph_hash

        source = Path(source)
        if not source.is_file():
            raise UserError(f"{source} is not a file; expected {SOURCE}")
        space = Nb101Space()
        op_index = {op: i for i, op in enumerate(space.ops)}
        cells: dict[str, dict[str, Any]] = {}
        n = 0
        for n, record in enumerate(read_records(source, progress=progress), start=1):
            module_hash, epochs, adjacency, operations, metrics = _parse(record, source, n)
            cell = cells.get(module_hash)
            if cell is None:
                dim = math.isqrt(len(adjacency))
                if dim * dim != len(adjacency) or set(adjacency) - {"0", "1"}:
                    raise UserError(f"{source}: record {n}: the adjacency {adjacency!r} is not "
                                    "a square 0/1 matrix")
                matrix = [[int(c) for c in adjacency[r * dim:(r + 1) * dim]]
                          for r in range(dim)]
                ops = operations.split(",")
                try:
                    arch = from_spec(matrix, ops)
                    labels = [INPUT_LABEL, *(op_index[o] for o in ops[1:-1]), OUTPUT_LABEL]
                except (KeyError, ValueError) as exc:
                    raise UserError(f"{source}: record {n} holds a cell outside the NAS-Bench-101 "
                                    f"space ({exc})") from None
                key = graph_hash(tuple(map(tuple, matrix)), labels)
                if key != module_hash:
                    raise UserError(
                        f"{source}: record {n}: the graph hashes to {key}, but the record says "
                        f"{module_hash}; the file is not the official release or is corrupt"
                    )
                cell = cells[module_hash] = {"arch": space.to_string(arch), "runs": {},
                                             "params": float(metrics.trainable_parameters)}
            cell["runs"].setdefault(int(epochs), []).append(_summary(metrics))
        if not cells:
            raise UserError(f"{source}: no records; expected {SOURCE}")
        return self._write(cells, dest)

    def _write(self, cells: dict[str, dict[str, Any]], dest: Path) -> list[str]:
        import numpy as np

        from nasbench.data.recipes import IMPORT_COMPRESSION_LEVEL, to_arrow, write_table

        budgets = sorted({e for c in cells.values() for e in c["runs"]})
        keys = list(cells)
        columns: dict[str, Any] = {}

        def column(name: str) -> Any:
            if name not in columns:
                columns[name] = np.full(len(keys), np.nan)
            return columns[name]

        for row, key in enumerate(keys):
            cell = cells[key]
            column("params")[row] = cell["params"]
            for epochs in budgets:
                runs = cell["runs"].get(epochs, [])
                for rep, (final, half, half_epoch) in enumerate(runs):
                    for values, at in ((final, ""), (half, f"@{half_epoch:g}")):
                        for field, value in zip(_FIELDS, values, strict=True):
                            column(f"{field}_{epochs}ep{at}#{rep}")[row] = value
        # means over the repeats
        for name in [c for c in columns if "#" in c]:
            mean_name = name.split("#")[0]
            if mean_name in columns:
                continue
            reps = [columns[c] for c in columns if c.split("#")[0] == mean_name and "#" in c]
            with warnings.catch_warnings():  # a cell without that budget: NaN, as wanted
                warnings.simplefilter("ignore", RuntimeWarning)
                columns[mean_name] = np.nanmean(np.vstack(reps), axis=0)
        qualified = {f"cifar10/{name}": values for name, values in sorted(columns.items())}
        top = budgets[-1]
        metrics = {name: _metric_info(name) for name in sorted(columns) if name != "params"}
        metrics["params"] = {"split": "other", "unit": "", "fidelity": None,
                             "doc": "trainable parameters", "higher_is_better": False}
        description = {
            "format": FORMAT, "name": STEM, **NB101_META,
            "summary": f"NAS-Bench-101: {len(keys):,} cells, CIFAR-10, budgets "
                       f"{', '.join(map(str, budgets))} epochs",
            "datasets": ["cifar10"], "metrics": metrics,
            "cost_metric": f"train_time_{top}ep",
            "fidelities": _fidelities(budgets, columns),
            "search_metric": f"valid_{top}ep", "report_metrics": [f"test_{top}ep"],
            "rows": len(keys),
            "optimum": {f"cifar10/{m}": float(np.nanmax(columns[m]))
                        for m in (f"valid_{top}ep", f"test_{top}ep")},
            "key_column": "arch_key",
        }
        table = to_arrow({"arch": [cells[k]["arch"] for k in keys], "arch_key": keys,
                          **qualified})
        return [p.name for p in write_table(table, description, dest, STEM,
                                            IMPORT_COMPRESSION_LEVEL)]


def _fidelities(budgets: list[int], columns: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The training budgets as fidelities, each charged its own training time; with a single
    budget (``only108``), its half-way evaluation too, as the released API's ``stop_halfway``
    offers it."""
    out = {str(e): {"valid": f"valid_{e}ep", "test": f"test_{e}ep", "cost": f"train_time_{e}ep"}
           for e in budgets}
    if len(budgets) == 1:
        (e,) = budgets
        half = next((c.split("@")[1] for c in columns if c.startswith(f"valid_{e}ep@")
                     and "#" not in c), None)
        if half is not None:
            out = {half: {"valid": f"valid_{e}ep@{half}", "test": f"test_{e}ep@{half}",
                          "cost": f"train_time_{e}ep@{half}"}, **out}
    return out


def _summary(metrics: Any) -> tuple[tuple[float, ...], tuple[float, ...], float]:
    """What the table keeps of one training run, compactly (the full file has millions):
    (valid, test, train accuracy in %, training time) at the end and half-way, and the
    half-way epoch."""
    def point(e: Any) -> tuple[float, ...]:
        return (100 * e.validation_accuracy, 100 * e.test_accuracy, 100 * e.train_accuracy,
                e.training_time)

    half = metrics.evaluation_data[1]
    return point(metrics.evaluation_data[-1]), point(half), half.current_epoch


def _parse(record: bytes, source: Path, n: int) -> tuple[str, int, str, str, Any]:
    try:
        module_hash, epochs, adjacency, operations, raw = json.loads(record.decode("utf-8"))
        metrics = decode_model_metrics(base64.b64decode(raw, validate=True))
        if len(metrics.evaluation_data) < 3:
            raise WireError("fewer than 3 evaluations")
        return str(module_hash), int(epochs), str(adjacency), str(operations), metrics
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise UserError(
            f"{source}: record {n} is not a NAS-Bench-101 record "
            f"([module_hash, epochs, adjacency, operations, base64 ModelMetrics]): {exc}"
        ) from None


@hookimpl
def nasbench_register_importers(registry: Any) -> None:
    registry.add(Nb101Importer)
