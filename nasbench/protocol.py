"""Studies: what a TOML config declares, validated before anything runs.

A study is one space, one evaluator (its dataset, search metric and report metrics), a list of
strategies with their hyper-parameters, the seeds, and the budget of each run. ``load_study``
parses and checks every key against the installed plugins: the tables are typed parameter
classes (:mod:`nasbench.params`), as plugins' parameters are, and every mistake found is
reported at once in one :class:`~nasbench.errors.ConfigError`, each naming the key, the problem
and the fix. A check that depends on an earlier one (the metrics of an unknown dataset) is
skipped when that one failed, so one mistake gives one message. The resolved
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
    # retries = 0              # attempts after a trial's process died (int >= 0)
    # trial_timeout = 600.0    # seconds before an evaluation is stopped and recorded failed

    [execution]                # optional: where runs execute; never changes results
    # scheduler = "tcp://HOST:PORT"   # an existing Dask cluster
    # workers = 2              # a local cluster of N workers
    # numerics = "portable"    # CPU kernels pinned to AVX2: identical results on other
                               # machines (part of the protocol; default "native")

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasbench.api import Budget, Evaluator, MetricInfo, SearchSpace, Strategy, qualify
from nasbench.errors import ConfigError, DataNotFoundError, Problems, available
from nasbench.objectives import (
    Objective,
    Reward,
    objectives_dict,
    resolve_objectives,
    resolve_reward,
    reward_dict,
)
from nasbench.params import build_params, params_to_dict
from nasbench.registry import Plugins
from nasbench.study_tables import (
    NAME,
    BaselineTable,
    BudgetTable,
    ExecutionTable,
    FinalTable,
    StudyTable,
    apply_overrides,
)

BASELINE_LABEL = "random_sampling"
"""Label of the random-sampling baseline's rows."""

_LABEL = re.compile(r"^[a-z][a-z0-9_]*$")
_SECTIONS = ("study", "space", "evaluator", "budget", "baseline", "final", "strategies",
             "supernet", "execution", "objectives", "reward")
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
        params: a :class:`~nasbench.supernet.protocol.SupernetProtocol`, or ``None`` when the
            evaluator trains the supernets itself (capability ``supernet_access``).
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
    objectives: tuple[Objective, ...] = ()
    """The ``[[objectives]]`` searched jointly (empty for a single-objective study)."""
    reward: Reward | None = None
    """The scalarised ``[reward]`` the strategies search, when the study declares one."""
    execution: ExecutionTable = field(default_factory=ExecutionTable)
    """Where runs execute (``[execution]``); not part of the config hash, since results do not
    depend on it, except ``numerics = "portable"`` (see :attr:`numerics`)."""

    @property
    def numerics(self) -> str:
        """The numerics mode (``[execution] numerics``): ``"native"`` or ``"portable"``."""
        return self.execution.numerics or "native"

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


def load_study(path: str | Path, plugins: Plugins, *, data_dir: Path | None = None,
               overrides: Sequence[str] = ()) -> Study:
    """Read and validate a study config file.

    Args:
        path: the TOML file.
        plugins: the installed plugins the study's names are checked against.
        data_dir: where data is read, overriding the file's ``data_dir`` (``--data-dir``).
        overrides: ``KEY=VALUE`` changes applied before validation (``--set``, see
            :func:`apply_overrides`).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(
            "", f"study file {str(path)!r} does not exist", "Check the path."
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise ConfigError("", f"cannot read study file {str(path)!r}: {reason}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            "", f"{path} is not valid TOML: {err}", "Fix the syntax at the line it names."
        ) from None
    if overrides:
        raw = apply_overrides(raw, overrides)
    return study_from_dict(raw, plugins, source=path, data_dir=data_dir)


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
    if name is None or name == "":
        raise ConfigError(f"{key}.name", "is missing", "Name a plugin; see 'nasbench list'.")
    if not isinstance(name, str):
        raise ConfigError(f"{key}.name", f"expected a plugin name, got {name!r}",
                          "Name a plugin; see 'nasbench list'.")
    return name


def _resolve_data_dir(value: str, source: Path | None) -> Path | None:
    if not value:
        env = os.environ.get("NASBENCH_DATA")
        return Path(env).expanduser() if env else None
    p = Path(value).expanduser()
    if not p.is_absolute() and source is not None:
        p = source.parent / p
    return p


def _metric(
    name: Any, key: str, dataset: str, metrics: Mapping[str, MetricInfo]
) -> tuple[str, MetricInfo]:
    if not isinstance(name, str) or not name:
        raise ConfigError(key, f"expected a metric name, got {name!r}",
                          f"Available: {available(metrics)}.")
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


def _typed(cls: type, table: Mapping[str, Any], prefix: str, problems: Problems) -> Any:
    """``cls`` built from ``table`` (see :func:`~nasbench.params.build_params`), or ``None``
    with the mistakes added to ``problems``."""
    try:
        return build_params(cls, table, prefix, noun="key")
    except ConfigError as err:
        problems.add(err)
        return None


def study_from_dict(
    raw: Mapping[str, Any], plugins: Plugins, *, source: Path | None = None,
    data_dir: Path | None = None,
) -> Study:
    """Validate a parsed config (see the module docstring for its layout).

    Args:
        raw: the parsed TOML.
        plugins: the installed plugins.
        source: the file it came from (relative ``data_dir`` is relative to it).
        data_dir: overrides ``[study] data_dir`` (``--data-dir``).

    Raises:
        ConfigError: carrying every mistake found, each with its key, problem and fix.
    """
    problems = Problems()
    misspelt = set()  # sections a misspelt one stands for: "missing" would say it twice
    for key in raw:
        if key not in _SECTIONS:
            close = difflib.get_close_matches(key, _SECTIONS, n=1)
            hint = f"Did you mean [{close[0]}]? " if close else ""
            misspelt.update(close)
            problems.add(ConfigError(key, "is not a section of a study",
                                     f"{hint}Sections: {', '.join(_SECTIONS)}."))

    # -- study ---------------------------------------------------------------------------------
    study_p: StudyTable | None = None
    with problems.check():
        study_p = _typed(StudyTable, _table(raw, "study", required=True), "study", problems)
    seeds: tuple[int, ...] = study_p.seed_list() if study_p else (0,)
    name = (study_p.name if study_p else "") or (source.stem if source else "study")
    if not NAME.match(name):
        name = "study"  # only a derived name can get here; a written one was reported
    if data_dir is None:
        data_dir = _resolve_data_dir(study_p.data_dir if study_p else "", source)

    # -- space ---------------------------------------------------------------------------------
    space: SearchSpace | None = None
    space_name = space_params = None
    with problems.check():
        space_t = _table(raw, "space", required=True)
        space_name = _plugin_name(space_t, "space")
        space_cls = plugins.spaces.get(space_name, "space.name")
        expand = getattr(space_cls, "expand_table", None)
        if expand is not None:  # a space declared as data reads the file its table names
            space_t = expand(space_t, source)
        space_params = build_params(
            space_cls.Params, {k: v for k, v in space_t.items() if k != "name"}, "space"
        )
        space = space_cls(space_params)

    # -- evaluator -----------------------------------------------------------------------------
    evaluator: Evaluator | None = None
    ev_t: dict[str, Any] = {}
    ev_name = ev_params = dataset = None
    with problems.check():
        ev_t = _table(raw, "evaluator", required=True)
        ev_name = _plugin_name(ev_t, "evaluator")
        ev_cls = plugins.evaluators.get(ev_name, "evaluator.name")
        ev_params = build_params(
            ev_cls.Params, {k: v for k, v in ev_t.items() if k not in _EVALUATOR_KEYS},
            "evaluator",
        )
        evaluator = ev_cls(ev_params)
        evaluator.bind_plugins(plugins)
    metrics: Mapping[str, MetricInfo] = {}
    search_metric = search_info = None
    report_metrics: tuple[str, ...] = ()
    objectives: tuple[Objective, ...] = ()
    reward: Reward | None = None
    if "objectives" in raw and "reward" in raw:
        problems.add(ConfigError("reward", "is declared beside [[objectives]]",
                                 "Search the Pareto front of [[objectives]], or one scalarised "
                                 "[reward], not both."))
    if evaluator is not None and space is not None:
        with problems.check():
            dataset = _dataset(evaluator, space, ev_t.get("dataset"), data_dir)
            metrics = evaluator.metrics(dataset)
        if dataset is not None:
            if "objectives" in raw:
                objectives = resolve_objectives(raw["objectives"], dataset, metrics, problems)
                if objectives and "search_metric" not in ev_t:
                    ev_t = {**ev_t, "search_metric": objectives[0].metric}
            if "reward" in raw:
                reward = resolve_reward(raw["reward"], dataset, metrics, problems)
            with problems.check():
                search_metric, search_info = _search_metric(
                    ev_t, dataset, metrics,
                    allow_test=any(o.on_test and o.metric == qualify(
                        str(ev_t.get("search_metric")), dataset) for o in objectives))
            with problems.check():
                report_metrics = _report_metrics(ev_t, evaluator, dataset, metrics)
            extra = [m for o in objectives for m in (o.metric, o.test_metric) if m]
            if reward is not None:
                extra.append(reward.metric)
            report_metrics = tuple(dict.fromkeys(
                (*report_metrics, *(m for m in extra if m != search_metric))))

    # -- budget, baseline, execution -----------------------------------------------------------
    budget_p: BudgetTable | None = None
    with problems.check():
        budget_p = _typed(BudgetTable, _table(raw, "budget", required=True), "budget", problems)
    if budget_p is not None and budget_p.cost is not None and evaluator is not None \
            and "cost" not in evaluator.capabilities:
        problems.add(ConfigError("budget.cost",
                                 f"evaluator '{evaluator.name}' does not know what evaluations "
                                 "cost", "Budget by evaluations instead."))
    base_p: BaselineTable | None = None
    with problems.check():
        base_p = _typed(BaselineTable, _table(raw, "baseline", required=False), "baseline",
                        problems)
    baseline_seeds = seeds if base_p is None or base_p.samples is None \
        else tuple(range(base_p.samples))
    execution: ExecutionTable | None = None
    with problems.check():
        execution = _typed(ExecutionTable, _table(raw, "execution", required=False),
                           "execution", problems)

    # -- final protocol ------------------------------------------------------------------------
    final = None
    if space is not None and evaluator is not None and search_metric is not None \
            and report_metrics:
        with problems.check():
            final = _final(raw, plugins, space, ev_name, ev_t, dataset, data_dir,
                           {m: metrics[m] for m in (search_metric, *report_metrics)})
    elif "final" in raw:
        with problems.check():  # at least its own keys
            _final_table(raw)

    # -- strategies ----------------------------------------------------------------------------
    strategies = _strategies(raw, plugins, space, space_name, evaluator, ev_name, problems)
    for i, s in enumerate(strategies or ()):
        if getattr(plugins.strategies.get(s.name), "multi_objective", False) and not objectives:
            problems.add(ConfigError(
                f"strategies[{i}].name", f"strategy '{s.name}' searches several objectives, "
                "and the study declares none", "Add two or more [[objectives]] tables."))
    supernet = None
    if space is not None and dataset is not None and strategies is not None:
        one_shot = [s.name for s in strategies
                    if "supernet" in plugins.strategies.get(s.name).requires]
        with problems.check():
            supernet = _supernet(raw, plugins, space, ev_t, dataset, data_dir, one_shot,
                                 evaluator)
    elif isinstance(raw.get("supernet"), Mapping):
        # its own keys at least; what it inherits from [evaluator] cannot be known yet
        from nasbench.supernet.protocol import SupernetProtocol

        with problems.check():
            build_params(SupernetProtocol, {k: v for k, v in raw["supernet"].items()
                                            if k != "dataset"}, "supernet")

    problems.errors = [e for e in problems.errors
                       if not (e.key in misspelt and e.problem == "is missing")]
    problems.raise_if_any()
    assert study_p is not None and budget_p is not None and strategies is not None
    assert space_name is not None and ev_name is not None and dataset is not None
    assert search_metric is not None and search_info is not None and execution is not None
    evaluations = budget_p.evaluations
    max_proposals = budget_p.max_proposals
    if max_proposals is None:
        max_proposals = 20 * evaluations if evaluations else 100_000
    budget = Budget(evaluations=evaluations, cost=budget_p.cost,
                    count_repeats=budget_p.count_repeats, max_proposals=max_proposals,
                    trial_timeout=budget_p.trial_timeout, retries=budget_p.retries or 0)
    resolved = {
        "study": {"name": name, "seed": study_p.seed, "seeds": list(seeds)},
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
    # Set only when given, so that the hash of every study written before they existed holds.
    if objectives:
        resolved["objectives"] = objectives_dict(objectives)
    if reward is not None:
        resolved["reward"] = reward_dict(reward)
    for key in ("retries", "trial_timeout"):
        if getattr(budget_p, key) is not None:
            resolved["budget"][key] = getattr(budget_p, key)
    if execution.numerics == "portable":  # results depend on it; "native" keeps old hashes
        resolved["numerics"] = "portable"
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
        root_seed=study_p.seed,
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
        objectives=objectives,
        reward=reward,
        execution=execution,
    )


def _dataset(evaluator: Evaluator, space: SearchSpace, dataset: Any,
             data_dir: Path | None) -> str:
    """The study's dataset: ``[evaluator] dataset``, checked against what the evaluator
    offers for ``space`` (its first when none is named)."""
    if dataset is not None and not isinstance(dataset, str):
        raise ConfigError("evaluator.dataset", f"expected a string, got {dataset!r}",
                          "Name a dataset; see 'nasbench list'.")
    try:
        # check() first: it may pick a benchmark, and with it the datasets on offer.
        evaluator.check(space, dataset or "", data_dir)
    except DataNotFoundError as err:
        raise ConfigError("evaluator", str(err)) from None
    offered = evaluator.datasets()
    if dataset is None:
        if not offered:
            raise ConfigError("evaluator.dataset", "is missing", "Name the dataset to use.")
        return offered[0]
    if offered and dataset not in offered:
        close = difflib.get_close_matches(dataset, list(offered), n=1)
        hint = f"Did you mean '{close[0]}'? " if close else ""
        raise ConfigError(
            "evaluator.dataset",
            f"'{evaluator.name}' cannot evaluate on '{dataset}'",
            f"{hint}Available: {available(offered)}.",
        )
    return dataset


def _search_metric(ev_t: Mapping[str, Any], dataset: str, metrics: Mapping[str, MetricInfo],
                   *, allow_test: bool = False) -> tuple[str, MetricInfo]:
    search_metric, search_info = _metric(
        ev_t.get("search_metric"), "evaluator.search_metric", dataset, metrics
    )
    if search_info.split == "test" and not allow_test:
        raise ConfigError(
            "evaluator.search_metric",
            f"'{search_metric}' is measured on test data, and selecting on test data "
            "overstates every strategy",
            "Search on a validation metric; put test metrics in report_metrics.",
        )
    return search_metric, search_info


def _report_metrics(ev_t: Mapping[str, Any], evaluator: Evaluator, dataset: str,
                    metrics: Mapping[str, MetricInfo]) -> tuple[str, ...]:
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
            "evaluator.report_metrics", f"expected a non-empty list of metrics, got {reports!r}",
            f"Available: {available(metrics)}.",
        )
    problems = Problems()
    out = []
    for i, m in enumerate(reports):
        with problems.check():
            out.append(_metric(m, f"evaluator.report_metrics[{i}]", dataset, metrics)[0])
    problems.raise_if_any()
    return tuple(dict.fromkeys(out))


def _strategies(raw: Mapping[str, Any], plugins: Plugins, space: SearchSpace | None,
                space_name: str | None, evaluator: Evaluator | None, ev_name: str | None,
                problems: Problems) -> list[StrategySpec] | None:
    """The ``[[strategies]]`` tables, each checked on its own; ``None`` if any is wrong."""
    strategies_raw = raw.get("strategies")
    if not isinstance(strategies_raw, list) or not strategies_raw:
        problems.add(ConfigError(
            "strategies", "is missing or empty", "Add at least one [[strategies]] table."
        ))
        return None
    strategies: list[StrategySpec] = []
    labels: set[str] = set()
    ok = True
    for i, st in enumerate(strategies_raw):
        key = f"strategies[{i}]"
        before = len(problems.errors)
        with problems.check():
            if not isinstance(st, Mapping):
                raise ConfigError(key, f"must be a table, got {st!r}",
                                  "Write it as [[strategies]].")
            st_name = _plugin_name(st, key)
            label = st.get("label", st_name)
            if not isinstance(label, str) or not _LABEL.match(label):
                problems.add(ConfigError(f"{key}.label", f"{label!r} is not a lower_snake label",
                                         "Use lower-case letters, digits and '_'."))
            elif label == BASELINE_LABEL:
                problems.add(ConfigError(
                    f"{key}.label", f"'{BASELINE_LABEL}' is reserved for the baseline's rows",
                    "Choose another label.",
                ))
            elif label in labels:
                problems.add(ConfigError(
                    f"{key}.label", f"'{label}' is used by two strategies",
                    "Give each a distinct label = \"...\".",
                ))
            else:
                labels.add(label)
            st_cls = plugins.strategies.get(st_name, f"{key}.name")
            with problems.check():
                params = build_params(
                    st_cls.Params, {k: v for k, v in st.items() if k not in ("name", "label")},
                    key,
                )
                strategies.append(StrategySpec(st_name, params, label))
            missing = set(st_cls.requires) - set(space.capabilities) if space else set()
            if missing:
                problems.add(ConfigError(
                    f"{key}.name",
                    f"strategy '{st_name}' needs a space with {', '.join(sorted(missing))}, and "
                    f"space '{space_name}' has none",
                    "Choose another strategy or space (see 'nasbench list').",
                ))
            if evaluator is not None and st_cls.requires_fidelities \
                    and len(evaluator.fidelities()) < 2:
                problems.add(ConfigError(
                    f"{key}.name",
                    f"strategy '{st_name}' needs an evaluator with several fidelities, and "
                    f"'{ev_name}' offers {list(evaluator.fidelities()) or 'one'}",
                    "Choose a single-fidelity strategy or a multi-fidelity evaluator.",
                ))
        ok = ok and len(problems.errors) == before
    return strategies if ok else None


def _final_table(raw: Mapping[str, Any]) -> tuple[FinalTable, Mapping[str, Any]]:
    """The ``[final]`` table's own keys, and its ``[final.evaluator]`` overrides."""
    table = _table(raw, "final", required=False)
    overrides = table.pop("evaluator", {})
    problems = Problems()
    params = None
    with problems.check():
        params = build_params(FinalTable, table, "final", noun="key",
                              also_known=("evaluator",))
    if not isinstance(overrides, Mapping):
        problems.add(ConfigError("final.evaluator", f"must be a table, got {overrides!r}",
                                 "Write it as [final.evaluator]."))
    else:
        for key in _EVALUATOR_KEYS[1:]:
            if key in overrides:
                problems.add(ConfigError(
                    f"final.evaluator.{key}",
                    "is the study's: the final protocol measures the same metrics on the same "
                    "data", "Remove it.",
                ))
    problems.raise_if_any()
    assert params is not None
    return params, overrides


def _final(raw: Mapping[str, Any], plugins: Plugins, space: SearchSpace, ev_name: str,
           ev_t: Mapping[str, Any], dataset: str, data_dir: Path | None,
           metrics: Mapping[str, MetricInfo]) -> FinalSpec | None:
    """The ``[final]`` table: a final protocol measuring the study's metrics on its dataset."""
    if "final" not in raw:
        return None
    table, overrides = _final_table(raw)
    repeats = table.repeats
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
    from nasbench.supernet.protocol import COST_UNITS, INHERITED, SupernetProtocol
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
        for name in one_shot:
            if getattr(plugins.strategies.get(name), "supernet_gradient", False):
                raise ConfigError(
                    "strategies", f"strategy '{name}' moves its architecture along the gradient "
                    f"of a loss through the supernet, and evaluator '{evaluator.name}' trains "
                    "its supernets on single paths by reinforcement learning, where an "
                    "architecture's objective (its return) has no such gradient",
                    "Use a single-path one-shot strategy (enas, rsws) with this evaluator.")
        return SupernetSpec(dataset, None)
    if evaluator is not None and evaluator.cost_unit not in COST_UNITS:
        raise ConfigError(
            "evaluator.cost_unit", f"is {evaluator.cost_unit!r}, and strategies "
            f"{', '.join(sorted(set(one_shot)))} train a supernet, whose training has no "
            f"{evaluator.cost_unit} to count, so their runs could not be charged in the "
            "study's unit",
            "Use cost_unit = \"flops\" (training FLOPs: supernet passes are counted by the "
            "same rules as stand-alone trainings) or \"seconds\".")
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
