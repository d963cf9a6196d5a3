"""DARTS: differentiable architecture search (Liu, Simonyan & Yang, ICLR 2019).

Every edge of the supernet computes the softmax(alpha)-weighted sum of its operations. The
training split is cut in two halves: the shared weights w learn on one (SGD), the architecture
parameters alpha on the other (Adam). Each step first moves alpha, then w:

* first order (``order = 1``): alpha's gradient is that of the loss on the alpha half at the
  current w;
* second order (``order = 2``): at ``w' = w - xi grad_w L_w(w, alpha)``, one virtual step of w's
  optimiser (momentum and weight decay included), with the Hessian-vector product of the
  implicit term by finite differences (the released ``architect.py``; see
  :mod:`nasbench.supernet.handle`).

The architecture is derived from alpha by the space (:meth:`~nasbench.api.SearchSpace.derive`):
on NAS-Bench-201 every edge keeps its strongest operation; in the DARTS cell each node keeps
its two strongest incoming edges, each with its strongest operation other than ``none``.
Known failure: on NAS-Bench-201 DARTS drifts to cells of skip connections (Dong & Yang, ICLR
2020, report 54.30% CIFAR-10 test accuracy for the cell both orders find).

Hardware-aware search (FBNet / ProxylessNAS): with ``latency_weight > 0`` and a per-operation
latency table (``latency_table``, from ``nasbench latency build``), the architecture loss gains
the cell's expected latency under ``softmax(alpha)``, additively (ProxylessNAS) or
multiplicatively (FBNet's ``alpha CE log(LAT)^beta``); see
:mod:`nasbench.supernet.latency_loss`. ``latency_weight = 0`` is plain DARTS, step for step.

Defaults are the released ``train_search.py``'s (CIFAR-10): 50 epochs of batch 64, w by SGD
(learning rate 0.025 cosine-annealed to 0.001, momentum 0.9, weight decay 3e-4, gradient norm
clipped to 5), alpha by Adam (3e-4, betas (0.5, 0.999), weight decay 1e-3), alpha initialised
at 1e-3 N(0, 1).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from nasbench.strategies.oneshot import (
    AnytimeParams,
    OneShotStrategy,
    architecture_logits,
    cosine_recipe,
)

from nasbench.api import Architecture
from nasbench.errors import ConfigError
from nasbench.hookspecs import hookimpl
from nasbench.params import param


@dataclass(frozen=True)
class DartsParams(AnytimeParams):
    order: Literal[1, 2] = param(
        1, doc="1: alpha's gradient at the current weights; 2: through one unrolled step of "
        "the weights (finite-difference Hessian-vector product)",
        published="Liu et al. 2019 report both; train_search.py defaults to first order "
        "(--unrolled off)")
    epochs: int = param(50, doc="epochs over the weights' half of the training split", ge=1,
                        published="Liu et al. 2019: 50")
    batch_size: int = param(64, doc="examples per step, in each half", ge=2,
                            published="Liu et al. 2019: 64")
    w_lr: float = param(0.025, doc="initial learning rate of the shared weights", gt=0,
                        published="Liu et al. 2019: 0.025")
    w_lr_min: float = param(0.001, doc="learning rate at the end of the cosine schedule", ge=0,
                            published="Liu et al. 2019: 0.001")
    w_momentum: float = param(0.9, doc="SGD momentum of the shared weights", ge=0, lt=1,
                              published="Liu et al. 2019: 0.9")
    w_weight_decay: float = param(3e-4, doc="weight decay of the shared weights", ge=0,
                                  published="Liu et al. 2019: 3e-4")
    grad_clip: float = param(5.0, doc="clip the weights' gradient norm to this (0: off)", ge=0,
                             published="Liu et al. 2019: 5")
    alpha_lr: float = param(3e-4, doc="Adam learning rate of the architecture parameters",
                            gt=0, published="Liu et al. 2019: 3e-4")
    alpha_beta1: float = param(0.5, doc="Adam beta1 of the architecture parameters (beta2 = "
                               "0.999)", ge=0, lt=1, published="Liu et al. 2019: 0.5")
    alpha_weight_decay: float = param(1e-3, doc="weight decay of the architecture parameters",
                                      ge=0, published="Liu et al. 2019: 1e-3")
    alpha_init: float = param(1e-3, doc="architecture parameters start at this times N(0, 1)",
                              ge=0, published="Liu et al. 2019 (code): 1e-3")
    xi: float | None = param(
        None, doc="step size of the unrolled step (second order); default: the weights' "
        "current learning rate", gt=0, published="Liu et al. 2019 (code): the current "
        "learning rate")
    latency_weight: float = param(
        0.0, doc="weight of the expected-latency term (0: plain DARTS): lambda of the 'add' "
        "form, the exponent beta of the 'mul_log' form", ge=0,
        published="ProxylessNAS code: lambda 0.1 (add#linear), beta 0.3 (mul#log); FBNet "
        "(Wu et al. 2019): beta 0.6")
    latency_form: Literal["add", "mul_log"] = param(
        "add", doc="'add': CE + weight (E[LAT] - target) / target; 'mul_log': latency_alpha "
        "CE (log E[LAT] / log target)^weight", published="ProxylessNAS code: both (add#linear, "
        "mul#log); FBNet: the multiplicative form")
    latency_alpha: float = param(
        0.2, doc="coefficient of the 'mul_log' form", gt=0,
        published="FBNet (Wu et al. 2019): 0.2; ProxylessNAS code: 0.2")
    latency_table: str | None = param(
        None, doc="per-operation latency table (JSON of 'nasbench latency build') the expected "
        "latency is computed from; required when latency_weight > 0")
    latency_target: float | None = param(
        None, doc="reference latency in ms; default: the table's expected latency under "
        "uniform weights (the mean architecture)", gt=0,
        published="ProxylessNAS code: 80 ms (mobile, ref_value)")

    def check(self) -> None:
        if self.latency_weight > 0 and self.latency_table is None:
            raise ConfigError("latency_table", "is required when latency_weight > 0",
                              "Build one with: nasbench latency build SPACE --out FILE, and "
                              "set latency_table = \"FILE\" (or latency_weight = 0).")


class Darts(OneShotStrategy):
    """DARTS, first or second order, on any space with a continuous relaxation."""

    name: ClassVar[str] = "darts"
    summary: ClassVar[str] = "DARTS: gradient descent on a continuous relaxation (Liu 2019)"
    Params: ClassVar[type] = DartsParams
    supernet_gradient: ClassVar[bool] = True
    w_split: ClassVar[str] = "w"

    def recipe(self) -> Any:
        p = self.params
        return cosine_recipe(p.batch_size, lr=p.w_lr, lr_min=p.w_lr_min, momentum=p.w_momentum,
                             nesterov=False, weight_decay=p.w_weight_decay,
                             grad_clip=p.grad_clip)

    def prepare(self) -> None:
        p = self.params
        self.alpha, self.alpha_optimizer = architecture_logits(
            self.space, self.rng, init=p.alpha_init, lr=p.alpha_lr, beta1=p.alpha_beta1,
            weight_decay=p.alpha_weight_decay)
        self.latency_loss = None
        if p.latency_table is not None:
            from nasbench.latency_table import LatencyTable
            from nasbench.supernet.latency_loss import LatencyLoss

            table = LatencyTable.load(p.latency_table, key="latency_table")
            table.check_space(self.space.name, key="latency_table")
            if p.latency_weight > 0:
                self.latency_loss = LatencyLoss.from_table(
                    table, form=p.latency_form, weight=p.latency_weight,
                    coefficient=p.latency_alpha, target_ms=p.latency_target)

    def train_step(self) -> None:
        p = self.params
        supernet = self.supernet
        self.step_on(supernet.batch("w", p.batch_size), supernet.batch("alpha", p.batch_size))

    def step_on(self, w_batch: Any, alpha_batch: Any) -> None:
        """One DARTS step on given minibatches: alpha on ``alpha_batch``, then w on
        ``w_batch``."""
        p = self.params
        supernet = self.supernet
        self.alpha_optimizer.zero_grad(set_to_none=True)
        loss = supernet.alpha_gradient(self.alpha, alpha_batch, w_batch=w_batch,
                                       order=p.order, xi=p.xi)
        if self.latency_loss is not None:
            _, grads = self.latency_loss.combine(self.alpha, loss, [a.grad for a in self.alpha])
            for a, g in zip(self.alpha, grads, strict=True):
                a.grad = g
        self.alpha_optimizer.step()
        supernet.train_step(w_batch, alpha=self.alpha)

    def expected_latency(self) -> float | None:
        """The cell's expected latency (ms) under the current weights, when a latency term
        is on."""
        import torch

        if self.latency_loss is None:
            return None
        with torch.no_grad():
            return float(self.latency_loss.expected(self.alpha))

    def weights(self) -> list[Any]:
        """softmax(alpha) of each relaxation matrix, as NumPy arrays."""
        import torch

        with torch.no_grad():
            return [torch.softmax(a, dim=-1).numpy() for a in self.alpha]

    def answer(self) -> Architecture:
        return self.space.derive(self.weights())

    def own_state(self) -> dict[str, Any]:
        return {"alpha": [a.detach().clone() for a in self.alpha],
                "optimizer": copy.deepcopy(self.alpha_optimizer.state_dict())}

    def load_own_state(self, state: Mapping[str, Any]) -> None:
        import torch

        with torch.no_grad():
            for a, saved in zip(self.alpha, state["alpha"], strict=True):
                a.copy_(saved)
        self.alpha_optimizer.load_state_dict(state["optimizer"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(Darts)
