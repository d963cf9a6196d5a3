"""The expression language: text round-trips, canonical forms fold equivalent expressions,
and folding keeps the function (checked on random tensors)."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasbench.expr import (
    BINARY,
    OPS,
    Call,
    Const,
    ExpressionError,
    Var,
    canonical,
    canonical_text,
    compile_expr,
    parse,
    to_text,
)

TAME_UNARY = ("neg", "abs", "square", "sigmoid", "tanh", "atan", "relu", "min0", "sin",
              "softplus", "erf", "phi", "sign", "gauss", "asinh", "clip3", "exp", "sqrt_abs",
              "log_abs", "sinc", "cos")
"""Unary units whose values stay finite on the test inputs after a few compositions."""
TAME_BINARY = ("add", "sub", "mul", "max", "min", "left", "sigmul", "avg", "exp_sq_diff",
               "exp_abs_diff")

leaves = st.one_of(st.sampled_from([Var("x"), Var("y")]),
                   st.sampled_from([0.0, 1.0, 2.0, 0.5]).map(Const))


def trees(unary=TAME_UNARY, binary=TAME_BINARY, max_leaves=8):
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            st.builds(lambda op, a: Call(op, (a,)), st.sampled_from(unary), kids),
            st.builds(lambda op, a, b: Call(op, (a, b)), st.sampled_from(binary), kids, kids),
        ),
        max_leaves=max_leaves,
    )


ALL_UNARY = tuple(n for n, op in OPS.items() if op.arity == 1 and n != "identity")


def _rewrite(e, kind: int, other):
    """An expression equal to ``e`` as a function, by one of the folding rules."""
    return [
        Call("add", (e, Const(0))), Call("add", (Const(0), e)), Call("mul", (e, Const(1))),
        Call("mul", (Const(1), e)), Call("sub", (e, Const(0))), Call("div", (e, Const(1))),
        Call("neg", (Call("neg", (e,)),)), Call("max", (e, e)), Call("min", (e, e)),
        Call("identity", (e,)), Call("left", (e, other)),
        Call(e.op, tuple(reversed(e.args)))
        if isinstance(e, Call) and OPS[e.op].commutative else e,
        Call("sub", (Const(0), Call("neg", (e,)))),
        Call("mul", (Call("neg", (e,)), Const(-1))),
    ][kind % 14]


def _rewrite_somewhere(e, path: list[int], kind: int, other):
    if not path or not isinstance(e, Call):
        return _rewrite(e, kind, other)
    i = path[0] % len(e.args)
    args = list(e.args)
    args[i] = _rewrite_somewhere(args[i], path[1:], kind, other)
    return Call(e.op, tuple(args))


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    finite = torch.isfinite(a) & torch.isfinite(b)
    same_nonfinite = (~finite) & ((a == b) | (a.isnan() & b.isnan()))
    return bool(torch.allclose(a[finite], b[finite], rtol=1e-4, atol=1e-5)
                and (finite | same_nonfinite).all())


X = torch.linspace(-3, 3, 61, dtype=torch.float64)
Y = torch.linspace(2.5, -3.5, 61, dtype=torch.float64)


# -- text -------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(trees(unary=ALL_UNARY, binary=tuple(b for b in BINARY), max_leaves=10))
def test_text_round_trips(e) -> None:
    assert parse(to_text(e)) == e


@pytest.mark.parametrize("text", [
    "x * sigmoid(x)", "max(x, 0)", "x * phi(x)", "-x^2", "(-x)^2", "x - (y - 1)",
    "(x + 1) * y", "exp(sign(g) * sign(m)) * g", "(1 + sign(g) * sign(m)) * g",
    "left(left(g, 1), 2)", "x / (y / 2)", "-(-x)", "(x^2)^3", "1e-05 * x",
])
def test_readable_forms_round_trip(text: str) -> None:
    assert to_text(parse(text)) == text


@pytest.mark.parametrize(("text", "problem"), [
    ("", "empty"), ("x +", "end"), ("foo(x)", "unknown operation"), ("max(x)", "2 arguments"),
    ("x ^ 4", "only ^2 and ^3"), ("(x", "expected ')'"), ("x $ y", "unexpected character"),
    ("sigmoid", "call it"), ("x y", "unexpected 'y'"),
])
def test_bad_text_is_a_user_error(text: str, problem: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(problem)):
        parse(text)


# -- canonical form ---------------------------------------------------------------------------
EQUIVALENT = [
    ["x * sigmoid(x)", "sigmoid(x) * x", "sigmul(x, x)", "x * sigmoid(x) * 1",
     "(x + 0) * sigmoid(x - 0)", "--x * sigmoid(x / 1)", "max(x, x) * sigmoid(min(x, x))",
     "left(x * sigmoid(x), 2)", "-(-x * sigmoid(x))", "x * sigmoid(x) + 0 - 0"],
    ["max(x, 0)", "max(0, x)", "relu(x)", "relu(x) + 0", "max(x + 0, 0 * 1)",
     "relu(relu(x))"],
    ["x + y", "y + x", "x - -y", "(x + y) * 1", "left(y + x, x)", "x + (y + 0)"],
    ["x + y + 1", "1 + (y + x)", "(x + 1) + y", "y + (1 + x)", "x - (-1 - y)"],
    ["x * y * 2", "2 * (y * x)", "(x * 2) * y", "x * (2 * y)"],
    ["-x", "0 - x", "x * -1", "-1 * x", "-(x + 0)", "---x"],
    ["exp(sign(g) * sign(m)) * g", "g * exp(sign(m) * sign(g))",
     "left(exp(sign(g) * sign(m)) * g, m)", "g * 1 * exp(-sign(g) * -sign(m))"],
    ["(1 + sign(g) * sign(m)) * g", "g * (sign(m) * sign(g) + 1)",
     "((sign(g) * sign(m) + 1) * g) * 1"],
    ["abs(x)", "abs(-x)", "abs(abs(x))"],
    ["exp_sq_diff(x, y)", "exp_sq_diff(y, x)", "exp(-(x - y)^2)", "gauss(x - y)"],
    ["avg(x, y)", "0.5 * (x + y)", "(y + x) * 0.5"],
    ["x / y", "(x / y) / 1", "x / y * 1"],
    ["x + 3", "x + 1 + 2", "x + 2 * 1.5", "x + exp(0) * 3"],
    ["x^2", "x * x", "-x * -x", "(-x)^2", "x * 1 * x"],
    ["x^3", "x * x * x", "x^2 * x", "-(-x)^3", "x * (x * x)"],
    ["2 * x", "x + x", "x * 2", "3 * x - x", "-(-x - x)"],
    ["0 * x", "x - x", "x * 0", "-x + x"],
    ["-tanh(x)", "tanh(-x)", "-(tanh(x))", "0 - tanh(x)"],
    ["sin(x - y)", "-sin(y - x)", "sin(-(y - x))"],
    ["cos(x - y)", "cos(y - x)"],
]


@pytest.mark.parametrize("forms", EQUIVALENT, ids=lambda forms: forms[0])
def test_equivalent_forms_share_one_canonical_form(forms: list[str]) -> None:
    keys = {canonical_text(parse(f)) for f in forms}
    assert len(keys) == 1, keys
    x, y = X.float(), Y.float()
    values = [compile_expr(parse(f), ["x", "y", "g", "m"], simplify=False)(x, y, x, y)
              for f in forms]
    for v in values[1:]:
        assert _close(v, values[0])


@pytest.mark.parametrize(("a", "b"), [
    ("x * sigmoid(x)", "x * tanh(x)"), ("x - y", "y - x"), ("x / y", "y / x"),
    ("max(x, 1)", "max(x, 0)"), ("x * 0", "0"), ("x - x", "0"),
    ("drop1(x) - drop1(x)", "0"), ("max(drop1(x), drop1(x))", "drop1(x)"),
])
def test_different_functions_keep_different_forms(a: str, b: str) -> None:
    assert canonical_text(parse(a)) != canonical_text(parse(b))


def test_definitions_are_expanded() -> None:
    defs = {"g2": parse("g^2"), "sign_g": parse("sign(g)"), "sign_m": parse("sign(m)")}
    assert (canonical_text(parse("exp(sign_g * sign_m) * g"), defs)
            == canonical_text(parse("g * exp(sign(m) * sign(g))")))
    assert canonical_text(parse("g2 * 1"), defs) == "g^2"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), st.lists(st.integers(0, 3), max_size=4), st.integers(0, 13), trees(max_leaves=2))
def test_rewrites_fold(e, path, kind, other) -> None:
    rewritten = _rewrite_somewhere(e, path, kind, other)
    assert canonical(rewritten) == canonical(e), (to_text(e), to_text(rewritten))


@settings(max_examples=300, deadline=None)
@given(trees())
def test_canonical_form_is_a_fixed_point_and_keeps_the_function(e) -> None:
    c = canonical(e)
    assert canonical(parse(to_text(c))) == c
    raw = compile_expr(e, ["x", "y"], simplify=False)(X, Y)
    folded = compile_expr(c, ["x", "y"], simplify=False)(X, Y)
    assert _close(raw, folded), (to_text(e), to_text(c))


# -- evaluation -------------------------------------------------------------------------------
def test_compiled_expressions_match_hand_written_torch() -> None:
    x, y = X.float(), Y.float()
    swish = compile_expr(parse("x * sigmoid(x)"), ["x"])
    assert torch.equal(swish(x), x * torch.sigmoid(x))
    gelu = compile_expr(parse("x * phi(x)"), ["x"])
    assert torch.allclose(gelu(x), torch.nn.functional.gelu(x), atol=1e-6)
    softplus = compile_expr(parse("softplus(x)"), ["x"])
    assert torch.allclose(softplus(x), torch.log1p(torch.exp(x)), atol=1e-6)
    div = compile_expr(parse("x / y"), ["x", "y"])
    assert torch.isfinite(div(x, torch.zeros_like(y))).all()
    const = compile_expr(parse("1 + 1"), ["x"])
    assert torch.equal(const(x), torch.full_like(x, 2.0))


def test_dropout_is_random_and_scaled() -> None:
    drop = compile_expr(parse("drop5(x)"), ["x"])
    torch.manual_seed(0)
    out = drop(torch.ones(10_000))
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert 0.45 < (out == 0).float().mean().item() < 0.55


def test_unknown_variable_is_refused() -> None:
    with pytest.raises(ExpressionError, match="reads y"):
        compile_expr(parse("x + y"), ["x"])
