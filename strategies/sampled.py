"""What the sampling one-shot strategies (``gdas``, ``unas``) share: categorical logits over
the supernet's relaxation, their optimiser, a temperature schedule, and a record of how noisy
their gradient estimates are.

Each row of each relaxation matrix (:meth:`~nasbench.api.SearchSpace.relaxation_shapes`) is a
categorical distribution ``softmax(logits)`` over the operations of one edge. A step samples
from it (Gumbel noise from the run's generator), has the supernet handle evaluate the sample
(:meth:`~nasbench.api.SupernetAccess.mixture_gradient`) and moves the logits with an estimate
of the gradient of the expected objective (:mod:`nasbench.supernet.estimators`). The answer is
the space's derivation from ``softmax(logits)``, as for DARTS.

Gradient-estimate variance: the estimates of the steps between two proposals are collected
(their running mean and variance); the trace of their sample covariance, the sum over logits
of the variance, is the window's variance. It mixes the estimator's noise with the minibatch's
and with the drift of the true gradient over the window, so it compares estimators at equal
step counts, not in absolute terms. :meth:`SampledOneShot.diagnostics` reports its mean over
windows, its last value, and the mean norm of the estimates, in the run's summary
(``strategy.grad_variance`` ... in ``runs.parquet``).

All state is plain data (numbers, lists, dicts, NumPy arrays).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nasbench.strategies.oneshot import OneShotStrategy, architecture_logits

from nasbench.api import Architecture

if TYPE_CHECKING:
    import numpy as np


class SampledOneShot(OneShotStrategy):
    """Base of the sampling one-shot strategies (see the module docstring).

    Subclasses provide params with ``alpha_init``, ``alpha_lr``, ``alpha_betas``
    (``alpha_beta1`` and 0.999), ``alpha_weight_decay``, ``tau_schedule``, ``tau_start`` and
    ``tau_end`` (``temperature`` reads them) and implement :meth:`train_step`.
    """

    def prepare(self) -> None:
        from nasbench.supernet.estimators import GradientMoments

        p = self.params
        self.logits, self.alpha_optimizer = architecture_logits(
            self.space, self.rng, init=p.alpha_init, lr=p.alpha_lr, beta1=p.alpha_beta1,
            weight_decay=p.alpha_weight_decay)
        self.moments = GradientMoments()
        self.variances: list[float] = []
        self.norms: list[float] = []

    # -- pieces of a step -----------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """The current epoch, from 0."""
        return self.step // self.steps_per_epoch

    def temperature(self) -> float:
        from nasbench.supernet.estimators import temperature

        p = self.params
        return temperature(p.tau_schedule, p.tau_start, p.tau_end, self.epoch, p.epochs)

    def objective(self, batch: Any) -> Any:
        """The supernet's loss on ``batch`` as an estimator objective."""
        supernet = self.supernet

        def loss(weights: list[Any], need_grad: bool) -> tuple[float, list[Any] | None]:
            return supernet.mixture_gradient(weights, batch, need_grad=need_grad)

        return loss

    def hard_sample(self) -> list[Any]:
        """A one-hot sample of every row (detached)."""
        import torch

        from nasbench.supernet.estimators import one_hot_argmax, perturb

        with torch.no_grad():
            return one_hot_argmax(perturb(self.logits, self.rng))

    def relaxed_sample(self, tau: float) -> list[Any]:
        """A Gumbel-softmax sample of every row at temperature ``tau`` (detached)."""
        import torch

        from nasbench.supernet.estimators import perturb, relax

        with torch.no_grad():
            return relax(perturb(self.logits, self.rng), tau)

    def apply(self, grads: Sequence[Any]) -> None:
        """Record the estimate ``grads`` and take one optimiser step of the logits with it."""
        self.moments.update(grads)
        self.alpha_optimizer.zero_grad(set_to_none=True)
        for a, g in zip(self.logits, grads, strict=True):
            a.grad = g.detach().to(a.dtype).clone()
        self.alpha_optimizer.step()

    # -- answers and the record -----------------------------------------------------------------
    def weights(self) -> list[np.ndarray]:
        """softmax(logits) of each relaxation matrix."""
        import torch

        with torch.no_grad():
            return [torch.softmax(a, dim=-1).numpy() for a in self.logits]

    def answer(self) -> Architecture:
        if self.moments.n >= 2:
            self.variances.append(self.moments.variance)
            self.norms.append(self.moments.mean_norm)
        from nasbench.supernet.estimators import GradientMoments

        self.moments = GradientMoments()
        return self.space.derive(self.weights())

    def diagnostics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        finite = [v for v in self.variances if math.isfinite(v)]
        if finite:
            out["grad_variance"] = sum(finite) / len(finite)
            out["grad_variance_last"] = finite[-1]
            out["grad_mean_norm"] = sum(self.norms) / len(self.norms)
        return out

    def own_state(self) -> dict[str, Any]:
        return {"logits": [a.detach().numpy().copy() for a in self.logits],
                "optimizer": optimizer_state(self.alpha_optimizer),
                "moments": self.moments.state_dict(),
                "variances": list(self.variances), "norms": list(self.norms)}

    def load_own_state(self, state: Mapping[str, Any]) -> None:
        import numpy as np
        import torch

        with torch.no_grad():
            for a, saved in zip(self.logits, state["logits"], strict=True):
                a.copy_(torch.from_numpy(np.asarray(saved)))
        load_optimizer_state(self.alpha_optimizer, state["optimizer"])
        self.moments.load_state_dict(state["moments"])
        self.variances = [float(v) for v in state["variances"]]
        self.norms = [float(v) for v in state["norms"]]


def optimizer_state(optimizer: Any) -> dict[str, Any]:
    """A torch optimiser's state as plain data: per parameter (in order) its state tensors as
    NumPy arrays, and each group's learning rate."""
    import torch

    saved = optimizer.state_dict()
    count = sum(len(g["params"]) for g in saved["param_groups"])
    per_param = []
    for i in range(count):
        entry = saved["state"].get(i, {})
        per_param.append({k: (v.detach().numpy().copy() if torch.is_tensor(v) else v)
                          for k, v in entry.items()})
    return {"params": per_param, "lr": [float(g["lr"]) for g in saved["param_groups"]]}


def load_optimizer_state(optimizer: Any, state: Mapping[str, Any]) -> None:
    """Restore :func:`optimizer_state` into an optimiser built like the saved one."""
    import numpy as np
    import torch

    saved = optimizer.state_dict()
    saved["state"] = {
        i: {k: (torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v)
            for k, v in entry.items()}
        for i, entry in enumerate(state["params"]) if entry
    }
    for group, lr in zip(saved["param_groups"], state["lr"], strict=True):
        group["lr"] = lr
    optimizer.load_state_dict(saved)
