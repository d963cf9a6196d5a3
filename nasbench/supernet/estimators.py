"""Gradient estimators for the parameters of categorical architecture distributions.

A sampled one-shot method (GDAS, SNAS, UNAS) draws one operation per row of each relaxation
matrix from ``softmax(logits)`` and needs the gradient, with respect to the logits, of the
expected objective ``E_b[f(b)]`` over one-hot samples ``b``. The estimators here differ in
what they ask of ``f`` and in their bias and variance:

* :func:`reinforce` (Williams 1992): ``(f(b) - baseline) grad log p(b)``; needs only the value
  ``f(b)``, so it suits objectives that cannot be differentiated (latency, FLOPs); unbiased
  whatever the baseline;
* :func:`relaxed` (Gumbel-softmax / Concrete, Jang et al. 2017; Maddison et al. 2017): the
  reparameterised gradient of ``f(softmax((log p + g) / tau))`` at a relaxed sample; biased,
  the bias vanishing as ``tau -> 0`` while the variance grows;
* :func:`straight_through` (the straight-through Gumbel-softmax of GDAS, Dong & Yang 2019):
  ``f`` and its gradient at the hard sample ``b``, passed back through the relaxed sample's
  Jacobian; biased at every temperature, but it runs ``f`` on one discrete architecture;
* :func:`rebar` (Tucker et al., NeurIPS 2017): REINFORCE with the relaxed sample as control
  variate, ``(f(b) - eta f(s~)) grad log p(b) + eta grad f(s) - eta grad f(s~)`` where
  ``s = softmax(z / tau)`` for the perturbed logits ``z`` and ``s~`` the relaxation of
  perturbed logits drawn conditionally on ``b``; unbiased for every ``tau`` and ``eta``.

The objective is a callable ``objective(weights, need_grad) -> (value, grads)``: ``weights``
is one tensor per relaxation matrix (rows of mixing weights, detached), and ``grads`` the
gradient of the value with respect to them (``None`` when not asked). Logits may carry leading
batch dimensions (independent draws side by side, shape ``(*batch, rows, choices)``); the
objective then returns one value per draw (a tensor of shape ``batch``) and the gradient of
their sum. The supernet handle
computes it for a network (:meth:`~nasbench.supernet.handle.SupernetHandle.mixture_gradient`);
the tests use closed-form toy objectives. The chain rule from weights to logits runs here, on
tensors the size of the logits, so its cost is negligible next to the network's.

Gumbel noise is drawn from a NumPy generator, so that a strategy's randomness is the run's
generator and resumes with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

Value = float | torch.Tensor
Objective = Callable[[list[torch.Tensor], bool], tuple[Value, list[torch.Tensor] | None]]
"""``objective(weights, need_grad) -> (value, d value / d weights or None)``."""

_TINY = 1e-12


@dataclass(frozen=True)
class Estimate:
    """One draw of an estimator.

    Attributes:
        grad: the estimate of ``d E[f] / d logits``, one tensor per logits tensor.
        value: ``f`` at the sample the estimator evaluated (the hard sample, or the relaxed
            one for :func:`relaxed`).
        sample: the one-hot hard sample ``b`` (argmax of the perturbed logits).
    """

    grad: list[torch.Tensor]
    value: Value
    sample: list[torch.Tensor]


def uniform(rng: np.random.Generator, like: torch.Tensor) -> torch.Tensor:
    """Uniform noise in (0, 1) shaped and typed like ``like``, from ``rng``."""
    u = rng.random(tuple(like.shape))
    return torch.from_numpy(np.clip(u, _TINY, 1.0 - 1e-7)).to(like.dtype)


def perturb(logits: Sequence[torch.Tensor], rng: np.random.Generator) -> list[torch.Tensor]:
    """``log p + g`` with ``g`` standard Gumbel noise (its row argmax is a sample of p)."""
    return [torch.log_softmax(a, dim=-1) - torch.log(-torch.log(uniform(rng, a)))
            for a in logits]


def one_hot_argmax(z: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """The one-hot rows of the argmax of each row."""
    return [torch.nn.functional.one_hot(x.argmax(dim=-1), x.shape[-1]).to(x.dtype) for x in z]


def conditional_perturb(logits: Sequence[torch.Tensor], sample: Sequence[torch.Tensor],
                        rng: np.random.Generator) -> list[torch.Tensor]:
    """Perturbed logits drawn from their distribution given that their argmax is ``sample``.

    With ``v`` uniform: ``z_b = -log(-log v_b)`` and ``z_i = -log(-log(v_i) / p_i - log v_b)``
    for ``i != b`` (Tucker et al. 2017, appendix C), differentiable in the logits.
    """
    out = []
    for a, b in zip(logits, sample, strict=True):
        p = torch.softmax(a, dim=-1)
        v = uniform(rng, a)
        top = -torch.log(-torch.log((v * b).sum(dim=-1, keepdim=True)))
        others = -torch.log(-torch.log(v) / p + torch.exp(-top))
        out.append(b * top + (1 - b) * others)
    return out


def relax(z: Sequence[torch.Tensor], tau: float) -> list[torch.Tensor]:
    """``softmax(z / tau)`` of each row."""
    return [torch.softmax(x / tau, dim=-1) for x in z]


def score(logits: Sequence[torch.Tensor], sample: Sequence[torch.Tensor]
          ) -> list[torch.Tensor]:
    """``d log p(sample) / d logits``: ``sample - softmax(logits)`` row by row."""
    return [b - torch.softmax(a.detach(), dim=-1) for a, b in zip(logits, sample, strict=True)]


def _scale(factor: Value, tensor: torch.Tensor) -> torch.Tensor:
    """``factor * tensor``, a per-draw factor broadcast over each draw's rows and choices."""
    if isinstance(factor, torch.Tensor):
        factor = factor.to(tensor.dtype).reshape(*factor.shape, 1, 1)
    return factor * tensor


def _leaves(logits: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    return [a.detach().clone().requires_grad_(True) for a in logits]


def _pullback(outputs: Sequence[torch.Tensor], inputs: Sequence[torch.Tensor],
              grads: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Vector-Jacobian product: ``grads`` at ``outputs`` carried back to ``inputs``."""
    result = torch.autograd.grad(list(outputs), list(inputs), grad_outputs=list(grads),
                                 allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, result, strict=True)]


def _evaluate(objective: Objective, weights: Sequence[torch.Tensor]
              ) -> tuple[Value, list[torch.Tensor]]:
    value, grads = objective([w.detach() for w in weights], True)
    if grads is None:
        raise ValueError("the objective returned no gradient where one was asked for")
    return value, list(grads)


def reinforce(logits: Sequence[torch.Tensor], objective: Objective, rng: np.random.Generator,
              *, baseline: float = 0.0) -> Estimate:
    """REINFORCE with a baseline: ``(f(b) - baseline) grad log p(b)`` (unbiased)."""
    with torch.no_grad():
        b = one_hot_argmax(perturb(logits, rng))
    value, _ = objective(b, False)
    advantage = value - baseline
    return Estimate([_scale(advantage, s) for s in score(logits, b)], value, b)


def relaxed(logits: Sequence[torch.Tensor], objective: Objective, rng: np.random.Generator,
            *, tau: float) -> Estimate:
    """Gumbel-softmax: the gradient of ``f`` at a relaxed sample, reparameterised."""
    theta = _leaves(logits)
    z = perturb(theta, rng)
    soft = relax(z, tau)
    value, grads = _evaluate(objective, soft)
    b = one_hot_argmax([x.detach() for x in z])
    return Estimate(_pullback(soft, theta, grads), value, b)


def straight_through(logits: Sequence[torch.Tensor], objective: Objective,
                     rng: np.random.Generator, *, tau: float) -> Estimate:
    """Straight-through Gumbel-softmax: ``f`` and its gradient at the hard sample ``b``,
    passed back through the Jacobian of the relaxed sample (GDAS's ``hardwts``)."""
    theta = _leaves(logits)
    z = perturb(theta, rng)
    soft = relax(z, tau)
    b = one_hot_argmax([x.detach() for x in z])
    value, grads = _evaluate(objective, b)
    return Estimate(_pullback(soft, theta, grads), value, b)


def rebar(logits: Sequence[torch.Tensor], objective: Objective, rng: np.random.Generator,
          *, tau: float, eta: float = 1.0) -> Estimate:
    """REBAR (Tucker et al. 2017): unbiased, with the relaxed samples as control variate."""
    theta = _leaves(logits)
    z = perturb(theta, rng)
    b = one_hot_argmax([x.detach() for x in z])
    z_cond = conditional_perturb(theta, b, rng)
    soft = relax(z, tau)
    soft_cond = relax(z_cond, tau)
    value, _ = objective(b, False)
    _, grads = _evaluate(objective, soft)
    value_cond, grads_cond = _evaluate(objective, soft_cond)
    direct = _pullback([*soft, *soft_cond], theta,
                       [*(eta * g for g in grads), *(-eta * g for g in grads_cond)])
    advantage = value - eta * value_cond
    return Estimate([_scale(advantage, s) + d
                     for s, d in zip(score(theta, b), direct, strict=True)], value, b)


def temperature(schedule: str, start: float, end: float, epoch: int, epochs: int) -> float:
    """The temperature of epoch ``epoch`` (from 0) of ``epochs``.

    ``linear``: from ``start`` to ``end`` in equal steps (GDAS's ``tau_max - (tau_max -
    tau_min) * epoch / (epochs - 1)``); ``exponential``: geometric steps between the two;
    ``constant``: ``start`` throughout.
    """
    if schedule == "constant" or epochs <= 1:
        return start
    t = min(max(epoch, 0), epochs - 1) / (epochs - 1)
    if schedule == "linear":
        return start - (start - end) * t
    if schedule == "exponential":
        return start * math.exp(t * math.log(end / start))
    raise ValueError(f"unknown temperature schedule {schedule!r}; "
                     "available: linear, exponential, constant")


class EmaBaseline:
    """A bias-corrected exponential moving average (the baseline of REINFORCE):
    ``num <- d num + (1 - d) x``, ``den <- d den + (1 - d)``, value ``num / den``."""

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.num = 0.0
        self.den = 0.0

    @property
    def value(self) -> float:
        return self.num / self.den if self.den > 0 else 0.0

    def update(self, x: float) -> None:
        self.num = self.decay * self.num + (1 - self.decay) * x
        self.den = self.decay * self.den + (1 - self.decay)

    def state_dict(self) -> dict[str, float]:
        return {"num": self.num, "den": self.den}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.num = float(state["num"])
        self.den = float(state["den"])


class GradientMoments:
    """Running mean and variance (Welford) of successive gradient estimates, over a window
    of steps: its :attr:`variance` is the trace of their sample covariance, the sum over
    every logit of its estimate's variance. State is plain data."""

    def __init__(self) -> None:
        self.n = 0
        self.mean: list[np.ndarray] = []
        self.m2: list[np.ndarray] = []

    def update(self, grads: Sequence[torch.Tensor]) -> None:
        values = [g.detach().double().numpy() for g in grads]
        if self.n == 0:
            self.mean = [np.zeros_like(v) for v in values]
            self.m2 = [np.zeros_like(v) for v in values]
        self.n += 1
        for mean, m2, v in zip(self.mean, self.m2, values, strict=True):
            delta = v - mean
            mean += delta / self.n
            m2 += delta * (v - mean)

    @property
    def variance(self) -> float:
        """Sum of the per-logit sample variances (NaN below two estimates)."""
        if self.n < 2:
            return math.nan
        return float(sum(m2.sum() for m2 in self.m2) / (self.n - 1))

    @property
    def mean_norm(self) -> float:
        """Euclidean norm of the mean estimate (NaN before the first)."""
        if self.n == 0:
            return math.nan
        return float(math.sqrt(sum(float((m * m).sum()) for m in self.mean)))

    def state_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": [m.copy() for m in self.mean],
                "m2": [m.copy() for m in self.m2]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.n = int(state["n"])
        self.mean = [np.array(m, dtype=np.float64) for m in state["mean"]]
        self.m2 = [np.array(m, dtype=np.float64) for m in state["m2"]]
