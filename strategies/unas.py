"""UNAS: differentiable architecture search meets reinforcement learning (Vahdat, Mallya, Liu &
Kautz, CVPR 2020).

UNAS samples a discrete architecture ``b`` (one operation per edge) from ``softmax(logits)``
and estimates the gradient of the expected objective in two parts:

* the **differentiable part**, the supernet's loss, by the Gumbel-softmax gradient of a relaxed
  sample (``estimator = "relaxed"``, the released code's ``default`` meta-loss) or by REBAR
  (``"rebar"``, the one its published commands use): REINFORCE on ``b`` with the relaxed
  samples as control variate, unbiased (:func:`~nasbench.supernet.estimators.rebar`, Tucker
  et al. 2017; the released code evaluates one conditional relaxed sample where REBAR
  evaluates two, and is cheaper but not unbiased);
* the **non-differentiable part**, a cost of ``b``'s network, by REINFORCE with a moving-
  average baseline: ``cost_weight (c(b) - baseline) grad log p(b)``. ``cost`` names it:
  ``params`` or ``flops`` of the stand-alone network at the supernet's size
  (:meth:`~nasbench.api.SupernetAccess.network_cost`), divided by the mean cost of
  ``cost_reference`` uniformly sampled architectures so that ``cost_weight`` is unitless
  (0.1: an average random architecture adds 0.1 to the loss). A measured latency belongs
  here once a latency table exists (the seam: another value of ``cost``). For spaces whose
  relaxation holds more edges than an architecture keeps (the DARTS cell), ``c(b)`` is the
  cost of the architecture the space derives from ``b``.

The objective (``objective``) is the loss on a minibatch of the architecture half of the
training split (``valid_loss``, the released ``--val_arch_update``), or UNAS's
**generalisation loss** (``generalisation``, the released ``--gen_error_alpha``):
``L_anchor + gen_lambda |L_val - L_train|`` over a minibatch of each half, where the anchor
is the training loss (``gen_anchor = "train"``, the released code's ``training_obj``) or the
validation loss (``"valid"``, "validation loss plus a penalty on the gap").

Shared weights train, as in the released ``train_search.py``, by Adam on the weights' half
with a relaxed sample at the same temperature (``w_sample = "relaxed"``; ``"hard"`` trains a
sampled path instead, the cost of one path), after ``warmup_epochs`` epochs of weight
training alone. Defaults are the released code's and its CIFAR-10 command
(``commands.sh``): 85 epochs (plus 15 of warm-up) of batch 32, weights by Adam 3e-4
cosine-annealed to 1e-4 with weight decay 3e-4 and gradient norm clipped to 5, logits by Adam
1e-3 cosine-annealed to 3e-4 with weight decay 1e-6, logits initialised at zero, temperature
0.4, REBAR, the generalisation loss with lambda 0.5; the latency coefficient 0.1 is the
released default of ``--latency_coeff``, with the baseline decay of its moving average 0.9.

Departures, all documented choices: one architecture is sampled per minibatch (the released
code samples one per example unless ``--same_alpha_minibatch``); the data split is DARTS's
halves, not 90/10; the entropy and paired-input terms of the released factorised DARTS cell
are not part of this space's relaxation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from nasbench.strategies.oneshot import AnytimeParams, cosine_recipe
from nasbench.strategies.sampled import SampledOneShot

from nasbench.api import Architecture
from nasbench.hookspecs import hookimpl
from nasbench.params import param


@dataclass(frozen=True)
class UnasParams(AnytimeParams):
    estimator: Literal["rebar", "relaxed"] = param(
        "rebar", doc="gradient of the differentiable part: REBAR (unbiased) or the relaxed "
        "Gumbel-softmax gradient", published="UNAS commands.sh: --meta_loss rebar")
    objective: Literal["valid_loss", "generalisation"] = param(
        "generalisation", doc="the loss the architecture minimises (see the module docstring)",
        published="UNAS commands.sh: --gen_error_alpha")
    gen_lambda: float = param(0.5, doc="weight of |L_val - L_train| in the generalisation loss",
                              ge=0, published="UNAS commands.sh: --gen_error_alpha_lambda 0.5")
    gen_anchor: Literal["train", "valid"] = param(
        "train", doc="the loss the gap penalty is added to", published="UNAS code: train")
    cost: Literal["flops", "params"] = param(
        "flops", doc="the non-differentiable cost of a sampled architecture")
    cost_weight: float = param(0.0, doc="weight of the relative cost (0: accuracy only)", ge=0,
                               published="UNAS code: --latency_coeff 0.1 when a target "
                               "latency is set, else no cost")
    cost_reference: int = param(16, doc="uniform architectures whose mean cost is the unit",
                                ge=1)
    baseline_decay: float = param(0.9, doc="decay of the cost's moving-average baseline",
                                  ge=0, lt=1, published="UNAS code: 0.9 (ExpMovingAvgrageMeter)")
    rebar_eta: float = param(1.0, doc="weight of REBAR's control variate", ge=0,
                             published="Tucker et al. 2017: learned; UNAS: 1")
    epochs: int = param(85, doc="epochs of search after the warm-up", ge=1,
                        published="UNAS train_search.py: 85")
    warmup_epochs: int = param(15, doc="epochs of weight training before the search", ge=0,
                               published="UNAS train_search.py: --init_epochs 15")
    batch_size: int = param(32, doc="examples per step, in each half", ge=2,
                            published="UNAS train_search.py: 32")
    w_sample: Literal["relaxed", "hard"] = param(
        "relaxed", doc="the weights train on a relaxed sample (every operation) or a sampled "
        "path", published="UNAS code: relaxed")
    w_lr: float = param(3e-4, doc="Adam learning rate of the shared weights", gt=0,
                        published="UNAS train_search.py: 3e-4")
    w_lr_min: float = param(1e-4, doc="learning rate at the end of the cosine schedule", ge=0,
                            published="UNAS train_search.py: 1e-4")
    w_weight_decay: float = param(3e-4, doc="weight decay of the shared weights", ge=0,
                                  published="UNAS train_search.py: 3e-4")
    grad_clip: float = param(5.0, doc="clip the weights' gradient norm to this (0: off)", ge=0,
                             published="UNAS train_search.py: 5")
    alpha_lr: float = param(1e-3, doc="initial Adam learning rate of the logits", gt=0,
                            published="UNAS commands.sh: --arch_learning_rate 1e-3")
    alpha_lr_min: float = param(3e-4, doc="logits' learning rate at the end of the cosine "
                                "schedule", ge=0, published="UNAS train_search.py: 3e-4")
    alpha_beta1: float = param(0.9, doc="Adam beta1 of the logits (beta2 = 0.999)", ge=0,
                               lt=1, published="UNAS code: torch's default 0.9")
    alpha_weight_decay: float = param(1e-6, doc="weight decay of the logits", ge=0,
                                      published="UNAS train_search.py: 1e-6")
    alpha_init: float = param(0.0, doc="logits start at this times N(0, 1)", ge=0,
                              published="UNAS code: zeros")
    tau_schedule: Literal["linear", "exponential", "constant"] = param(
        "constant", doc="how the temperature moves from tau_start to tau_end")
    tau_start: float = param(0.4, doc="temperature (of the first epoch)", gt=0,
                             published="UNAS train_search.py: --gumbel_soft_temp 0.4")
    tau_end: float = param(0.4, doc="temperature of the last epoch", gt=0)


class Unas(SampledOneShot):
    """UNAS: REBAR or relaxed gradients for the loss, REINFORCE for a network cost."""

    name: ClassVar[str] = "unas"
    summary: ClassVar[str] = ("UNAS: sampled one-shot search with REBAR/Gumbel-softmax and "
                              "REINFORCE for non-differentiable costs (Vahdat et al. 2020)")
    Params: ClassVar[type] = UnasParams
    supernet_gradient: ClassVar[bool] = True
    w_split: ClassVar[str] = "w"

    def recipe(self) -> Any:
        p = self.params
        return cosine_recipe(p.batch_size, optimizer="adam", lr=p.w_lr, lr_min=p.w_lr_min,
                             momentum=0.9, nesterov=False, weight_decay=p.w_weight_decay,
                             grad_clip=p.grad_clip)

    def setup(self, space: Any, rng: Any, context: Any) -> None:
        super().setup(space, rng, context)
        # The schedule covers the warm-up too: the base class trains epochs x steps.
        self.search_start = self.params.warmup_epochs * self.steps_per_epoch
        self.total_steps = self.search_start + self.params.epochs * self.steps_per_epoch
        self.supernet.configure(self.recipe(), self.total_steps)

    def prepare(self) -> None:
        from nasbench.supernet.estimators import EmaBaseline

        super().prepare()
        p = self.params
        self.baseline = EmaBaseline(p.baseline_decay)
        self.costs: list[float] = []
        self.cost_unit = 1.0
        if p.cost_weight > 0:
            reference = [self.supernet.network_cost(self.space.sample(self.rng), p.cost)
                         for _ in range(p.cost_reference)]
            self.cost_unit = max(sum(reference) / len(reference), 1e-12)

    @property
    def epoch(self) -> int:
        return max(0, self.step - self.search_start) // self.steps_per_epoch

    # -- a step ---------------------------------------------------------------------------------
    def train_step(self) -> None:
        p = self.params
        supernet = self.supernet
        tau = self.temperature()
        if self.step >= self.search_start and self._architecture_step(tau):
            supernet.step_weights()  # the weights' gradient came with the objective's pass
            return
        weights = self.relaxed_sample(tau) if p.w_sample == "relaxed" else self.hard_sample()
        supernet.train_step(supernet.batch("w", p.batch_size), weights=weights)

    def _architecture_step(self, tau: float) -> bool:
        """One step of the logits; whether it left the shared weights' gradient of their
        training step (see :meth:`_objective`)."""
        from nasbench.supernet.estimators import rebar, relaxed, score

        p = self.params
        self._set_alpha_lr()
        objective, fused = self._objective()
        if p.estimator == "rebar":
            estimate = rebar(self.logits, objective, self.rng, tau=tau, eta=p.rebar_eta)
        else:
            estimate = relaxed(self.logits, objective, self.rng, tau=tau)
        grads = estimate.grad
        if p.cost_weight > 0:
            cost = self.cost_of(estimate.sample)
            self.costs.append(cost)
            advantage = p.cost_weight * (cost - self.baseline.value)
            self.baseline.update(cost)
            grads = [g + advantage * s for g, s in zip(grads, score(self.logits, estimate.sample),
                                                       strict=True)]
        self.apply(grads)
        return bool(fused)

    def _set_alpha_lr(self) -> None:
        """The logits' learning rate, cosine-annealed per epoch over the search epochs."""
        p = self.params
        t = min(self.epoch, p.epochs) / p.epochs
        lr = p.alpha_lr_min + 0.5 * (p.alpha_lr - p.alpha_lr_min) * (1 + math.cos(math.pi * t))
        for group in self.alpha_optimizer.param_groups:
            group["lr"] = lr

    def _objective(self) -> tuple[Any, list[bool]]:
        """The estimator's objective, and a flag set once it has also accumulated the shared
        weights' gradient.

        The generalisation loss evaluates the relaxed sample on a training minibatch, the
        very pass the released code's weight step repeats (same sample, same minibatch, same
        weights): with ``w_sample = "relaxed"`` the first relaxed evaluation keeps the shared
        weights' gradient, and the weights step once the architecture step is done.
        """
        p = self.params
        supernet = self.supernet
        valid_batch = supernet.batch("alpha", p.batch_size)
        fused: list[bool] = []
        if p.objective == "valid_loss":
            return self.objective(valid_batch), fused
        train_batch = supernet.batch("w", p.batch_size)
        lam, anchor = p.gen_lambda, p.gen_anchor
        fuse = p.w_sample == "relaxed"

        def generalisation(weights: list[Any], need_grad: bool
                           ) -> tuple[float, list[Any] | None]:
            keep = fuse and need_grad and not fused
            lt, gt = supernet.mixture_gradient(weights, train_batch, need_grad=need_grad,
                                               accumulate=keep)
            if keep:
                fused.append(True)
            lv, gv = supernet.mixture_gradient(weights, valid_batch, need_grad=need_grad)
            gap = lv - lt
            sign = 1.0 if gap > 0 else -1.0 if gap < 0 else 0.0
            value = (lt if anchor == "train" else lv) + lam * abs(gap)
            if not need_grad:
                return value, None
            assert gt is not None and gv is not None
            a_t, a_v = (1.0, 0.0) if anchor == "train" else (0.0, 1.0)
            grads = [(a_t - lam * sign) * t + (a_v + lam * sign) * v
                     for t, v in zip(gt, gv, strict=True)]
            return value, grads

        return generalisation, fused

    def cost_of(self, sample: list[Any]) -> float:
        """The relative cost of the architecture the space derives from a one-hot sample."""
        arch: Architecture = self.space.derive([s.numpy() for s in sample])
        return self.supernet.network_cost(arch, self.params.cost) / self.cost_unit

    # -- record ---------------------------------------------------------------------------------
    def diagnostics(self) -> dict[str, float]:
        out = super().diagnostics()
        if self.costs:
            out["cost_mean"] = float(sum(self.costs) / len(self.costs))
            out["cost_last"] = self.costs[-1]
        return out

    def own_state(self) -> dict[str, Any]:
        return {**super().own_state(), "baseline": self.baseline.state_dict(),
                "costs": list(self.costs), "cost_unit": self.cost_unit}

    def load_own_state(self, state: Any) -> None:
        super().load_own_state(state)
        self.baseline.load_state_dict(state["baseline"])
        self.costs = [float(c) for c in state["costs"]]
        self.cost_unit = float(state["cost_unit"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(Unas)
