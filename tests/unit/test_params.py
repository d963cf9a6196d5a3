"""Typed plugin parameters: every mistake names its key."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from nasbench.errors import ConfigError
from nasbench.params import FrozenMapping, build_params, describe_params, param, params_to_dict


@dataclass(frozen=True)
class _Params:
    needed: int = param(doc="required")
    size: int = param(10, doc="a size", ge=2)
    rate: float = param(0.5, doc="a rate", gt=0, le=1)
    mode: Literal["tpe", "gp"] = param("tpe", doc="a mode")
    widths: tuple[int, ...] = param([64, 128], doc="widths", ge=1)
    name: str | None = param(None, doc="optional")


def test_defaults_and_conversion() -> None:
    p = build_params(_Params, {"needed": 3, "rate": 1, "widths": [8, 16, 32]})
    assert p.size == 10 and p.rate == 1.0 and isinstance(p.rate, float)
    assert p.widths == (8, 16, 32)
    assert params_to_dict(p)["widths"] == [8, 16, 32]


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        ({"needed": 1, "sise": 3}, "s.sise", "Did you mean 'size'"),
        ({"needed": 1, "size": "ten"}, "s.size", "expected an integer"),
        ({"needed": 1, "size": True}, "s.size", "expected an integer"),
        ({"needed": 1, "size": 1}, "s.size", "must be >= 2"),
        ({"needed": 1, "rate": 0}, "s.rate", "must be > 0"),
        ({"needed": 1, "mode": "tp"}, "s.mode", "Did you mean 'tpe'"),
        ({"needed": 1, "widths": [8, 0]}, "s.widths", "must be >= 1"),
        ({"needed": 1, "widths": 8}, "s.widths", "expected a list"),
        ({}, "s.needed", "is required"),
    ],
)
def test_errors_name_the_key(raw: dict, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_params(_Params, raw, "s")
    assert info.value.key.startswith(key)
    assert words in str(info.value)


def test_describe_lists_docs_and_bounds() -> None:
    rows = {r["name"]: r for r in describe_params(_Params)}
    assert rows["size"]["ge"] == 2 and rows["size"]["doc"] == "a size"
    assert rows["needed"]["required"] and not rows["size"]["required"]
    assert rows["mode"]["type"] == "'tpe' | 'gp'"



@dataclass(frozen=True)
class _Sized:
    size: Mapping[str, Any] = param({"C": 16}, doc="network size")


def test_table_params_are_read_only_and_travel_to_worker_processes() -> None:
    """Worker processes receive the study, params included, by pickling."""
    built = build_params(_Sized, {"size": {"C": 8, "N": 3}})
    assert isinstance(built.size, FrozenMapping) and built.size == {"C": 8, "N": 3}
    with pytest.raises(TypeError):
        built.size["C"] = 4  # type: ignore[index]
    assert pickle.loads(pickle.dumps(built)) == built
    assert pickle.loads(pickle.dumps(_Sized())).size == {"C": 16}
    assert params_to_dict(built) == {"size": {"C": 8, "N": 3}}
