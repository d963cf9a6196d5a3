"""An expected-latency term for the architecture loss of a differentiable search.

ProxylessNAS (Cai, Zhu & Han, ICLR 2019, eq. 5) and FBNet (Wu et al., CVPR 2019, eq. 2-3)
make latency differentiable through a per-operation latency lookup table
(:class:`~nasbench.latency_table.LatencyTable`): the expected latency of a cell under the
architecture distribution is the sum over its edges of ``softmax(alpha_e) . cost_e``, and
the architecture loss gains a term in it. Two forms, both of the released ProxylessNAS code
(``nas_manager.py``, ``add_regularization_loss``):

* ``add`` (``add#linear``): ``CE + weight * (E[LAT] - target) / target``;
* ``mul_log`` (``mul#log``, FBNet's form ``alpha CE log(LAT)^beta`` with the logarithm taken
  relative to the target): ``coefficient * CE * (log E[LAT] / log target) ^ weight``; both
  latencies must exceed 1 ms for the logarithms to be positive.

``target`` defaults to the expected latency under uniform weights (the mean architecture), so
that ``weight`` is unitless in both forms.

On NAS-Bench-201 every edge of the relaxation is an edge of the derived cell. In the DARTS cell,
node ``k`` keeps two of its ``k + 2`` incoming edges; the expected latency weights each edge's
cost by ``2 / (k + 2)``, the probability that a uniformly chosen pair keeps it (a linear
stand-in for the probability under the derivation, which is not differentiable). ``none``
costs nothing.

The term is computed on tensors the size of the architecture parameters, so adding it to a
DARTS step costs nothing measurable next to the supernet's passes
(``tests/bench/bench_latency_darts.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch

from nasbench.errors import ConfigError

if TYPE_CHECKING:
    from nasbench.latency_table import LatencyTable

Form = Literal["add", "mul_log"]


def relaxation_columns(space: str) -> tuple[tuple[str, ...], list[float]]:
    """The operation of each column of ``space``'s relaxation matrices, and each edge's
    keep factor (the weight of its cost in the expected latency)."""
    if space == "nb201":
        from nasbench.spaces.nb201 import EDGES, OPS

        return OPS, [1.0] * len(EDGES)
    if space == "darts":
        from nasbench.spaces.darts import PRIMITIVES, STEPS

        return PRIMITIVES, [2.0 / (k + 2) for k in range(STEPS) for _ in range(k + 2)]
    raise ValueError(f"no relaxation layout for space {space!r}")


def relaxation_costs(table: LatencyTable) -> list[torch.Tensor]:
    """The table's costs (ms) laid out as the space's relaxation matrices, one per cell kind,
    each edge's row scaled by its keep factor (see the module docstring)."""
    columns, keep = relaxation_columns(table.space)
    costs = table.edge_costs()
    out = []
    for kind in range(costs.shape[0]):
        matrix = torch.zeros(len(keep), len(columns), dtype=torch.float64)
        for j, op in enumerate(columns):
            if op in table.ops:
                matrix[:, j] = torch.from_numpy(costs[kind, :, table.ops.index(op)])
            elif op != "none":
                raise ConfigError("latency_table", f"has no cost for operation '{op}' of the "
                                  f"{table.space} relaxation",
                                  f"Build it from the full space: nasbench latency build "
                                  f"{table.space} --out FILE")
        out.append(matrix * torch.tensor(keep, dtype=torch.float64)[:, None])
    return out


def expected_latency(alpha: Sequence[torch.Tensor], costs: Sequence[torch.Tensor],
                     fixed_ms: float) -> torch.Tensor:
    """``fixed_ms + sum_e softmax(alpha_e) . cost_e`` (ms), differentiable in ``alpha``."""
    total = torch.tensor(fixed_ms, dtype=torch.float64)
    for a, c in zip(alpha, costs, strict=True):
        total = total + (torch.softmax(a.to(torch.float64), dim=-1) * c).sum()
    return total


@dataclass(frozen=True)
class LatencyLoss:
    """The latency term of one search: costs from a table, its form and weights.

    Attributes:
        costs: per relaxation matrix, the cost (ms) of each edge and operation.
        fixed_ms: the table's cost of everything that is not a choice.
        target_ms: the reference latency.
        form: ``add`` or ``mul_log``.
        weight: ``lambda`` of the additive form, the exponent ``beta`` of the multiplicative.
        coefficient: the multiplicative form's ``alpha``.
    """

    costs: tuple[torch.Tensor, ...]
    fixed_ms: float
    target_ms: float
    form: Form
    weight: float
    coefficient: float = 1.0

    @classmethod
    def from_table(cls, table: LatencyTable, *, form: Form, weight: float,
                   coefficient: float, target_ms: float | None) -> LatencyLoss:
        """The term for ``table``; ``target_ms`` defaults to the uniform expectation.

        Raises:
            ConfigError: for the multiplicative form when a latency reachable by the table,
                or the target, is at most 1 ms (the logarithms would not be positive).
        """
        costs = tuple(relaxation_costs(table))
        uniform = [torch.zeros(c.shape, dtype=torch.float64) for c in costs]
        target = (float(expected_latency(uniform, costs, table.fixed_ms))
                  if target_ms is None else float(target_ms))
        if form == "mul_log":
            lowest = table.fixed_ms + sum(float(c.min(dim=-1).values.sum()) for c in costs)
            if min(lowest, target) <= 1.0:
                raise ConfigError(
                    "latency_form", f"'mul_log' takes the logarithm of latencies in ms, and "
                    f"this table predicts {lowest:.3g} ms for its cheapest cell (target "
                    f"{target:.3g} ms)", "Use latency_form = \"add\", or a table measured at a "
                    "larger batch or input where every cell takes more than 1 ms.")
        return cls(costs, float(table.fixed_ms), target, form, weight, coefficient)

    def expected(self, alpha: Sequence[torch.Tensor]) -> torch.Tensor:
        """The expected latency (ms) under ``softmax(alpha)``."""
        return expected_latency(alpha, self.costs, self.fixed_ms)

    def combine(self, alpha: Sequence[torch.Tensor], loss: float,
                loss_grads: Sequence[torch.Tensor]) -> tuple[float, list[torch.Tensor]]:
        """The total architecture loss and its gradient with respect to ``alpha``, from the
        task loss ``loss`` and its gradient ``loss_grads`` (chain rule on small tensors)."""
        leaves = [a.detach().to(torch.float64).requires_grad_(True) for a in alpha]
        lat = self.expected(leaves)
        lat_grads = torch.autograd.grad(lat, leaves)
        value = float(lat.detach())
        if self.form == "add":
            scale = self.weight / self.target_ms
            total = loss + self.weight * (value - self.target_ms) / self.target_ms
            grads = [g + (scale * d).to(g.dtype)
                     for g, d in zip(loss_grads, lat_grads, strict=True)]
            return total, grads
        log_target = math.log(self.target_ms)
        ratio = math.log(value) / log_target
        factor = self.coefficient * ratio ** self.weight
        # d/dalpha [c CE r^b] = c r^b dCE + c CE b r^(b-1) dr, dr = dLAT / (LAT log target)
        lat_scale = (self.coefficient * loss * self.weight * ratio ** (self.weight - 1)
                     / (value * log_target))
        grads = [(factor * g) + (lat_scale * d).to(g.dtype)
                 for g, d in zip(loss_grads, lat_grads, strict=True)]
        return loss * factor, grads
