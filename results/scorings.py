"""Scorings: one number per architecture, from wherever it was measured.

Everything a rank-correlation study compares is a :class:`Scoring`: a benchmark column
(NAS-Bench-201's 12-epoch validation accuracy), a zero-cost proxy, one training seed of
several, or a metric of a nasbench results directory (a training or zero-cost evaluator's
runs). Two scorings are compared on the architectures they share, matched by key: the
architecture's string in its space's public format, or the identifier its source uses.

A scoring is named on the command line by a *spec*, ``SOURCE:ARGUMENT``:

* ``<benchmark>:<dataset>/<metric>``: a column of any registered benchmark table, e.g.
  ``nb201:cifar10/valid_12ep`` or ``nbgraph:cora/test_acc`` (``nasbench list`` names them);
* ``results:<directory>:<metric>``: the mean of a metric per architecture over the evaluated
  trials of a results directory (``search_metric`` or a report metric);
* ``csv:<file>:<column>``: a column of any CSV file, keyed by its ``arch`` column (else its
  first column);
* the published data sets of :mod:`~nasbench.results.scoring_sources` (``zc201``, ``macro``,
  ``transnas``, ``yang2020``), read from the data directory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.errors import UserError, available


@dataclass(frozen=True)
class Scoring:
    """Values of some measurement for a set of architectures.

    Attributes:
        name: the spec or label it is shown under.
        keys: one unique identifier per architecture.
        values: the measurement, aligned with ``keys`` (``nan`` = not measured).
        higher_is_better: orientation; correlations are computed on oriented values.
        unit: ``%`` for accuracies (the sparse Kendall tau rounds those), else free text.
        source: where the numbers come from (a citation or a path).
    """

    name: str
    keys: np.ndarray
    values: np.ndarray
    higher_is_better: bool = True
    unit: str = ""
    source: str = ""
    _index: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import pandas as pd

        keys = np.asarray(self.keys, dtype=object)
        values = np.asarray(self.values, dtype=np.float64)
        if keys.shape != values.shape or keys.ndim != 1:
            raise ValueError(f"scoring {self.name!r}: keys and values must be 1-d and aligned")
        index = pd.Index(keys)
        if not index.is_unique:
            raise ValueError(f"scoring {self.name!r} has repeated architecture keys")
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return int(self.keys.size)

    def aligned(self, other: Scoring) -> tuple[np.ndarray, np.ndarray]:
        """This scoring's and ``other``'s values on their shared, finitely valued keys, in
        ``other``'s order."""
        mine = self._index.get_indexer(other._index)
        shared = mine >= 0
        a = self.values[mine[shared]]
        b = other.values[shared]
        keep = np.isfinite(a) & np.isfinite(b)
        return a[keep], b[keep]

    def renamed(self, name: str) -> Scoring:
        return Scoring(name, self.keys, self.values, self.higher_is_better, self.unit,
                       self.source)


@dataclass(frozen=True)
class ScoringSource:
    """A family of scorings named ``<name>:<argument>``.

    Attributes:
        name: the prefix of its specs.
        summary: one line for users.
        citation: where its numbers come from.
        arguments: the arguments it accepts (for help and error messages), given the data
            directory.
        load: builds the scoring of one argument, given the data directory.
    """

    name: str
    summary: str
    citation: str
    arguments: Callable[[Path | None], Sequence[str]]
    load: Callable[[str, Path | None], Scoring]


@lru_cache(maxsize=4)
def _benchmark_table(benchmark_cls: type, space_cls: type, data_dir: Path | None
                     ) -> tuple[Any, np.ndarray, np.ndarray]:
    """A benchmark's table with every dataset, and its architectures' keys and rows.

    Loaded once per process: several scorings of one study read the same table.
    """
    benchmark, space = benchmark_cls(), space_cls()
    bind_space = getattr(benchmark, "bind_space", None)
    if bind_space is not None:  # a table-backed benchmark parses arch strings with it
        bind_space(space)
    loaded = benchmark.load(data_dir, tuple(benchmark.datasets()))
    keys, rows, seen = [], [], set()
    for arch in space.enumerate():
        try:
            row = loaded.row(arch)
        except KeyError:
            continue
        if row not in seen:  # several encodings of one architecture share its row
            seen.add(row)
            keys.append(space.to_string(arch))
            rows.append(row)
    return loaded, np.array(keys, dtype=object), np.array(rows, dtype=np.int64)


def benchmark_source(benchmark: Any, space: Any) -> ScoringSource:
    """The columns of a registered benchmark table as scorings."""

    def arguments(_data_dir: Path | None) -> list[str]:
        return [f"{d}/{m}" for d in benchmark.datasets() for m in benchmark.metrics()]

    def load(argument: str, data_dir: Path | None) -> Scoring:
        if argument not in arguments(data_dir):
            raise UserError(
                f"benchmark '{benchmark.name}' has no column '{argument}'; available: "
                f"{available(arguments(data_dir))}."
            )
        loaded, keys, rows = _benchmark_table(type(benchmark), type(space), data_dir)
        values = np.asarray(loaded.column(argument), dtype=np.float64)[rows]
        info = benchmark.metrics()[argument.partition("/")[2]]
        return Scoring(f"{benchmark.name}:{argument}", keys, values, info.higher_is_better,
                       info.unit, benchmark.citation)

    return ScoringSource(benchmark.name, benchmark.summary, benchmark.citation, arguments, load)


def _results_source() -> ScoringSource:
    def arguments(_data_dir: Path | None) -> list[str]:
        return ["<results directory>:<metric>"]

    def load(argument: str, _data_dir: Path | None) -> Scoring:
        from nasbench.results.schema import load_results

        directory, sep, metric = argument.rpartition(":")
        if not sep:
            raise UserError(
                f"'results:{argument}' names no metric; write results:<directory>:<metric>, "
                "e.g. results:runs/study/20250101-120000:cifar10/test_200ep."
            )
        results = load_results(directory)
        trials = results.trials
        if trials is None or trials.empty:
            raise UserError(f"{directory} holds no evaluated trials to score architectures by.")
        names = ["search_metric", *results.report_metrics]
        if metric not in names:
            raise UserError(
                f"{directory} has no metric '{metric}'; available: {available(names)}."
            )
        ok = trials[(trials["status"] == "ok") & ~trials["repeat"]]
        means = ok.groupby("arch", sort=True)[metric].mean()
        info_name = results.search_metric if metric == "search_metric" else metric
        info = results.manifest["metrics"].get(info_name, {})
        return Scoring(f"results:{argument}", means.index.to_numpy(dtype=object),
                       means.to_numpy(dtype=np.float64), info.get("higher_is_better", True),
                       info.get("unit", ""), str(directory))

    return ScoringSource("results", "a metric of a nasbench results directory, mean per "
                         "architecture over its evaluated trials", "", arguments, load)


def _csv_source() -> ScoringSource:
    def arguments(_data_dir: Path | None) -> list[str]:
        return ["<file>:<column>"]

    def load(argument: str, _data_dir: Path | None) -> Scoring:
        import pandas as pd

        path, sep, column = argument.rpartition(":")
        if not sep:
            raise UserError(f"'csv:{argument}' names no column; write csv:<file>:<column>.")
        try:
            frame = pd.read_csv(path)
        except OSError as err:
            raise UserError(f"cannot read {path}: {err.strerror or err}.") from None
        if column not in frame.columns:
            raise UserError(
                f"{path} has no column '{column}'; columns: {available(frame.columns)}."
            )
        key = "arch" if "arch" in frame.columns else frame.columns[0]
        means = frame.groupby(frame[key].astype(str), sort=True)[column].mean()
        return Scoring(f"csv:{argument}", means.index.to_numpy(dtype=object),
                       means.to_numpy(dtype=np.float64), True, "", path)

    return ScoringSource("csv", "a column of a CSV file keyed by its 'arch' column", "",
                         arguments, load)


def sources(plugins: Any = None) -> dict[str, ScoringSource]:
    """Every scoring source: registered benchmarks, results, CSV, published data sets."""
    from nasbench.results import scoring_sources

    if plugins is None:
        from nasbench.registry import load_plugins

        plugins = load_plugins()
    out: dict[str, ScoringSource] = {}
    for record in plugins.benchmarks:
        benchmark = record.cls()
        if benchmark.space in plugins.spaces:
            space = plugins.spaces.get(benchmark.space)()
            if "enumerate" in space.capabilities:
                out[record.name] = benchmark_source(benchmark, space)
    for source in (_results_source(), _csv_source(), *scoring_sources.SOURCES):
        out.setdefault(source.name, source)
    return out


def load_scoring(spec: str, data_dir: Path | None = None, plugins: Any = None,
                 available_sources: dict[str, ScoringSource] | None = None) -> Scoring:
    """The scoring a spec ``SOURCE:ARGUMENT`` names.

    Raises:
        UserError: naming the available sources or arguments when the spec matches none.
    """
    known = available_sources if available_sources is not None else sources(plugins)
    prefix, sep, argument = spec.partition(":")
    if not sep or prefix not in known:
        raise UserError(
            f"'{spec}' is not a scoring spec; write SOURCE:ARGUMENT with SOURCE one of "
            f"{available(known)} (e.g. nb201:cifar10/valid_12ep; see docs/analysis.md)."
        )
    source = known[prefix]
    if not argument:
        raise UserError(
            f"'{spec}' names no {prefix} scoring; available: "
            f"{available(source.arguments(data_dir))}."
        )
    return source.load(argument, data_dir)
