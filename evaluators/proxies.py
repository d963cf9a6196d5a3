"""Zero-cost proxies: scores of an untrained network that predict how well it will train.

Definitions follow Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS" (ICLR 2021),
as implemented in their released code (SamsungLabs/zero-cost-nas) and in NASLib, which
computed the NAS-Bench-Suite-Zero scores nasbench is validated against (Krishnakumar et al.,
NeurIPS 2022 Datasets and Benchmarks). Every proxy is computed on a freshly initialised network
in training mode (batch norm uses the minibatch's statistics) with the cross-entropy loss ``L``
of one minibatch. "Scored layers" are the weights of convolutions and linear layers, the
layers the published code scores (its ``Conv2d``/``Linear``; convolutions of any dimension
here, so that sequence spaces are scored the same way); biases and batch norm are not scored.

``grad_norm``
    ``sum_layers ||dL/dW||_2``: the Euclidean norm of each scored layer's gradient, summed.
``snip``
    ``sum |W * dL/dW|`` over scored weights (Lee et al., ICLR 2019).
``grasp``
    ``sum -W * (H dL/dW)`` over scored weights, ``H`` the Hessian of ``L`` (Wang et al., ICLR
    2020), with the sign the released code uses so that larger is better.
``fisher``
    Per output channel ``k`` of a scored layer, ``0.5 * mean_n (sum_positions a * dL/da)^2``
    with ``a`` the layer's output (Theis et al., 2018; Turner et al., 2020); the released code
    copies each channel's value onto every weight of that channel before summing, so a
    channel counts once per incoming weight, and so does nasbench.
``jacob_cov``
    ``-sum_i (log(l_i + k) + 1 / (l_i + k))``, ``k = 1e-5``, over the eigenvalues ``l_i`` of the
    correlation matrix of the per-example input gradients of the summed logits (Mellor et al.,
    2021). Undefined (NaN) when a network's output does not depend on its input.
``synflow``
    ``sum |W * dR/dW|`` over scored weights, where ``R`` is the sum of the outputs of the
    network with every parameter replaced by its absolute value and batch norm switched off,
    for one all-ones input (Tanaka et al., NeurIPS 2020). Needs no data. Computed in double
    precision, as the released code does, because the products over a deep network overflow
    single precision. Reported as its natural logarithm, as NAS-Bench-Suite-Zero publishes it
    (the ranking is the sum's; ``-inf`` when the sum is 0).
``params``, ``flops``
    The parameter count and the multiply-accumulates of one example's forward pass
    (:mod:`nasbench.netstats`), strong baselines for every proxy above.

Orientation. Every proxy is reported so that *larger predicts better*, the convention of the
papers: grasp carries the released code's minus sign, jacob_cov its leading minus, and for
params and flops it is the bet that a bigger network trains to a higher accuracy. Whether a
proxy really ranks networks that way on a space and dataset is what a correlation study
measures; nothing here assumes it.

Independence. Data-based proxies share passes where the published code would compute the
same numbers: ``grad_norm``, ``snip`` and ``fisher`` read one forward and backward pass; every
other proxy has its own. None of them changes a weight (only batch norm's running
statistics, which training mode does not read), so each proxy's value is the same whichever
others are computed with it. ``synflow`` rewrites the network (absolute weights,
double precision, no batch norm) and therefore runs last.

This module imports torch; evaluators import it inside their methods.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench.netstats import count_flops, count_params

JACOB_COV_K = 1e-5
"""The constant ``k`` of jacob_cov (released code)."""

SCORED_LAYERS: tuple[type[nn.Module], ...] = (nn.modules.conv._ConvNd, nn.Linear)
"""Layers whose weights the proxies score."""


PASSES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "gradients": ("grad_norm", "snip", "fisher"),
    "grasp": ("grasp",),
    "jacob_cov": ("jacob_cov",),
    "size": ("params", "flops"),
    "synflow": ("synflow",),
})
"""The computations behind the proxies, in the order they run (synflow last: it rewrites the
network)."""


@dataclass(frozen=True)
class ProxyScores:
    """What :func:`compute_proxies` measured.

    Attributes:
        scores: proxy name -> score (larger predicts better).
        seconds: pass name (a key of :data:`PASSES`) -> seconds it took.
    """

    scores: dict[str, float]
    seconds: dict[str, float]


def compute_proxies(
    network: nn.Module,
    names: Iterable[str],
    *,
    input_shape: tuple[int, ...],
    inputs: torch.Tensor | None = None,
    targets: torch.Tensor | None = None,
    flops_convention: str = "nb201",
) -> ProxyScores:
    """Score one freshly initialised network.

    Args:
        network: the network; it is left in an unusable state when synflow is asked for.
        names: the proxies wanted (those :data:`PASSES` produces).
        input_shape: one example's shape, without the batch dimension.
        inputs, targets: the minibatch, on the network's device; needed by data-based proxies.
        flops_convention: the FLOP counting rules (:data:`nasbench.netstats.CONVENTIONS`).

    Raises:
        ValueError: for an unknown proxy, or a data-based proxy without a minibatch.
    """
    wanted = list(dict.fromkeys(names))
    known = [n for produces in PASSES.values() for n in produces]
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown proxies {unknown}; known: {', '.join(known)}")
    network.train()
    runners: dict[str, Callable[[], dict[str, float]]] = {
        "gradients": lambda: gradient_proxies(network, inputs, targets),
        "grasp": lambda: {"grasp": grasp(network, inputs, targets)},
        "jacob_cov": lambda: {"jacob_cov": jacob_cov(network, inputs)},
        "size": lambda: {"params": float(count_params(network)),
                         "flops": float(count_flops(network, input_shape,
                                                    convention=flops_convention))},
        "synflow": lambda: {"synflow": synflow(network, input_shape)},
    }
    scores: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for pass_name, produces in PASSES.items():
        if not any(n in wanted for n in produces):
            continue
        t0 = time.perf_counter()
        scores.update(runners[pass_name]())
        seconds[pass_name] = time.perf_counter() - t0
    return ProxyScores({n: scores[n] for n in wanted}, seconds)


# -- helpers --------------------------------------------------------------------------------------
def scored_layers(network: nn.Module) -> list[nn.Module]:
    """The convolutions and linear layers of ``network``, in module order."""
    return [m for m in network.modules() if isinstance(m, SCORED_LAYERS)]


def logits_of(output: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The logits of a forward pass (a network with an auxiliary head returns a pair)."""
    return output[0] if isinstance(output, tuple) else output


def _loss(network: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits_of(network(inputs)), targets)


def _minibatch(inputs: torch.Tensor | None, targets: torch.Tensor | None,
               what: str) -> tuple[torch.Tensor, torch.Tensor]:
    if inputs is None or targets is None:
        raise ValueError(f"{what} need a minibatch (inputs and targets)")
    return inputs, targets


def _sum(values: Iterable[torch.Tensor]) -> float:
    """Sum of scalar tensors, accumulated in double precision."""
    return float(sum((v.double() for v in values), torch.zeros((), dtype=torch.float64)))


# -- grad_norm, snip, fisher: one forward and backward pass ------------------------------------
def gradient_proxies(network: nn.Module, inputs: torch.Tensor | None,
                     targets: torch.Tensor | None) -> dict[str, float]:
    """grad_norm, snip and fisher from one forward and backward pass of the minibatch."""
    inputs, targets = _minibatch(inputs, targets, "grad_norm, snip and fisher")
    layers = scored_layers(network)
    fisher = {id(layer): torch.zeros((), dtype=torch.float64) for layer in layers}

    def on_forward(layer: nn.Module, _inputs: tuple[torch.Tensor, ...],
                   output: torch.Tensor) -> None:
        if not output.requires_grad:
            return
        activation = output.detach()
        channel_dim = -1 if isinstance(layer, nn.Linear) else 1
        fan_in = layer.weight[0].numel()

        def on_gradient(grad: torch.Tensor) -> None:
            per_channel = (activation * grad).movedim(channel_dim, -1)
            per_channel = per_channel.reshape(per_channel.shape[0], -1,
                                              per_channel.shape[-1]).sum(1)
            information = per_channel.pow(2).mean(0).mul(0.5)
            fisher[id(layer)] += information.abs().sum().double() * fan_in

        output.register_hook(on_gradient)

    handles = [layer.register_forward_hook(on_forward) for layer in layers]
    try:
        network.zero_grad(set_to_none=True)
        _loss(network, inputs, targets).backward()
    finally:
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        grads = [(layer.weight, layer.weight.grad) for layer in layers
                 if layer.weight.grad is not None]
        scores = {
            "grad_norm": _sum(g.norm() for _, g in grads),
            "snip": _sum((w * g).abs().sum() for w, g in grads),
            "fisher": _sum(fisher.values()),
        }
    network.zero_grad(set_to_none=True)
    return scores


# -- grasp ----------------------------------------------------------------------------------------
def grasp(network: nn.Module, inputs: torch.Tensor | None,
          targets: torch.Tensor | None) -> float:
    """``sum -W * (H g)``: a Hessian-gradient product by double backpropagation."""
    inputs, targets = _minibatch(inputs, targets, "grasp")
    weights = [layer.weight for layer in scored_layers(network)]
    network.zero_grad(set_to_none=True)
    first = torch.autograd.grad(_loss(network, inputs, targets), weights, allow_unused=True)
    second = torch.autograd.grad(_loss(network, inputs, targets), weights, create_graph=True,
                                 allow_unused=True)
    z = sum(((g.detach() * f).sum() for g, f in zip(first, second, strict=True)
             if g is not None and f is not None), torch.zeros((), device=inputs.device))
    hessian_gradient = torch.autograd.grad(z, weights, allow_unused=True) if z.requires_grad \
        else [None] * len(weights)
    with torch.no_grad():
        return _sum((-w * hg).sum() for w, hg in zip(weights, hessian_gradient, strict=True)
                    if hg is not None)


# -- jacob_cov ------------------------------------------------------------------------------------
def jacob_cov(network: nn.Module, inputs: torch.Tensor | None) -> float:
    """Score the correlations of the per-example input gradients of the summed logits."""
    if inputs is None:
        raise ValueError("jacob_cov needs a minibatch")
    x = inputs.detach().clone().requires_grad_(True)
    network.zero_grad(set_to_none=True)
    output = logits_of(network(x)).sum()
    if output.requires_grad:
        output.backward()
    # no gradient reaches the input when the output does not depend on it: zero Jacobians
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    jacobians = grad.reshape(len(x), -1).double().cpu().numpy()
    network.zero_grad(set_to_none=True)
    return jacob_cov_score(jacobians)


def jacob_cov_score(jacobians: np.ndarray) -> float:
    """The jacob_cov score of a matrix of Jacobians, one example per row (NaN when a row is
    constant, where correlations are undefined)."""
    if np.any(np.ptp(jacobians, axis=1) == 0):
        return math.nan
    eigenvalues = np.linalg.eigvalsh(np.corrcoef(jacobians))
    shifted = eigenvalues + JACOB_COV_K
    return float(-np.sum(np.log(shifted) + 1.0 / shifted))


# -- synflow --------------------------------------------------------------------------------------
def synflow(network: nn.Module, input_shape: tuple[int, ...]) -> float:
    """log of ``sum |W * dR/dW|`` (see the module docstring); rewrites ``network``."""
    without_batch_norm(network)
    network.double()
    with torch.no_grad():
        for p in network.parameters():
            p.abs_()
    network.zero_grad(set_to_none=True)
    device = next(network.parameters()).device
    ones = torch.ones((1, *input_shape), dtype=torch.float64, device=device)
    logits_of(network(ones)).sum().backward()
    with torch.no_grad():
        total = _sum((layer.weight * layer.weight.grad).abs().sum()
                     for layer in scored_layers(network) if layer.weight.grad is not None)
    return math.log(total) if total > 0 else -math.inf


def without_batch_norm(network: nn.Module) -> nn.Module:
    """Replace every batch-norm layer of ``network`` by the identity, in place."""
    for parent in list(network.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(parent, name, nn.Identity())
    return network
