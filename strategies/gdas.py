"""GDAS: gradient-based search with a differentiable architecture sampler (Dong & Yang,
"Searching for a Robust Neural Architecture in Four GPU Hours", CVPR 2019), and SNAS's
relaxed variant (Xie, Zheng, Liu & Lin, "SNAS: Stochastic Neural Architecture Search", ICLR
2019).

``variant = "gdas"`` (the default). Every edge samples one operation with the Gumbel-max
trick; the supernet runs only the sampled operations (one per edge, the cost of one path),
and the architecture gradient is the straight-through one: the loss's gradient with respect
to the sampled one-hot weights, passed back through ``softmax((logits + g) / tau)``
(:func:`~nasbench.supernet.estimators.straight_through`). Each step, as in the released
``GDAS.py``, first trains the shared weights on a sampled path with a minibatch of the
weights' half of the training split, then the logits on a fresh sample with a minibatch of
the other half. The temperature falls linearly from ``tau_start`` to ``tau_end`` over the
epochs. As in the released code, an unsampled operation is not computed, and what its weight
receives depends on the space: on NAS-Bench-201 (``forward_gdas`` of its search cell) the
weight, zero in value, is still added to the edge's output, so its gradient is the sum of the
node's output gradient and every logit moves each step; in the DARTS cell (``MixedOp``'s
``forward_gdas``) only the sampled operation's weight enters the output. The supernets
reproduce both (:meth:`~nasbench.api.SupernetAccess.mixture_gradient`).

Defaults are NAS-Bench-201's GDAS run (``configs/nas-benchmark/algos/GDAS.config`` and
``scripts-search/algos/GDAS.sh`` of the released AutoDL-Projects): 240 epochs of batch 64,
shared weights by SGD (learning rate 0.025 cosine-annealed to 0.001, Nesterov momentum 0.9,
weight decay 5e-4), logits by Adam (3e-4, betas (0.5, 0.999), weight decay 1e-3), ``tau``
from 10 to 0.1.

``variant = "snas"``. SNAS samples relaxed weights ``softmax((logits + g) / tau)`` (every
operation computed, as in DARTS) and trains the shared weights and the logits together on the
same training loss (single level, the whole training split): one forward and backward pass
gives both gradients. SNAS's schedule is not stated in its paper; the defaults for this
variant, an initial temperature of 1 annealed to 0.33, are those of the confopt library's
``SNASSampler``; the other defaults stay DARTS's (50 epochs of batch 64, SGD 0.025 to 0.001,
momentum 0.9, weight decay 3e-4, Adam 3e-4 for the logits). The resource constraint of SNAS is
not implemented (see ``unas`` for a cost term).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from nasbench.strategies.oneshot import AnytimeParams, cosine_recipe
from nasbench.strategies.sampled import SampledOneShot

from nasbench.hookspecs import hookimpl
from nasbench.params import param

VARIANT_DEFAULTS: dict[str, dict[str, Any]] = {
    "gdas": {"epochs": 240, "w_weight_decay": 5e-4, "w_nesterov": True, "tau_start": 10.0,
             "tau_end": 0.1},
    "snas": {"epochs": 50, "w_weight_decay": 3e-4, "w_nesterov": False, "tau_start": 1.0,
             "tau_end": 0.33},
}
"""Defaults that differ between the variants (see the module docstring)."""


@dataclass(frozen=True)
class GdasParams(AnytimeParams):
    variant: Literal["gdas", "snas"] = param(
        "gdas", doc="gdas: straight-through hard samples, bilevel; snas: relaxed samples, "
        "weights and logits on the same training loss")
    epochs: int | None = param(
        None, doc="epochs of supernet training (default per variant)", ge=1,
        published="GDAS on NAS-Bench-201 (GDAS.config): 240; SNAS variant: DARTS's 50")
    batch_size: int = param(64, doc="examples per step (in each half for gdas)", ge=2,
                            published="Dong & Yang 2019 (GDAS.config): 64")
    w_lr: float = param(0.025, doc="initial learning rate of the shared weights", gt=0,
                        published="GDAS.config: 0.025")
    w_lr_min: float = param(0.001, doc="learning rate at the end of the cosine schedule",
                            ge=0, published="GDAS.config: 0.001")
    w_momentum: float = param(0.9, doc="SGD momentum of the shared weights", ge=0, lt=1,
                              published="GDAS.config: 0.9")
    w_nesterov: bool | None = param(None, doc="Nesterov momentum (default per variant)",
                                    published="GDAS.config: true")
    w_weight_decay: float | None = param(
        None, doc="weight decay of the shared weights (default per variant)", ge=0,
        published="GDAS.config: 5e-4; DARTS: 3e-4")
    grad_clip: float = param(5.0, doc="clip the weights' gradient norm to this (0: off)", ge=0,
                             published="GDAS.py: 5")
    alpha_lr: float = param(3e-4, doc="Adam learning rate of the logits", gt=0,
                            published="GDAS.sh: --arch_learning_rate 0.0003")
    alpha_beta1: float = param(0.5, doc="Adam beta1 of the logits (beta2 = 0.999)", ge=0,
                               lt=1, published="GDAS.py: (0.5, 0.999)")
    alpha_weight_decay: float = param(1e-3, doc="weight decay of the logits", ge=0,
                                      published="GDAS.sh: --arch_weight_decay 0.001")
    alpha_init: float = param(1e-3, doc="logits start at this times N(0, 1)", ge=0,
                              published="GDAS code: 1e-3")
    tau_schedule: Literal["linear", "exponential", "constant"] = param(
        "linear", doc="how the temperature moves from tau_start to tau_end over the epochs",
        published="GDAS.py: linear per epoch")
    tau_start: float | None = param(None, doc="temperature of the first epoch (default per "
                                    "variant)", gt=0, published="GDAS.sh: --tau_max 10")
    tau_end: float | None = param(None, doc="temperature of the last epoch (default per "
                                  "variant)", gt=0, published="GDAS.sh: --tau_min 0.1")

    def __post_init__(self) -> None:
        for key, value in VARIANT_DEFAULTS[self.variant].items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)


class Gdas(SampledOneShot):
    """GDAS (straight-through Gumbel-softmax) or SNAS (relaxed Gumbel-softmax)."""

    name: ClassVar[str] = "gdas"
    summary: ClassVar[str] = ("GDAS / SNAS: Gumbel-softmax sampled one-shot search (Dong & "
                              "Yang 2019; Xie et al. 2019)")
    Params: ClassVar[type] = GdasParams
    supernet_gradient: ClassVar[bool] = True

    @property
    def w_split(self) -> str:  # type: ignore[override]
        return "w" if self.params.variant == "gdas" else "train"

    def recipe(self) -> Any:
        p = self.params
        return cosine_recipe(p.batch_size, lr=p.w_lr, lr_min=p.w_lr_min, momentum=p.w_momentum,
                             nesterov=bool(p.w_nesterov), weight_decay=p.w_weight_decay,
                             grad_clip=p.grad_clip)

    def train_step(self) -> None:
        from nasbench.supernet.estimators import relaxed, straight_through

        p = self.params
        tau = self.temperature()
        supernet = self.supernet
        if p.variant == "gdas":
            supernet.train_step(supernet.batch("w", p.batch_size), weights=self.hard_sample())
            estimate = straight_through(self.logits,
                                        self.objective(supernet.batch("alpha", p.batch_size)),
                                        self.rng, tau=tau)
        else:
            batch = supernet.batch("train", p.batch_size)

            def joint(weights: list[Any], need_grad: bool) -> tuple[float, list[Any] | None]:
                return supernet.mixture_gradient(weights, batch, need_grad=need_grad,
                                                 train=True)

            estimate = relaxed(self.logits, joint, self.rng, tau=tau)
        self.apply(estimate.grad)


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(Gdas)
