"""Property tests of study configs: whatever a user writes, nasbench answers with a study that
loads (and runs) or with one config error that lists every problem, never a traceback.

Configs are generated on the shipped NAS-Bench-Graph table (no data outside the repository),
validated in-process; a few valid ones also run with a tiny budget.
"""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasbench.errors import ConfigError
from nasbench.protocol import Study, study_from_dict
from nasbench.registry import load_plugins

PLUGINS = load_plugins()
DATASETS = ("cora", "citeseer", "pubmed")

# -- valid configs ------------------------------------------------------------------------------
_STRATEGIES = {
    "random_search": st.fixed_dictionaries({}),
    "aging_evolution": st.integers(2, 12).flatmap(lambda p: st.fixed_dictionaries(
        {"population_size": st.just(p), "sample_size": st.integers(1, p)})),
    "local_search": st.fixed_dictionaries({}, optional={"initial_samples": st.integers(1, 5)}),
}


@st.composite
def valid_configs(draw: st.DrawFn, max_evaluations: int = 50, max_seeds: int = 5) -> dict:
    seeds = draw(st.one_of(
        st.integers(1, max_seeds),
        st.lists(st.integers(0, 99), min_size=1, max_size=max_seeds, unique=True)))
    study: dict[str, Any] = {"name": "s" + draw(st.text("abc019_-", max_size=8)),
                             "seeds": seeds, "seed": draw(st.integers(0, 2**31))}
    budget: dict[str, Any] = {"evaluations": draw(st.integers(1, max_evaluations))}
    if draw(st.booleans()):
        budget["count_repeats"] = draw(st.booleans())
    if draw(st.booleans()):
        budget["retries"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        budget["trial_timeout"] = draw(st.floats(0.5, 1e4))
    raw: dict[str, Any] = {
        "study": study,
        "space": {"name": "nbgraph"},
        "evaluator": {"name": "tabular", "dataset": draw(st.sampled_from(DATASETS)),
                      "search_metric": "valid_acc", "report_metrics": ["test_acc"]},
        "budget": budget,
        "strategies": [],
    }
    for i, name in enumerate(draw(st.lists(st.sampled_from(sorted(_STRATEGIES)), min_size=1,
                                           max_size=3))):
        raw["strategies"].append({"name": name, "label": f"{name}_{i}",
                                  **draw(_STRATEGIES[name])})
    if draw(st.booleans()):
        raw["baseline"] = {"samples": draw(st.integers(1, 5))}
    if draw(st.booleans()):
        raw["execution"] = {"workers": draw(st.integers(1, 4))}
    return raw


# -- mutations ----------------------------------------------------------------------------------
_SCALARS = st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                     st.text("abc_ -x1", max_size=8), st.booleans())
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3),
                    st.dictionaries(st.sampled_from(("a", "name", "x_y")), _SCALARS, max_size=2))


def _tables(node: Any, path: str = "") -> list[tuple[str, dict]]:
    """Every table of a config with its dotted path, the config itself first."""
    out = []
    if isinstance(node, dict):
        out.append((path, node))
        for key, value in node.items():
            out += _tables(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _tables(value, f"{path}[{i}]")
    return out


def _lookup(raw: dict, path: str) -> Any:
    node: Any = raw
    for part in path.replace("[", ".[").split("."):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return None
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


@st.composite
def mutated_configs(draw: st.DrawFn) -> tuple[dict, list[str]]:
    """A valid config with 1-4 mistakes; also the keys of the unknown keys added."""
    raw = copy.deepcopy(draw(valid_configs()))
    added = []
    for _ in range(draw(st.integers(1, 4))):
        tables = _tables(raw)
        path, table = draw(st.sampled_from(tables))
        op = draw(st.sampled_from(("add", "delete", "replace", "rename_plugin", "param")))
        if op == "add":
            key = "zz_" + draw(st.text("abcdef", min_size=1, max_size=4))
            if key not in table:
                table[key] = draw(_VALUES)
                added.append(f"{path}.{key}" if path else key)
        elif op == "delete" and table:
            del table[draw(st.sampled_from(sorted(table)))]
        elif op == "replace" and table:
            table[draw(st.sampled_from(sorted(table)))] = draw(_VALUES)
        elif op == "param" and _params_of(path, table):
            table[draw(st.sampled_from(_params_of(path, table)))] = draw(_VALUES)
        elif op == "rename_plugin" and "name" in table:
            table["name"] = draw(st.one_of(st.text(max_size=10), _VALUES))
    return raw, added


def _params_of(path: str, table: dict) -> list[str]:
    """The parameter names of the plugin a table names (a plugin's own keys to set wrongly)."""
    import dataclasses

    registry = {"space": PLUGINS.spaces, "evaluator": PLUGINS.evaluators}.get(path)
    if re.fullmatch(r"strategies\[\d+\]", path):
        registry = PLUGINS.strategies
    name = table.get("name")
    if registry is None or not isinstance(name, str) or name not in registry:
        return []
    return sorted(f.name for f in dataclasses.fields(registry.get(name).Params))


def _plugin_known(raw: dict, path: str) -> bool:
    """Whether the plugin table holding ``path`` names a registered plugin: the parameters of
    an unknown plugin cannot be checked (its error names the plugin instead)."""
    head = path.split(".")[0]
    registry = {"space": PLUGINS.spaces, "evaluator": PLUGINS.evaluators}.get(head)
    if head.startswith("strategies["):
        registry = PLUGINS.strategies
        head = head  # the strategy's own table
    if registry is None:
        return True
    table = _lookup(raw, head)
    return isinstance(table, dict) and isinstance(table.get("name"), str) \
        and table["name"] in registry


def _load(raw: dict) -> Study | ConfigError:
    try:
        return study_from_dict(raw, PLUGINS)
    except ConfigError as err:
        return err


def _assert_well_formed(err: ConfigError) -> None:
    assert err.problems, err
    text = str(err)
    for problem in err.problems:
        assert problem.problem, text
        assert problem.line() in text
    if len(err.problems) > 1:
        assert text.startswith(f"the config has {len(err.problems)} problems:")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_configs())
def test_valid_configs_load(raw: dict) -> None:
    study = _load(raw)
    assert isinstance(study, Study), str(study)
    assert len(study.strategies) == len(raw["strategies"])
    assert study.dataset == raw["evaluator"]["dataset"]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_configs())
def test_mutated_configs_load_or_list_every_problem(case: tuple[dict, list[str]]) -> None:
    raw, added = case
    result = _load(raw)
    still_there = [p for p in added if _lookup(raw, p) is not None and _plugin_known(raw, p)]
    if isinstance(result, Study):
        assert not still_there, f"unknown keys {still_there} were accepted"
        return
    _assert_well_formed(result)
    keys = {p.key for p in result.problems}
    for path in still_there:
        # named itself, or a table around it is wrong as a whole (an unknown key holding a
        # table, a value of the wrong type)
        assert any(path == k or path.startswith((f"{k}.", f"{k}[")) for k in keys), \
            (path, str(result))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_configs(max_evaluations=4, max_seeds=2))
def test_small_valid_configs_run(raw: dict) -> None:
    from nasbench.results.schema import load_results

    from nasbench.run import run_study

    study = _load(raw)
    assert isinstance(study, Study), str(study)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        outcome = run_study(study, PLUGINS, out, progress=False)
        assert outcome.complete
        runs = load_results(out, trials=False).runs
        expected = len(study.strategies) * len(study.seeds) + len(study.baseline_seeds)
        assert len(runs) == expected


@pytest.mark.parametrize("text", ["", "[study]", "strategies = 3", "[[study]]\nseeds = 1",
                                  "space = 5\n[study]\nseeds = 0"])
def test_degenerate_configs_are_config_errors(text: str) -> None:
    import tomllib

    result = _load(tomllib.loads(text))
    assert isinstance(result, ConfigError)
    _assert_well_formed(result)
