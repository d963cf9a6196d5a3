"""The NAS-RL recurrent cell (Zoph & Le, "Neural Architecture Search with Reinforcement
Learning", ICLR 2017, section 3.4 and appendix A).

A cell maps ``(x_t, h_{t-1}, c_{t-1})`` to ``(h_t, c_t)`` by a balanced binary tree of
``2 * base - 1`` nodes (``base`` leaves; the paper's cell has base 8). Leaf ``i`` computes
``act_i(comb_i(W_i x_t, U_i h_{t-1}))``; an internal node computes ``act(comb(left, right))``
of its two children and has no weights of its own; the root's output is ``h_t``. Each node
picks a combination (``add``, or ``mul``: elementwise product) and an activation (``tanh``,
``relu``, ``sigmoid``, ``identity``). The memory cell enters through the two "cell inject"
choices (a combination and an activation: node ``inject.node``'s output ``a`` becomes
``act(comb(a, c_{t-1}))``) and the two "cell indices": ``inject.node``, and ``cell.node``,
whose output *before* its activation becomes ``c_t``.

Nodes are numbered as the paper numbers its tree: leaves ``0 .. base-1``, then each level's
internal nodes left to right, the root last. Decisions, in order: ``node<i>.combine`` and
``node<i>.activation`` for every node, ``inject.combine``, ``inject.activation``,
``inject.node`` (any node but the root) and ``cell.node`` (any node).

String format: the nodes' ``<combine>:<activation>`` joined by ``,``, then
``|inject=<combine>:<activation>@<node>|cell=<node>``; ``lstm`` reads as the LSTM cell.

The standard LSTM is a cell of this space (reference ``lstm``, base 8): the forget gate is
node 10 with the memory injected by an elementwise product, ``c_t`` is node 13 before its tanh
(``f * c + i * g``), and the root multiplies the output gate (node 12) by ``tanh(c_t)``; a gate
made of a node over two ``identity(add)`` children is a sigmoid of a sum of linear maps, which
is a sigmoid of one linear map.

Canonical key: swapping the two children of a node keeps the function (both combinations are
commutative, and each leaf owns its weights), so the key writes every subtree with its
children in sorted order, marking the injected node and the memory node.

Networks: :meth:`NasCellSpace.build` unrolls the cell over the sequence; a linear layer
classifies the last hidden state. With ``language_model=True`` it is a language model: token
ids in, an embedding, the cell, and a decoder tied to the embedding, as ``enas_rnn``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.hookspecs import hookimpl
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np

COMBINE: tuple[str, ...] = ("add", "mul")
ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "sigmoid", "identity")

LSTM = ("add:identity,add:identity,add:identity,add:identity,add:identity,add:identity,"
        "add:sigmoid,add:tanh,add:identity,add:identity,add:sigmoid,mul:identity,"
        "add:sigmoid,add:tanh,mul:identity|inject=mul:identity@10|cell=13")
"""The standard LSTM cell in the string format (base 8)."""


@dataclass(frozen=True)
class NasCellParams:
    base: int = param(8, doc="leaves of the tree (2, 4, 8 or 16)", ge=2, le=16,
                      published="Zoph & Le 2017: base 8")

    def check(self) -> None:
        if self.base & (self.base - 1):
            raise ConfigError("base", f"must be a power of two, got {self.base}",
                              "Choose 2, 4, 8 or 16.")


class NasCellSpace(SearchSpace):
    """Zoph & Le's recurrent-cell tree with memory-cell injection."""

    name: ClassVar[str] = "nascell"
    summary: ClassVar[str] = ("NAS-RL recurrent cell: a tree of combine/activation nodes with "
                              "cell injection, LSTM included (Zoph & Le 2017)")
    capabilities: ClassVar[frozenset[str]] = frozenset({"build"})
    data_kind: ClassVar[str | None] = "sequence"
    Params: ClassVar[type] = NasCellParams

    @property
    def nodes(self) -> int:
        return 2 * self.params.base - 1

    @cached_property
    def children(self) -> dict[int, tuple[int, int]]:
        """Internal node -> its two children (the paper's numbering)."""
        out: dict[int, tuple[int, int]] = {}
        level = list(range(self.params.base))
        nxt_id = self.params.base
        while len(level) > 1:
            nxt = []
            for a, b in zip(level[::2], level[1::2], strict=True):
                out[nxt_id] = (a, b)
                nxt.append(nxt_id)
                nxt_id += 1
            level = nxt
        return out

    @cached_property
    def _decisions(self) -> tuple[Decision, ...]:
        out = []
        for i in range(self.nodes):
            out += [Decision(f"node{i}.combine", COMBINE),
                    Decision(f"node{i}.activation", ACTIVATIONS)]
        out += [Decision("inject.combine", COMBINE), Decision("inject.activation", ACTIVATIONS),
                Decision("inject.node", tuple(str(i) for i in range(self.nodes - 1))),
                Decision("cell.node", tuple(str(i) for i in range(self.nodes)))]
        return tuple(out)

    def decisions(self) -> tuple[Decision, ...]:
        return self._decisions

    def cell(self, arch: Architecture) -> dict[str, Any]:
        """The cell as data: per-node ``(combine, activation)``, the injection and the memory
        node."""
        self.validate(arch)
        n = self.nodes
        return {
            "nodes": [(COMBINE[arch[2 * i]], ACTIVATIONS[arch[2 * i + 1]]) for i in range(n)],
            "inject": (COMBINE[arch[2 * n]], ACTIVATIONS[arch[2 * n + 1]]),
            "inject_node": arch[2 * n + 2],
            "cell_node": arch[2 * n + 3],
            "children": self.children,
        }

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one decision to another choice."""
        u_pos, u_choice = rng.random(2).tolist()
        i = int(u_pos * len(arch))
        n = len(self._decisions[i].choices)
        choice = int(u_choice * (n - 1))
        choice += choice >= arch[i]
        return (*arch[:i], choice, *arch[i + 1:])

    def arch_key(self, arch: Architecture) -> str:
        cell = self.cell(arch)

        def key(i: int) -> str:
            comb, act = cell["nodes"][i]
            marks = ("!" if i == cell["inject_node"] else "") + (
                "$" if i == cell["cell_node"] else "")
            if i not in self.children:
                return f"{comb}:{act}{marks}"
            a, b = sorted(key(c) for c in self.children[i])
            return f"{comb}:{act}{marks}({a},{b})"

        comb, act = cell["inject"]
        return f"{key(self.nodes - 1)}|inject={comb}:{act}"

    def to_string(self, arch: Architecture) -> str:
        cell = self.cell(arch)
        nodes = ",".join(f"{c}:{a}" for c, a in cell["nodes"])
        comb, act = cell["inject"]
        return f"{nodes}|inject={comb}:{act}@{cell['inject_node']}|cell={cell['cell_node']}"

    def from_string(self, text: str) -> Architecture:
        if isinstance(text, str) and text.strip() == "lstm" and self.params.base == 8:
            text = LSTM
        fmt = ("'<comb>:<act>,...|inject=<comb>:<act>@<node>|cell=<node>' with "
               f"{self.nodes} nodes, comb in {', '.join(COMBINE)}, act in "
               f"{', '.join(ACTIVATIONS)}")
        parts = text.strip().split("|") if isinstance(text, str) else []
        try:
            nodes_s, inject_s, cell_s = parts
            nodes = nodes_s.split(",")
            if len(nodes) != self.nodes or not inject_s.startswith("inject=") \
                    or not cell_s.startswith("cell="):
                raise ValueError
            pair, _, node = inject_s[len("inject="):].partition("@")
            arch: list[int] = []
            for item in (*nodes, pair):
                comb, _, act = item.strip().partition(":")
                arch += [COMBINE.index(comb), ACTIVATIONS.index(act)]
            arch += [int(node), int(cell_s[len("cell="):])]
        except ValueError:
            raise InvalidArchitectureError(f"nascell: cannot read {text!r}; expected {fmt}"
                                           ) from None
        out = tuple(arch)
        self.validate(out)
        return out

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["string_format"] = "<comb>:<act>,...|inject=<comb>:<act>@<node>|cell=<node>"
        if self.params.base == 8:
            out["references"] = {"lstm": LSTM}
        return out

    # -- networks ---------------------------------------------------------------------------
    def size_defaults(self) -> dict[str, Any]:
        """``hidden``: state width; ``language_model``: token ids in, next-token logits out."""
        return {"hidden": 64, "language_model": False}

    def build(self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int,
              **size: Any) -> Any:
        """A sequence classifier ``(batch, T, F) -> (batch, num_classes)``, or with
        ``language_model=True`` a language model ``(batch, T)`` token ids ->
        ``(batch, T, num_classes)`` logits."""
        from .nascell_net import NasCellClassifier, NasCellLanguageModel

        cell = self.cell(arch)
        dims = self.resolve_size(size)
        if dims["hidden"] < 1:
            raise ConfigError("size.hidden", f"must be positive, got {dims['hidden']}")
        if dims["language_model"]:
            if len(input_shape) != 1 or num_classes < 2:
                raise ConfigError(
                    "input_shape", "a language model reads token ids shaped (time,) and "
                    f"predicts over num_classes >= 2 tokens; got {input_shape!r} and "
                    f"{num_classes}")
            return NasCellLanguageModel(cell, vocab_size=num_classes, hidden=dims["hidden"])
        self.check_input(input_shape, num_classes)
        return NasCellClassifier(cell, features=input_shape[1], num_classes=num_classes,
                                 hidden=dims["hidden"])


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(NasCellSpace)
