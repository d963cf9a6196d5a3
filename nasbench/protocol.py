"""Studies: what a TOML config declares, validated before anything runs.

A study is one space, one evaluator (its dataset, search metric and report metrics), a list of
strategies with their hyper-parameters, the seeds, and the budget of each run. ``load_study``
parses and checks every key against the installed plugins and turns each mistake into a
:class:`~nasbench.errors.ConfigError` naming the key, the problem and the fix. The resolved
study (every default filled in) is what the harness runs, what ``manifest.json`` records and
what the config hash is computed over.

Config layout::

    [study]
    name = "nb201-tabular"     # default: the file's stem
    seed = 0                   # root seed of every random stream
    seeds = 100                # a count (0..N-1) or a list of repetition seeds
    data_dir = "../shared/data"  # optional; else $NASBENCH_DATA

    [space]
    name = "nb201"             # plus the space's parameters

    [evaluator]
    name = "tabular"
    dataset = "cifar10"
    search_metric = "valid_12ep"                 # qualified with the dataset if bare
    report_metrics = ["test_200ep", "cifar100/test_200ep"]
    # plus the evaluator's parameters

    [budget]
    evaluations = 100          # and/or cost = <seconds>
    count_repeats = false

    [baseline]                 # random sampling (Yang et al.)
    samples = 100              # default: one per seed

    [final]                    # optional: retrain after the search (Yang et al.)
    repeats = 3                # training seeds per architecture
    [final.evaluator]          # the final protocol: overrides of [evaluator]'s parameters
    epochs = 50                # (or name = "..." and the parameters of another evaluator)

    [[strategies]]
    name = "aging_evolution"
    label = "ae"               # optional, defaults to name; unique
    population_size = 10       # the strategy's parameters

    [supernet]                 # optional: how one-shot strategies' supernets are trained on
    dataset = "fashion_mnist"  # data (default: the study's dataset); data, size and thread
    size = {C = 16, N = 1}     # keys default to [evaluator]'s (nasbench.supernet.protocol)
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasbench.api import Budget, Evaluator, MetricInfo, SearchSpace, Strategy, qualify
from nasbench.errors import ConfigError, DataNotFoundError, available
from nasbench.params import build_params, params_to_dict
from nasbench.registry import Plugins

BASELINE_LABEL = "random_sampling"
"""Label of the random-sampling baseline's rows."""

_LABEL = re.compile(r"^[a-z][a-z0-9_]*$")
_SECTIONS = ("study", "space", "evaluator", "budget", "baseline", "final", "strategies",
             "supernet")
_EVALUATOR_KEYS = ("name", "dataset", "search_metric", "report_metrics")


@dataclass(frozen=True)
class PluginSpec:
    """A plugin chosen by name, with its validated params."""

    name: str
    params: Any


@dataclass(frozen=True)
class StrategySpec(PluginSpec):
    """A strategy of the study; ``label`` names its rows in the results."""

    label: str = ""


@dataclass(frozen=True)
class FinalSpec:
    """The final protocol: how, after the search, every run's incumbent and every architecture
    of the random-sampling baseline are trained again and measured (Yang et al., 2020).

    Attributes:
        evaluator: the final evaluator and its params (by default the study's evaluator with
            the ``[final.evaluator]`` overrides applied).
        repeats: evaluations per architecture, each with its own seed; their mean is the
            architecture's final figure.
    """

    evaluator: PluginSpec
    repeats: int


@dataclass(frozen=True)
class SupernetSpec:
    """The supernet protocol of a study whose strategies train supernets.

    Attributes:
        dataset: registered dataset the supernets train on.
        params: a :class:`~nasbench.supernet.protocol.SupernetProtocol`.
    """

    dataset: str
    params: Any


@dataclass(frozen=True)
class Study:
    """A validated study. Build with :func:`load_study` or :func:`study_from_dict`."""

    name: str
    root_seed: int
    seeds: tuple[int, ...]
    space: PluginSpec
    evaluator: PluginSpec
    dataset: str
    search_metric: str
    search_metric_info: MetricInfo
    report_metrics: tuple[str, ...]
    metric_info: Mapping[str, MetricInfo]
    budget: Budget
    baseline_seeds: tuple[int, ...]
    strategies: tuple[StrategySpec, ...]
    data_dir: Path | None
    resolved: Mapping[str, Any] = field(repr=False)
    source: Path | None = None
    final: FinalSpec | None = None
    """The final protocol, when the study declares one."""
    supernet: SupernetSpec | None = None
    """The supernet protocol, when a strategy trains a supernet (capability ``supernet``)."""

    @property
    def config_hash(self) -> str:
        """SHA-256 of the resolved config: equal hashes, equal results."""
        return config_hash(self.resolved)

    def make_space(self, plugins: Plugins) -> SearchSpace:
        return plugins.spaces.get(self.space.name)(self.space.params)

    def make_evaluator(self, plugins: Plugins) -> Evaluator:
        evaluator = plugins.evaluators.get(self.evaluator.name)(self.evaluator.params)
        evaluator.bind_plugins(plugins)
        return evaluator

    def make_final_evaluator(self, plugins: Plugins) -> Evaluator | None:
        """The evaluator of the final protocol, or ``None`` when the study has none."""
        if self.final is None:
            return None
        spec = self.final.evaluator
        evaluator = plugins.evaluators.get(spec.name)(spec.params)
        evaluator.bind_plugins(plugins)
        return evaluator

    def make_strategy(self, plugins: Plugins, spec: StrategySpec) -> Strategy:
        return plugins.strategies.get(spec.name)(spec.params)

    def strategy(self, label: str) -> StrategySpec:
        for spec in self.strategies:
            if spec.label == label:
                return spec
        raise KeyError(label)


def config_hash(resolved: Mapping[str, Any]) -> str:
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def load_study(path: str | Path, plugins: Plugins) -> Study:
    """Read and validate a study config file."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(
            "", f"study file {str(path)!r} does not exist", "Check the path."
        ) from None
    except OSError as err:
        raise ConfigError("", f"cannot read study file {str(path)!r}: {err.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            "", f"{path} is not valid TOML: {err}", "Fix the syntax at the line it names."
        ) from None
    return study_from_dict(raw, plugins, source=path)


def _table(raw: Mapping[str, Any], key: str, *, required: bool) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        if required:
            raise ConfigError(key, "is missing", f"Add a [{key}] table.")
        return {}
    if isinstance(value, str) and key in ("space",):
        return {"name": value}
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"must be a table, got {value!r}", f"Write it as [{key}].")
    return dict(value)


def _plugin_name(table: Mapping[str, Any], key: str) -> str:
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{key}.name", "is missing", "Name a plugin; see 'nasbench list'.")
    return name


def _resolve_data_dir(value: Any, source: Path | None) -> Path | None:
    if value is None:
        env = os.environ.get("NASBENCH_DATA")
        return Path(env).expanduser() if env else None
    if not isinstance(value, str):
        raise ConfigError("study.data_dir", f"expected a path string, got {value!r}")
    p = Path(value).expanduser()
    if not p.is_absolute() and source is not None:
        p = source.parent / p
    return p


def _seeds(study: Mapping[str, Any]) -> tuple[int, ...]:
    value = study.get("seeds")
    if value is None:
        raise ConfigError(
            "study.seeds", "is missing", "Give a count (seeds = 10) or a list (seeds = [0, 1])."
        )
    if isinstance(value, bool):
        raise ConfigError("study.seeds", f"expected a count or a list, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise ConfigError("study.seeds", f"must be at least 1, got {value}")
        return tuple(range(value))
    if isinstance(value, list) and value:
        for i, s in enumerate(value):
            if not isinstance(s, int) or isinstance(s, bool) or s < 0:
                raise ConfigError(
                    f"study.seeds[{i}]", f"expected a non-negative integer, got {s!r}"
                )
        if len(set(value)) != len(value):
            raise ConfigError("study.seeds", "lists a seed twice", "Remove the repeats.")
        return tuple(value)
    raise ConfigError(
        "study.seeds", f"expected a count or a non-empty list, got {value!r}"
    )


def _metric(
    name: Any, key: str, dataset: str, metrics: Mapping[str, MetricInfo]
) -> tuple[str, MetricInfo]:
    if not isinstance(name, str) or not name:
        raise ConfigError(key, f"expected a metric name, got {name!r}")
    q = qualify(name, dataset)
    if q not in metrics:
        close = difflib.get_close_matches(q, list(metrics), n=1)
        hint = f"Did you mean '{close[0]}'? " if close else ""
        raise ConfigError(
            key,
            f"unknown metric '{name}' for dataset '{dataset}'",
            f"{hint}Available: {available(metrics)}.",
        )
    return q, metrics[q]


def study_from_dict(
    raw: Mapping[str, Any], plugins: Plugins, *, source: Path | None = None
) -> Study:
    """Validate a parsed config (see the module docstring for its layout)."""
    for key in raw:
        if key not in _SECTIONS:
            close = difflib.get_close_matches(key, _SECTIONS, n=1)
            hint = f"Did you mean [{close[0]}]? " if close else ""
            raise ConfigError(key, "is not a section of a study", f"{hint}Sections: "
                              f"{', '.join(_SECTIONS)}.")
    study_t = _table(raw, "study", required=True)
    known = {"name", "seed", "seeds", "data_dir"}
    for key in study_t:
        if key not in known:
            raise ConfigError(f"study.{key}", "unknown key", f"Known keys: {available(known)}.")
    name = study_t.get("name") or (source.stem if source else "study")
    if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", name):
        raise ConfigError(
            "study.name", f"{name!r} is not a usable name", "Use letters, digits, '-', '_', '.'."
        )
    root_seed = study_t.get("seed", 0)
    if not isinstance(root_seed, int) or isinstance(root_seed, bool) or root_seed < 0:
        raise ConfigError("study.seed", f"expected a non-negative integer, got {root_seed!r}")
    seeds = _seeds(study_t)
    data_dir = _resolve_data_dir(study_t.get("data_dir"), source)

    # -- space ---------------------------------------------------------------------------------
    space_t = _table(raw, "space", required=True)
    space_name = _plugin_name(space_t, "space")
    space_cls = plugins.spaces.get(space_name, "space.name")
    space_params = build_params(
        space_cls.Params, {k: v for k, v in space_t.items() if k != "name"}, "space"
    )
    space = space_cls(space_params)

    # -- evaluator -----------------------------------------------------------------------------
    ev_t = _table(raw, "evaluator", required=True)
    ev_name = _plugin_name(ev_t, "evaluator")
    ev_cls = plugins.evaluators.get(ev_name, "evaluator.name")
    ev_params = build_params(
        ev_cls.Params, {k: v for k, v in ev_t.items() if k not in _EVALUATOR_KEYS}, "evaluator"
    )
    evaluator = ev_cls(ev_params)
    evaluator.bind_plugins(plugins)
    dataset = ev_t.get("dataset")
    try:
        # check() first: it may pick a benchmark, and with it the datasets on offer.
        evaluator.check(space, dataset if isinstance(dataset, str) else "", data_dir)
    except DataNotFoundError as err:
        raise ConfigError("evaluator", str(err)) from None
    offered = evaluator.datasets()
    if dataset is None:
        if not offered:
            raise ConfigError("evaluator.dataset", "is missing", "Name the dataset to use.")
        dataset = offered[0]
    if not isinstance(dataset, str):
        raise ConfigError("evaluator.dataset", f"expected a string, got {dataset!r}")
    if offered and dataset not in offered:
        raise ConfigError(
            "evaluator.dataset",
            f"'{evaluator.name}' cannot evaluate on '{dataset}'",
            f"Available: {available(offered)}.",
        )
    metrics = evaluator.metrics(dataset)
    search_metric, search_info = _metric(
        ev_t.get("search_metric"), "evaluator.search_metric", dataset, metrics
    )
    if search_info.split == "test":
        raise ConfigError(
            "evaluator.search_metric",
            f"'{search_metric}' is measured on test data, and selecting on test data "
            "overstates every strategy",
            "Search on a validation metric; put test metrics in report_metrics.",
        )
    reports = ev_t.get("report_metrics")
    if reports is None:
        reports = [m for m, info in metrics.items()
                   if info.split == "test" and m.startswith(f"{dataset}/")]
        if not reports:
            raise ConfigError(
                "evaluator.report_metrics", f"is missing, and '{evaluator.name}' has no test "
                "metrics to report by default", f"List the metrics to report; available: "
                f"{available(metrics)}.",
            )
    if not isinstance(reports, list) or not reports:
        raise ConfigError(
            "evaluator.report_metrics", f"expected a non-empty list of metrics, got {reports!r}"
        )
    report_metrics = tuple(
        dict.fromkeys(
            _metric(m, f"evaluator.report_metrics[{i}]", dataset, metrics)[0]
            for i, m in enumerate(reports)
        )
    )

    # -- budget --------------------------------------------------------------------------------
    budget_t = _table(raw, "budget", required=True)
    budget = _budget(budget_t, evaluator)

    # -- baseline ------------------------------------------------------------------------------
    base_t = _table(raw, "baseline", required=False)
    for key in base_t:
        if key != "samples":
            raise ConfigError(f"baseline.{key}", "unknown key", "Known keys: samples.")
    samples = base_t.get("samples")
    if samples is None:
        baseline_seeds = seeds
    elif isinstance(samples, int) and not isinstance(samples, bool) and samples >= 1:
        baseline_seeds = tuple(range(samples))
    else:
        raise ConfigError("baseline.samples", f"expected a positive integer, got {samples!r}")

    # -- final protocol ------------------------------------------------------------------------
    final = _final(raw, plugins, space, ev_name, ev_t, dataset, data_dir,
                   {m: metrics[m] for m in (search_metric, *report_metrics)})

    # -- strategies ----------------------------------------------------------------------------
    strategies_raw = raw.get("strategies")
    if not isinstance(strategies_raw, list) or not strategies_raw:
        raise ConfigError(
            "strategies", "is missing or empty", "Add at least one [[strategies]] table."
        )
    strategies = []
    labels: set[str] = set()
    for i, st in enumerate(strategies_raw):
        key = f"strategies[{i}]"
        if not isinstance(st, Mapping):
            raise ConfigError(key, f"must be a table, got {st!r}", "Write it as [[strategies]].")
        st_name = _plugin_name(st, key)
        st_cls = plugins.strategies.get(st_name, f"{key}.name")
        label = st.get("label", st_name)
        if not isinstance(label, str) or not _LABEL.match(label):
            raise ConfigError(f"{key}.label", f"{label!r} is not a lower_snake label")
        if label == BASELINE_LABEL:
            raise ConfigError(
                f"{key}.label", f"'{BASELINE_LABEL}' is reserved for the baseline's rows",
                "Choose another label.",
            )
        if label in labels:
            raise ConfigError(
                f"{key}.label", f"'{label}' is used by two strategies",
                "Give each a distinct label = \"...\".",
            )
        labels.add(label)
        params = build_params(
            st_cls.Params, {k: v for k, v in st.items() if k not in ("name", "label")}, key
        )
        missing = set(st_cls.requires) - set(space.capabilities)
        if missing:
            raise ConfigError(
                f"{key}.name",
                f"strategy '{st_name}' needs a space with {', '.join(sorted(missing))}, and "
                f"space '{space_name}' has none",
                "Choose another strategy or space (see 'nasbench list').",
            )
        if st_cls.requires_fidelities and len(evaluator.fidelities()) < 2:
            raise ConfigError(
                f"{key}.name",
                f"strategy '{st_name}' needs an evaluator with several fidelities, and "
                f"'{ev_name}' offers {list(evaluator.fidelities()) or 'one'}",
                "Choose a single-fidelity strategy or a multi-fidelity evaluator.",
            )
        strategies.append(StrategySpec(st_name, params, label))
    one_shot = [s.name for s in strategies
                if "supernet" in plugins.strategies.get(s.name).requires]
    supernet = _supernet(raw, plugins, space, ev_t, dataset, data_dir, one_shot, evaluator)

    resolved = {
        "study": {"name": name, "seed": root_seed, "seeds": list(seeds)},
        "space": {"name": space_name, **params_to_dict(space_params)},
        "evaluator": {
            "name": ev_name,
            "dataset": dataset,
            "search_metric": search_metric,
            "report_metrics": list(report_metrics),
            **params_to_dict(ev_params),
        },
        "budget": {
            "evaluations": budget.evaluations,
            "cost": budget.cost,
            "count_repeats": budget.count_repeats,
            "max_proposals": budget.max_proposals,
        },
        "baseline": {"seeds": list(baseline_seeds)},
        "strategies": [
            {"name": s.name, "label": s.label, **params_to_dict(s.params)} for s in strategies
        ],
    }
    if supernet is not None and supernet.params is not None:
        resolved["supernet"] = {"dataset": supernet.dataset, **params_to_dict(supernet.params)}
    if final is not None:
        resolved["final"] = {
            "repeats": final.repeats,
            "evaluator": {"name": final.evaluator.name,
                          **params_to_dict(final.evaluator.params)},
        }
    return Study(
        name=name,
        root_seed=root_seed,
        seeds=seeds,
        space=PluginSpec(space_name, space_params),
        evaluator=PluginSpec(ev_name, ev_params),
        dataset=dataset,
        search_metric=search_metric,
        search_metric_info=search_info,
        report_metrics=report_metrics,
        metric_info={m: metrics[m] for m in (search_metric, *report_metrics)},
        budget=budget,
        baseline_seeds=baseline_seeds,
        strategies=tuple(strategies),
        data_dir=data_dir,
        resolved=copy.deepcopy(resolved),
        source=source,
        final=final,
        supernet=supernet,
    )


def _final(raw: Mapping[str, Any], plugins: Plugins, space: SearchSpace, ev_name: str,
           ev_t: Mapping[str, Any], dataset: str, data_dir: Path | None,
           metrics: Mapping[str, MetricInfo]) -> FinalSpec | None:
    """The ``[final]`` table: a final protocol measuring the study's metrics on its dataset."""
    if "final" not in raw:
        return None
    table = _table(raw, "final", required=False)
    for key in table:
        if key not in ("repeats", "evaluator"):
            raise ConfigError(
                f"final.{key}", "unknown key",
                "Known keys: repeats, evaluator (a table of the final protocol's parameters).",
            )
    repeats = table.get("repeats", 1)
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ConfigError("final.repeats", f"expected a positive integer, got {repeats!r}")
    overrides = table.get("evaluator", {})
    if not isinstance(overrides, Mapping):
        raise ConfigError("final.evaluator", f"must be a table, got {overrides!r}",
                          "Write it as [final.evaluator].")
    for key in _EVALUATOR_KEYS[1:]:
        if key in overrides:
            raise ConfigError(
                f"final.evaluator.{key}",
                "is the study's: the final protocol measures the same metrics on the same data",
                "Remove it.",
            )
    name = overrides.get("name", ev_name)
    cls = plugins.evaluators.get(name, "final.evaluator.name")
    raw_params = {k: v for k, v in overrides.items() if k != "name"}
    if name == ev_name:
        inherited = {k: v for k, v in ev_t.items() if k not in _EVALUATOR_KEYS}
        raw_params = {**inherited, **raw_params}
    params = build_params(cls.Params, raw_params, "final.evaluator")
    evaluator = cls(params)
    evaluator.bind_plugins(plugins)
    try:
        evaluator.check(space, dataset, data_dir)
    except DataNotFoundError as err:
        raise ConfigError("final.evaluator", str(err)) from None
    except ConfigError as err:
        # the evaluator names its own keys; here they are the final protocol's
        raise (err.under("final") if err.key.startswith("evaluator") else err) from None
    offered = evaluator.datasets()
    if offered and dataset not in offered:
        raise ConfigError("final.evaluator.name",
                          f"'{name}' cannot evaluate on the study's dataset '{dataset}'",
                          f"Available: {available(offered)}.")
    final_metrics = evaluator.metrics(dataset)
    for metric, info in metrics.items():
        got = final_metrics.get(metric)
        if got is None or got.higher_is_better != info.higher_is_better:
            raise ConfigError(
                "final.evaluator.name",
                f"'{name}' does not measure the study's metric '{metric}'",
                f"Choose an evaluator that does; '{name}' measures "
                f"{available(final_metrics)}.",
            )
    return FinalSpec(PluginSpec(name, params), repeats)


def _supernet(raw: Mapping[str, Any], plugins: Plugins, space: SearchSpace,
              ev_t: Mapping[str, Any], dataset: str, data_dir: Path | None,
              one_shot: list[str], evaluator: Evaluator | None = None) -> SupernetSpec | None:
    """The ``[supernet]`` table, defaults inherited from ``[evaluator]`` (see
    :mod:`nasbench.supernet.protocol`); ``None`` when no strategy trains a supernet."""
    from nasbench.supernet.protocol import INHERITED, SupernetProtocol
    from nasbench.training.data import check_data_kind

    table = _table(raw, "supernet", required=False)
    if not one_shot:
        if "supernet" in raw:
            raise ConfigError("supernet", "is set, and no strategy of the study trains a "
                              "supernet", "Remove [supernet], or add a one-shot strategy.")
        return None
    if evaluator is not None and "supernet_access" in evaluator.capabilities:
        # The evaluator trains its supernets itself (the dqn evaluator: on its own experience).
        if table:
            raise ConfigError("supernet", f"evaluator '{evaluator.name}' trains the supernets "
                              "itself, with its own protocol", "Remove [supernet].")
        return SupernetSpec(dataset, None)
    name = table.pop("dataset", dataset)
    if not isinstance(name, str):
        raise ConfigError("supernet.dataset", f"expected a dataset name, got {name!r}")
    dataset_cls = plugins.datasets.get(name, "supernet.dataset")
    inherited = {k: ev_t[k] for k in INHERITED if k in ev_t}
    if isinstance(inherited.get("size"), Mapping):
        known = space.supernet_size_defaults()
        inherited["size"] = {k: v for k, v in inherited["size"].items() if k in known}
    params = build_params(SupernetProtocol, {**inherited, **table}, "supernet")
    try:
        space.resolve_supernet_size(params.size)
    except ConfigError as err:
        raise err.under("supernet") from None
    try:
        check_data_kind(space, dataset_cls, plugins.spaces, plugins.datasets)
    except ConfigError as err:
        raise ConfigError("supernet.dataset", err.problem, err.fix) from None
    try:
        dataset_cls().check(data_dir)
    except DataNotFoundError as err:
        raise ConfigError("supernet.dataset", str(err)) from None
    return SupernetSpec(name, params)


def _budget(table: Mapping[str, Any], evaluator: Evaluator) -> Budget:
    known = {"evaluations", "cost", "count_repeats", "max_proposals"}
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"Did you mean '{close[0]}'? " if close else ""
            raise ConfigError(f"budget.{key}", "unknown key", f"{hint}Known: {available(known)}.")
    evaluations = table.get("evaluations")
    cost = table.get("cost")
    if evaluations is None and cost is None:
        raise ConfigError(
            "budget", "sets no limit", "Set evaluations = N and/or cost = <seconds>."
        )
    if evaluations is not None and (
        not isinstance(evaluations, int) or isinstance(evaluations, bool) or evaluations < 1
    ):
        raise ConfigError("budget.evaluations", f"expected a positive integer, got {evaluations!r}")
    if cost is not None:
        if not isinstance(cost, (int, float)) or isinstance(cost, bool) or cost <= 0:
            raise ConfigError("budget.cost", f"expected a positive number of seconds, got {cost!r}")
        if "cost" not in evaluator.capabilities:
            raise ConfigError(
                "budget.cost",
                f"evaluator '{evaluator.name}' does not know what evaluations cost",
                "Budget by evaluations instead.",
            )
    count_repeats = table.get("count_repeats", False)
    if not isinstance(count_repeats, bool):
        raise ConfigError("budget.count_repeats", f"expected true or false, got {count_repeats!r}")
    max_proposals = table.get("max_proposals")
    if max_proposals is None:
        max_proposals = 20 * evaluations if evaluations else 100_000
    elif not isinstance(max_proposals, int) or isinstance(max_proposals, bool) or max_proposals < 1:
        raise ConfigError(
            "budget.max_proposals", f"expected a positive integer, got {max_proposals!r}"
        )
    return Budget(
        evaluations=evaluations,
        cost=float(cost) if cost is not None else None,
        count_repeats=count_repeats,
        max_proposals=max_proposals,
    )
