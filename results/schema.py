"""Reading a results directory: the tables the harness writes and what their columns mean.

See ``docs/results.md`` for the full schema. Analysis code should go through
:func:`load_results`, which checks that the directory is complete and returns the tables
together with the manifest that explains them. Directories made by ``nasbench import`` (results
nasbench did not produce, see :mod:`nasbench.results.importers`) have the same layout without
``trials.parquet``, and their manifest says where they came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import UserError
from nasbench.protocol import BASELINE_LABEL

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Results:
    """One results directory: its tables and manifest."""

    directory: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    trials: pd.DataFrame | None

    @property
    def search_metric(self) -> str:
        return self.manifest["search_metric"]

    @property
    def report_metrics(self) -> list[str]:
        return list(self.manifest["report_metrics"])

    @property
    def study(self) -> str:
        return self.manifest["study"]

    @property
    def config_hash(self) -> str:
        return str(self.manifest.get("config_hash", ""))

    @property
    def imported(self) -> bool:
        """Whether the tables were imported from results nasbench did not produce."""
        return "imported" in self.manifest

    @property
    def paired_seeds(self) -> bool:
        """Whether runs of different strategies with the same seed are paired.

        In a nasbench study they are: the repetition seed fixes the evaluation seeds of every
        strategy of that repetition. Imported results say so in their manifest.
        """
        return bool(self.manifest.get("paired_seeds", not self.imported))

    def higher_is_better(self, metric: str) -> bool:
        """Orientation of ``metric`` as the evaluator (or the import) declared it."""
        return bool(self.manifest["metrics"][metric]["higher_is_better"])

    def unit(self, metric: str) -> str:
        return str(self.manifest["metrics"][metric].get("unit", ""))

    @property
    def strategies(self) -> list[str]:
        """Strategy labels in config order, random-sampling rows last."""
        declared = self.manifest.get("strategies") or [
            s["label"] for s in self.manifest.get("config", {}).get("strategies", [])]
        order = list(dict.fromkeys(declared))
        order += [s for s in dict.fromkeys(self.runs["strategy"]) if s not in order]
        baselines = set(self.counterparts.values())
        return [s for s in order if s not in baselines] + [s for s in order if s in baselines]

    @property
    def counterparts(self) -> dict[str, str]:
        """Strategy label -> the label of its random-sampling counterpart.

        Every strategy of a nasbench study is compared with the study's random-sampling
        baseline; imported results may give each method its own counterpart (Yang et al.
        sample at random from each method's own space and train with its own protocol).
        """
        declared = self.manifest.get("counterparts")
        labels = list(dict.fromkeys(self.runs["strategy"]))
        if declared is not None:
            return {k: v for k, v in declared.items() if k in labels and v in labels}
        if BASELINE_LABEL not in labels:
            return {}
        return {label: BASELINE_LABEL for label in labels if label != BASELINE_LABEL}

    def cost_unit(self) -> str:
        """The unit of the study's evaluation cost: what the trials record in
        ``info.cost_unit`` (the ``dqn`` evaluator: ``env_steps``; the training evaluator: its
        ``cost_unit`` setting) when they agree on one, else seconds (``s``)."""
        trials = self.trials
        if trials is not None and "info.cost_unit" in trials:
            units = set(trials["info.cost_unit"].dropna().astype(str))
        else:  # the trials stayed on disk (a report): the column's values, not its rows
            units = _string_values(self.directory / "trials.parquet", "info.cost_unit")
        unit = units.pop() if len(units) == 1 else "s"
        return "s" if unit == "seconds" else unit

    def describe(self) -> dict[str, Any]:
        """What a reader needs to trace a row back: directory, study, config, protocol."""
        config = self.manifest.get("config", {})
        evaluator = config.get("evaluator", {})
        budget = config.get("budget", {})
        limits = []
        if budget.get("evaluations"):
            limits.append(f"{budget['evaluations']} evaluations")
        if budget.get("cost"):
            limits.append(f"{budget['cost']:g} {self.cost_unit()} of evaluation cost")
        return {
            "directory": str(self.directory),
            "study": self.study,
            "config_hash": self.config_hash,
            "space": config.get("space", {}).get("name", ""),
            "evaluator": evaluator.get("name", ""),
            "dataset": evaluator.get("dataset", ""),
            "search_metric": self.manifest.get("search_metric") or "",
            "budget": " or ".join(limits),
            "seeds": len(config.get("study", {}).get("seeds", [])) or int(
                self.runs["seed"].nunique()),
            "source": (self.manifest.get("imported") or {}).get("citation", ""),
        }


REPORT_TRIAL_COLUMNS = ("run_id", "strategy", "trial", "arch", "arch_key", "incumbent",
                        "status", "repeat", "cum_cost")
"""The columns of ``trials.parquet`` that reports and leaderboards read (with the metrics)."""


def _string_values(path: Path, column: str) -> set[str]:
    """The distinct values of a string ``column`` of a Parquet file (empty when the file or the
    column is missing): from its row groups' statistics when every one has them, else from the
    column's dictionary."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return set()
    source = pq.ParquetFile(path)
    if column not in source.schema_arrow.names:
        return set()
    index = source.schema_arrow.names.index(column)
    meta = source.metadata
    values: set[str] = set()
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(index).statistics
        if stats is None or not stats.has_min_max:
            if stats is not None and stats.null_count == meta.row_group(i).num_rows:
                continue  # every value missing
            table = pq.read_table(path, columns=[column], read_dictionary=[column])
            return {str(v) for v in table.column(column).unique().to_pylist() if v is not None}
        values.update({str(stats.min), str(stats.max)})
        if len(values) > 1:
            break
    return values


def read_trials(path: Path, columns: Sequence[str] | None = None,
                metrics: Sequence[str] = ()) -> pd.DataFrame:
    """``trials.parquet`` as a DataFrame, in memory that follows the columns read.

    Only ``columns`` (and ``metrics``) are read when given (Parquet column projection);
    string columns come back as pandas categoricals rather than one Python object per cell,
    which a table of millions of trials could not afford.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    schema = source.schema_arrow
    names = schema.names
    if columns is not None:
        have = set(names)
        names = [c for c in dict.fromkeys([*columns, *metrics]) if c in have]
    text = [n for n in names if pa.types.is_string(schema.field(n).type)
            or pa.types.is_large_string(schema.field(n).type)]
    # strings as categories: a code per cell and each distinct string once (architectures,
    # run ids and statuses repeat across millions of rows)
    table = pq.read_table(path, columns=names, read_dictionary=text)
    return table.to_pandas(self_destruct=True, split_blocks=True)


def load_results(directory: str | Path, *, trials: bool = True,
                 trial_columns: Sequence[str] | None = None) -> Results:
    """Load ``runs.parquet`` (and ``trials.parquet``) with the manifest of ``directory``.

    Args:
        trial_columns: read only these columns of ``trials.parquet`` (and every metric the
            manifest names), e.g. :data:`REPORT_TRIAL_COLUMNS`; default all.

    Raises:
        UserError: when the directory is not a complete nasbench results directory.
    """
    import pandas as pd

    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise UserError(
            f"{directory} is not a nasbench results directory (no manifest.json). Pass the "
            "directory that 'nasbench run' printed."
        )
    manifest = json.loads(manifest_path.read_text())
    runs_path = directory / "runs.parquet"
    if not runs_path.is_file():
        raise UserError(
            f"{directory} holds a study whose runs are not all done (no runs.parquet). Finish it "
            f"with: nasbench run --resume --out {directory} <study.toml>"
        )
    runs = pd.read_parquet(runs_path)
    trials_path = directory / "trials.parquet"
    trial_df = None
    if trials and trials_path.is_file():
        metrics = [manifest.get("search_metric") or "search_metric",
                   *manifest.get("report_metrics", [])]
        trial_df = read_trials(trials_path, trial_columns, ["search_metric", *metrics])
    elif trials and "imported" not in manifest:
        raise UserError(
            f"{directory} has no trials.parquet; it is not a complete nasbench results "
            "directory. Finish the study with: nasbench run --resume --out "
            f"{directory} <study.toml>"
        )
    return Results(directory, manifest, runs, trial_df)


def load_for_report(directory: str | Path) -> Results:
    """A directory as reports and leaderboards read it, in memory that does not grow with the
    number of trials.

    Their per-trial analyses read ``trials.parquet`` as they need it (anytime curves and
    distinct architectures run by run), so its trials are left on disk (``trials`` is
    ``None``); a multi-objective study's Pareto fronts need every trial's objectives, so its
    report columns are read (:data:`REPORT_TRIAL_COLUMNS`).
    """
    results = load_results(directory, trials=False)
    if (results.manifest.get("config") or {}).get("objectives"):
        return load_results(directory, trial_columns=REPORT_TRIAL_COLUMNS)
    return results


STREAM_ROWS = 65_536
"""Rows of ``trials.parquet`` read at a time by :func:`whole_run_frames`."""


class ScatteredRuns(Exception):
    """A run's rows are not all together in ``trials.parquet`` (it cannot be read run by
    run; the harness never writes such a table, an edited one may be)."""


def whole_run_frames(path: Path, columns: Sequence[str]) -> Iterator[pd.DataFrame]:
    """``columns`` of ``trials.parquet`` in frames of whole runs, in the table's order.

    The harness writes a run's rows together, so a per-run analysis can read the table batch
    by batch, holding one batch (and the unfinished run it ends with) at a time: memory does
    not grow with the number of trials. Strings come back as categoricals.

    Raises:
        KeyError: a column is missing.
        ScatteredRuns: a run's rows are apart (read the table whole instead).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise KeyError(", ".join(missing))
    text = [c for c in columns if pa.types.is_string(schema.field(c).type)
            or pa.types.is_large_string(schema.field(c).type)]
    source = pq.ParquetFile(path, read_dictionary=text)
    closed: set[str] = set()  # every finished run's id (a few bytes a run): seen again = apart
    tail: Any = None
    for batch in source.iter_batches(batch_size=STREAM_ROWS, columns=list(columns)):
        table = pa.Table.from_batches([batch])
        if tail is not None:
            table = pa.concat_tables([tail, table])
        if not table.num_rows:
            continue
        frame = table.to_pandas()
        codes = frame["run_id"].cat.codes.to_numpy()
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        cut = int(starts[-1])
        tail = table.slice(cut)
        if cut:
            ids = list(frame["run_id"].cat.categories[codes[starts[:-1]]])
            if len(set(ids)) != len(ids) or not closed.isdisjoint(ids):
                raise ScatteredRuns(path)
            closed.update(ids)
            yield frame.iloc[:cut]
    if tail is not None and tail.num_rows:
        frame = tail.to_pandas()
        if str(frame["run_id"].iloc[0]) in closed:
            raise ScatteredRuns(path)
        yield frame
