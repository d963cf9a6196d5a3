"""Several objectives, or one scalarised reward: the ``[[objectives]]`` and ``[reward]`` tables.

A study either searches one metric (``[evaluator] search_metric``), or declares

* ``[[objectives]]``: metrics to search jointly for their Pareto front, each with a direction.
  Multi-objective strategies (``requires = {"objectives"}``) see every objective through
  :attr:`~nasbench.api.Observation.objectives`; a single-objective strategy in such a study
  searches the first objective, which is also what ``Observation.value`` holds.
* ``[reward]``: one scalar built from the search metric and a cost metric, such as MnasNet's
  ``ACC(m) * (LAT(m) / T) ** w`` with ``w = alpha`` when ``LAT(m) <= T`` and ``w = beta``
  otherwise (Tan et al., "MnasNet: Platform-Aware Neural Architecture Search for Mobile",
  CVPR 2019, Eq. 2): the soft constraint uses ``alpha = beta = -0.07``, the hard one
  ``alpha = 0, beta = -1``. The harness hands the reward to the strategy as its value, so
  every single-objective strategy searches it unchanged.

Which metrics may be objectives follows :attr:`~nasbench.api.MetricInfo.split`, as for the
search metric: ``train``/``valid`` metrics, and ``other`` metrics measured on no data split
(parameters, FLOPs, latency: a cost is a property of the network, not of test data), are
allowed; a ``test`` metric is refused, since selecting on test data overstates every strategy.
A benchmark without a validation split (NAS-Bench-Macro) can be searched on a test metric only
with ``accept_test_split = true`` on that objective, which is recorded in the config hash and
marks every front of the study as selected on test data.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nasbench.api import MetricInfo, qualify
from nasbench.errors import ConfigError, Problems, available
from nasbench.params import build_params, param

MNASNET_EXPONENTS: dict[str, tuple[float, float]] = {"soft": (-0.07, -0.07), "hard": (0.0, -1.0)}
"""(alpha, beta) of MnasNet's reward per constraint form (Tan et al. 2019, Section 3)."""


@dataclass(frozen=True)
class ObjectiveTable:
    """One ``[[objectives]]`` entry."""

    metric: str = param(doc="metric to optimise (validation side, or a cost such as params)")
    direction: Literal["", "maximise", "minimise"] = param(
        "", doc="maximise or minimise (default: the metric's own orientation)")
    test_metric: str = param(
        "", doc="its test-side counterpart, reported on the front (default: the metric with "
        "'valid' read as 'test' when that exists; the metric itself for a cost)")
    accept_test_split: bool = param(
        False, doc="allow a test-split metric, for a benchmark that has no validation split; "
        "the study's fronts are then marked as selected on test data")


@dataclass(frozen=True)
class RewardTable:
    """The ``[reward]`` table: a scalarised reward the harness computes for every trial."""

    kind: Literal["mnasnet"] = param(
        doc="mnasnet: ACC * (COST / target) ** w (Tan et al. 2019)")
    metric: str = param(doc="the cost metric (latency, flops, params); ACC is the search metric")
    target: float = param(doc="T: the cost target, in the metric's unit", gt=0)
    form: Literal["soft", "hard"] = param(
        "soft", doc="soft: alpha = beta = -0.07; hard: alpha = 0, beta = -1",
        published="Tan et al. 2019: soft -0.07/-0.07, hard 0/-1")
    alpha: float | None = param(None, doc="exponent when COST <= target (default: the form's)")
    beta: float | None = param(None, doc="exponent when COST > target (default: the form's)")


@dataclass(frozen=True)
class Objective:
    """A resolved objective: qualified metric, orientation and test-side counterpart."""

    metric: str
    higher_is_better: bool
    test_metric: str | None
    on_test: bool = False


@dataclass(frozen=True)
class Reward:
    """A resolved MnasNet reward over the search metric and ``metric``."""

    metric: str
    target: float
    alpha: float
    beta: float
    form: str

    def __call__(self, accuracy: float, cost: float) -> float:
        w = self.alpha if cost <= self.target else self.beta
        return accuracy * (cost / self.target) ** w


def _lookup(name: str, key: str, dataset: str, metrics: Mapping[str, MetricInfo]) -> str:
    q = qualify(name, dataset)
    if q not in metrics:
        close = difflib.get_close_matches(q, list(metrics), n=1)
        hint = f"Did you mean '{close[0]}'? " if close else ""
        raise ConfigError(key, f"unknown metric '{name}' for dataset '{dataset}'",
                          f"{hint}Available: {available(metrics)}.")
    return q


def _counterpart(q: str, info: MetricInfo, metrics: Mapping[str, MetricInfo]) -> str | None:
    if info.split == "other":
        return q
    for a, b in (("valid", "test"), ("val", "test")):
        candidate = q.replace(a, b)
        if candidate != q and candidate in metrics and metrics[candidate].split == "test":
            return candidate
    return None


def resolve_objectives(raw: Any, dataset: str, metrics: Mapping[str, MetricInfo],
                       problems: Problems) -> tuple[Objective, ...]:
    """The ``[[objectives]]`` list checked against the evaluator's metrics; every mistake is
    added to ``problems``."""
    if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
        problems.add(ConfigError("objectives", f"expected a list of tables, got {raw!r}",
                                 "Write each as [[objectives]] with metric = \"...\"."))
        return ()
    if len(raw) < 2:
        problems.add(ConfigError("objectives", f"lists {len(raw)} objective(s)",
                                 "Declare at least two, or search one metric with "
                                 "[evaluator] search_metric."))
    out: list[Objective] = []
    for i, table in enumerate(raw):
        key = f"objectives[{i}]"
        try:
            t = build_params(ObjectiveTable, dict(table), key, noun="key")
            q = _lookup(t.metric, f"{key}.metric", dataset, metrics)
        except ConfigError as err:
            problems.add(err)
            continue
        info = metrics[q]
        if info.split == "test" and not t.accept_test_split:
            problems.add(ConfigError(
                f"{key}.metric", f"'{q}' is measured on test data, and selecting on test data "
                "overstates every strategy",
                "Use a validation metric; put test metrics in test_metric (a benchmark without "
                "a validation split needs accept_test_split = true, and says so in its report)."))
            continue
        higher = info.higher_is_better if not t.direction else t.direction == "maximise"
        test = None
        if t.test_metric:
            try:
                test = _lookup(t.test_metric, f"{key}.test_metric", dataset, metrics)
            except ConfigError as err:
                problems.add(err)
                continue
        else:
            test = _counterpart(q, info, metrics)
        if any(o.metric == q for o in out):
            problems.add(ConfigError(f"{key}.metric", f"'{q}' is already an objective",
                                     "List each metric once."))
            continue
        out.append(Objective(q, higher, test, info.split == "test"))
    return tuple(out)


def resolve_reward(raw: Any, dataset: str, metrics: Mapping[str, MetricInfo],
                   problems: Problems) -> Reward | None:
    """The ``[reward]`` table checked against the evaluator's metrics."""
    if not isinstance(raw, Mapping):
        problems.add(ConfigError("reward", f"must be a table, got {raw!r}",
                                 "Write it as [reward]."))
        return None
    try:
        t = build_params(RewardTable, dict(raw), "reward", noun="key")
        q = _lookup(t.metric, "reward.metric", dataset, metrics)
    except ConfigError as err:
        problems.add(err)
        return None
    if metrics[q].split == "test":
        problems.add(ConfigError("reward.metric", f"'{q}' is measured on test data",
                                 "Use a cost such as latency, flops or params."))
        return None
    alpha, beta = MNASNET_EXPONENTS[t.form]
    return Reward(q, float(t.target), alpha if t.alpha is None else float(t.alpha),
                  beta if t.beta is None else float(t.beta), t.form)


def objectives_dict(objectives: Sequence[Objective]) -> list[dict[str, Any]]:
    """The resolved ``[[objectives]]`` as the config hash records them."""
    return [{"metric": o.metric, "direction": "maximise" if o.higher_is_better else "minimise",
             "test_metric": o.test_metric, "accept_test_split": o.on_test} for o in objectives]


def reward_dict(reward: Reward) -> dict[str, Any]:
    return {"kind": "mnasnet", "metric": reward.metric, "target": reward.target,
            "form": reward.form, "alpha": reward.alpha, "beta": reward.beta}


class Scorer:
    """Turns an evaluation's metric values into what a strategy observes: the search value
    (a reward, the first objective, or the search metric) and the objective vector, all
    oriented for maximisation.

    Args:
        wanted: the metric order of the evaluation's values.
        search_metric: the study's search metric and whether higher is better.
        objectives: the study's objectives (empty for one metric).
        reward: the study's reward, if any.
    """

    def __init__(self, wanted: Sequence[str], search_metric: str, higher_is_better: bool,
                 objectives: Sequence[Objective] = (), reward: Reward | None = None) -> None:
        index = {m: i for i, m in enumerate(wanted)}
        self._search = index[search_metric]
        self._sign = 1.0 if higher_is_better else -1.0
        self._obj = [(index[o.metric], 1.0 if o.higher_is_better else -1.0) for o in objectives]
        self._reward = reward
        self._cost = index[reward.metric] if reward is not None else -1

    def score(self, values: Sequence[float | None]
              ) -> tuple[float | None, tuple[float, ...] | None]:
        """(value, objectives) of one ok evaluation; ``None`` parts where a metric is missing."""
        if self._obj:
            vec = []
            for j, sign in self._obj:
                v = values[j]
                if v is None or math.isnan(v):
                    return None, None
                vec.append(sign * float(v))
            return vec[0], tuple(vec)
        raw = values[self._search]
        if raw is None or math.isnan(raw):
            return None, None
        if self._reward is not None:
            cost = values[self._cost]
            if cost is None or math.isnan(cost) or cost <= 0:
                return None, None
            return self._reward(float(raw), float(cost)), None
        return self._sign * float(raw), None
