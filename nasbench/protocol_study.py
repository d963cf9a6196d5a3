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
(``OUT/base``, ``OUT/<variant>``), durable and resumable: ``nasbench protocols --resume``
(:mod:`nasbench.commands.protocols`) continues where it stopped. The study's only strategy
must be ``fixed_set``, so that every protocol evaluates the same architectures, and its budget
must cover them all. The comparison
(:mod:`nasbench.results.protocol_study`) reads the results and never re-runs anything.
"""

from __future__ import annotations

import copy
import difflib
import re
import shlex
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import ConfigError, Problems

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


def load_protocol_study(path: str | Path, plugins: Plugins, *, data_dir: Path | None = None,
                        overrides: Sequence[str] = ()) -> list[Protocol]:
    """Read a protocol-study file: the base protocol first, then its variants in file order.

    ``data_dir`` overrides the file's ``[study] data_dir`` (``--data-dir``); ``overrides``
    are ``KEY=VALUE`` changes (``--set``, :func:`nasbench.protocol.apply_overrides`).

    Raises:
        ConfigError: for every mistake in the base study or a variant, naming its key.
    """
    from nasbench.protocol import apply_overrides, study_from_dict

    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("", f"protocol-study file {str(path)!r} does not exist",
                          "Check the path.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("", f"{path} is not valid TOML: {err}",
                          "Fix the syntax at the line it names.") from None
    if overrides:
        raw = apply_overrides(raw, overrides)
    variants = raw.pop("variants", {})
    problems = Problems()  # every mistake at once: the base's, then each variant's
    if not isinstance(variants, Mapping) or not variants:
        problems.add(ConfigError("variants", "is missing or empty",
                                 "Add at least one [variants.NAME] table of protocol overrides."))
        variants = {}
    base = None
    with problems.check():
        base = study_from_dict(raw, plugins, source=path, data_dir=data_dir)
        _check_fixed_set(base)
    problems.raise_if_any()
    assert base is not None
    protocols = [Protocol(BASE, "the study as written", base)]
    for name, table in variants.items():
        with problems.check():
            protocols.append(Protocol(name, *_variant(raw, name, table, base, plugins, path,
                                                      data_dir)))
    problems.raise_if_any()
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
    if size < 3:
        raise ConfigError(
            "strategies[0].archs" if params.archs else "strategies[0].sample",
            f"fixed_set proposes {size} architecture(s), and protocols are compared by rank "
            "correlations, which need at least 3", "Give fixed_set 3 or more architectures.")
    if study.budget.evaluations is None or study.budget.evaluations < size:
        raise ConfigError("budget.evaluations",
                          f"must cover the {size} architectures of fixed_set",
                          f"Set evaluations = {size}.")


def _variant(raw: Mapping[str, Any], name: str, table: Any, base: Study, plugins: Plugins,
             path: Path, data_dir: Path | None) -> tuple[str, Study]:
    from nasbench.protocol import study_from_dict

    where = f"variants.{name}"
    if not _NAME.match(name) or name == BASE:
        raise ConfigError(where, f"{name!r} is not a usable variant name",
                          f"Use lower_snake letters and digits, other than '{BASE}'.")
    if not isinstance(table, Mapping):
        raise ConfigError(where, f"must be a table, got {table!r}",
                          f"Write it as [variants.{name}].")
    problems = Problems()
    for key in table:
        if key not in _VARIANT_KEYS:
            close = difflib.get_close_matches(str(key), _VARIANT_KEYS, n=1)
            hint = f"Did you mean '{close[0]}'? " if close else ""
            problems.add(ConfigError(f"{where}.{key}", "unknown key",
                                     f"{hint}Known keys: {', '.join(_VARIANT_KEYS)}."))
    overrides = table.get("evaluator", {})
    if not isinstance(overrides, Mapping):
        problems.add(ConfigError(f"{where}.evaluator", f"must be a table, got {overrides!r}",
                                 f"Write it as [variants.{name}.evaluator] or an inline table."))
        overrides = {}
    for key in ("name", "dataset", "search_metric", "report_metrics"):
        if key in overrides:
            problems.add(ConfigError(f"{where}.evaluator.{key}", "is the base study's: every "
                                     "protocol measures the same metrics on the same data",
                                     "Remove it."))
    problems.raise_if_any()
    variant = copy.deepcopy(dict(raw))
    variant["evaluator"] = _merged(variant["evaluator"], overrides)
    variant["study"] = {**variant["study"], "name": f"{base.name}-{name}",
                        "seeds": table.get("seeds", list(base.seeds[:1]))}
    try:
        study = study_from_dict(variant, plugins, source=path, data_dir=data_dir)
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
                       workers: int = 1, progress: bool = True,
                       resume: bool = False) -> dict[str, Path]:
    """Run (or, with ``resume``, continue) every protocol into ``out/<protocol>``; returns the
    directories.

    Protocols run one after the other; with several workers, the runs of each protocol spread
    over a Dask ``LocalCluster`` of that many single-threaded worker processes.
    """
    command = shlex.join(["nasbench", *sys.argv[1:]]) if sys.argv else None
    directories = {p.name: out / p.name for p in protocols}
    for protocol in protocols:
        _run_protocol(protocol.study, directories[protocol.name], command, resume, progress,
                      plugins, workers)
    return directories


def _run_protocol(study: Study, directory: Path, command: str | None, resume: bool,
                  progress: bool, plugins: Plugins, workers: int = 1) -> None:
    """Run (or resume) one protocol's study."""
    from nasbench.run import run_study

    resume = resume and (directory / "manifest.json").exists()  # a protocol not yet started
    run_study(study, plugins, directory, resume=resume, workers=workers, progress=progress,
              command=command)
