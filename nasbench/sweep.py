"""Sweeps: one base study, changed along axes, each point an ordinary study directory.

A sweep file::

    [sweep]
    name = "nb201-budget"
    study = "../nb201_baselines.toml"   # the base study (relative to this file), or inline
                                        # as [base.study], [base.space], ... tables
    set = {"study.seeds" = 20}          # optional: overrides of the base for every point

    [sweep.grid]                        # every combination of the axes' values ...
    "budget.evaluations" = [25, 50, 100]
    "strategies.aging_evolution.sample_size" = [3, 10]

    # ... or listed points instead of a grid:
    # [[sweep.points]]
    # "budget.evaluations" = 25

Keys are the dotted keys of ``--set`` (:func:`nasbench.study_tables.apply_overrides`), plus
``strategies.LABEL.KEY``, which addresses a strategy by its label (or name). Every point is
validated before anything runs and all mistakes are reported together. A point's directory
is ``OUT/<key>=<value>,...`` and is an ordinary results directory; ``OUT/sweep.json`` lists
the points (it is how ``nasbench report`` recognises a sweep).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench.errors import ConfigError, UserError
from nasbench.protocol import Study, study_from_dict
from nasbench.registry import Plugins
from nasbench.study_tables import apply_overrides

SWEEP_FILE = "sweep.json"
"""The file that marks a directory as a sweep and lists its points."""


@dataclass(frozen=True)
class SweepPoint:
    """One point: its directory name and the value of each axis there."""

    name: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep: its base config, the base overrides and the points."""

    name: str
    base: Mapping[str, Any]
    base_set: Mapping[str, Any]
    axes: tuple[str, ...]
    mode: str
    points: tuple[SweepPoint, ...]
    source: Path | None


def toml_value(value: Any) -> str:
    """``value`` written as a TOML value, for :func:`apply_overrides`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise ConfigError("", f"cannot use {value!r} as a sweep value", "Use TOML values.")


def resolve_key(raw: Mapping[str, Any], key: str) -> str:
    """``strategies.LABEL.KEY`` as ``strategies[i].KEY`` (label first, then name); other keys
    unchanged."""
    parts = key.split(".")
    if len(parts) < 3 or parts[0] != "strategies" or parts[1].startswith("["):
        return key
    strategies = raw.get("strategies", [])
    labels = [s.get("label", s.get("name")) if isinstance(s, Mapping) else None
              for s in strategies]
    matches = [i for i, label in enumerate(labels) if label == parts[1]]
    if not matches:
        names = [s.get("name") if isinstance(s, Mapping) else None for s in strategies]
        matches = [i for i, name in enumerate(names) if name == parts[1]]
    if len(matches) != 1:
        why = "no strategy" if not matches else f"{len(matches)} strategies"
        raise ConfigError(key, f"{why} of the base study has the label or name '{parts[1]}'",
                          f"Use one of: {', '.join(str(x) for x in labels)}, or "
                          "strategies[i].KEY.")
    return ".".join([f"strategies[{matches[0]}]", *parts[2:]])


def _slug(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "-".join(_slug(v) for v in value)
    text = value if isinstance(value, str) else toml_value(value)
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text).strip("_") or "_"


def point_name(values: Mapping[str, Any]) -> str:
    """The directory name of a point: ``<short key>=<value>`` joined by commas."""
    keys = list(values)
    short = {k: k.split(".")[-1] for k in keys}
    clash = {s for s in short.values() if list(short.values()).count(s) > 1}
    parts = [f"{short[k] if short[k] not in clash else k.replace('.', '_')}={_slug(values[k])}"
             for k in keys]
    return ",".join(parts) if parts else "base"


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("", f"{what} {str(path)!r} does not exist", "Check the path.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("", f"{path} is not valid TOML: {err}",
                          "Fix the syntax at the line it names.") from None


def parse_sweep(raw: Mapping[str, Any], source: Path | None = None) -> Sweep:
    """Read the ``[sweep]`` table and the base study (see the module docstring)."""
    table = raw.get("sweep")
    if not isinstance(table, Mapping):
        raise ConfigError("sweep", "the file has no [sweep] table",
                          "Add [sweep] with study = \"STUDY.toml\" and [sweep.grid] axes.")
    unknown = sorted(set(table) - {"name", "study", "set", "grid", "points"})
    if unknown:
        raise ConfigError(f"sweep.{unknown[0]}", "unknown key",
                          "Known keys: name, study, set, grid, points.")
    base_dir = source.parent if source is not None else Path.cwd()
    study_path: Path | None = None
    if "study" in table and "base" in raw:
        raise ConfigError("sweep.study", "both sweep.study and [base] tables give the base",
                          "Keep one.")
    if "study" in table:
        study_path = (base_dir / str(table["study"])).resolve()
        base = _read_toml(study_path, "base study file")
    elif isinstance(raw.get("base"), Mapping):
        base = copy.deepcopy(dict(raw["base"]))
    else:
        raise ConfigError("sweep.study", "no base study",
                          "Set sweep.study = \"STUDY.toml\" or write it inline as [base.*].")
    # A relative data_dir means relative to the file that wrote it.
    study_t = base.get("study", {})
    if isinstance(study_t, dict) and isinstance(study_t.get("data_dir"), str):
        where = study_path.parent if study_path is not None else base_dir
        study_t["data_dir"] = str((where / study_t["data_dir"]).resolve())
    grid, listed = table.get("grid"), table.get("points")
    if (grid is None) == (listed is None):
        raise ConfigError("sweep", "give the axes as [sweep.grid] or as [[sweep.points]], one "
                          "of the two", "A grid takes every combination; points list them.")
    if grid is not None:
        if not isinstance(grid, Mapping) or not grid:
            raise ConfigError("sweep.grid", "must be a table of KEY = [values]",
                              "e.g. \"budget.evaluations\" = [25, 50].")
        bad = [k for k, v in grid.items() if not isinstance(v, list) or not v]
        if bad:
            raise ConfigError(f"sweep.grid.{bad[0]}", "must be a non-empty list of values",
                              "Write KEY = [v1, v2, ...].")
        axes = tuple(grid)
        combos = [dict(zip(axes, vals, strict=True))
                  for vals in itertools.product(*(grid[k] for k in axes))]
        mode = "grid"
    else:
        if not isinstance(listed, list) or not listed or not all(
                isinstance(p, Mapping) and p for p in listed):
            raise ConfigError("sweep.points", "must be a list of tables KEY = value",
                              "Write [[sweep.points]] tables.")
        axes = tuple(dict.fromkeys(k for p in listed for k in p))
        combos = [dict(p) for p in listed]
        mode = "points"
    points = [SweepPoint(point_name(c), c) for c in combos]
    seen: dict[str, int] = {}
    for p in points:
        seen[p.name] = seen.get(p.name, 0) + 1
    dupes = [n for n, c in seen.items() if c > 1]
    if dupes:
        raise ConfigError("sweep.points", f"point {dupes[0]} is listed more than once",
                          "List each point once.")
    base_set = table.get("set", {})
    if not isinstance(base_set, Mapping):
        raise ConfigError("sweep.set", "must be a table of KEY = value", "")
    name = str(table.get("name") or (source.stem if source else "sweep"))
    return Sweep(name, base, dict(base_set), axes, mode, tuple(points), source)


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file."""
    path = Path(path)
    return parse_sweep(_read_toml(path, "sweep file"), path)


def point_config(sweep: Sweep, point: SweepPoint, extra: Sequence[str] = ()) -> dict[str, Any]:
    """The raw study config of ``point``: the base, the sweep's ``set``, ``extra`` (``--set``),
    then the point's values."""
    raw = copy.deepcopy(dict(sweep.base))
    sets = [f"{resolve_key(raw, k)}={toml_value(v)}" for k, v in sweep.base_set.items()]
    raw = apply_overrides(raw, [*sets, *extra])
    sets = [f"{resolve_key(raw, k)}={toml_value(v)}" for k, v in point.values.items()]
    return apply_overrides(raw, sets)


def build_studies(sweep: Sweep, plugins: Plugins, *, data_dir: Path | None = None,
                  extra: Sequence[str] = ()) -> list[tuple[SweepPoint, Study]]:
    """Every point's validated study; every invalid point is reported in one error."""
    out: list[tuple[SweepPoint, Study]] = []
    errors: list[ConfigError] = []
    for point in sweep.points:
        try:
            out.append((point, study_from_dict(point_config(sweep, point, extra), plugins,
                                               data_dir=data_dir)))
        except ConfigError as err:
            errors.extend(ConfigError(f"[{point.name}] {p.key}".rstrip(), p.problem, p.fix)
                          for p in err.problems)
        except UserError as err:
            errors.append(ConfigError(f"[{point.name}]", str(err)))
    if errors:
        raise ConfigError.combine(errors)
    return out


def sweep_record(sweep: Sweep, studies: Sequence[tuple[SweepPoint, Study]],
                 command: str | None) -> dict[str, Any]:
    """What ``sweep.json`` holds: the axes, and each point's values, directory and hash."""
    return {
        "sweep": sweep.name,
        "mode": sweep.mode,
        "axes": list(sweep.axes),
        "source": str(sweep.source) if sweep.source else None,
        "command": command,
        "points": [{"name": p.name, "directory": p.name, "values": dict(p.values),
                    "config_hash": s.config_hash} for p, s in studies],
    }


def read_sweep_record(directory: Path) -> dict[str, Any] | None:
    """``directory``'s sweep.json, or ``None`` when it is not a sweep directory."""
    path = Path(directory) / SWEEP_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"{path} cannot be read: {err}") from None


def prepare_sweep_directory(out: Path, record: dict[str, Any], resume: bool) -> None:
    """Write ``sweep.json``, or check on ``--resume`` that it lists the same points."""
    existing = read_sweep_record(out)
    if existing is not None:
        if not resume:
            raise UserError(f"{out} already holds sweep '{existing.get('sweep')}'. Pass --resume "
                            "to continue it, or choose another directory with --out.")
        old = {p["name"]: p["config_hash"] for p in existing.get("points", [])}
        new = {p["name"]: p["config_hash"] for p in record["points"]}
        if old != new:
            changed = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
            raise UserError(f"{out} holds a sweep with other points or configs (differences at: "
                            f"{', '.join(changed)}). Resume it with the sweep file it was "
                            "started with, or start the changed sweep with another --out.")
        return
    if resume and not out.is_dir():
        raise UserError(f"--resume: {out} does not exist, so there is nothing to continue. "
                        "Check the path, or drop --resume to start the sweep there.")
    if out.is_dir() and any(out.iterdir()) and not resume:
        raise UserError(f"{out} exists and is not a sweep directory. Choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    (out / SWEEP_FILE).write_text(json.dumps(record, indent=1, default=str) + "\n")
