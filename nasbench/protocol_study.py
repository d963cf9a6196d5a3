"""Protocol studies: the same architectures evaluated under several protocols.

Yang, Esperança & Carlucci (ICLR 2020) trained the same architectures under two seeds, at two
depths and with and without training tricks, and found that the protocol moves accuracy more
than the architecture does and reorders the architectures. A protocol study reproduces that
design with any space, dataset and evaluator nasbench has.

A protocol-study file is a study config (the *base* protocol) plus ``[variants.NAME]`` tables::

    [study]
    name = "protocols"
    seeds = [0, 1]             # the base protocol under two training seeds
    ...                        # [space], [evaluator], [budget] as in any study
    [[strategies]]
    name = "fixed_set"         # the architectures every protocol evaluates
    sample = 40

    [variants.depth]
    summary = "three cells per stage"
    evaluator = { size = { C = 16, N = 3 } }   # overrides of [evaluator]'s parameters
    # seeds = [0]              # default: the base's first seed, so evaluation seeds pair up

Each protocol is an ordinary study, run by the harness into its own results directory
(``OUT/base``, ``OUT/<variant>``), durable and resumable: running the command again continues
where it stopped. The study's only strategy must be ``fixed_set``, so that every protocol
evaluates the same architectures, and its budget must cover them all. The comparison
(:mod:`nasbench.results.protocol_study`) reads the results and never re-runs anything.
"""

from __future__ import annotations

import argparse
import copy
import re
import shlex
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import ConfigError, UserError
from nasbench.hookspecs import hookimpl

if TYPE_CHECKING:
    from nasbench.protocol import Study
    from nasbench.registry import Plugins

BASE = "base"
"""Name of the base protocol."""
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VARIANT_KEYS = ("summary", "evaluator", "seeds")


@dataclass(frozen=True)
class Protocol:
    """One protocol of a protocol study.

    Attributes:
        name: ``base`` or the variant's name.
        summary: one line saying what differs from the base.
        study: the validated study that evaluates the architectures under this protocol.
    """

    name: str
    summary: str
    study: Study


def load_protocol_study(path: str | Path, plugins: Plugins) -> list[Protocol]:
    """Read a protocol-study file: the base protocol first, then its variants in file order.

    Raises:
        ConfigError: for every mistake in the base study or a variant, naming its key.
    """
    from nasbench.protocol import study_from_dict

    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("", f"protocol-study file {str(path)!r} does not exist",
                          "Check the path.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("", f"{path} is not valid TOML: {err}",
                          "Fix the syntax at the line it names.") from None
    variants = raw.pop("variants", {})
    if not isinstance(variants, Mapping) or not variants:
        raise ConfigError("variants", "is missing or empty",
                          "Add at least one [variants.NAME] table of protocol overrides.")
    base = study_from_dict(raw, plugins, source=path)
    _check_fixed_set(base)
    protocols = [Protocol(BASE, "the study as written", base)]
    for name, table in variants.items():
        protocols.append(Protocol(name, *_variant(raw, name, table, base, plugins, path)))
    return protocols


def _check_fixed_set(study: Study) -> None:
    if len(study.strategies) != 1 or study.strategies[0].name != "fixed_set":
        raise ConfigError(
            "strategies", "a protocol study needs exactly one strategy, fixed_set, so that "
            "every protocol evaluates the same architectures",
            "Write one [[strategies]] table with name = \"fixed_set\" and sample = K (or archs).",
        )
    params = study.strategies[0].params
    size = len(params.archs) or params.sample
    if study.budget.evaluations is None or study.budget.evaluations < size:
        raise ConfigError("budget.evaluations",
                          f"must cover the {size} architectures of fixed_set",
                          f"Set evaluations = {size}.")


def _variant(raw: Mapping[str, Any], name: str, table: Any, base: Study, plugins: Plugins,
             path: Path) -> tuple[str, Study]:
    from nasbench.protocol import study_from_dict

    where = f"variants.{name}"
    if not _NAME.match(name) or name == BASE:
        raise ConfigError(where, f"{name!r} is not a usable variant name",
                          f"Use lower_snake letters and digits, other than '{BASE}'.")
    if not isinstance(table, Mapping):
        raise ConfigError(where, f"must be a table, got {table!r}",
                          f"Write it as [variants.{name}].")
    for key in table:
        if key not in _VARIANT_KEYS:
            raise ConfigError(f"{where}.{key}", "unknown key",
                              f"Known keys: {', '.join(_VARIANT_KEYS)}.")
    overrides = table.get("evaluator", {})
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"{where}.evaluator", f"must be a table, got {overrides!r}")
    for key in ("name", "dataset", "search_metric", "report_metrics"):
        if key in overrides:
            raise ConfigError(f"{where}.evaluator.{key}", "is the base study's: every protocol "
                              "measures the same metrics on the same data", "Remove it.")
    variant = copy.deepcopy(dict(raw))
    variant["evaluator"] = _merged(variant["evaluator"], overrides)
    variant["study"] = {**variant["study"], "name": f"{base.name}-{name}",
                        "seeds": list(table.get("seeds", base.seeds[:1]))}
    try:
        study = study_from_dict(variant, plugins, source=path)
    except ConfigError as err:
        raise err.under(where) from None
    summary = table.get("summary") or ", ".join(f"{k} = {v!r}" for k, v in overrides.items())
    return str(summary), study


def _merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` applied; nested tables (``size``) are merged key by key."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def run_protocol_study(protocols: list[Protocol], plugins: Plugins, out: Path, *,
                       workers: int = 1, progress: bool = True) -> dict[str, Path]:
    """Run (or resume) every protocol into ``out/<protocol>``; returns the directories.

    Protocols run one after the other; with several workers, the runs of each protocol spread
    over a Dask ``LocalCluster`` of that many single-threaded worker processes.
    """
    command = shlex.join(["nasbench", *sys.argv[1:]]) if sys.argv else None
    directories = {p.name: out / p.name for p in protocols}
    for protocol in protocols:
        _run_protocol(protocol.study, directories[protocol.name], command, progress, plugins,
                      workers)
    return directories


def _run_protocol(study: Study, directory: Path, command: str | None, progress: bool,
                  plugins: Plugins, workers: int = 1) -> None:
    """Run (or resume) one protocol's study."""
    from nasbench.run import run_study

    run_study(study, plugins, directory, resume=(directory / "manifest.json").exists(),
              workers=workers, progress=progress, command=command)


# -- the command ----------------------------------------------------------------------------------
def cmd_protocols(args: argparse.Namespace) -> int:
    from nasbench.registry import load_plugins
    from nasbench.results.protocol_study import write_protocol_report

    plugins = load_plugins(args.plugin_manager)
    protocols = load_protocol_study(args.config, plugins)
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}.")
    out = Path(args.out) if args.out else Path("runs") / protocols[0].study.name
    directories = run_protocol_study(protocols, plugins, out, workers=args.workers,
                                     progress=not args.quiet)
    summaries = {p.name: p.summary for p in protocols}
    paths = write_protocol_report(directories, summaries, out / "report")
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


@hookimpl
def nasbench_add_cli_commands(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "protocols", help="evaluate the same architectures under several protocols (seeds, "
        "depths, training tricks) and compare their rankings and accuracies")
    p.add_argument("config", help="protocol-study file: a study plus [variants.NAME] tables "
                   "(e.g. examples/protocols/nb201_digits.toml)")
    p.add_argument("--out", help="where the protocols' results and the report go (default "
                   "runs/<study name>); run again with the same --out to continue")
    p.add_argument("--workers", type=int, default=1,
                   help="spread each protocol's runs over a Dask LocalCluster of N processes")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=cmd_protocols)
