"""The ``nasbench`` command line.

``nasbench list`` and ``nasbench space`` import neither torch nor Lightning; every heavy import
happens inside the command that needs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import shlex
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from nasbench.errors import UserError

DEFAULT_STUDY = "default.toml"
"""The embedded study that ``nasbench run`` runs when given no config."""


def _plugins(args: argparse.Namespace) -> Any:
    from nasbench.registry import load_plugins

    return load_plugins(args.plugin_manager)


# -- list -----------------------------------------------------------------------------------------
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


# -- space ----------------------------------------------------------------------------------------
def cmd_space(args: argparse.Namespace) -> int:
    plugins = _plugins(args)
    space = plugins.spaces.get(args.name, "space")()
    out = space.describe()
    if "enumerate" in space.capabilities and not args.no_unique:
        out["unique"] = len({space.arch_key(a) for a in space.enumerate()})
    print(json.dumps(out, indent=2))
    return 0


# -- run ------------------------------------------------------------------------------------------
def _latest(base: Path) -> Path | None:
    if not base.is_dir():
        return None
    dirs = sorted(p for p in base.iterdir() if (p / "manifest.json").is_file())
    return dirs[-1] if dirs else None


def cmd_run(args: argparse.Namespace) -> int:
    from nasbench.harness import run_study
    from nasbench.protocol import load_study

    plugins = _plugins(args)
    if args.study is None:
        with resources.as_file(resources.files("nasbench") / "studies" / DEFAULT_STUDY) as p:
            study = load_study(p, plugins)
        print(f"Running the embedded default study '{study.name}' "
              f"(pass a STUDY.toml to run your own).", file=sys.stderr)
    else:
        study = load_study(args.study, plugins)
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}.")
    if args.out is not None:
        out = Path(args.out)
    else:
        base = Path("runs") / study.name
        if args.resume:
            latest = _latest(base)
            if latest is None:
                raise UserError(
                    f"--resume found no earlier results under {base}/. Pass --out DIR to name "
                    "the directory to resume."
                )
            out = latest
        else:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = base / stamp
    command = shlex.join(["nasbench", *sys.argv[1:]]) if sys.argv else None
    outcome = run_study(
        study, plugins, out, resume=args.resume, workers=args.workers,
        progress=not args.quiet, command=command,
    )
    if not outcome.complete:
        print(
            f"{outcome.runs_done}/{outcome.runs_total} runs are done in {out}; the others are "
            f"held by other workers ({', '.join(outcome.pending[:5])}"
            f"{', ...' if len(outcome.pending) > 5 else ''}). The last worker to finish writes "
            f"the tables; or run again with --resume --out {out}.",
        )
        return 0
    from nasbench.results.leaderboard import write_leaderboard
    from nasbench.results.schema import load_results

    _, path = write_leaderboard(load_results(out, trials=False))
    print(f"Results: {out}")
    print(f"Full report with figures: nasbench report {out}")
    print(f"Leaderboard: {path}")
    return 0


def build_parser(plugins_pm: Any = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nasbench",
        description="Benchmark neural architecture search strategies under one protocol.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "list", help="list installed spaces, strategies, evaluators, benchmarks, datasets"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--params", action="store_true", help="also list each plugin's parameters")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("space", help="describe a search space as JSON")
    p.add_argument("name", help="registry name of the space (see 'nasbench list')")
    p.add_argument("--no-unique", action="store_true",
                   help="skip counting distinct architectures (enumerates the space)")
    p.set_defaults(handler=cmd_space)

    p = sub.add_parser("run", help="run a study (the embedded default when no STUDY is given)")
    p.add_argument("study", nargs="?", help="study config (TOML)")
    p.add_argument("--out", help="results directory (default: runs/<study>/<timestamp>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the study in --out (default: the latest under runs/<study>)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=cmd_run)

    from nasbench.results import commands

    p = sub.add_parser("report", help="leaderboards, statistics, anytime curves and an HTML "
                       "report of results directories")
    commands.add_report_arguments(p)
    p.set_defaults(handler=commands.cmd_report)

    p = sub.add_parser("correlate", help="rank correlations between two scorings of "
                       "architectures, or a ready-made correlation study")
    commands.add_correlate_arguments(p)
    p.set_defaults(handler=commands.cmd_correlate)

    p = sub.add_parser("import", help="turn results nasbench did not produce into a results "
                       "directory")
    commands.add_import_arguments(p)
    p.set_defaults(handler=commands.cmd_import)

    if plugins_pm is not None:
        plugins_pm.hook.nasbench_add_cli_commands(subparsers=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasbench`` command."""
    from nasbench.registry import make_plugin_manager

    try:
        pm = make_plugin_manager()
        parser = build_parser(pm)
        parser.set_defaults(plugin_manager=pm)
        args = parser.parse_args(argv)
        return int(args.handler(args) or 0)
    except UserError as err:
        print(f"nasbench: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("nasbench: interrupted; finished trials are saved. Continue with "
              "'nasbench run --resume --out DIR STUDY.toml'.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
