"""A small expression language for searched components: activation functions, update rules.

Grammar. An expression is a tree of three kinds of node:

* a variable (``x``; ``g``, ``m``, ``v_hat``: the inputs the evaluating code supplies),
* a constant (``0``, ``1``, ``2.5``; non-negative literals, ``-1`` is the negation of ``1``),
* a call of a named operation on one or two expressions (:data:`OPS`): unary units such as
  ``sigmoid``, ``exp``, ``log_abs``, binary units such as ``+``, ``*``, ``max``, ``left``.

Readable text. ``+ - * /`` are infix (``/`` is division made safe near zero), negation is
prefix ``-x``, ``x^2`` and ``x^3`` are the square and the cube, every other operation is a
call ``name(a)`` or ``name(a, b)``; ``identity`` prints as its argument. :func:`to_text` and
:func:`parse` round-trip: ``parse(to_text(e)) == e`` for every tree without ``identity``
units; a space's fixed-shape tree prints its ``identity`` units as their arguments and reads
them back from its shape (:mod:`nasbench.spaces.expression`), e.g. ``x * sigmoid(x)``.

Canonical form. :func:`canonical` folds expressions that compute the same function into one
tree, so that a search detects repeats (``arch_key``): operands of commutative operations are
ordered; sums and products are flattened (``a - b`` is ``a + -b``); ``x + 0``, ``x * 1``,
``x - 0``, ``x / 1``, ``--x``, ``identity(x)``, ``left(a, b)`` (keep-left), ``max(x, x)``,
``min(x, x)`` and constant subtrees fold; like terms add up (``x + x`` is ``2 * x``) and equal
factors multiply out (``x * x`` is ``x^2``); even and odd functions take the argument with
fewer minus signs (``abs(-x)`` is ``abs(x)``, ``tanh(-x)`` is ``-tanh(x)``);
``max(x, 0)`` is ``relu(x)``; shorthands
(``sigmul``, ``avg``, ``exp_sq_diff``, ``exp_abs_diff``) expand into the operations they are
made of; defined operands (``g2 = "g^2"``) are replaced by their definitions. Random units
(dropout masks) are never merged or folded: two draws are two different values. Folding
never changes a value on finite inputs beyond rounding; ``x * 0`` and ``x - x`` become
``0 * x``, not ``0``, because they are NaN where ``x`` is infinite.

Evaluation. :func:`compile_expr` turns an expression into a Python callable on torch tensors,
once, as nested closures over torch functions (constant subtrees are computed at compile
time). Its cost over a hand-written torch expression is a few Python calls per node (see
``tests/bench/bench_expr.py``). torch is imported only when an expression is compiled.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nasbench.errors import UserError

DIV_EPS = 1e-8
"""Safe division: a denominator closer to zero than this is replaced by +-``DIV_EPS``."""
LOG_EPS = 1e-8
"""``log_abs(x) = log(|x| + LOG_EPS)``, finite at zero (Ramachandran et al.'s log(|x| + eps))."""


class ExpressionError(UserError):
    """Text that is not an expression of the language, or a call of an unknown operation."""


# -- the tree ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Var:
    """A variable supplied by the evaluating code."""

    name: str


@dataclass(frozen=True, slots=True)
class Const:
    """A numeric constant."""

    value: float

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Const) and float(self.value) == float(other.value)

    def __hash__(self) -> int:
        return hash(float(self.value))


@dataclass(frozen=True, slots=True)
class Call:
    """An operation applied to its arguments (canonical sums and products may take more than
    two)."""

    op: str
    args: tuple[Expr, ...]


Expr = Var | Const | Call


# -- operations -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Op:
    """One operation of the language.

    Attributes:
        name: the word in the text and in space declarations.
        arity: 1 (unary unit) or 2 (binary unit).
        torch: builds the tensor function (called once, at compile time).
        scalar: the same function on floats, for folding constants (``None``: never folded).
        commutative: whether the arguments may be swapped.
        random: whether the result is a random draw (dropout): never merged nor folded.
        doc: one line for users.
    """

    name: str
    arity: int
    torch: Callable[[], Callable[..., Any]]
    scalar: Callable[..., float] | None
    commutative: bool = False
    random: bool = False
    doc: str = ""


def _t(name: str) -> Callable[[], Callable[..., Any]]:
    """A builder returning ``torch.<name>``."""
    def build() -> Callable[..., Any]:
        import torch

        return getattr(torch, name)
    return build


def _build(fn: Callable[[Any], Callable[..., Any]]) -> Callable[[], Callable[..., Any]]:
    def build() -> Callable[..., Any]:
        import torch

        return fn(torch)
    return build


def _safe_div_scalar(a: float, b: float) -> float:
    if abs(b) < DIV_EPS:
        b = math.copysign(DIV_EPS, b)
    return a / b


def _safe_div_torch(torch: Any) -> Callable[..., Any]:
    def div(a: Any, b: Any) -> Any:
        small = b.abs() < DIV_EPS
        return a / torch.where(small, torch.full_like(b, DIV_EPS).copysign(b), b)
    return div


def _sinc(x: float) -> float:
    return 1.0 if x == 0 else math.sin(x) / x


def _sign(x: float) -> float:
    return float((x > 0) - (x < 0))


def _clip(t: float) -> tuple[Callable[[], Callable[..., Any]], Callable[[float], float]]:
    return (_build(lambda torch: lambda x: torch.clamp(x, -t, t)),
            lambda x: min(max(x, -t), t))


def _dropout(p: float) -> Callable[[], Callable[..., Any]]:
    def build() -> Callable[..., Any]:
        from torch.nn.functional import dropout

        return lambda x: dropout(x, p, True)
    return build


def _ops() -> dict[str, Op]:
    sq2 = math.sqrt(2.0)
    unary = [
        Op("identity", 1, _build(lambda torch: lambda x: x), lambda x: x, doc="x"),
        Op("neg", 1, _t("neg"), lambda x: -x, doc="-x"),
        Op("abs", 1, _t("abs"), abs, doc="|x|"),
        Op("square", 1, _t("square"), lambda x: x * x, doc="x^2"),
        Op("cube", 1, _build(lambda torch: lambda x: x * x * x), lambda x: x * x * x,
           doc="x^3"),
        Op("sqrt", 1, _t("sqrt"), math.sqrt, doc="square root (NaN below zero)"),
        Op("sqrt_abs", 1, _build(lambda torch: lambda x: torch.sqrt(torch.abs(x))),
           lambda x: math.sqrt(abs(x)), doc="sqrt(|x|)"),
        Op("exp", 1, _t("exp"), math.exp, doc="e^x"),
        Op("log", 1, _t("log"), math.log, doc="natural logarithm (NaN below zero)"),
        Op("log_abs", 1, _build(lambda torch: lambda x: torch.log(torch.abs(x) + LOG_EPS)),
           lambda x: math.log(abs(x) + LOG_EPS), doc="log(|x| + 1e-8)"),
        Op("sin", 1, _t("sin"), math.sin, doc="sine"),
        Op("cos", 1, _t("cos"), math.cos, doc="cosine"),
        Op("sinh", 1, _t("sinh"), math.sinh, doc="hyperbolic sine"),
        Op("cosh", 1, _t("cosh"), math.cosh, doc="hyperbolic cosine"),
        Op("tanh", 1, _t("tanh"), math.tanh, doc="hyperbolic tangent"),
        Op("asinh", 1, _t("asinh"), math.asinh, doc="inverse hyperbolic sine"),
        Op("atan", 1, _t("atan"), math.atan, doc="arc tangent"),
        Op("sinc", 1, _build(lambda torch: lambda x: torch.sinc(x / math.pi)), _sinc,
           doc="sin(x) / x"),
        Op("relu", 1, _t("relu"), lambda x: max(x, 0.0), doc="max(x, 0)"),
        Op("min0", 1, _build(lambda torch: lambda x: torch.clamp(x, max=0.0)),
           lambda x: min(x, 0.0), doc="min(x, 0)"),
        Op("sigmoid", 1, _t("sigmoid"), lambda x: 1 / (1 + math.exp(-x)), doc="1 / (1 + e^-x)"),
        Op("softplus", 1, _build(lambda torch: torch.nn.functional.softplus),
           lambda x: math.log1p(math.exp(x)), doc="log(1 + e^x)"),
        Op("gauss", 1, _build(lambda torch: lambda x: torch.exp(-x * x)),
           lambda x: math.exp(-x * x), doc="e^(-x^2)"),
        Op("erf", 1, _t("erf"), math.erf, doc="error function"),
        Op("phi", 1, _build(lambda torch: torch.special.ndtr),
           lambda x: 0.5 * (1 + math.erf(x / sq2)),
           doc="standard normal CDF, (1 + erf(x / sqrt 2)) / 2 (GELU is x * phi(x))"),
        Op("sign", 1, _t("sign"), _sign, doc="-1, 0 or 1"),
    ]
    for k in (3, 4, 5):
        t = 10.0 ** -k
        build, scalar = _clip(t)
        unary.append(Op(f"clip{k}", 1, build, scalar, doc=f"x clipped to [-1e-{k}, 1e-{k}]"))
    for p in (1, 3, 5):
        unary.append(Op(f"drop{p}", 1, _dropout(p / 10), None, random=True,
                        doc=f"dropout mask of rate 0.{p} (scaled by 1/(1 - 0.{p}))"))
    binary = [
        Op("add", 2, _build(lambda torch: lambda a, b: a + b), lambda a, b: a + b, True,
           doc="a + b"),
        Op("sub", 2, _build(lambda torch: lambda a, b: a - b), lambda a, b: a - b,
           doc="a - b"),
        Op("mul", 2, _build(lambda torch: lambda a, b: a * b), lambda a, b: a * b, True,
           doc="a * b"),
        Op("div", 2, _build(_safe_div_torch), _safe_div_scalar,
           doc="a / b, the denominator kept at least 1e-8 away from zero"),
        Op("max", 2, _t("maximum"), max, True, doc="the larger"),
        Op("min", 2, _t("minimum"), min, True, doc="the smaller"),
        Op("left", 2, _build(lambda torch: lambda a, b: a), lambda a, b: a, doc="keep left: a"),
        Op("sigmul", 2, _build(lambda torch: lambda a, b: torch.sigmoid(a) * b),
           lambda a, b: b / (1 + math.exp(-a)), doc="sigmoid(a) * b"),
        Op("avg", 2, _build(lambda torch: lambda a, b: (a + b) * 0.5),
           lambda a, b: (a + b) * 0.5, True, doc="(a + b) / 2"),
        Op("exp_sq_diff", 2, _build(lambda torch: lambda a, b: torch.exp(-torch.square(a - b))),
           lambda a, b: math.exp(-(a - b) ** 2), True, doc="e^(-(a - b)^2)"),
        Op("exp_abs_diff", 2, _build(lambda torch: lambda a, b: torch.exp(-torch.abs(a - b))),
           lambda a, b: math.exp(-abs(a - b)), True, doc="e^(-|a - b|)"),
    ]
    return {op.name: op for op in (*unary, *binary)}


OPS: Mapping[str, Op] = _ops()
"""Every operation of the language, by name."""

UNARY: tuple[str, ...] = tuple(n for n, op in OPS.items() if op.arity == 1)
BINARY: tuple[str, ...] = tuple(n for n, op in OPS.items() if op.arity == 2)

_INFIX = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "div": ("/", 2)}
_SYMBOL_OP = {sym: (name, prec) for name, (sym, prec) in _INFIX.items()}
_PREFIX_PREC = 3
_POWER_PREC = 4
_ATOM_PREC = 5
_POWERS = {"square": 2, "cube": 3}


def _expand_sigmul(a: Expr, b: Expr) -> Expr:
    return Call("mul", (Call("sigmoid", (a,)), b))


def _expand_avg(a: Expr, b: Expr) -> Expr:
    return Call("mul", (Const(0.5), Call("add", (a, b))))


def _expand_exp_sq_diff(a: Expr, b: Expr) -> Expr:
    return Call("exp", (Call("neg", (Call("square", (Call("sub", (a, b)),)),)),))


def _expand_exp_abs_diff(a: Expr, b: Expr) -> Expr:
    return Call("exp", (Call("neg", (Call("abs", (Call("sub", (a, b)),)),)),))


_EXPANSIONS: Mapping[str, Callable[..., Expr]] = {
    "sigmul": _expand_sigmul,
    "avg": _expand_avg,
    "exp_sq_diff": _expand_exp_sq_diff,
    "exp_abs_diff": _expand_exp_abs_diff,
    "gauss": lambda a: Call("exp", (Call("neg", (Call("square", (a,)),)),)),
}
"""Shorthands and what they stand for in the canonical form."""


# -- printing ---------------------------------------------------------------------------------
def format_number(value: float) -> str:
    """A constant as text that reads back as the same float: ``1``, ``0.5``, ``1e-05``."""
    value = float(value)
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _prec(e: Expr) -> int:
    if isinstance(e, Var):
        return _ATOM_PREC
    if isinstance(e, Const):
        return _PREFIX_PREC if e.value < 0 else _ATOM_PREC
    if e.op in _INFIX:
        return _INFIX[e.op][1]
    if e.op == "neg":
        return _PREFIX_PREC
    if e.op in _POWERS:
        return _POWER_PREC
    if e.op == "identity":
        return _prec(e.args[0])
    return _ATOM_PREC


def _wrap(e: Expr, ok: bool) -> str:
    text = to_text(e)
    return text if ok else f"({text})"


def to_text(e: Expr) -> str:
    """The readable text of ``e``; :func:`parse` reads it back as the same tree."""
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Const):
        return format_number(e.value)
    op, args = e.op, e.args
    if op == "identity":
        return to_text(args[0])
    if op == "neg":
        (a,) = args
        nested_neg = (isinstance(a, Call) and a.op in ("neg", "identity")
                      and _prec(a) == _PREFIX_PREC) or (isinstance(a, Const) and a.value < 0)
        return "-" + _wrap(a, _prec(a) > _PREFIX_PREC and not nested_neg)
    if op in _POWERS:
        return f"{_wrap(args[0], _prec(args[0]) > _POWER_PREC)}^{_POWERS[op]}"
    if op in _INFIX:
        symbol, prec = _INFIX[op]
        if op in ("add", "mul") and len(args) > 2:
            return _nary_text(op, args)
        left, right = args
        return (f"{_wrap(left, _prec(left) >= prec)} {symbol} "
                f"{_wrap(right, _prec(right) > prec)}")
    return f"{op}({', '.join(to_text(a) for a in args)})"


def _nary_text(op: str, args: Sequence[Expr]) -> str:
    """A flattened canonical sum or product, as a left-nested chain of binary operations."""
    out = to_text(args[0]) if _prec(args[0]) >= _INFIX[op][1] else f"({to_text(args[0])})"
    for a in args[1:]:
        out = f"{out} {_INFIX[op][0]} {_wrap(a, _prec(a) > _INFIX[op][1])}"
    return out


# -- parsing ----------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<sym>[-+*/^(),]))"
)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise self.error(f"unexpected character {text[pos:].strip()[0]!r}", pos)
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0

    def error(self, problem: str, pos: int | None = None) -> ExpressionError:
        where = f" at column {pos + 1}" if pos is not None else ""
        return ExpressionError(f"cannot read expression {self.text!r}: {problem}{where}")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise self.error(f"expected {value!r}, found the end" if value else
                             "unexpected end")
        if value is not None and tok[1] != value:
            raise self.error(f"expected {value!r}, found {tok[1]!r}", tok[2])
        self.i += 1
        return tok

    def parse(self) -> Expr:
        if not self.tokens:
            raise self.error("it is empty")
        e = self.expr(0)
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {tok[1]!r}", tok[2])
        return e

    def expr(self, min_prec: int) -> Expr:
        left = self.prefix()
        while (tok := self.peek()) is not None and tok[0] == "sym" and tok[1] in _SYMBOL_OP:
            name, prec = _SYMBOL_OP[tok[1]]
            if prec < min_prec:
                break
            self.take()
            right = self.expr(prec + 1)
            left = Call(name, (left, right))
        return left

    def prefix(self) -> Expr:
        tok = self.peek()
        if tok is not None and tok[1] == "-":
            self.take()
            return Call("neg", (self.expr(_PREFIX_PREC),))
        return self.power()

    def power(self) -> Expr:
        base = self.atom()
        while (tok := self.peek()) is not None and tok[1] == "^":
            self.take()
            exp = self.take()
            if exp[1] not in ("2", "3"):
                raise self.error(f"only ^2 and ^3 are powers of the language, not ^{exp[1]}",
                                 exp[2])
            base = Call("square" if exp[1] == "2" else "cube", (base,))
        return base

    def atom(self) -> Expr:
        kind, value, pos = self.take()
        if kind == "num":
            return Const(float(value))
        if kind == "name":
            nxt = self.peek()
            if nxt is None or nxt[1] != "(":
                if value in OPS:
                    raise self.error(f"{value!r} is an operation; call it as {value}(...)", pos)
                return Var(value)
            op = OPS.get(value)
            if op is None:
                raise self.error(f"unknown operation {value!r}; operations: "
                                 f"{', '.join(sorted(OPS))}", pos)
            self.take("(")
            args = [self.expr(0)]
            while (tok := self.peek()) is not None and tok[1] == ",":
                self.take()
                args.append(self.expr(0))
            self.take(")")
            if len(args) != op.arity:
                raise self.error(f"{value} takes {op.arity} argument"
                                 f"{'s' if op.arity > 1 else ''}, got {len(args)}", pos)
            return Call(value, tuple(args))
        if value == "(":
            e = self.expr(0)
            self.take(")")
            return e
        raise self.error(f"unexpected {value!r}", pos)


def parse(text: str) -> Expr:
    """The tree of ``text`` (the form :func:`to_text` writes).

    Raises:
        ExpressionError: saying what is wrong and where.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression is a string, got {text!r}")
    return _Parser(text).parse()


# -- facts about trees ------------------------------------------------------------------------
def variables(e: Expr) -> set[str]:
    """Names of the variables ``e`` reads."""
    if isinstance(e, Var):
        return {e.name}
    if isinstance(e, Const):
        return set()
    return set().union(*(variables(a) for a in e.args))


def is_random(e: Expr) -> bool:
    """Whether ``e`` draws random numbers (a dropout mask)."""
    return isinstance(e, Call) and (OPS[e.op].random or any(is_random(a) for a in e.args))


def substitute(e: Expr, definitions: Mapping[str, Expr]) -> Expr:
    """``e`` with every variable named in ``definitions`` replaced by its definition."""
    if isinstance(e, Var):
        return definitions.get(e.name, e)
    if isinstance(e, Const):
        return e
    return Call(e.op, tuple(substitute(a, definitions) for a in e.args))


# -- canonical form ---------------------------------------------------------------------------
def canonical(e: Expr, definitions: Mapping[str, Expr] | None = None) -> Expr:
    """The canonical tree of ``e`` (see the module docstring): equal for the equivalent forms
    the folding rules know, computing the same function as ``e`` on finite inputs."""
    if definitions:
        e = substitute(e, definitions)
    return _canon(e)


def canonical_text(e: Expr, definitions: Mapping[str, Expr] | None = None) -> str:
    """:func:`to_text` of :func:`canonical`: a key for repeat detection."""
    return to_text(canonical(e, definitions))


def _key(e: Expr) -> str:
    return to_text(e)


def _const_value(op: str, args: Sequence[Expr]) -> Const | None:
    spec = OPS[op]
    if spec.scalar is None or not all(isinstance(a, Const) for a in args):
        return None
    try:
        value = float(spec.scalar(*(a.value for a in args)))  # type: ignore[union-attr]
    except (ValueError, OverflowError, ZeroDivisionError):
        return None
    if not math.isfinite(value):
        return None
    return Const(value + 0.0)  # no negative zero


def _canon(e: Expr) -> Expr:
    if isinstance(e, Var):
        return e
    if isinstance(e, Const):
        return Const(float(e.value) + 0.0)
    op = e.op
    if op in _EXPANSIONS:
        return _canon(_EXPANSIONS[op](*e.args))
    args = tuple(_canon(a) for a in e.args)
    if op == "identity":
        return args[0]
    if op == "left":
        return args[0]
    if op == "sub":
        return _sum((args[0], _neg(args[1])))
    if op == "add":
        return _sum(args)
    if op == "mul":
        return _product(args)
    if op == "neg":
        return _neg(args[0])
    folded = _const_value(op, args)
    if folded is not None:
        return folded
    if op == "div":
        b = args[1]
        if isinstance(b, Const) and b.value == 1:
            return args[0]
        if isinstance(b, Const) and b.value == -1:
            return _neg(args[0])
        return Call("div", args)
    if op in ("max", "min"):
        a, b = args
        if a == b and not is_random(a):
            return a
        for x, y in ((a, b), (b, a)):
            if isinstance(y, Const) and y.value == 0:
                return _canon(Call("relu" if op == "max" else "min0", (x,)))
        return Call(op, tuple(sorted(args, key=_key)))
    a = args[0]
    if isinstance(a, Call) and not OPS[op].random:
        if op in ("abs", "sign", "relu", "min0") and a.op == op:
            return a  # idempotent
        if op in _EVEN or op in _ODD:
            # f(a) = f(-a), or f(a) = -f(-a): take whichever argument reads first.
            b = _neg(a)
            if _sign_key(b) < _sign_key(a):
                inner = _canon(Call(op, (b,)))
                return inner if op in _EVEN else _neg(inner)
        if op == "abs" and a.op in ("square", "abs", "exp", "sigmoid", "softplus", "relu"):
            return a  # already non-negative
    if OPS[op].commutative:
        args = tuple(sorted(args, key=_key))
    return Call(op, args)


def _sign_key(e: Expr) -> tuple[int, str]:
    """Of an expression and its negation, the one with fewer minus signs reads first."""
    text = _key(e)
    return (text.count("-"), text)


_EVEN = frozenset({"abs", "square", "sqrt_abs", "log_abs", "cosh", "cos", "sinc"})
_ODD = frozenset({"cube", "sin", "sinh", "tanh", "asinh", "atan", "erf", "sign"})


def _neg(a: Expr) -> Expr:
    if isinstance(a, Const):
        return Const(-a.value + 0.0)
    if isinstance(a, Call) and a.op == "neg":
        return a.args[0]
    if isinstance(a, Call) and a.op == "add":
        return _sum([_neg(t) for t in a.args])  # negation is exact: -(a + b) = -a + -b
    if isinstance(a, Call) and a.op == "mul" and isinstance(a.args[0], Const):
        return _product((Const(-a.args[0].value), *a.args[1:]))
    return Call("neg", (a,))


def _flatten(args: Sequence[Expr], op: str) -> list[Expr]:
    """The operands of nested ``op`` calls (canonical sums or products) side by side."""
    return [p for a in args
            for p in (a.args if isinstance(a, Call) and a.op == op else (a,))]


def _sum(args: Sequence[Expr]) -> Expr:
    terms: list[Expr] = []
    total = 0.0
    for p in _flatten(args, "add"):
        if isinstance(p, Const):
            total += p.value
        else:
            terms.append(p)
    terms = _collect_terms(terms)
    if not math.isfinite(total):
        terms.append(Const(total))
    elif total != 0 or not terms:
        terms.append(Const(total + 0.0))
    if len(terms) == 1:
        return terms[0]
    return Call("add", tuple(sorted(terms, key=_sum_key)))


def _split_coefficient(e: Expr) -> tuple[float, Expr]:
    """``(c, t)`` with ``e = c * t``, for a canonical term."""
    if isinstance(e, Call) and e.op == "neg":
        return -1.0, e.args[0]
    if isinstance(e, Call) and e.op == "mul" and isinstance(e.args[0], Const):
        rest = e.args[1:]
        return e.args[0].value, rest[0] if len(rest) == 1 else Call("mul", rest)
    return 1.0, e


def _collect_terms(terms: list[Expr]) -> list[Expr]:
    """Like terms added up: ``a + a`` is ``2 * a``, ``a - a`` is ``0 * a`` (NaN where ``a``
    is infinite, as the sum is). Random terms stay apart."""
    groups: dict[str, list[Any]] = {}
    out: list[Expr] = []
    for t in terms:
        if is_random(t):
            out.append(t)
            continue
        coef, core = _split_coefficient(t)
        key = _key(core)
        if key in groups:
            groups[key][0] += coef
            groups[key][2] = True
        else:
            groups[key] = [coef, core, False]
    for coef, core, merged in groups.values():
        if merged:
            out.append(_product((Const(coef), core)))
        else:
            out.append(_product((Const(coef), core)) if coef not in (1.0, -1.0)
                       else (core if coef == 1.0 else _neg(core)))
    return out


def _sum_key(e: Expr) -> tuple[int, str]:
    """Order of a sum's terms: constants last, each term by its text without its sign."""
    if isinstance(e, Const):
        return (1, "")
    if isinstance(e, Call) and e.op == "neg":
        return (0, _key(e.args[0]))
    return (0, _key(e))


def _product(args: Sequence[Expr]) -> Expr:
    factors: list[Expr] = []
    coef = 1.0
    for p in _flatten(args, "mul"):
        if isinstance(p, Const):
            coef *= p.value
        elif isinstance(p, Call) and p.op == "neg":
            coef = -coef
            inner = p.args[0]
            if isinstance(inner, Call) and inner.op == "mul":
                if isinstance(inner.args[0], Const):
                    coef *= inner.args[0].value
                    factors.extend(inner.args[1:])
                else:
                    factors.extend(inner.args)
            else:
                factors.append(inner)
        else:
            factors.append(p)
    if not factors:
        return Const(coef + 0.0)
    factors = _collect_powers(factors)
    factors.sort(key=_key)
    negate = coef == -1
    if negate or coef == 1:
        core = factors[0] if len(factors) == 1 else Call("mul", tuple(factors))
        return Call("neg", (core,)) if negate else core
    return Call("mul", (Const(coef + 0.0), *factors))


def _collect_powers(factors: list[Expr]) -> list[Expr]:
    """Equal factors multiplied out: ``a * a`` is ``a^2``, ``a^2 * a`` is ``a^3``. Random
    factors stay apart."""
    powers: dict[str, list[Any]] = {}
    out: list[Expr] = []
    for f in factors:
        if is_random(f):
            out.append(f)
            continue
        base, exponent = f, 1
        if isinstance(f, Call) and f.op in _POWERS:
            base, exponent = f.args[0], _POWERS[f.op]
        key = _key(base)
        if key in powers:
            powers[key][1] += exponent
            powers[key][2] = True
        else:
            powers[key] = [base, exponent, False, f]
    for base, exponent, merged, original in powers.values():
        if not merged:
            out.append(original)
            continue
        while exponent > 3:
            out.append(_canon(Call("cube", (base,))))
            exponent -= 3
        out.append(base if exponent == 1 else
                   _canon(Call("square" if exponent == 2 else "cube", (base,))))
    return out


# -- evaluation -------------------------------------------------------------------------------
Compiled = Callable[..., Any]


def compile_expr(e: Expr, variables: Sequence[str], *, simplify: bool = True) -> Compiled:
    """A function of tensors computing ``e``, built once.

    Args:
        e: the expression.
        variables: the names of the function's positional arguments, in order; every
            variable of ``e`` must be one of them.
        simplify: compile the canonical form (the same function with fewer operations).

    Returns:
        ``f(*tensors) -> tensor``, shaped like the (broadcast) arguments; a constant
        expression gives a tensor full of the constant, shaped like the first argument.

    Raises:
        ExpressionError: for a variable not among ``variables``.
    """
    missing = variables_of(e) - set(variables)
    if missing:
        raise ExpressionError(
            f"expression {to_text(e)!r} reads {', '.join(sorted(missing))}, and only "
            f"{', '.join(variables) or 'nothing'} is given"
        )
    tree = canonical(e) if simplify else e
    index = {name: i for i, name in enumerate(variables)}
    fn, const = _compile(tree, index)
    if const is not None:
        import torch

        value = const
        return lambda *xs: torch.full_like(xs[0], value)
    return fn


variables_of = variables


def _leaf(i: int) -> Compiled:
    return lambda *xs: xs[i]


def _compile(e: Expr, index: Mapping[str, int]) -> tuple[Compiled, float | None]:
    """``(function of the positional tensors, None)``, or ``(_, value)`` for a constant."""
    if isinstance(e, Var):
        return _leaf(index[e.name]), None
    if isinstance(e, Const):
        return (lambda *xs: e.value), float(e.value)
    if e.op in ("add", "mul") and len(e.args) > 2:
        # A canonical sum or product: left to right, as it prints.
        return _compile(Call(e.op, (Call(e.op, e.args[:-1]), e.args[-1])), index)
    spec = OPS[e.op]
    parts = [_compile(a, index) for a in e.args]
    if all(c is not None for _, c in parts) and not spec.random:
        folded = _const_value(e.op, [Const(c) for _, c in parts])  # type: ignore[arg-type]
        if folded is not None:
            return (lambda *xs: folded.value), folded.value
    fn = spec.torch()
    if len(parts) == 1:
        (f, c), = parts
        if c is not None:
            f = _full(c)
        if isinstance(e.args[0], Var):
            i = index[e.args[0].name]
            return (lambda *xs: fn(xs[i])), None
        return (lambda *xs: fn(f(*xs))), None
    (fa, ca), (fb, cb) = parts
    if e.op in ("add", "sub", "mul") and (ca is not None or cb is not None):
        # Python arithmetic takes a float on either side.
        if ca is not None:
            return (lambda *xs: fn(ca, fb(*xs))), None
        return (lambda *xs: fn(fa(*xs), cb)), None
    if ca is not None:
        fa = _full(ca)
    if cb is not None:
        fb = _full(cb)
    if e.op == "div" and cb is not None:
        denominator = cb if abs(cb) >= DIV_EPS else math.copysign(DIV_EPS, cb)
        return (lambda *xs: fa(*xs) / denominator), None
    if isinstance(e.args[0], Var) and isinstance(e.args[1], Var):
        i, j = index[e.args[0].name], index[e.args[1].name]
        return (lambda *xs: fn(xs[i], xs[j])), None
    return (lambda *xs: fn(fa(*xs), fb(*xs))), None


def _full(value: float) -> Compiled:
    """A constant as a tensor shaped like the first argument (for functions of tensors)."""
    def full(*xs: Any) -> Any:
        import torch

        return torch.full_like(xs[0], value)
    return full


def evaluate(e: Expr, env: Mapping[str, Any]) -> Any:
    """``e`` evaluated on the tensors of ``env`` (compiles each time: for tests and one-offs)."""
    names = tuple(env)
    return compile_expr(e, names)(*(env[n] for n in names))
