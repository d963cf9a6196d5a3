"""``nasbench list``: the installed spaces, strategies, evaluators, benchmarks and datasets."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from nasbench.commands import plugins as _plugins


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "list", help="list installed spaces, strategies, evaluators, benchmarks, datasets"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--params", action="store_true", help="also list each plugin's parameters")
    p.set_defaults(handler=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    from nasbench.params import describe_params

    plugins = _plugins(args)
    data: dict[str, list[dict[str, Any]]] = {}
    for kind, registry in plugins.registries().items():
        entries = []
        for rec in registry:
            entry = {
                "name": rec.name,
                "summary": rec.summary,
                "plugin": rec.source.plugin,
                "distribution": rec.source.distribution,
                "version": rec.source.version,
                "class": f"{rec.cls.__module__}.{rec.cls.__qualname__}",
            }
            params_cls = getattr(rec.cls, "Params", None)
            if params_cls is not None and dataclasses.is_dataclass(params_cls):
                entry["params"] = describe_params(params_cls)
            entries.append(entry)
        data[kind] = entries
    problems = _problems(plugins)
    if args.json:
        print(json.dumps({**data, **problems}, indent=2))
        return 0
    titles = {"space": "Search spaces", "strategy": "Strategies", "evaluator": "Evaluators",
              "benchmark": "Benchmarks", "dataset": "Datasets"}
    for kind, entries in data.items():
        print(f"{titles.get(kind, kind)}:")
        width = max((len(e["name"]) for e in entries), default=0)
        for e in entries:
            source = f"{e['distribution']} {e['version']}".strip() or e["plugin"]
            print(f"  {e['name']:<{width}}  {e['summary']}  [{source}]")
            if args.params:
                for p in e.get("params", []):
                    print(f"      {_param_line(p)}")
        if not entries:
            print("  (none)")
        print()
    for broken in problems.get("broken", []):
        print(f"Broken plugin: '{broken['name']}' of package {broken['distribution']} "
              f"{broken['version']} ({broken['target']}) failed to load: {broken['error']}\n"
              "  Every command works without it; fix or uninstall that package to use it.\n")
    if "clash" in problems:
        print(f"Name clash: {problems['clash']}\n")
    return 0


def _problems(plugins: Any) -> dict[str, Any]:
    """Plugins that failed to load, and Google's package under the same name, where any."""
    from nasbench.clash import clash

    out: dict[str, Any] = {}
    if plugins.broken:
        out["broken"] = [dataclasses.asdict(b) for b in plugins.broken]
    text = clash()
    if text:
        out["clash"] = text
    return out


def _param_line(p: dict[str, Any]) -> str:
    """One parameter: name, type, default, bounds, meaning and where its default comes from."""
    facts = [p["type"], "required" if p["required"] else f"default {p['default']!r}"]
    facts += [f"{word} {p[bound]}" for bound, word in
              (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")) if bound in p]
    line = f"{p['name']} ({', '.join(facts)}): {p['doc']}"
    if p.get("published"):
        line = f"{line.rstrip('.')}. Default from: {p['published']}"
    return line
