"""Results nasbench did not produce, read in so they are analysed like its own.

The import format is a *runs table* plus a small TOML description (see ``docs/analysis.md``):

* the table (CSV or Parquet): one row per run, i.e. the final result of one search (or of one
  randomly sampled architecture), with the columns ``strategy`` (a label), ``seed``
  (optional; default: the row's position within its strategy), one numeric column per
  metric, and optionally ``counterpart`` (the label of the strategy's random-sampling
  counterpart) and a problem column that splits the table into several studies;
* the description::

      [study]
      name = "my-study"            # required
      citation = "Author et al., Venue Year"
      paired_seeds = false         # whether equal seeds of two strategies share randomness
      space = "darts"              # shown in reports
      dataset = "cifar10"
      problem_column = "dataset"   # optional: one study per value, named <name>-<value>

      [metrics.test_acc]           # one table per metric column to import
      higher_is_better = true
      unit = "%"
      doc = "test accuracy of the final architecture"

      [counterparts]               # optional: strategy = its random-sampling counterpart
      DARTS = "Random DARTS"

An import becomes a :class:`~nasbench.results.schema.Results` with a manifest that records the
source file and its SHA-256, so ``nasbench report`` treats it like a study's results
directory; ``nasbench import`` writes it out as one (``manifest.json`` + ``runs.parquet``).

:func:`yang2020_results` reads the raw results Yang et al. published with "NAS evaluation is
frustratingly hard" (ICLR 2020): per dataset, columns in pairs ``Random X``, ``X``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from nasbench.results.schema import Results

from nasbench import manifest as env
from nasbench.data import locate
from nasbench.errors import UserError, available
from nasbench.protocol import config_hash

if TYPE_CHECKING:
    import pandas as pd

RESERVED = ("strategy", "seed", "counterpart")
"""Columns of the runs table that are not metrics."""
FORMATS = ("runs", "yang2020")
"""What ``nasbench import --format`` reads."""


@dataclass(frozen=True)
class MetricSpec:
    """How to read one metric column."""

    higher_is_better: bool = True
    unit: str = ""
    doc: str = ""


@dataclass(frozen=True)
class ImportSpec:
    """The description of an import (the TOML file)."""

    name: str
    metrics: Mapping[str, MetricSpec]
    citation: str = ""
    paired_seeds: bool = False
    space: str = ""
    dataset: str = ""
    problem_column: str | None = None
    counterparts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_toml(cls, path: Path) -> ImportSpec:
        try:
            raw = tomllib.loads(path.read_text())
        except OSError as err:
            raise UserError(f"cannot read {path}: {err.strerror or err}.") from None
        except tomllib.TOMLDecodeError as err:
            raise UserError(f"{path} is not valid TOML: {err}.") from None
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "import description") -> ImportSpec:
        study = raw.get("study") or {}
        name = study.get("name")
        if not isinstance(name, str) or not name:
            raise UserError(f"{where}: [study] name is missing; name the imported study.")
        metrics_raw = raw.get("metrics") or {}
        if not metrics_raw:
            raise UserError(f"{where}: no [metrics.<column>] table; describe at least one "
                            "metric column (higher_is_better, unit).")
        metrics = {}
        for column, spec in metrics_raw.items():
            unknown = set(spec) - {"higher_is_better", "unit", "doc"}
            if unknown:
                raise UserError(f"{where}: [metrics.{column}] has unknown keys "
                                f"{available(unknown)}; known: doc, higher_is_better, unit.")
            metrics[column] = MetricSpec(bool(spec.get("higher_is_better", True)),
                                         str(spec.get("unit", "")), str(spec.get("doc", "")))
        return cls(name=name, metrics=metrics, citation=str(study.get("citation", "")),
                   paired_seeds=bool(study.get("paired_seeds", False)),
                   space=str(study.get("space", "")), dataset=str(study.get("dataset", "")),
                   problem_column=study.get("problem_column"),
                   counterparts=dict(raw.get("counterparts") or {}))

    def as_dict(self) -> dict[str, Any]:
        return {"study": {"name": self.name, "citation": self.citation,
                          "paired_seeds": self.paired_seeds, "space": self.space,
                          "dataset": self.dataset, "problem_column": self.problem_column},
                "metrics": {k: vars(v) for k, v in self.metrics.items()},
                "counterparts": dict(self.counterparts)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_table(path: Path) -> pd.DataFrame:
    """A runs table from CSV or Parquet."""
    import pandas as pd

    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}.") from None


def results_from_table(frame: pd.DataFrame, spec: ImportSpec, source: Path) -> list[Results]:
    """The runs table as one :class:`Results` per problem (one if no problem column)."""
    if "strategy" not in frame.columns:
        raise UserError(f"{source} has no 'strategy' column; the runs table needs one "
                        f"(columns: {available(frame.columns)}).")
    missing = [m for m in spec.metrics if m not in frame.columns]
    if missing:
        raise UserError(f"{source} lacks the metric columns {available(missing)} its "
                        f"description names; columns: {available(frame.columns)}.")
    if spec.problem_column is None:
        return [_results(frame, spec, source, spec.name, spec.dataset)]
    if spec.problem_column not in frame.columns:
        raise UserError(f"{source} has no problem column '{spec.problem_column}'.")
    return [_results(part, spec, source, f"{spec.name}-{value}", str(value))
            for value, part in frame.groupby(spec.problem_column, sort=False)]


def _results(frame: pd.DataFrame, spec: ImportSpec, source: Path, study: str,
             dataset: str) -> Results:
    import pandas as pd

    frame = frame.copy()
    frame["strategy"] = frame["strategy"].astype(str).str.strip()
    metrics = list(spec.metrics)
    frame = frame.dropna(subset=metrics, how="all")
    if "seed" not in frame.columns:
        frame["seed"] = frame.groupby("strategy", sort=False).cumcount()
    labels = list(dict.fromkeys(frame["strategy"]))
    counterparts = dict(spec.counterparts)
    if "counterpart" in frame.columns:
        for label, part in frame.groupby("strategy", sort=False):
            named = part["counterpart"].dropna().astype(str).str.strip().unique()
            if len(named) > 1:
                raise UserError(f"{source}: strategy '{label}' names several counterparts "
                                f"({available(named)}); give it one.")
            if len(named) == 1 and named[0]:
                counterparts[str(label)] = named[0]
    unknown = {v for v in counterparts.values() if v not in labels}
    counterparts = {k: v for k, v in counterparts.items() if k in labels and v in labels}
    baselines = set(counterparts.values())
    runs = pd.DataFrame({
        "run_id": [f"{s}-{seed}" for s, seed in zip(frame["strategy"], frame["seed"],
                                                    strict=True)],
        "kind": ["baseline" if s in baselines else "search" for s in frame["strategy"]],
        "strategy": frame["strategy"].to_numpy(),
        "strategy_name": frame["strategy"].to_numpy(),
        "seed": frame["seed"].astype(np.int64).to_numpy(),
        "n_evaluations": np.nan,
        "search_metric": np.nan,
    })
    for m in metrics:
        runs[m] = pd.to_numeric(frame[m], errors="coerce").to_numpy(dtype=np.float64)
    digest = _sha256(source) if source.is_file() else ""
    description = spec.as_dict()
    manifest = {
        "study": study,
        "status": "complete",
        "created": env.now(),
        "imported": {"source": str(source), "sha256": digest, "citation": spec.citation,
                     "description": description,
                     "unmatched_counterparts": sorted(unknown)},
        "config": {"study": {"name": study, "seeds": sorted(set(runs["seed"].tolist()))},
                   "space": {"name": spec.space}, "evaluator": {"name": "", "dataset": dataset}},
        "config_hash": config_hash({"import": description, "study": study, "sha256": digest}),
        "search_metric": None,
        "report_metrics": metrics,
        "metrics": {m: {"split": "test", "higher_is_better": s.higher_is_better,
                        "unit": s.unit, "doc": s.doc} for m, s in spec.metrics.items()},
        "strategies": labels,
        "counterparts": counterparts,
        "paired_seeds": spec.paired_seeds,
        "versions": env.versions({}),
    }
    return Results(source, manifest, runs, None)


def import_runs(table: Path, description: Path) -> list[Results]:
    """Read a runs table and its TOML description (the generic import format)."""
    return results_from_table(read_table(table), ImportSpec.from_toml(description), table)


# -- Yang et al., ICLR 2020 -----------------------------------------------------------------------
YANG_DATASETS = ("CIFAR10", "CIFAR100", "Sport8", "MIT67", "Flowers102")
YANG_FILE = "yang2020/performance_{}.csv"
YANG_SPEC = ImportSpec(
    name="yang2020",
    metrics={"test_acc": MetricSpec(True, "%", "test accuracy of the final architecture, "
                                                "trained with the method's own final protocol")},
    citation=("Yang, Esperança & Carlucci, NAS evaluation is frustratingly hard, ICLR 2020 "
              "(raw results: github.com/antoyang/NAS-Benchmark)"),
    paired_seeds=False,
    space="each method's own",
)


def yang2020_table(path: Path) -> pd.DataFrame:
    """One published performance file as a runs table: columns in pairs ``Random X``, ``X``
    (the counterpart first); empty columns are methods not reported on that dataset."""
    import pandas as pd

    frame = pd.read_csv(path)
    columns = [c.strip() for c in frame.columns]
    if len(columns) % 2:
        raise UserError(f"{path} has an odd number of columns; expected pairs 'Random X', 'X'.")
    parts = []
    for i in range(0, len(columns), 2):
        counterpart, method = columns[i], columns[i + 1]
        for label, col, other in ((method, i + 1, counterpart), (counterpart, i, "")):
            values = pd.to_numeric(frame.iloc[:, col], errors="coerce")
            parts.append(pd.DataFrame({"strategy": label, "seed": np.arange(len(values)),
                                       "test_acc": values, "counterpart": other or None}))
    table = pd.concat(parts, ignore_index=True)
    return table[table["test_acc"].notna()]


def yang2020_results(data_dir: Path | None) -> list[Results]:
    """Yang et al.'s relative-improvement data, one :class:`Results` per dataset."""
    out = []
    for dataset in YANG_DATASETS:
        path = locate(data_dir, YANG_FILE.format(dataset), "Yang et al.'s raw results",
                      importer="yang2020")
        spec = ImportSpec(**{**vars(YANG_SPEC), "name": f"yang2020-{dataset}",
                             "dataset": dataset})
        out.extend(results_from_table(yang2020_table(path), spec, path))
    return out


def write_results_directory(results: Results, out: Path) -> Path:
    """Write an imported :class:`Results` as a results directory ``nasbench report`` reads."""
    from nasbench.store import write_table

    if (out / "manifest.json").exists():
        raise UserError(f"{out} already holds results; choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    runs = results.runs
    write_table(out / "runs.parquet", {c: runs[c].tolist() for c in runs.columns},
                {"study": results.study, "config_hash": results.config_hash,
                 "report_metrics": results.report_metrics})
    (out / "manifest.json").write_text(json.dumps(results.manifest, indent=2, default=str))
    return out
