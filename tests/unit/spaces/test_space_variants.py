"""Spaces configured away from their defaults still pass the conformance kit."""

from __future__ import annotations

from typing import Any

import pytest

from nasbench.params import build_params
from nasbench.testing import check_space


@pytest.mark.parametrize(("name", "params"), [
    ("darts", {"allow_none": True}),
    ("nasrl_macro", {"depth": 5, "min_depth": 2, "strides": [1, 2, 3]}),
    ("nasrl_macro", {"depth": 1}),
    ("enas_rnn", {"nodes": 1}),
    ("enas_rnn", {"nodes": 3}),
    ("mlp", {"depths": [1, 2, 4], "widths": [16, 32], "activations": ["tanh"]}),
])
def test_configured_space_conforms(plugins: Any, name: str, params: dict[str, Any]) -> None:
    cls = plugins.spaces.get(name)
    check_space(cls(build_params(cls.Params, params)), samples=60)
