"""Typed, documented hyper-parameters for plugins.

A plugin declares its hyper-parameters as a frozen dataclass whose fields are made with
:func:`param`. The study loader builds it from the user's TOML table with :func:`build_params`,
which checks names, types and bounds and turns every mistake into a :class:`ConfigError` that
names the key. The same declaration documents the plugin (``nasbench list --params``).

Example::

    @dataclass(frozen=True)
    class AgingEvolutionParams:
        population_size: int = param(10, doc="P, models kept alive", ge=2)
        sample_size: int = param(3, doc="S, tournament size", ge=1)
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from nasbench.errors import ConfigError, Problems

_MISSING = dataclasses.MISSING


def param(
    default: Any = _MISSING,
    *,
    doc: str,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    published: str | None = None,
) -> Any:
    """A documented dataclass field with optional numeric bounds.

    Args:
        default: default value; lists are stored as tuples so that params stay hashable.
        doc: one line for users: what the parameter means.
        ge, gt, le, lt: inclusive / exclusive numeric bounds.
        published: where the default comes from (paper, released code), shown in docs.
    """
    meta = {"doc": doc, "ge": ge, "gt": gt, "le": le, "lt": lt, "published": published}
    if default is _MISSING:
        return dataclasses.field(metadata=meta)
    if isinstance(default, list):
        default = tuple(default)
    if isinstance(default, dict):
        frozen = FrozenMapping(default)
        return dataclasses.field(default_factory=lambda: frozen, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class FrozenMapping(Mapping[str, Any]):
    """A read-only mapping: how a parameter given as a TOML table is stored.

    Unlike ``types.MappingProxyType`` it pickles, so params travel to worker processes with
    their study.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> typing.Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenMapping, (self._items,)


@dataclasses.dataclass(frozen=True)
class NoParams:
    """For plugins without hyper-parameters."""


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(tp))
    if origin in (tuple, list):
        args = get_args(tp)
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin in (dict, Mapping):
        args = get_args(tp)
        return f"table of {_type_name(args[1])}" if args else "table"
    if tp is type(None):
        return "none"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it normalised (lists -> tuples)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key)
            except ConfigError as err:
                errors.append(err)
        if len(errors) == 1:  # an optional value: its one type says it best
            raise errors[0]
        alternatives = " | ".join(_type_name(a) for a in args if a is not type(None))
        raise ConfigError(key, f"expected {alternatives}, got {value!r}")
    if origin is Literal:
        choices = get_args(tp)
        if value in choices and type(value) in {type(c) for c in choices}:
            return value
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            key, f"{value!r} is not one of {', '.join(repr(c) for c in choices)}.{hint}"
        )
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(key, f"expected a list, got {value!r}", "Write it as [a, b, ...].")
        args = get_args(tp)
        item_tp = args[0] if args else Any
        return tuple(_convert(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(key, f"expected a table, got {value!r}")
        args = get_args(tp)
        val_tp = args[1] if args else Any
        return FrozenMapping(
            {str(k): _convert(v, val_tp, f"{key}.{k}") for k, v in value.items()}
        )
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(key, f"expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(key, f"expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(key, f"expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(key, f"expected a string, got {value!r}")
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(key, f"expected {_type_name(tp)}, got {value!r}")


def _check_bounds(value: Any, meta: Mapping[str, Any], key: str) -> None:
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        for bound, ok, word in (
            ("ge", lambda a, b: a >= b, ">="),
            ("gt", lambda a, b: a > b, ">"),
            ("le", lambda a, b: a <= b, "<="),
            ("lt", lambda a, b: a < b, "<"),
        ):
            limit = meta.get(bound)
            if limit is not None and not ok(v, limit):
                kind = ""
                if isinstance(v, int) and bound == "ge" and limit in (0, 1):
                    kind = " (a positive integer)" if limit == 1 else " (a non-negative integer)"
                raise ConfigError(key, f"{v!r} is out of range: it must be {word} {limit}{kind}")


def fields_of(params_cls: type) -> list[dataclasses.Field[Any]]:
    """The dataclass fields of a params class (empty for :class:`NoParams`)."""
    return list(dataclasses.fields(params_cls))


def build_params(params_cls: type, raw: Mapping[str, Any], prefix: str = "", *,
                 noun: str = "parameter", also_known: tuple[str, ...] = ()) -> Any:
    """Build a params dataclass from a user's table, checking every key.

    Raises:
        ConfigError: naming ``prefix.key`` for unknown keys, wrong types, values out of range,
            missing required keys (all of them, in one error), and anything the class's own
            ``check()`` refuses. ``noun`` names the keys in messages ("parameter" of a plugin,
            "key" of a study table); ``also_known`` lists keys the caller handles itself.
    """
    hints = typing.get_type_hints(params_cls)
    fields = {f.name: f for f in fields_of(params_cls)}

    def where(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    problems = Problems()
    for name in raw:
        if name not in fields:
            names = [*fields, *also_known]
            close = difflib.get_close_matches(str(name), names, n=1)
            hint = f"Did you mean '{close[0]}'? " if close else ""
            known = ", ".join(names) if names else "none"
            problems.add(ConfigError(
                where(name), f"unknown {noun}", f"{hint}Known {noun}s: {known}."
            ))
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name in raw:
            with problems.check():
                value = _convert(raw[name], hints[name], where(name))
                _check_bounds(value, f.metadata, where(name))
                values[name] = value
        elif f.default is _MISSING and f.default_factory is _MISSING:  # type: ignore[misc]
            problems.add(ConfigError(
                where(name), "is required", f"Set it: {f.metadata.get('doc', '')}".rstrip(": ")
            ))
    if problems:
        # The class's own checks still speak for the keys given correctly, when it can be built
        # without the wrong ones; what they say about the others would be about defaults.
        failed = {e.key for err in problems.errors for e in err.problems}
        try:
            partial = params_cls(**values)
        except Exception:  # a required key is wrong, or the class refuses the mix
            partial = None
        if partial is not None:
            for err in _check_errors(partial, prefix):
                given = [n for n in raw if n in values and where(n) not in failed]
                if any(e.key == where(n) or e.key.startswith((f"{where(n)}.", f"{where(n)}["))
                       for e in err.problems for n in given):
                    problems.add(err)
        problems.raise_if_any()
    instance = params_cls(**values)
    errors = _check_errors(instance, prefix)
    if errors:
        raise ConfigError.combine(errors)
    return instance


def _check_errors(instance: Any, prefix: str) -> list[ConfigError]:
    """What the params class's own ``check()`` refuses, with keys under ``prefix``."""
    check = getattr(instance, "check", None)
    if check is None:
        return []
    try:
        check()
    except ConfigError as err:
        return [err.under(prefix) if prefix else err]
    return []


def params_to_dict(params: Any) -> dict[str, Any]:
    """A JSON-friendly dict of a params instance (tuples -> lists, mappings -> dicts)."""
    return {f.name: _plain(getattr(params, f.name)) for f in fields_of(type(params))}


def describe_params(params_cls: type) -> list[dict[str, Any]]:
    """One dict per parameter: name, type, default, doc, bounds, published source."""
    hints = typing.get_type_hints(params_cls)
    out = []
    for f in fields_of(params_cls):
        if f.default is not _MISSING:
            default: Any = f.default
        elif f.default_factory is not _MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = None
        entry = {
            "name": f.name,
            "type": _type_name(hints[f.name]),
            "default": _plain(default),
            "required": f.default is _MISSING and f.default_factory is _MISSING,  # type: ignore[misc]
            "doc": f.metadata.get("doc", ""),
        }
        for bound in ("ge", "gt", "le", "lt", "published"):
            if f.metadata.get(bound) is not None:
                entry[bound] = f.metadata[bound]
        out.append(entry)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    return v
