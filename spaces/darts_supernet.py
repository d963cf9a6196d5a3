"""The DARTS supernet: the search network of Liu et al. (ICLR 2019, ``model_search.py``).

The macro structure is :class:`~nasbench.spaces.darts_net.DartsNetwork`'s (stem, cells with
two reductions, preprocessing, classifier). In every cell, intermediate node k has an edge
from each of the k + 2 earlier states (14 edges per cell), and every edge holds all eight
operations. On one path, node k sums its architecture's two operations exactly as
:class:`~nasbench.spaces.darts_net.DartsCell` does; in the relaxation, it sums
``softmax(alpha)_e,o * op_o(state)`` over all its edges and operations, one matrix (14, 8) for
normal cells and one for reduction cells.

As in the released search code, pooling operations may be followed by a non-affine batch norm
(``pool_bn``), which puts them on the scale of the other operations; stand-alone networks have
none, so a supernet extracts networks only without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from nasbench.api import Architecture
from nasbench.supernet.module import SupernetModule, configure_batch_norm, mixed, unit_weights

from .darts import CELLS, EDGE_OFFSETS, PRIMITIVES, STEPS, DartsSpace
from .darts_net import DartsNetwork, darts_op
from .ops import FactorizedReduce, ReLUConvBN, Zero

_NONE = PRIMITIVES.index("none")
_OP_NAME = re.compile(r"(cells\.(\d+))\.ops\.(\d+)\.")
"""An edge's module in the stand-alone network: ``cells.<cell>.ops.<edge>.``"""


def _search_op(name: str, channels: int, stride: int, pool_bn: bool) -> nn.Module:
    op = darts_op(name, channels, stride)
    if pool_bn and "pool" in name:
        return nn.Sequential(op, nn.BatchNorm2d(channels))
    return op


class DartsMixedCell(nn.Module):
    """A normal or reduction cell holding every operation on every edge."""

    def __init__(self, c_prev_prev: int, c_prev: int, channels: int, *, reduction: bool,
                 reduction_prev: bool, pool_bn: bool) -> None:
        super().__init__()
        self.preprocess0 = (FactorizedReduce(c_prev_prev, channels) if reduction_prev
                            else ReLUConvBN(c_prev_prev, channels, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, 1, 0)
        self.edges = nn.ModuleList()
        self._zeros = {1: Zero(1), 2: Zero(2)}
        """``none`` on a path: zeros (the relaxation never computes it)."""
        self._strides: list[int] = []
        for step in range(STEPS):
            for source in range(step + 2):
                stride = 2 if reduction and source < 2 else 1
                self._strides.append(stride)
                self.edges.append(nn.ModuleDict({
                    op: _search_op(op, channels, stride, pool_bn)
                    for op in PRIMITIVES if op != "none"
                }))
        self._ops = [[(k, edge[op]) for k, op in enumerate(PRIMITIVES) if k != _NONE]
                     for edge in self.edges]
        self._path: list[tuple[tuple[int, nn.Module], tuple[int, nn.Module]]] = []
        self._weights: torch.Tensor | None = None
        self._active: list[list[bool]] = []
        self._unit: list[list[bool]] | None = None
        self.out_channels = STEPS * channels

    def set_path(self, edges: Sequence[tuple[str, int]]) -> None:
        """Run the genotype ``edges``: ``(op, input)`` for node 2's two edges, node 3's, ..."""
        path = []
        for step in range(STEPS):
            pair = []
            for op, source in edges[2 * step:2 * step + 2]:
                e = EDGE_OFFSETS[step] + source
                module = self._zeros[self._strides[e]] if op == "none" else self.edges[e][op]
                pair.append((source, module))
            path.append((pair[0], pair[1]))
        self._path = path
        self._weights = None

    def set_relaxation(self, weights: torch.Tensor) -> None:
        """Mixing weights, one row per edge; operations of weight exactly zero are not
        computed (a one-hot row runs one operation, as GDAS's sampled forward does)."""
        self._weights = weights
        self._active = (weights != 0).tolist()
        self._unit = unit_weights(weights)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0
                ) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        weights = self._weights
        for step in range(STEPS):
            if weights is None:
                (a, op_a), (b, op_b) = self._path[step]
                states.append(op_a(states[a]) + op_b(states[b]))
                continue
            total = None
            for source in range(step + 2):
                e = EDGE_OFFSETS[step] + source
                ops = [(k, op) for k, op in self._ops[e] if self._active[e][k]]
                out = mixed(ops, weights[e], states[source],
                            None if self._unit is None else self._unit[e])
                if out is not None:
                    total = out if total is None else total + out
            if total is None:  # every weight of every incoming edge is zero
                total = self._zeros[self._strides[EDGE_OFFSETS[step]]](states[0])
            states.append(total)
        return torch.cat(states[2:], dim=1)


class DartsSupernet(DartsNetwork, SupernetModule):
    """DARTS's network around :class:`DartsMixedCell` cells (no auxiliary head)."""

    def __init__(self, space: DartsSpace, *, input_shape: tuple[int, ...], num_classes: int,
                 C: int, layers: int, affine: bool, track_running_stats: bool,
                 pool_bn: bool) -> None:
        kinds: list[str] = []

        def make_cell(kind: str, c_prev_prev: int, c_prev: int, channels: int, *,
                      reduction: bool, reduction_prev: bool) -> nn.Module:
            kinds.append(kind)
            cell = DartsMixedCell(c_prev_prev, c_prev, channels, reduction=reduction,
                                  reduction_prev=reduction_prev, pool_bn=pool_bn)
            return configure_batch_norm(cell, affine=affine,
                                        track_running_stats=track_running_stats)

        super().__init__(None, input_shape=input_shape, num_classes=num_classes, C=C,
                         layers=layers, auxiliary=False, make_cell=make_cell)
        self.space = space
        self.pool_bn = pool_bn
        self._standalone = partial(DartsNetwork, input_shape=input_shape,
                                   num_classes=num_classes, C=C, layers=layers,
                                   auxiliary=False)
        self._kinds = kinds

    def set_path(self, arch: Architecture) -> None:
        genotype = self.space.genotype(arch)
        for cell, kind in zip(self.cells, self._kinds, strict=True):
            cell.set_path(genotype[kind])

    def set_relaxation(self, weights: Sequence[torch.Tensor]) -> None:
        by_kind = dict(zip(CELLS, weights, strict=True))
        for cell, kind in zip(self.cells, self._kinds, strict=True):
            cell.set_relaxation(by_kind[kind])

    def network_for_cost(self, arch: Architecture) -> nn.Module:
        """The stand-alone network of ``arch`` (whatever ``pool_bn``: it only counts)."""
        return self._standalone(self.space.genotype(arch))

    def standalone(self, arch: Architecture) -> nn.Module:
        if self.pool_bn:
            raise ValueError("a supernet with pool_bn = true has batch norms after pooling "
                             "that stand-alone networks lack; build it with pool_bn = false "
                             "to extract networks")
        return self._standalone(self.space.genotype(arch))

    def shared_name(self, arch: Architecture, name: str) -> str:
        match = _OP_NAME.match(name)
        if match is None:
            return name
        cell, edge = int(match[2]), int(match[3])
        op, source = self.space.genotype(arch)[self._kinds[cell]][edge]
        return f"{match[1]}.edges.{EDGE_OFFSETS[edge // 2] + source}.{op}.{name[match.end():]}"
