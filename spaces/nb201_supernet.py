"""The NAS-Bench-201 supernet: the benchmark's network with all five operations on every edge.

The macro structure is :class:`~nasbench.spaces.nb201_net.Nb201Network`'s (stem, three stages
of ``N`` cells, residual reductions, classifier); every cell holds one module per edge and
non-``none`` operation (the search cell of NAS-Bench-201's released code). On one path a cell
computes exactly what :class:`~nasbench.spaces.nb201_net.Nb201Cell` computes, in the same
order; in the relaxation, node j sums ``softmax(alpha)_e,k * op_k(node i)`` over its incoming
edges e = (i, j) and operations k. All cells share one relaxation matrix of shape (6, 5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from nasbench.api import Architecture
from nasbench.supernet.module import SupernetModule, configure_batch_norm, unit_weights

from .nb201 import EDGES, OPS
from .nb201_net import Nb201Network, edge_op

_EDGE_INDEX = {edge: e for e, edge in enumerate(EDGES)}
_NONE = OPS.index("none")
_SKIP, _CONV1, _CONV3, _POOL = (OPS.index(op) for op in
                                ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"))
_EDGE_NAME = re.compile(r"(cells\.\d+\.edges\.edge_(\d)_(\d))\.")
"""An edge's module in the stand-alone network: ``cells.<block>.edges.edge_<j>_<i>.``"""


class Relaxation:
    """The mixing weights of one forward pass, prepared once for every cell that shares them.

    ``scalars[e][k]`` is ``weights[e, k]`` (views taken once per pass, not once per cell);
    ``active`` and ``unit`` say which weights are non-zero and exactly 1; ``left_out[j - 1]``
    is, when the weights are differentiated, the sum of the zero weights of the edges into
    node j (``None`` where there are none), which every cell adds to node j (see
    :meth:`Nb201MixedCell._relaxed`).
    """

    def __init__(self, weights: torch.Tensor) -> None:
        self.weights = weights
        self.active: list[list[bool]] = (weights != 0).tolist()
        self.unit = unit_weights(weights)
        self.scalars = [row.unbind(0) for row in weights.unbind(0)]
        self.left_out: list[torch.Tensor | None] = [None, None, None]
        if weights.requires_grad and not all(all(row) for row in self.active):
            zeros = (weights.detach() == 0).to(weights.dtype)
            per_node = _INCIDENCE.to(weights.dtype) @ (weights * zeros).sum(dim=1)
            has = [any(not all(self.active[_EDGE_INDEX[(i, j)]]) for i in range(j))
                   for j in (1, 2, 3)]
            self.left_out = [v if on else None
                             for v, on in zip(per_node.unbind(0), has, strict=True)]


_INCIDENCE = torch.tensor([[1.0 if j == node else 0.0 for _, j in EDGES] for node in (1, 2, 3)])
"""Row j - 1 selects the edges into node j."""


class Nb201MixedCell(nn.Module):
    """A cell holding every operation of every edge."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleDict({
            f"edge_{j}_{i}": nn.ModuleDict({op: edge_op(op, channels) for op in OPS
                                            if op != "none"})
            for i, j in EDGES
        })
        self._path: list[list[tuple[int, nn.Module]]] = [[], [], []]
        self._relaxation: Relaxation | None = None
        # Per edge e = (i, j): its 1x1 and 3x3 convolutions; per node i: the pooling module of
        # the first edge leaving it (pooling has no weights: one serves every edge).
        self._convs = [(self.edges[f"edge_{j}_{i}"]["nor_conv_1x1"],
                        self.edges[f"edge_{j}_{i}"]["nor_conv_3x3"]) for i, j in EDGES]
        self._pools = [self.edges[f"edge_{i + 1}_{i}"]["avg_pool_3x3"] for i in range(3)]

    def set_path(self, arch: Architecture) -> None:
        path: list[list[tuple[int, nn.Module]]] = [[], [], [], []]
        for (i, j), choice in zip(EDGES, arch, strict=True):
            if choice != _NONE:
                path[j].append((i, self.edges[f"edge_{j}_{i}"][OPS[choice]]))
        self._path = path[1:]
        self._relaxation = None

    def set_relaxation(self, weights: torch.Tensor | Relaxation) -> None:
        self._relaxation = weights if isinstance(weights, Relaxation) else Relaxation(weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._relaxation is not None:
            return self._relaxed(x, self._relaxation)
        nodes: list[torch.Tensor | None] = [x]
        for inputs in self._path:
            total: torch.Tensor | None = None
            for i, op in inputs:
                source = nodes[i]
                out = op(source if source is not None else torch.zeros_like(x))
                total = out if total is None else total + out
            nodes.append(total)
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)

    def _relaxed(self, x: torch.Tensor, relaxation: Relaxation) -> torch.Tensor:
        """Node j = sum over edges (i, j) and operations k of weights[e, k] * op_k(node i).

        The operations of every edge leaving node i share their input, so its ReLU (the first
        step of both convolutions) and its pooling (which has no weights) are computed once
        per node, not once per edge: the same numbers, fewer operations. An operation whose
        weight is exactly zero is not computed (a one-hot row runs its one operation, as
        GDAS's sampled forward does); a node all of whose weights are zero is zeros.

        When the weights are differentiated, every weight whose operation was left out is
        still added to its edge's output (a zero in value), as NAS-Bench-201's released
        ``forward_gdas`` adds ``hardwts[k]`` for every unsampled ``k``: its gradient is then
        the sum of the node's output gradient, so the straight-through estimate reaches every
        logit without computing the unsampled operations. (The zero weights of the edges into
        a node are summed once per pass and added once per node: the same value and
        gradients as one addition per weight, with fewer operations.)
        """
        active, unit, scalars = relaxation.active, relaxation.unit, relaxation.scalars
        nodes = [x]
        shared: list[dict[int, torch.Tensor]] = []
        for j in (1, 2, 3):
            source = nodes[j - 1]
            needs = [active[_EDGE_INDEX[(j - 1, k)]] for k in range(j, 4)]
            cache: dict[int, torch.Tensor] = {}  # _CONV1: the ReLU both convolutions read
            if any(row[_CONV1] or row[_CONV3] for row in needs):
                cache[_CONV1] = torch.relu(source)
            if any(row[_POOL] for row in needs):
                cache[_POOL] = self._pools[j - 1](source)
            shared.append(cache)
            total = None
            for i in range(j):
                e = _EDGE_INDEX[(i, j)]
                w = scalars[e]
                on = active[e]
                one = unit[e] if unit is not None else None
                terms = []
                if on[_SKIP]:
                    terms.append((_SKIP, nodes[i]))
                if on[_POOL]:
                    terms.append((_POOL, shared[i][_POOL]))
                if on[_CONV1]:
                    terms.append((_CONV1, _conv_bn(self._convs[e][0], shared[i][_CONV1])))
                if on[_CONV3]:
                    terms.append((_CONV3, _conv_bn(self._convs[e][1], shared[i][_CONV1])))
                for k, term in terms:
                    out = term if one is not None and one[k] else w[k] * term
                    total = out if total is None else total + out
            if total is None:
                total = torch.zeros_like(x)
            left_out = relaxation.left_out[j - 1]
            if left_out is not None:
                total = total + left_out
            nodes.append(total)
        return nodes[3]


def _conv_bn(op: nn.Module, relu: torch.Tensor) -> torch.Tensor:
    """A ReLU-conv-BN operation applied to its input's ReLU, computed by the caller."""
    return op[2](op[1](relu))


class Nb201Supernet(Nb201Network, SupernetModule):
    """The NAS-Bench-201 network around :class:`Nb201MixedCell` cells."""

    def __init__(self, *, in_channels: int, num_classes: int, C: int, N: int, affine: bool,
                 track_running_stats: bool) -> None:
        def make_cell(width: int) -> nn.Module:
            return configure_batch_norm(Nb201MixedCell(width), affine=affine,
                                        track_running_stats=track_running_stats)

        super().__init__(None, in_channels=in_channels, num_classes=num_classes, C=C, N=N,
                         make_cell=make_cell)
        self._standalone = partial(Nb201Network, in_channels=in_channels,
                                   num_classes=num_classes, C=C, N=N)
        self._mixed_cells = [m for m in self.cells if isinstance(m, Nb201MixedCell)]

    def set_path(self, arch: Architecture) -> None:
        for cell in self._mixed_cells:
            cell.set_path(arch)

    def set_relaxation(self, weights: Sequence[torch.Tensor]) -> None:
        """The relaxation with mixing ``weights``; one-hot rows that are not differentiated
        (a sampled architecture's weights' step, or a sample evaluated for its value only) run
        as that architecture's path: the same operations in the same order, so the same
        numbers, without the relaxation's bookkeeping."""
        (matrix,) = weights
        relaxation = Relaxation(matrix)
        if relaxation.unit is not None and all(
                sum(on) == 1 and any(one) for on, one in zip(relaxation.active, relaxation.unit,
                                                             strict=True)):
            self.set_path(tuple(row.index(True) for row in relaxation.unit))
            return
        for cell in self._mixed_cells:
            cell.set_relaxation(relaxation)

    def standalone(self, arch: Architecture) -> nn.Module:
        return self._standalone(arch)

    def shared_name(self, arch: Architecture, name: str) -> str:
        match = _EDGE_NAME.match(name)
        if match is None:
            return name
        op = OPS[arch[_EDGE_INDEX[(int(match[3]), int(match[2]))]]]
        return f"{match[1]}.{op}.{name[match.end():]}"
