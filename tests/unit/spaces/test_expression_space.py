"""Spaces declared as data: the shipped `activation` and `update_rule` declarations, an inline
grammar, a grammar in its own file; every black-box strategy runs on them unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nasbench.spaces.expression import ExpressionSpace

from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.params import build_params
from nasbench.registry import load_plugins
from nasbench.testing import check_space, check_strategy

PLUGINS = load_plugins()
TREE = {"operands": ["x", "1"], "unary": ["identity", "neg", "tanh"],
        "binary": ["add", "mul", "max"], "units": 3, "combine": "tree",
        "references": {"xtanh": "x * tanh(x) + (x + 1)"}}


def _space(name: str, **params) -> ExpressionSpace:
    cls = PLUGINS.spaces.get(name)
    return cls(build_params(cls.Params, params, "space"))


def test_shipped_spaces_are_registered_from_their_files() -> None:
    for name in ("activation", "update_rule"):
        rec = PLUGINS.spaces.record(name)
        assert f"nasbench/spaces/expressions/{name}.toml" in rec.summary
        assert rec.cls.source_file.endswith(f"{name}.toml")


@pytest.mark.parametrize(("name", "params"), [
    ("expression", {}), ("activation", {}), ("update_rule", {}), ("expression", TREE),
])
def test_spaces_conform(name: str, params: dict) -> None:
    check_space(_space(name, **params), samples=100)


def test_tree_shape_round_trips_and_orders_decisions_by_unit() -> None:
    space = _space("expression", **TREE)
    assert len(space.grammar.shape) == 3
    arch = space.reference("xtanh")
    assert space.to_string(arch) == "x * tanh(x) + (x + 1)"
    assert [d.name for d in space.decisions()][:5] == [
        "unit1.left.operand", "unit1.left.unary", "unit1.right.operand",
        "unit1.right.unary", "unit1.binary"]
    assert space.arch_key(arch) == "tanh(x) * x + x + 1"


def test_small_space_is_enumerated_and_repeats_are_detected() -> None:
    space = _space("expression")
    assert "enumerate" in space.capabilities
    archs = list(space.enumerate())
    keys = {space.arch_key(a) for a in archs}
    assert len(archs) == space.size() == 192
    assert len(keys) < len(archs) // 2  # commutativity alone halves it
    # every function a key stands for is the function of each of its trees
    x = torch.linspace(-2, 2, 9)
    for a in archs[::7]:
        raw = space.expression(a)
        from nasbench.expr import compile_expr

        assert torch.allclose(compile_expr(raw, ["x"], simplify=False)(x),
                              space.function(a)(x), atol=1e-6)


@pytest.mark.parametrize(("space", "forms"), [
    ("activation", ["x * sigmoid(x) + 0", "sigmoid(x) * x + 0", "sigmul(x, x) * 1",
                    "x * sigmoid(x) - 0", "x * sigmoid(x) / 1", "sigmul(x, x) + 0",
                    "max(x, x) * sigmoid(x)", "min(x, x) * sigmoid(x)", "sigmul(x, x) - 0"]),
    ("activation", ["max(x, 0) + 0", "max(0, x) * 1", "relu(x) + 0 + 0", "max(x, 0) / 1",
                    "relu(x) + relu(0) + 0", "max(x, 0) - 0", "max(relu(x), 0) + 0",
                    "max(max(x, 0), 0)"]),
    ("update_rule", ["exp(sign_g * sign_m) * g * 1", "exp(sign(g) * sign(m)) * g * 1",
                     "exp(sign_m * sign_g) * g * 1", "left(exp(sign_g * sign_m) * g, 2)",
                     "exp(sign(m) * sign_g) * g / 1"]),
    ("update_rule", ["m_hat / sqrt_abs(v_hat) * 1 * 1", "adam * 1 * 1 * 1",
                     "left(adam, g) * 1 * 1", "adam / 1 * 1 * 1"]),
])
def test_equivalent_trees_share_a_key(space: str, forms: list[str]) -> None:
    sp = _space(space)
    archs = {sp.from_string(f) for f in forms}
    assert len(archs) == len(set(forms))  # distinct trees...
    assert len({sp.arch_key(a) for a in archs}) == 1  # ...one function


def test_references_read_by_name() -> None:
    space = _space("activation")
    assert space.from_string("swish") == space.from_string("x * sigmoid(x) + 0")
    x = torch.linspace(-3, 3, 13)
    for name, fn in (("relu", torch.relu), ("swish", torch.nn.functional.silu),
                     ("gelu", torch.nn.functional.gelu), ("tanh", torch.tanh),
                     ("sigmoid", torch.sigmoid), ("softplus", torch.nn.functional.softplus)):
        assert torch.allclose(space.function(space.reference(name))(x), fn(x), atol=1e-6), name


@pytest.mark.parametrize(("text", "problem"), [
    ("x * sigmoid(x)", "should be an input of unit 2"),
    ("x * y + 0", "should be an input of unit 1"),
    ("x * sigmoid(x) +", "cannot read"),
    ("foo(x) + 0 + 0", "unknown operation"),
    ("x * x * x * x", "should be"),
])
def test_strings_outside_the_shape_are_refused(text: str, problem: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=problem):
        _space("activation").from_string(text)


@pytest.mark.parametrize(("params", "key"), [
    ({"unary": ["identity", "sigmod"]}, "space.unary[1]"),
    ({"binary": ["add", "sigmoid"]}, "space.binary[1]"),
    ({"operands": ["x", "x^2"]}, "space.operands[1]"),
    ({"operands": []}, "space.operands"),
    ({"operands": ["x", "1", "1.0"]}, "space.operands[2]"),
    ({"operands": ["x", "exp"]}, "space.operands[1]"),
    ({"units": 2, "combine": "tree"}, "space.units"),
    ({"define": {"y": "x^2"}}, "space.define.y"),
    ({"references": {"bad": "x * y"}}, "space.references.bad"),
])
def test_bad_grammars_name_the_key(params: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        _space("expression", **params)
    assert err.value.key == key


def test_a_grammar_in_its_own_file_is_inlined(tmp_path) -> None:
    (tmp_path / "mine.toml").write_text(
        'name = "mine"\noperands = ["x"]\nunary = ["identity", "tanh"]\nbinary = ["add"]\n')
    table = ExpressionSpace.expand_table({"name": "expression", "file": "mine.toml",
                                          "units": 2}, tmp_path / "study.toml")
    assert table == {"name": "expression", "operands": ["x"], "unary": ["identity", "tanh"],
                     "binary": ["add"], "units": 2}
    with pytest.raises(ConfigError, match="does not exist"):
        ExpressionSpace.expand_table({"file": "nope.toml"}, tmp_path / "study.toml")
    (tmp_path / "odd.toml").write_text('operand = ["x"]\n')
    with pytest.raises(ConfigError, match="unknown key"):
        ExpressionSpace.expand_table({"file": "odd.toml"}, tmp_path / "study.toml")


BLACK_BOX = [n for n in PLUGINS.strategies.names()
             if "supernet" not in PLUGINS.strategies.get(n).requires]


@pytest.mark.parametrize("strategy", BLACK_BOX)
@pytest.mark.parametrize("space", ["activation", "update_rule", "tree"])
def test_black_box_strategies_run_unchanged(strategy: str, space: str) -> None:
    sp = _space("expression", **TREE) if space == "tree" else _space(space)
    reference = sp.function(sp.sample(np.random.default_rng(5)))
    x = torch.linspace(-2, 2, 21)
    args = [x] * len(sp.grammar.variables)

    def objective(arch):
        """Closeness to a fixed expression of the space: a landscape with structure."""
        torch.manual_seed(0)  # dropout units draw from torch's generator
        out = sp.function(arch)(*args)
        err = float((out - reference(*args)).abs().mean())
        return None if err != err else -err

    check_strategy(PLUGINS.strategies.get(strategy), sp, objective=objective, n_trials=16)
