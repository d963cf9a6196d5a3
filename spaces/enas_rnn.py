"""The ENAS recurrent cell (Pham et al., "Efficient Neural Architecture Search via Parameter
Sharing", ICML 2018, section 2.1).

A cell has ``N`` nodes. Node 1 reads the step's input ``x_t`` and the previous hidden state
``h_{t-1}``; every later node reads one earlier node; every node applies one of four
activations (tanh, ReLU, identity, sigmoid). The new hidden state is the average of the nodes
that no other node reads. Decisions: ``node1.activation``, then for each node ``j >= 2``
``node<j>.input`` and ``node<j>.activation``: ``4^N * (N-1)!`` cells (N = 12 in the paper).

String format: node 1's activation, then ``<input>:<activation>`` for each later node, joined
by ``|``, e.g. ``tanh|1:relu|1:sigmoid|2:identity``.

Canonical key: the cell is a tree rooted at node 1; the average over loose ends does not care
about their order and each node owns its weights, so renumbering nodes keeps the function. The
key is the tree's canonical form (:mod:`nasbench.spaces.canonical`).

Networks: :meth:`EnasRnnSpace.build` unrolls the cell over the sequence (``enas_rnn_net``);
a linear layer classifies the last hidden state. With ``language_model=True`` it is ENAS's
language model instead: token ids in, an embedding, the cell, and a decoder tied to the
embedding giving next-token logits at every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.api import Architecture, Decision, SearchSpace
from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.hookspecs import hookimpl
from nasbench.params import param

from .canonical import canonical_dag_key

if TYPE_CHECKING:
    import numpy as np

ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "identity", "sigmoid")
"""ENAS's activations, in its order."""


@dataclass(frozen=True)
class EnasRnnParams:
    nodes: int = param(12, ge=1, le=64, doc="N, nodes per cell", published="Pham et al. 2018")


class EnasRnnSpace(SearchSpace):
    """ENAS's recurrent cell: an activation and a previous node per node."""

    name: ClassVar[str] = "enas_rnn"
    summary: ClassVar[str] = "ENAS recurrent cell: N nodes, activation + input each (Pham 2018)"
    capabilities: ClassVar[frozenset[str]] = frozenset({"build"})
    data_kind: ClassVar[str | None] = "sequence"
    Params: ClassVar[type] = EnasRnnParams

    @cached_property
    def _decisions(self) -> tuple[Decision, ...]:
        out = [Decision("node1.activation", ACTIVATIONS)]
        for j in range(2, self.params.nodes + 1):
            out.append(Decision(f"node{j}.input", tuple(f"node{i}" for i in range(1, j))))
            out.append(Decision(f"node{j}.activation", ACTIVATIONS))
        return tuple(out)

    def decisions(self) -> tuple[Decision, ...]:
        return self._decisions

    def size(self) -> int:
        n = self.params.nodes
        total = len(ACTIVATIONS) ** n
        for j in range(2, n + 1):
            total *= j - 1
        return total

    def cell(self, arch: Architecture) -> list[tuple[int, str]]:
        """``(input node, activation)`` for nodes 1..N; node 1's input is 0 (x_t, h_{t-1})."""
        self.validate(arch)
        out = [(0, ACTIVATIONS[arch[0]])]
        out += [(arch[k] + 1, ACTIVATIONS[arch[k + 1]]) for k in range(1, len(arch), 2)]
        return out

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one node's activation, or move one node's input to another earlier node.

        The kind is drawn with equal odds; node 2 can only read node 1, so when the drawn node
        cannot move, its activation changes.
        """
        u_kind, u_node, u_choice = rng.random(3).tolist()
        node = 1 + int(u_node * self.params.nodes)
        if u_kind < 0.5 and node >= 3:
            k, n = 2 * node - 3, node - 1
        else:
            k, n = (0 if node == 1 else 2 * node - 2), len(ACTIVATIONS)
        choice = int(u_choice * (n - 1))
        choice += choice >= arch[k]
        return (*arch[:k], choice, *arch[k + 1:])

    def arch_key(self, arch: Architecture) -> str:
        nodes = self.cell(arch)
        labels = ["x_t,h_t-1"] + [act for _, act in nodes]
        inputs = [[]] + [[(src, "")] for src, _ in nodes]
        return canonical_dag_key(labels, inputs, fixed=1)

    def to_string(self, arch: Architecture) -> str:
        nodes = self.cell(arch)
        return "|".join([nodes[0][1], *(f"{src}:{act}" for src, act in nodes[1:])])

    def from_string(self, text: str) -> Architecture:
        parts = [p.strip() for p in text.split("|")]
        if len(parts) != self.params.nodes or parts[0] not in ACTIVATIONS:
            raise InvalidArchitectureError(
                f"enas_rnn: expected {self.params.nodes} nodes 'act|<input>:act|...' with act "
                f"in {', '.join(ACTIVATIONS)}, got {text!r}"
            )
        arch = [ACTIVATIONS.index(parts[0])]
        for j, part in enumerate(parts[1:], start=2):
            src, _, act = part.partition(":")
            if not src.isdigit() or not 1 <= int(src) < j or act not in ACTIVATIONS:
                raise InvalidArchitectureError(
                    f"enas_rnn: node {j} is {part!r} in {text!r}; expected '<input>:<act>' with "
                    f"input in 1..{j - 1} and act in {', '.join(ACTIVATIONS)}"
                )
            arch += [int(src) - 1, ACTIVATIONS.index(act)]
        return tuple(arch)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["string_format"] = "<act>|<input>:<act>|... (one entry per node)"
        return out

    # -- networks ---------------------------------------------------------------------------
    def size_defaults(self) -> dict[str, Any]:
        """``hidden``: state width; ``highway``: the released code's gated nodes (False gives
        the paper's plain equations); ``language_model``: token ids in, next-token logits out.
        """
        return {"hidden": 64, "highway": True, "language_model": False}

    def build(
        self, arch: Architecture, *, input_shape: tuple[int, ...], num_classes: int, **size: Any
    ) -> Any:
        """A sequence classifier ``(batch, T, F) -> (batch, num_classes)``, or with
        ``language_model=True`` a language model ``(batch, T)`` token ids ->
        ``(batch, T, num_classes)`` logits over a vocabulary of ``num_classes`` tokens."""
        from .enas_rnn_net import EnasRnnClassifier, EnasRnnLanguageModel

        cell = self.cell(arch)
        dims = self.resolve_size(size)
        if dims["hidden"] < 1:
            raise ConfigError("size.hidden", f"must be positive, got {dims['hidden']}")
        if dims["language_model"]:
            if len(input_shape) != 1 or num_classes < 2:
                raise ConfigError(
                    "input_shape", "a language model reads token ids shaped (time,) and predicts "
                    f"over num_classes >= 2 tokens; got {input_shape!r} and {num_classes}",
                )
            return EnasRnnLanguageModel(cell, vocab_size=num_classes, hidden=dims["hidden"],
                                        highway=dims["highway"])
        self.check_input(input_shape, num_classes)
        return EnasRnnClassifier(cell, features=input_shape[1], num_classes=num_classes,
                                 hidden=dims["hidden"], highway=dims["highway"])


@hookimpl
def nasbench_register_spaces(registry: Any) -> None:
    registry.add(EnasRnnSpace)
