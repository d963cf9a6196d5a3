"""A torch optimiser whose update rule is an expression (Bello et al., 2017).

Imports torch at module level: import it only where training happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


class ExpressionOptimizer(torch.optim.Optimizer):
    """``w <- w - lr * rule(...)`` with the running averages of Adam as the rule's inputs.

    Args:
        params: the parameters to optimise.
        rule: a compiled expression (:func:`nasbench.expr.compile_expr`) taking one tensor per
            name of ``variables``.
        variables: the names the rule reads, from ``g`` (gradient), ``m`` and ``v`` (running
            averages of ``g`` and ``g^2``), ``m_hat`` and ``v_hat`` (bias-corrected).
        lr: the learning rate.
        beta1, beta2: decays of ``m`` and ``v``.
    """

    def __init__(self, params: Iterable[Any], rule: Callable[..., torch.Tensor],
                 variables: tuple[str, ...], *, lr: float, beta1: float = 0.9,
                 beta2: float = 0.999) -> None:
        super().__init__(params, {"lr": lr, "beta1": beta1, "beta2": beta2})
        unknown = set(variables) - {"g", "m", "v", "m_hat", "v_hat"}
        if unknown:
            raise ValueError(f"an update rule cannot read {sorted(unknown)}")
        self.rule = rule
        self.variables = variables

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, b1, b2 = group["lr"], group["beta1"], group["beta2"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad
                state = self.state[w]
                if not state:
                    state["t"] = 0
                    state["m"] = torch.zeros_like(w)
                    state["v"] = torch.zeros_like(w)
                state["t"] += 1
                t, m, v = state["t"], state["m"], state["v"]
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                values = {"g": g, "m": m, "v": v}
                if "m_hat" in self.variables:
                    values["m_hat"] = m / (1 - b1 ** t)
                if "v_hat" in self.variables:
                    values["v_hat"] = v / (1 - b2 ** t)
                update = self.rule(*(values[name] for name in self.variables))
                w.sub_(update, alpha=lr)
        return loss
