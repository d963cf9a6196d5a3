"""The best a search could reach on a benchmark table that knows every architecture.

A tabular study's evaluator reads a table holding every architecture of its space, so the
leaderboard can say how far each strategy ended from the best architecture there is. Two
references are computed per report metric, because they answer different questions:

* the **optimum**: the best value of the report metric over every architecture of the table.
  No search that selects by validation data can be expected to reach it; it is the absolute
  ceiling, and regret is measured to it (regret is then never negative);
* the **oracle**: the report value of the architecture with the best *search* metric (the mean
  over ties), i.e. what a search that found the validation optimum would report. It is the
  honest target of a search that sees only validation data.

The **table mean** (the report metric averaged over every architecture, what one uniform
sample scores in expectation) normalises regret across problems:
``normalised regret = (optimum - value) / (optimum - table mean)``, 0 at the optimum and 1 at
the average architecture, oriented so that lower is always better.

Nothing is re-run: the table is read through the study's own evaluator (the one named in the
manifest), so this works for any registered benchmark that exposes its table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nasbench.results.schema import Results


@dataclass(frozen=True)
class Optimum:
    """The references of one report metric on a table that knows every architecture.

    Attributes:
        metric: the fully qualified report metric.
        best: the best value over every architecture (the optimum).
        oracle: the report value of the best architecture by the search metric (mean over
            ties); ``nan`` when the search metric is not in the table.
        mean: the mean over every architecture of the table.
        architectures: rows of the table.
        higher_is_better: the metric's orientation.
    """

    metric: str
    best: float
    oracle: float
    mean: float
    architectures: int
    higher_is_better: bool

    def regret(self, value: float) -> float:
        """How far ``value`` is from the optimum, in the metric's unit (0 = optimum)."""
        return (self.best - value) if self.higher_is_better else (value - self.best)

    def normalised(self, value: float) -> float:
        """Regret divided by the table mean's regret (0 = optimum, 1 = average architecture)."""
        scale = self.regret(self.mean)
        return self.regret(value) / scale if scale > 0 else math.nan


def _table_of(results: Results, plugins: Any, data_dir: Path | None) -> tuple[Any, Any] | None:
    """The loaded benchmark table of a tabular study and its evaluator, or ``None``."""
    config = results.manifest.get("config") or {}
    ev = config.get("evaluator") or {}
    space_t = config.get("space") or {}
    if results.imported or not ev.get("name") or not space_t.get("name"):
        return None
    from nasbench.errors import UserError
    from nasbench.params import build_params

    try:
        ev_cls = plugins.evaluators.get(ev["name"])
        space_cls = plugins.spaces.get(space_t["name"])
    except UserError:  # a plugin that is no longer installed: no reference, not an error
        return None
    if not hasattr(ev_cls, "benchmark"):  # it trains or scores networks: no whole table
        return None
    params = {k: v for k, v in ev.items()
              if k not in ("name", "dataset", "search_metric", "report_metrics")}
    try:
        evaluator = ev_cls(build_params(ev_cls.Params, params, "evaluator"))
        space = space_cls(build_params(space_cls.Params, {k: v for k, v in space_t.items()
                                                           if k != "name"}, "space"))
        evaluator.bind_plugins(plugins)
        evaluator.check(space, ev.get("dataset", ""), data_dir)
    except (UserError, OSError, ValueError):  # the table is not available here
        return None
    benchmark = getattr(evaluator, "benchmark", None)
    if benchmark is None or not hasattr(benchmark, "load"):
        return None
    wanted = [results.search_metric, *results.report_metrics]
    datasets = tuple(dict.fromkeys(m.split("/", 1)[0] for m in wanted if "/" in m))
    try:
        return benchmark.load(data_dir, datasets), evaluator
    except (UserError, OSError, ValueError, KeyError):
        return None


def table_optima(results: Results, plugins: Any = None,
                 data_dir: Path | None = None) -> dict[str, Optimum]:
    """Report metric -> :class:`Optimum`, for a study whose evaluator reads a whole table.

    Empty for imported results, for evaluators that train or score networks (they know only
    what they evaluated), and when the table cannot be read here.
    """
    import numpy as np

    if plugins is None:
        from nasbench.registry import load_plugins

        plugins = load_plugins()
    if data_dir is None:
        from nasbench.data import default_data_dir

        data_dir = default_data_dir()
    loaded = _table_of(results, plugins, data_dir)
    if loaded is None:
        return {}
    table, _ = loaded
    try:
        search = np.asarray(table.column(results.search_metric), dtype=np.float64)
    except (KeyError, ValueError):
        search = None
    out: dict[str, Optimum] = {}
    for metric in results.report_metrics:
        try:
            values = np.asarray(table.column(metric), dtype=np.float64)
        except (KeyError, ValueError):
            continue
        finite = np.isfinite(values)
        if not finite.any():
            continue
        higher = results.higher_is_better(metric)
        best = float(np.nanmax(values) if higher else np.nanmin(values))
        oracle = math.nan
        if search is not None and len(search) == len(values) and np.isfinite(search).any():
            s_higher = bool(results.manifest.get("search_metric_higher_is_better", True))
            top = np.nanmax(search) if s_higher else np.nanmin(search)
            oracle = float(np.nanmean(values[search == top]))
        out[metric] = Optimum(metric, best, oracle, float(np.nanmean(values)),
                              int(finite.sum()), higher)
    return out
