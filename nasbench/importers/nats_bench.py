"""The NATS-Bench topology release (= NAS-Bench-201's cells) converted into a nasbench table with
learning curves and training times.

Releases read (Dong et al., "NATS-Bench", TPAMI 2021, https://github.com/D-X-Y/NATS-Bench;
Dong & Yang, "NAS-Bench-201", ICLR 2020, https://github.com/D-X-Y/NAS-Bench-201):

* ``NATS-tss-v1_0-3ffb9-simple/`` (or ``-full/``): a directory with ``meta.pickle.pbz2`` and
  one file per cell, ``{index:06d}.pickle.pbz2`` (bz2-compressed pickles; ``.pickle`` also
  read), as ``nats_bench/api_topology.py`` and ``api_utils.py`` load them in fast mode. Both
  hold the same per-seed, per-epoch records; ``-full`` adds each run's trained weights, which
  are skipped unread (``skip_weights`` of the restricted reader);
* ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` and ``NAS-Bench-201-v1_1-096897.pth`` (or ``-v1_0-e61699``):
  one file with ``meta_archs``, ``arch2infos`` and ``evaluated_indexes``. The ``.pth`` is read
  with the restricted reader on the pickle inside it (``torch.load(weights_only=True)``
  refuses the NumPy scalars the release holds, and is much slower; see :func:`_read_pth`).

Every pickle goes through :mod:`nasbench.importers.restricted_pickle`: plain data only.

Each cell's record maps a training schedule (``"12"``/``"200"``; ``"less"``/``"full"`` in the
``.pth``) to an ``ArchResults`` state: ``arch_str`` and ``all_results``, a dict from
``(dataset, seed)`` to a ``ResultsCount`` state with ``epochs``, ``train_times``
(``{epoch: seconds}``), ``eval_acc1es`` (``{"<split>@<epoch>": accuracy %}``), ``params``.

Datasets and splits, as NAS-Bench-201 reports them (``get_more_info``):

* ``cifar10``: validation = ``x-valid`` of ``cifar10-valid`` (trained on half the training set,
  validated on the other half); test = ``ori-test`` of ``cifar10`` (trained on the whole
  training set); training time = that of the ``cifar10-valid`` run, which a search pays for;
* ``cifar100``, ``imagenet16_120``: validation = ``x-valid``, test = ``x-test`` (the two halves
  of the original test set), both of the same run.

Columns written, per dataset ``d`` and schedule ``S`` in (12, 200), where the release has them
(epochs counted from 1: ``@e`` is after ``e`` epochs; ``#seed`` one seed, no suffix the mean):
``d/valid_{S}ep``, ``d/valid_{S}ep@e``, ``d/test_{S}ep``, ``d/test_{S}ep@e`` (each also
``#seed``), ``d/train_time_{S}ep`` (seconds, mean; ``#seed`` too) and its cumulative curve
``d/train_time_{S}ep@e``, and ``d/params`` (millions). The release records validation at every
epoch for CIFAR-10 in both schedules and for the others in the 12-epoch schedule only.

Fidelities: epochs 22, 66 and 200 of the 200-epoch schedule (Hyperband's budgets from 12 to 200
epochs at eta = 3, the NB201 paper's BOHB setting: 200 / 9, 200 / 3, 200), each charged the
training time of that many epochs. The default cost is the 12-epoch schedule's training time,
so that a search on ``valid_12ep`` budgets simulated seconds as the NAS-Bench-201 paper did.
"""

from __future__ import annotations

import bz2
import itertools
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from nasbench.data.importers import Importer
from nasbench.data.recipes import FORMAT, NATS_TSS_META
from nasbench.errors import UserError
from nasbench.hookspecs import hookimpl

from .restricted_pickle import load_stream

Progress = Callable[[int, int], None]

STEM = "nats_tss"
CITATION: str = NATS_TSS_META["citation"]
SOURCE: str = NATS_TSS_META["source"]

DATASETS: dict[str, dict[str, tuple[str, str]]] = {
    "cifar10": {"valid": ("cifar10-valid", "x-valid"), "test": ("cifar10", "ori-test")},
    "cifar100": {"valid": ("cifar100", "x-valid"), "test": ("cifar100", "x-test")},
    "imagenet16_120": {"valid": ("ImageNet16-120", "x-valid"),
                       "test": ("ImageNet16-120", "x-test")},
}
"""nasbench dataset -> split -> (release dataset, release evaluation name)."""
SCHEDULES = (12, 200)
FIDELITY_EPOCHS = (22, 66, 200)
_HP_NAMES = {"12": 12, "200": 200, "less": 12, "full": 200}
_FILE = re.compile(r"^(\d+)\.pickle(\.pbz2)?$")


def _read_pickle(path: Path) -> Any:
    """A ``.pickle.pbz2`` (bz2) or ``.pickle`` file, through the restricted reader."""
    try:
        if path.name.endswith(".pbz2"):
            with bz2.open(path, "rb") as stream:
                return load_stream(stream, source=str(path), skip_weights=True)
        with path.open("rb") as stream:
            return load_stream(stream, source=str(path), skip_weights=True)
    except (OSError, EOFError) as exc:
        raise UserError(f"{path}: cannot read it ({exc}); expected {SOURCE}") from None


def _read_pth(path: Path) -> Any:
    """The pickle inside a ``torch.save`` file, through the restricted reader.

    ``torch.load(weights_only=True)`` is not used: it refuses the NumPy scalars the release
    holds, and its pure-Python unpickler took 51 s on a 40 MB synthetic release that the
    restricted reader (a subclass of the C unpickler) reads in about 3 s.
    """
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.endswith("data.pkl")]
            if len(members) != 1:
                raise UserError(f"{path}: a .pth archive without exactly one data.pkl; "
                                f"expected {SOURCE}")
            with archive.open(members[0]) as stream:
                return load_stream(stream, source=f"{path}:{members[0]}", skip_weights=True)
    try:
        with path.open("rb") as stream:  # torch's legacy format: magic, protocol, info, object
            for _ in range(3):
                load_stream(stream, source=str(path), skip_weights=True)
            return load_stream(stream, source=str(path), skip_weights=True)
    except (OSError, EOFError) as exc:
        raise UserError(f"{path}: not a readable .pth file ({exc}); expected {SOURCE}") from None


def iter_release(source: Path) -> tuple[int, Iterator[tuple[int, str, Mapping[str, Any]]]]:
    """The number of cells of a release (a directory of per-cell files, or one file), and an
    iterator of ``(index, arch string, {schedule key: ArchResults state})`` over them."""
    if source.is_dir():
        files = sorted((int(m.group(1)), p) for p in source.iterdir()
                       if (m := _FILE.match(p.name)))
        if not files:
            raise UserError(f"{source} holds no '<index>.pickle.pbz2' files; expected {SOURCE}")

        def per_file() -> Iterator[tuple[int, str, Mapping[str, Any]]]:
            for index, path in files:
                record = _read_pickle(path)
                if not isinstance(record, Mapping) or not record:
                    raise UserError(f"{path}: expected a dict from schedule to results")
                yield index, _arch_str(next(iter(record.values())), path), record

        return len(files), per_file()
    whole = _read_pth(source) if source.suffix == ".pth" else _read_pickle(source)
    if not isinstance(whole, Mapping) or not {"meta_archs", "arch2infos"} <= set(whole):
        raise UserError(f"{source}: expected a dict with 'meta_archs' and 'arch2infos'; "
                        f"expected {SOURCE}")
    infos = whole["arch2infos"] or {}
    cells = ((int(i), str(whole["meta_archs"][i]), infos[i]) for i in sorted(infos))
    return len(infos), cells


def _arch_str(results: Any, path: Path) -> str:
    if not isinstance(results, Mapping) or "arch_str" not in results:
        raise UserError(f"{path}: a schedule's results lack 'arch_str'; expected {SOURCE}")
    return str(results["arch_str"])


def _runs(results: Mapping[str, Any], dataset: str) -> list[tuple[int, Mapping[str, Any]]]:
    """``(seed, ResultsCount state)`` of one release dataset, by seed."""
    runs = []
    for key, run in (results.get("all_results") or {}).items():
        if isinstance(key, tuple) and len(key) == 2 and key[0] == dataset:
            runs.append((int(key[1]), run))
    return sorted(runs, key=lambda r: r[0])


def cell_values(record: Mapping[str, Any]) -> dict[str, float]:
    """Every column value of one cell (unqualified by row; qualified by dataset)."""
    out: dict[str, float] = {}
    for hp_key, results in record.items():
        schedule = _HP_NAMES.get(str(hp_key))
        if schedule is None or not isinstance(results, Mapping):
            continue
        for dataset, splits in DATASETS.items():
            for split, (release_name, eval_name) in splits.items():
                _split_values(out, dataset, split, schedule,
                              _runs(results, release_name), eval_name)
    return out


@lru_cache(maxsize=16)
def _time_names(dataset: str, schedule: int) -> tuple[str, ...]:
    return tuple(f"{dataset}/train_time_{schedule}ep@{at}" for at in range(1, schedule + 1))


def _split_values(out: dict[str, float], dataset: str, split: str, schedule: int,
                  runs: list[tuple[int, Mapping[str, Any]]], eval_name: str) -> None:
    prefix = f"{dataset}/{split}_{schedule}ep"
    per_epoch: dict[int, list[float]] = {}
    times: list[list[float]] = []
    marker = f"{eval_name}@"
    for seed, run in runs:
        if int(run.get("epochs", schedule)) != schedule:
            continue
        for key, value in (run.get("eval_acc1es") or {}).items():
            if not key.startswith(marker):
                continue
            at = int(key[len(marker):]) + 1  # the release counts epochs from 0
            if not 1 <= at <= schedule:
                continue
            out[f"{prefix}@{at}#{seed}"] = float(value)
            per_epoch.setdefault(at, []).append(float(value))
            if at == schedule:
                out[f"{prefix}#{seed}"] = float(value)
        if split != "valid":
            continue
        if "params" in run and f"{dataset}/params" not in out:
            out[f"{dataset}/params"] = float(run["params"])
        train_times = run.get("train_times") or {}
        if len(train_times) >= schedule:
            cumulative = list(itertools.accumulate(float(train_times[e])
                                                   for e in range(schedule)))
            times.append(cumulative)
            out[f"{dataset}/train_time_{schedule}ep#{seed}"] = cumulative[-1]
    for at, values in per_epoch.items():
        mean = sum(values) / len(values)
        out[f"{prefix}@{at}"] = mean
        if at == schedule:
            out[prefix] = mean
    if times:
        means = [sum(column) / len(times) for column in zip(*times, strict=True)]
        out.update(zip(_time_names(dataset, schedule), means, strict=True))
        out[f"{dataset}/train_time_{schedule}ep"] = means[-1]


def _metric_info(name: str) -> dict[str, Any]:
    """The metric description of an unqualified column name (``valid_200ep@37#777``)."""
    if name == "params":
        return {"split": "other", "unit": "M", "fidelity": None, "higher_is_better": False,
                "doc": "parameters (millions) of the benchmark network"}
    base, _, seed = name.partition("#")
    family, _, at = base.partition("@")
    kind, _, schedule = family.rpartition("_")
    epochs = int(at) if at else int(schedule[:-2])
    what = {"valid": "validation accuracy", "test": "test accuracy",
            "train_time": "training time"}[kind]
    doc = f"{what} after {epochs} epochs of the {schedule[:-2]}-epoch schedule"
    if kind == "train_time":
        doc = f"training time of the first {epochs} epochs of the {schedule[:-2]}-epoch schedule"
    doc += f", seed {seed}" if seed else ", mean over seeds"
    return {"split": "other" if kind == "train_time" else kind,
            "unit": "s" if kind == "train_time" else "%", "fidelity": epochs, "doc": doc,
            "higher_is_better": kind != "train_time"}


class NatsTssImporter(Importer):
    """``nasbench data import nats_tss NATS-tss-v1_0-3ffb9-simple``."""

    name: ClassVar[str] = "nats_tss"
    summary: ClassVar[str] = ("NATS-Bench topology / NAS-Bench-201 full release: curves and "
                              "training times of 15,625 cells on 3 datasets")
    source: ClassVar[str] = SOURCE
    licence: ClassVar[str] = NATS_TSS_META["licence"]
    citation: ClassVar[str] = CITATION
    version: ClassVar[str] = "1"

    def convert(self, source: Path, dest: Path, progress: Progress | None = None) -> list[str]:
        import numpy as np

        from nasbench.data.recipes import IMPORT_COMPRESSION_LEVEL, to_arrow, write_table
        from nasbench.spaces.nb201 import Nb201Space

        source = Path(source)
        if not source.exists():
            raise UserError(f"{source} does not exist; expected {SOURCE}")
        space = Nb201Space()
        total, cells = iter_release(source)
        archs: list[str] = []
        columns: dict[str, Any] = {}  # filled row by row: the release is too big for dicts
        for row, (_, arch_str, record) in enumerate(cells):
            try:
                archs.append(space.to_string(space.from_string(arch_str)))
            except UserError as exc:
                raise UserError(f"{source}: cell {arch_str!r} is not a NAS-Bench-201 cell "
                                f"({exc})") from None
            for name, value in cell_values(record).items():
                column = columns.get(name)
                if column is None:
                    column = columns[name] = np.full(total, np.nan)
                column[row] = value
            if progress is not None:
                progress(row + 1, total)
        if not archs:
            raise UserError(f"{source}: no cells found; expected {SOURCE}")
        ordered = {name: columns[name][:len(archs)]
                   for name in sorted(columns, key=_column_order)}
        table = to_arrow({"arch": archs, **ordered})
        description = self._description(ordered)
        description["rows"] = len(archs)
        return [p.name for p in write_table(table, description, dest, STEM,
                                            IMPORT_COMPRESSION_LEVEL)]

    def _description(self, columns: Mapping[str, Any]) -> dict[str, Any]:
        import numpy as np

        datasets = [d for d in DATASETS if any(c.startswith(f"{d}/") for c in columns)]
        unqualified = sorted({c.split("/", 1)[1] for c in columns}, key=_column_order)
        optimum = {}
        for column, values in columns.items():
            if "#" not in column and "@" not in column and "time" not in column \
                    and not column.endswith("params"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    best = float(np.nanmax(values))
                if best == best:
                    optimum[column] = best
        return {
            "format": FORMAT, "name": STEM, **NATS_TSS_META,
            "datasets": datasets,
            "metrics": {m: _metric_info(m) for m in unqualified},
            "cost_metric": next((m for m in ("train_time_12ep", "train_time_200ep")
                                 if m in unqualified), None),
            "fidelities": {str(e): {"valid": "valid_200ep" if e == 200 else f"valid_200ep@{e}",
                                    "cost": "train_time_200ep" if e == 200
                                    else f"train_time_200ep@{e}",
                                    **({"test": "test_200ep"} if e == 200 else {})}
                           for e in FIDELITY_EPOCHS},
            "search_metric": "valid_12ep" if "valid_12ep" in unqualified else "valid_200ep",
            "report_metrics": ["test_200ep"],
            "optimum": optimum,
        }


def _column_order(name: str) -> tuple[str, int, str]:
    base, _, seed = name.partition("#")
    family, _, at = base.partition("@")
    return family, int(at) if at else 0, seed


@hookimpl
def nasbench_register_importers(registry: Any) -> None:
    registry.add(NatsTssImporter)
