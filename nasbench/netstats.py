"""Parameter and FLOP counts of any network, under the conventions benchmarks publish.

Benchmarks publish a network's size as its parameter count and its "FLOPs", which are
multiply-accumulates (MACs) of one example's forward pass, counted by rules that differ from
one benchmark to the next. :func:`count_flops` takes the rule set by name:

``nb201`` (default)
    NAS-Bench-201 / NATS-Bench's ``get_model_infos`` (Dong & Yang, ICLR 2020; released
    ``xautodl`` code): a convolution costs ``k_h * k_w * in / groups * out`` per output
    position, a linear layer ``in * out`` per row, each plus one addition per output element
    when it has a bias; pooling, normalisation and activations are free.
``suite_zero``
    NAS-Bench-Suite-Zero's ``flops`` proxy (Krishnakumar et al., NeurIPS 2022 D&B; NASLib,
    which counts with tensorwatch's ``ModelStats``): convolutions as above; linear layers
    without bias; batch norm 2 per input element (1 when not affine); ReLU-family activations
    1 per input element; average and max pooling ``k_h * k_w`` per output element; adaptive
    pooling ``(window_h + 1) * (window_w + 1)`` per output element (tensorwatch's formula).
    These are the ``flops`` of ``nb201/zc_nasbench201_725.json``, which the NAS-Bench-201
    network reproduces exactly for all 725 cells and three datasets.
``nb_macro``
    NAS-Bench-Macro's ``count_FLOPs`` (Su et al., CVPR 2021): convolutions and linear layers
    without bias; nothing else. Reproduces the benchmark's ``flops`` for all 6,561 networks.

Counting runs a forward pass of a batch of one in evaluation mode through forward hooks, so it
sees what the network really computes (a recurrent cell is counted at every step; a module
that subclasses a counted type, such as a faster pooling, is counted as that type).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import torch
from torch import nn

from nasbench.errors import ConfigError

AUXILIARY_PREFIX = "auxiliary"
"""Submodules whose name starts with this are training-only heads (DARTS convention)."""

_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)
_POOLS = (nn.AvgPool1d, nn.AvgPool2d, nn.MaxPool1d, nn.MaxPool2d)
_ADAPTIVE_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


@dataclass(frozen=True, slots=True)
class FlopConvention:
    """Which layers cost what (see the module docstring)."""

    conv_bias: bool
    linear_bias: bool
    pooling: bool = False
    batch_norm: bool = False
    activations: bool = False
    adaptive_pooling: bool = False


CONVENTIONS: Mapping[str, FlopConvention] = MappingProxyType({
    "nb201": FlopConvention(conv_bias=True, linear_bias=True),
    "suite_zero": FlopConvention(conv_bias=True, linear_bias=False, pooling=True,
                                 batch_norm=True, activations=True, adaptive_pooling=True),
    "nb_macro": FlopConvention(conv_bias=False, linear_bias=False),
})
"""FLOP conventions by name."""


def count_params(model: nn.Module, *, include_auxiliary: bool = False) -> int:
    """Number of parameters of ``model``.

    Args:
        model: any module.
        include_auxiliary: count the parameters of auxiliary heads too. Off by default, as in
            DARTS and NAS-Bench-201, which report the size of the network used at test time.
    """
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if include_auxiliary or not _in_auxiliary(name)
    )


def count_flops(
    model: nn.Module,
    input_shape: tuple[int, ...],
    *,
    convention: str = "nb201",
    dtype: torch.dtype | None = None,
) -> int:
    """Multiply-accumulates of one example's forward pass in evaluation mode.

    Args:
        model: the network; it runs on the device of its parameters.
        input_shape: one example's shape, without the batch dimension.
        convention: ``nb201``, ``suite_zero`` or ``nb_macro`` (see the module docstring).
        dtype: of the input; defaults to float32 (use ``torch.long`` for token ids).

    Returns:
        MACs per example; divide by 1e6 for the "MFLOPs" benchmarks publish.

    Raises:
        ConfigError: for an unknown convention.
    """
    rules = CONVENTIONS.get(convention)
    if rules is None:
        raise ConfigError("convention", f"unknown FLOP convention {convention!r}",
                          f"Known: {', '.join(CONVENTIONS)}.")
    total = 0

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        total += layer_macs(module, inputs[0], output, rules)

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    device = next((t.device for t in (*model.parameters(), *model.buffers())), None)
    example = torch.zeros((1, *input_shape), dtype=dtype or torch.float32, device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total


def _in_auxiliary(name: str) -> bool:
    return any(part.startswith(AUXILIARY_PREFIX) for part in name.split("."))


def layer_macs(module: nn.Module, x: torch.Tensor, out: torch.Tensor, rules: FlopConvention
               ) -> int:
    """Multiply-accumulates of one call of ``module`` (input ``x``, output ``out``, the whole
    batch) under ``rules``; 0 for a layer the rules do not count."""
    if isinstance(module, nn.modules.conv._ConvNd):
        per_position = math.prod(module.kernel_size) * module.in_channels // module.groups
        bias = out.numel() if rules.conv_bias and module.bias is not None else 0
        return out.numel() * per_position + bias
    if isinstance(module, nn.Linear):
        bias = out.numel() if rules.linear_bias and module.bias is not None else 0
        return out.numel() * module.in_features + bias
    if isinstance(module, _POOLS) and rules.pooling:
        k = module.kernel_size
        window = math.prod(k) if isinstance(k, tuple) else k ** (out.dim() - 2)
        return out.numel() * window
    if isinstance(module, _ADAPTIVE_POOLS) and rules.adaptive_pooling:
        return _tensorwatch_adaptive_pool(x, out)
    if isinstance(module, nn.BatchNorm2d) and rules.batch_norm:
        return x.numel() * (2 if module.affine else 1)
    if isinstance(module, _ACTIVATIONS) and rules.activations:
        return x.numel()
    return 0


def _tensorwatch_adaptive_pool(x: torch.Tensor, out: torch.Tensor) -> int:
    """tensorwatch's count: each output cell costs its window's (height + 1) * (width + 1)."""
    (in_h, in_w), (out_h, out_w) = x.shape[-2:], out.shape[-2:]
    rows = sum(math.ceil((i + 1) * in_h / out_h) - math.floor(i * in_h / out_h) + 1
               for i in range(out_h))
    cols = sum(math.ceil((j + 1) * in_w / out_w) - math.floor(j * in_w / out_w) + 1
               for j in range(out_w))
    return x.shape[0] * x.shape[1] * rows * cols
