"""Spaces declared as data: expressions of a fixed shape over declared operands and units.

An expression space is a grammar written in TOML, with no Python (see ``docs/dsl.md``)::

    operands = ["x", "0", "1"]            # variables the evaluator supplies, and constants
    unary = ["identity", "neg", "sigmoid", "tanh"]
    binary = ["add", "mul", "max"]
    units = 2                             # core units b(u1(in1), u2(in2))
    combine = "chain"                     # how units feed each other: "chain" or "tree"
    [define]                              # operands standing for expressions of others
    [references]                          # named expressions (known functions)
    swish = "x * sigmoid(x) + 0"

The shape follows Ramachandran et al. (2017) and Bello et al. (2017): a *core unit* is
``b(u1(in1), u2(in2))`` with ``b`` a binary unit and ``u1``, ``u2`` unary units. With
``combine = "chain"`` the first unit reads two operands and each later unit reads the previous
unit's output (left) and an operand (right); with ``"tree"`` (``units = 2^d - 1``) the first
half of the units read operands and the others combine two units each, as a balanced tree.
The last unit's output is the expression.

Decisions, in order, per unit: for each input that is an operand, the operand then its unary
unit; for an input that is a unit, its unary unit; then the binary unit. Every strategy that
draws categorical decisions works on it unchanged.

String format: the expression's readable text (:mod:`nasbench.expr`), ``identity`` units
written as their argument, e.g. ``x * sigmoid(x) + 0`` for a two-unit chain; a reference's
name (``swish``) is read as its expression. The canonical key is the canonical text of the
expression (with defined operands expanded), so a strategy's repeats are detected across the
many trees computing one function.

Three ways to get one: a space shipped as a TOML file in ``nasbench/spaces/expressions/``
(``activation``, ``update_rule``; each registered under its file's name), the generic
``expression`` space with the grammar inline in a study's ``[space]`` table, or
``[space] name = "expression"`` with ``file = "my_space.toml"`` (read when the study is
loaded, relative to the study file, and recorded inline in the resolved study).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench import expr as ex
from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.hookspecs import hookimpl
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np

EXPRESSIONS_DIR = Path(__file__).parent / "expressions"
"""Where the shipped space declarations are."""
ENUMERATE_LIMIT = 200_000
"""Spaces up to this size declare the capability ``enumerate``."""
_GRAMMAR_KEYS = ("operands", "unary", "binary", "units", "combine", "define", "references")


@dataclass(frozen=True)
class ExpressionParams:
    """A grammar: the sets of operands and units and the shape of the tree."""

    operands: tuple[str, ...] = param(
        ("x", "1"), doc="operands: variable names the evaluator supplies, defined names, "
        "non-negative constants")
    unary: tuple[str, ...] = param(
        ("identity", "neg", "sigmoid", "tanh"), doc=f"unary units, from {', '.join(ex.UNARY)}")
    binary: tuple[str, ...] = param(
        ("add", "mul", "max"), doc=f"binary units, from {', '.join(ex.BINARY)}")
    units: int = param(1, doc="number of core units b(u1(in1), u2(in2))", ge=1, le=15)
    combine: Literal["chain", "tree"] = param(
        "chain", doc="chain: each unit reads the previous one and an operand; tree: a "
        "balanced tree of units (units = 1, 3, 7 or 15)")
    define: Mapping[str, str] = param(
        {}, doc="operands that stand for expressions of other variables (e.g. g2 = \"g^2\"); "
        "canonical forms expand them")
    references: Mapping[str, str] = param(
        {}, doc="named expressions of the space (known functions), in its string format")

    def check(self) -> None:
        Grammar.from_params(self)


@dataclass(frozen=True, slots=True)
class Unit:
    """One core unit: where its inputs come from (an earlier unit's index, or an operand)."""

    left: int | None
    right: int | None


def unit_shape(units: int, combine: str) -> tuple[Unit, ...]:
    """The units of a tree of ``units`` core units combined as ``combine`` says."""
    if combine == "chain":
        return (Unit(None, None), *(Unit(k - 1, None) for k in range(1, units)))
    leaves = (units + 1) // 2
    if units + 1 != 2 ** round(math.log2(units + 1)):
        raise ConfigError("units", f"a tree holds 1, 3, 7 or 15 units, not {units}",
                          "Choose one of those, or combine = \"chain\".")
    shape = [Unit(None, None) for _ in range(leaves)]
    level = list(range(leaves))
    while len(level) > 1:
        nxt = []
        for a, b in zip(level[::2], level[1::2], strict=True):
            shape.append(Unit(a, b))
            nxt.append(len(shape) - 1)
        level = nxt
    return tuple(shape)


@dataclass(frozen=True)
class Grammar:
    """A checked grammar: parsed operands and definitions, the unit shape, the decisions."""

    operands: tuple[ex.Expr, ...]
    operand_names: tuple[str, ...]
    unary: tuple[str, ...]
    binary: tuple[str, ...]
    shape: tuple[Unit, ...]
    definitions: Mapping[str, ex.Expr]
    references: Mapping[str, str]

    @classmethod
    def from_params(cls, p: Any) -> Grammar:
        """Check ``p`` (an :class:`ExpressionParams`) and build the grammar.

        Raises:
            ConfigError: naming the key and what to write instead.
        """
        for key in ("operands", "unary", "binary"):
            values = getattr(p, key)
            if not values:
                raise ConfigError(key, "is empty", f"List at least one {key[:-1]}.")
            if len(set(values)) != len(values):
                raise ConfigError(key, f"lists a value twice: {list(values)}")
        for key, arity, names in (("unary", 1, ex.UNARY), ("binary", 2, ex.BINARY)):
            for i, name in enumerate(getattr(p, key)):
                op = ex.OPS.get(name)
                if op is None or op.arity != arity:
                    raise ConfigError(f"{key}[{i}]", f"unknown {key} unit {name!r}",
                                      f"Available: {', '.join(names)}.")
        operands = []
        for i, text in enumerate(p.operands):
            try:
                e = ex.parse(text)
            except ex.ExpressionError as err:
                raise ConfigError(f"operands[{i}]", str(err)) from None
            if not isinstance(e, (ex.Var, ex.Const)):
                raise ConfigError(
                    f"operands[{i}]", f"{text!r} is not a variable name or a non-negative "
                    "number", "Name it and give its expression under [define], e.g. "
                    "g2 = \"g^2\".")
            if e in operands:
                raise ConfigError(f"operands[{i}]", f"{text!r} repeats operand "
                                  f"{p.operands[operands.index(e)]!r}", "List it once.")
            operands.append(e)
        definitions: dict[str, ex.Expr] = {}
        for name, text in p.define.items():
            if ex.Var(name) not in operands:
                raise ConfigError(f"define.{name}", "defines a name that is not an operand",
                                  f"Add {name!r} to operands, or remove the definition.")
            try:
                definitions[name] = ex.parse(text)
            except ex.ExpressionError as err:
                raise ConfigError(f"define.{name}", str(err)) from None
        for name, e in definitions.items():
            if ex.variables(e) & set(definitions):
                raise ConfigError(f"define.{name}", "uses another defined operand",
                                  "Write definitions in terms of supplied variables only.")
        grammar = cls(
            operands=tuple(operands),
            operand_names=tuple(ex.to_text(e) for e in operands),
            unary=tuple(p.unary), binary=tuple(p.binary),
            shape=unit_shape(p.units, p.combine),
            definitions=definitions, references=dict(p.references),
        )
        for name, text in p.references.items():
            try:
                grammar.match(ex.parse(text))
            except (ex.ExpressionError, InvalidArchitectureError) as err:
                raise ConfigError(f"references.{name}", str(err)) from None
        return grammar

    # -- decisions ------------------------------------------------------------------------------
    @cached_property
    def decisions(self) -> tuple[Decision, ...]:
        out = []
        for k, unit in enumerate(self.shape, start=1):
            for side, source in (("left", unit.left), ("right", unit.right)):
                if source is None:
                    out.append(Decision(f"unit{k}.{side}.operand", self.operand_names))
                out.append(Decision(f"unit{k}.{side}.unary", self.unary))
            out.append(Decision(f"unit{k}.binary", self.binary))
        return tuple(out)

    @cached_property
    def variables(self) -> tuple[str, ...]:
        """The variables an evaluator supplies: operands not defined, and what definitions
        read."""
        names: set[str] = set()
        for e in self.operands:
            if isinstance(e, ex.Var):
                if e.name in self.definitions:
                    names |= ex.variables(self.definitions[e.name])
                else:
                    names.add(e.name)
        return tuple(sorted(names))

    # -- architecture <-> tree ------------------------------------------------------------------
    def tree(self, arch: Architecture) -> ex.Expr:
        """The raw expression of ``arch`` (identity units included)."""
        it = iter(arch)
        outputs: list[ex.Expr] = []
        for unit in self.shape:
            sides = []
            for source in (unit.left, unit.right):
                inner = self.operands[next(it)] if source is None else outputs[source]
                sides.append(ex.Call(self.unary[next(it)], (inner,)))
            outputs.append(ex.Call(self.binary[next(it)], tuple(sides)))
        return outputs[-1]

    def match(self, e: ex.Expr) -> Architecture:
        """The architecture whose tree is ``e``.

        Raises:
            InvalidArchitectureError: saying which part does not fit the shape.
        """
        per_unit: dict[int, list[int]] = {}
        self._match_unit(e, len(self.shape) - 1, per_unit)
        return tuple(c for k in range(len(self.shape)) for c in per_unit[k])

    def _match_unit(self, e: ex.Expr, k: int, out: dict[int, list[int]]) -> None:
        unit = self.shape[k]
        if not (isinstance(e, ex.Call) and e.op in self.binary and len(e.args) == 2):
            raise InvalidArchitectureError(
                f"{ex.to_text(e)!r} should be unit {k + 1}: a binary unit "
                f"({', '.join(self.binary)}) of two inputs")
        choices: list[int] = []
        for arg, source in ((e.args[0], unit.left), (e.args[1], unit.right)):
            unary, operand, inner = self._match_side(arg, source, k)
            if source is None:
                choices.append(operand)
            else:
                self._match_unit(inner, source, out)
            choices.append(unary)
        choices.append(self.binary.index(e.op))
        out[k] = choices

    def _match_side(self, e: ex.Expr, source: int | None, k: int
                    ) -> tuple[int, int, ex.Expr]:
        """``(unary index, operand index or -1, the unit's subtree)`` of one input."""
        candidates = []
        if isinstance(e, ex.Call) and e.op in self.unary and len(e.args) == 1:
            candidates.append((e.op, e.args[0]))
        if "identity" in self.unary and not (isinstance(e, ex.Call) and e.op == "identity"):
            candidates.append(("identity", e))
        for unary, inner in candidates:
            if source is not None:
                if isinstance(inner, ex.Call) and inner.op in self.binary:
                    return self.unary.index(unary), -1, inner
            elif inner in self.operands:
                return self.unary.index(unary), self.operands.index(inner), inner
        what = "a unary unit of an operand" if source is None else "a unary unit of a unit"
        raise InvalidArchitectureError(
            f"{ex.to_text(e)!r} should be an input of unit {k + 1}: {what} (unary units: "
            f"{', '.join(self.unary)}; operands: {', '.join(self.operand_names)})")


class ExpressionSpace(SearchSpace):
    """Expressions of a fixed shape over a declared grammar (see the module docstring)."""

    name: ClassVar[str] = "expression"
    summary: ClassVar[str] = ("expressions declared as data: operands, unary and binary units, "
                              "a tree of core units (inline in [space] or file = ...)")
    Params: ClassVar[type] = ExpressionParams
    source_file: ClassVar[str] = ""
    """The TOML file that declares a shipped space (empty for the generic space)."""

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.grammar = Grammar.from_params(self.params)
        if self.size() <= ENUMERATE_LIMIT:
            self.capabilities = frozenset({"enumerate"})  # type: ignore[misc]

    # -- the data-declared table ----------------------------------------------------------------
    @classmethod
    def expand_table(cls, table: Mapping[str, Any], source: Path | None) -> dict[str, Any]:
        """A study's ``[space]`` table with ``file = "..."`` replaced by the grammar it holds.

        The study loader calls this before building the params, so that the resolved study
        (and its hash) records the grammar itself, not a path, and worker processes need no
        file.

        Raises:
            ConfigError: for a file that is missing, not TOML, or holds unknown keys.
        """
        table = dict(table)
        file = table.pop("file", None)
        if file is None:
            return table
        if not isinstance(file, str):
            raise ConfigError("space.file", f"expected a path string, got {file!r}")
        path = Path(file).expanduser()
        if not path.is_absolute() and source is not None:
            path = source.parent / path
        declared = read_declaration(path, "space.file")
        return {**{k: v for k, v in declared.items() if k in _GRAMMAR_KEYS}, **table}

    # -- decisions ------------------------------------------------------------------------------
    def decisions(self) -> tuple[Decision, ...] | None:
        return self.grammar.decisions

    def size(self) -> int:
        return math.prod(len(d.choices) for d in self.grammar.decisions)

    def enumerate(self) -> Iterator[Architecture]:
        if "enumerate" not in self.capabilities:
            raise NotImplementedError(
                f"space '{self.name}' holds {self.size()} expressions; only spaces of at most "
                f"{ENUMERATE_LIMIT} are enumerated")
        yield from itertools.product(*(range(len(d.choices)) for d in self.grammar.decisions))

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one decision; a few tries for a child computing another function."""
        open_positions = [i for i, d in enumerate(self.grammar.decisions) if len(d.choices) > 1]
        if not open_positions:
            raise InvalidArchitectureError(f"{self.name}: every decision has one choice")
        key = self.arch_key(arch)
        child = arch
        for _ in range(8):
            u_pos, u_choice = rng.random(2).tolist()
            i = open_positions[int(u_pos * len(open_positions))]
            n = len(self.grammar.decisions[i].choices)
            choice = int(u_choice * (n - 1))
            choice += choice >= arch[i]
            child = (*arch[:i], choice, *arch[i + 1:])
            if self.arch_key(child) != key:
                break
        return child

    # -- names ----------------------------------------------------------------------------------
    def expression(self, arch: Architecture) -> ex.Expr:
        """The raw expression tree of ``arch``."""
        self.validate(arch)
        return self.grammar.tree(arch)

    def canonical(self, arch: Architecture) -> ex.Expr:
        """The canonical expression of ``arch``, defined operands expanded."""
        return ex.canonical(self.expression(arch), self.grammar.definitions)

    def arch_key(self, arch: Architecture) -> str:
        return ex.to_text(self.canonical(arch))

    def to_string(self, arch: Architecture) -> str:
        return ex.to_text(self.expression(arch))

    def from_string(self, text: str) -> Architecture:
        if isinstance(text, str) and text.strip() in self.grammar.references:
            text = self.grammar.references[text.strip()]
        try:
            arch = self.grammar.match(ex.parse(text))
        except (ex.ExpressionError, InvalidArchitectureError) as err:
            raise InvalidArchitectureError(f"{self.name}: {err}") from None
        self.validate(arch)
        return arch

    def reference(self, name: str) -> Architecture:
        """The architecture of a named reference expression."""
        return self.from_string(self.grammar.references[name])

    def function(self, arch: Architecture) -> ex.Compiled:
        """``arch`` compiled to a function of tensors, one argument per
        :attr:`Grammar.variables` in that order."""
        return ex.compile_expr(self.canonical(arch), self.grammar.variables)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.pop("decisions", None)
        out["decisions"] = len(self.grammar.decisions)
        out["variables"] = list(self.grammar.variables)
        out["string_format"] = "the expression's text, e.g. 'x * sigmoid(x)' (see docs/dsl.md)"
        if self.source_file:
            out["source_file"] = self.source_file
        out["references"] = dict(self.grammar.references)
        return out


# -- shipped declarations -----------------------------------------------------------------------
def read_declaration(path: Path, key: str = "file") -> dict[str, Any]:
    """The keys of a space declaration file (``name`` and ``summary`` included)."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(key, f"space declaration {str(path)!r} does not exist",
                          "Check the path (relative to the study file).") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(key, f"{path} is not valid TOML: {err}") from None
    known = {*_GRAMMAR_KEYS, "name", "summary"}
    for k in raw:
        if k not in known:
            raise ConfigError(f"{key}: {k}", f"unknown key in {path.name}",
                              f"Known keys: {', '.join(sorted(known))}.")
    return raw


def _params_class(name: str, declared: Mapping[str, Any]) -> type:
    """:class:`ExpressionParams` with the declaration's grammar as its defaults."""
    fields = []
    for f in dataclasses.fields(ExpressionParams):
        default = declared.get(f.name, dataclasses.MISSING)
        if default is dataclasses.MISSING:
            continue
        new = param(default, doc=f.metadata["doc"])
        fields.append((f.name, ExpressionParams.__annotations__[f.name], new))
    cls = dataclasses.make_dataclass(name, fields, bases=(ExpressionParams,), frozen=True)
    cls.__module__ = __name__
    return cls


@cache
def shipped_spaces() -> dict[str, type[ExpressionSpace]]:
    """One space class per declaration file in :data:`EXPRESSIONS_DIR`, by class name."""
    out: dict[str, type[ExpressionSpace]] = {}
    for path in sorted(EXPRESSIONS_DIR.glob("*.toml")):
        declared = read_declaration(path)
        name = declared.get("name", path.stem)
        camel = "".join(part.title() for part in name.split("_"))
        params_cls = _params_class(f"{camel}Params", declared)
        relative = f"nasbench/spaces/expressions/{path.name}"
        summary = f"{declared.get('summary', 'expressions')} (declared in {relative})"
        space_cls = type(f"{camel}Space", (ExpressionSpace,), {
            "__module__": __name__, "name": name, "summary": summary, "Params": params_cls,
            "source_file": relative,
        })
        out[space_cls.__name__] = space_cls
        out[params_cls.__name__] = params_cls  # type: ignore[assignment]
    return out


def __getattr__(attr: str) -> Any:
    """Shipped spaces and their params classes by class name (so that they pickle)."""
    found = shipped_spaces().get(attr)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
    return found


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(ExpressionSpace)
    for cls in shipped_spaces().values():
        if isinstance(cls, type) and issubclass(cls, ExpressionSpace):
            registry.add(cls)
