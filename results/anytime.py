"""Anytime performance: the report metric of each run's incumbent as the run goes on.

After every trial the harness records the strategy's incumbent (``trials.parquet``, column
``incumbent``); its report metric is the one measured when that architecture was evaluated in
the run. A run's anytime curve is that value after each evaluation (or after each second of
evaluation cost), held constant between changes and after the run ends. Curves of the seeds
of one strategy are averaged, with a bootstrap band over seeds at every point (Lindauer &
Hutter, JMLR 2020, best practice: compare strategies over time, not only at the end).

The horizontal axis counts evaluations as the budget does: repeats of an architecture are
free unless the study set ``count_repeats``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from nasbench.results.schema import (
    REPORT_TRIAL_COLUMNS,
    ScatteredRuns,
    read_trials,
    whole_run_frames,
)
from nasbench.results.stats import BootstrapOptions, percentile_interval, resampled_means

if TYPE_CHECKING:
    import pandas as pd
    from nasbench.results.schema import Results

COST_POINTS = 200
"""Points of the cost axis (spaced geometrically between the cheapest and the longest run)."""


@dataclass(frozen=True)
class AnytimeCurve:
    """One strategy's mean incumbent metric, with its band, along an axis.

    Attributes:
        strategy: the strategy label.
        metric: the report metric.
        axis: ``evaluations`` or ``cost``.
        x: the points of the axis.
        mean, low, high: mean over seeds and its bootstrap band (``nan`` before any seed has
            an incumbent).
        n_runs: seeds averaged.
    """

    strategy: str
    metric: str
    axis: str
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_runs: int


def incumbent_metric(trials: pd.DataFrame, metric: str) -> np.ndarray:
    """Per trial row, ``metric`` of the run's incumbent after that trial (``nan`` if none).

    The value is the one recorded at the incumbent's first successful evaluation in the run.
    """
    import pandas as pd

    runs, _ = pd.factorize(trials["run_id"])
    arch_code, inc_code = _shared_codes(trials["arch"], trials["incumbent"])
    n = len(trials)
    width = int(max(arch_code.max(initial=0), inc_code.max(initial=0))) + 1
    runs = runs.astype(np.int64)
    evaluated = ((trials["status"] == "ok") & ~trials["repeat"]).to_numpy()
    key = runs[evaluated] * width + arch_code[evaluated]
    values = trials[metric].to_numpy(dtype=np.float64)[evaluated]
    key, first = np.unique(key, return_index=True)
    values = values[first]
    wanted = runs * width + inc_code
    pos = np.clip(np.searchsorted(key, wanted), 0, max(key.size - 1, 0))
    found = (inc_code >= 0) & (key.size > 0)
    if key.size:
        found &= key[pos] == wanted
    out = np.full(n, np.nan)
    out[found] = values[pos[found]]
    return out


def _shared_codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of two columns of strings over one shared vocabulary (-1 for missing), without
    copying their cells: each column is factorised alone and only the distinct values are
    matched."""
    import pandas as pd

    codes_a, uniq_a = pd.factorize(a)
    codes_b, uniq_b = pd.factorize(b)
    vocab = pd.Index(np.asarray(uniq_a, dtype=object)).append(
        pd.Index(np.asarray(uniq_b, dtype=object))).unique()
    map_a = vocab.get_indexer(np.asarray(uniq_a, dtype=object)).astype(np.int64)
    map_b = vocab.get_indexer(np.asarray(uniq_b, dtype=object)).astype(np.int64)
    out_a = np.where(codes_a >= 0, map_a[np.maximum(codes_a, 0)] if map_a.size else -1, -1)
    out_b = np.where(codes_b >= 0, map_b[np.maximum(codes_b, 0)] if map_b.size else -1, -1)
    return out_a.astype(np.int64), out_b.astype(np.int64)


def _evaluation_counts(trials: pd.DataFrame, count_repeats: bool) -> np.ndarray:
    counted = np.ones(len(trials), dtype=np.int64) if count_repeats else (
        ~trials["repeat"].to_numpy()).astype(np.int64)
    return trials.assign(_c=counted).groupby("run_id", sort=False)["_c"].cumsum().to_numpy()


def _hold(matrix: np.ndarray) -> np.ndarray:
    """Carry each row's last finite value forward over later ``nan`` entries."""
    finite = np.isfinite(matrix)
    idx = np.where(finite, np.arange(matrix.shape[1])[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    held = np.take_along_axis(matrix, idx, axis=1)
    seen = np.maximum.accumulate(finite, axis=1)
    return np.where(seen, held, np.nan)


def evaluation_matrix(trials: pd.DataFrame, values: np.ndarray, count_repeats: bool
                      ) -> tuple[list[str], np.ndarray]:
    """Runs x evaluations: the incumbent metric after the e-th evaluation of each run."""
    import pandas as pd

    run_codes, run_ids = pd.factorize(trials["run_id"])
    counts = _evaluation_counts(trials, count_repeats)
    last = np.r_[(run_codes[1:] != run_codes[:-1]) | (counts[1:] != counts[:-1]), True]
    last &= counts > 0
    matrix = np.full((len(run_ids), int(counts.max(initial=0))), np.nan)
    matrix[run_codes[last], counts[last] - 1] = values[last]
    return list(run_ids), _hold(matrix)


def cost_matrix(trials: pd.DataFrame, values: np.ndarray, grid: np.ndarray
                ) -> tuple[list[str], np.ndarray]:
    """Runs x cost points: the incumbent metric once the run has spent each cost."""
    import pandas as pd

    run_codes, run_ids = pd.factorize(trials["run_id"])
    cum = trials["cum_cost"].to_numpy(dtype=np.float64)
    matrix = np.full((len(run_ids), grid.size), np.nan)
    bounds = np.flatnonzero(np.r_[True, run_codes[1:] != run_codes[:-1], True])
    for r, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        pos = np.searchsorted(cum[lo:hi], grid, side="right") - 1
        ok = pos >= 0
        matrix[r, ok] = values[lo:hi][pos[ok]]
    return list(run_ids), _hold(matrix)


def _band(matrix: np.ndarray, options: BootstrapOptions, *stream: str
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with warnings.catch_warnings():  # columns before any incumbent are all nan
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(matrix, axis=0)
    if matrix.shape[0] < 2:
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    replicates = resampled_means(options.generator(*stream), matrix, options.resamples)
    lo, hi = percentile_interval(replicates, options.confidence)
    return mean, lo, hi


def anytime_curves(results: Results, metric: str, options: BootstrapOptions,
                   axis: str = "evaluations") -> list[AnytimeCurve]:
    """One curve per strategy of ``results`` (the baseline has no search, hence no curve).

    Args:
        axis: ``evaluations``, or ``cost`` (geometric grid of :data:`COST_POINTS` points; no
            curves when the study's evaluations cost nothing, as with tables without times).
    """
    trials = results.trials
    count_repeats = bool(results.manifest.get("config", {}).get("budget", {})
                         .get("count_repeats", False))
    if trials is None:
        path = Path(results.directory) / "trials.parquet"
        if not path.is_file():
            return []
        matrices = streamed_matrices(path, metric, count_repeats, axis)
        if matrices is not None:
            return _curves(results, metric, options, axis, *matrices)
        trials = read_trials(path, REPORT_TRIAL_COLUMNS, [metric])
    if trials.empty:
        return []
    values = incumbent_metric(trials, metric)
    if axis == "cost":
        positive = trials["cum_cost"][trials["cum_cost"] > 0]
        if positive.empty:
            return []
        grid = np.geomspace(float(positive.min()), float(trials["cum_cost"].max()), COST_POINTS)
    by_strategy: dict[str, np.ndarray] = {}
    for label, part in trials.groupby("strategy", sort=False):
        idx = part.index.to_numpy()
        pos = trials.index.get_indexer(idx)
        if axis == "cost":
            _, by_strategy[str(label)] = cost_matrix(part, values[pos], grid)
        else:
            _, by_strategy[str(label)] = evaluation_matrix(part, values[pos], count_repeats)
    return _curves(results, metric, options, axis, by_strategy,
                   grid if axis == "cost" else None)


def _curves(results: Results, metric: str, options: BootstrapOptions, axis: str,
            by_strategy: dict[str, np.ndarray], grid: np.ndarray | None
            ) -> list[AnytimeCurve]:
    """The curves (mean and band over seeds) of each strategy's runs x points matrix."""
    curves = []
    for label, matrix in by_strategy.items():
        x = grid if grid is not None else np.arange(1, matrix.shape[1] + 1, dtype=np.float64)
        mean, lo, hi = _band(matrix, options, results.manifest.get("config_hash", ""),
                             "anytime", axis, label, metric)
        curves.append(AnytimeCurve(label, metric, axis, x, mean, lo, hi, matrix.shape[0]))
    return curves


def _cost_grid(path: Path) -> np.ndarray | None:
    """The cost axis of a table, read column by column (``None`` when nothing costs)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    if "cum_cost" not in source.schema_arrow.names:
        return None
    low, high = math.inf, -math.inf
    for batch in source.iter_batches(batch_size=65_536, columns=["cum_cost"]):
        cost = batch.column(0)
        positive = pc.filter(cost, pc.greater(cost, 0))
        if len(positive):
            low = min(low, float(pc.min(positive).as_py()))
        if len(cost) and pc.max(cost).as_py() is not None:
            high = max(high, float(pc.max(cost).as_py()))
    if not math.isfinite(low):
        return None
    return np.geomspace(low, high, COST_POINTS)


def streamed_matrices(path: Path, metric: str, count_repeats: bool, axis: str
                      ) -> tuple[dict[str, np.ndarray], np.ndarray | None] | None:
    """Each strategy's runs x points matrix of incumbent ``metric``, read from the table in
    frames of whole runs: memory holds the curves (a few hundred numbers per run), never
    the trials. ``None`` when the table cannot be streamed (its runs' rows are scattered)."""
    grid = None
    if axis == "cost":
        grid = _cost_grid(path)
        if grid is None:
            return {}, None
    columns = ["run_id", "strategy", "arch", "incumbent", "status", "repeat", metric]
    if axis == "cost":
        columns.append("cum_cost")
    parts: dict[str, list[np.ndarray]] = {}
    try:
        for frame in whole_run_frames(path, columns):
            values = incumbent_metric(frame, metric)
            for label, part in frame.groupby("strategy", sort=False, observed=True):
                pos = frame.index.get_indexer(part.index.to_numpy())
                if grid is not None:
                    _, matrix = cost_matrix(part, values[pos], grid)
                else:
                    _, matrix = evaluation_matrix(part, values[pos], count_repeats)
                parts.setdefault(str(label), []).append(matrix)
    except (ScatteredRuns, KeyError):
        return None
    out = {}
    for label, blocks in parts.items():
        width = max(b.shape[1] for b in blocks)
        matrix = np.full((sum(b.shape[0] for b in blocks), width), np.nan)
        row = 0
        for b in blocks:
            matrix[row:row + b.shape[0], :b.shape[1]] = b
            row += b.shape[0]
        blocks.clear()
        out[label] = _hold(matrix)
    return out, grid
