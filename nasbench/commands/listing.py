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
    if args.json:
        print(json.dumps(data, indent=2))
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
                    default = "required" if p["required"] else f"default {p['default']!r}"
                    print(f"      {p['name']} ({p['type']}, {default}): {p['doc']}")
        if not entries:
            print("  (none)")
        print()
    return 0
