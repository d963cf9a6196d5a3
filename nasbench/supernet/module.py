"""What every weight-sharing supernet module provides, and helpers the spaces' supernets share.

A supernet holds the weights of every architecture of its space. It runs in one of two modes,
set before ``forward``:

* **single path** (:meth:`SupernetModule.set_path`): exactly the stand-alone network of one
  architecture, computing only the operations on its path (ENAS, random search with weight
  sharing, evaluation with shared weights); a step costs about what the stand-alone network's
  step costs;
* **relaxation** (:meth:`SupernetModule.set_relaxation`): every edge computes the
  softmax-weighted sum of its operations (DARTS); the ``none`` operation adds zeros and is not
  computed.

:meth:`SupernetModule.extract` builds the space's stand-alone network of an architecture and
copies the shared weights into it: on that path the two compute the same function. Batch
normalisation inside cells is non-affine by default (the released search code of DARTS, ENAS
and NAS-Bench-201); the stand-alone network then keeps the identity affine transform (and, when
the supernet tracks no statistics, its initial ones).

This module imports torch: spaces import it inside ``build_supernet()`` only.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

import torch
from torch import nn

from nasbench.api import Architecture

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


class SupernetModule(nn.Module):
    """Base of the spaces' supernets: the mode switches and the extraction of one path."""

    functional_macs: int = 0
    """Multiply-accumulates of the layers this supernet computed functionally (on slices of
    shared weights, :meth:`sliced_linear`) rather than through a module's ``forward``, which
    forward hooks see. The supernet handle reads and resets it when it charges training
    FLOPs."""

    def sliced_linear(self, x: torch.Tensor, weight: torch.Tensor,
                      bias: torch.Tensor | None) -> torch.Tensor:
        """``F.linear(x, weight, bias)`` on (slices of) shared weights, its multiply-accumulates
        counted in :attr:`functional_macs` by NAS-Bench-201's rules (inputs x outputs per row,
        one addition per output for the bias)."""
        out = nn.functional.linear(x, weight, bias)
        self.functional_macs += out.numel() * (weight.shape[-1] + (bias is not None))
        return out

    @abstractmethod
    def set_path(self, arch: Architecture) -> None:
        """Run ``arch`` only, from the next ``forward`` on."""

    @abstractmethod
    def set_relaxation(self, weights: Sequence[torch.Tensor]) -> None:
        """Run the continuous relaxation with ``weights`` (softmax of each row already taken,
        shaped as the space's ``relaxation_shapes``), from the next ``forward`` on."""

    @abstractmethod
    def standalone(self, arch: Architecture) -> nn.Module:
        """A freshly initialised stand-alone network of ``arch``, sized like this supernet."""

    def network_for_cost(self, arch: Architecture) -> nn.Module:
        """The stand-alone network of ``arch`` sized like this supernet, freshly initialised,
        for counting its parameters and operations (no weights are shared with it)."""
        return self.standalone(arch)

    @abstractmethod
    def shared_name(self, arch: Architecture, name: str) -> str:
        """The name, in this supernet, of the parameter or buffer ``name`` of the stand-alone
        network of ``arch``."""

    def extract(self, arch: Architecture) -> nn.Module:
        """The stand-alone network of ``arch`` carrying the shared weights.

        Raises:
            ValueError: when a weight of the stand-alone network has no counterpart here,
                other than the affine parameters of a non-affine batch norm.
        """
        network = self.standalone(arch).to(next(self.parameters()).device)
        shared = self.state_dict()
        values = {}
        for name, tensor in network.state_dict().items():
            source = self.shared_name(arch, name)
            if source in shared:
                if shared[source].shape != tensor.shape:
                    raise ValueError(f"{name}: shape {tuple(tensor.shape)} in the network, "
                                     f"{tuple(shared[source].shape)} as {source} here")
                values[name] = shared[source]
            elif not _left_out_by_design(self, source):
                raise ValueError(f"{name} of the stand-alone network has no shared weight "
                                 f"({source} is not in the supernet)")
        network.load_state_dict(values, strict=False)
        return network


def _left_out_by_design(supernet: nn.Module, name: str) -> bool:
    """Whether ``name`` belongs to a batch norm of ``supernet`` configured without it: the
    affine parameters of a non-affine one, the statistics of one that tracks none."""
    owner, _, leaf = name.rpartition(".")
    try:
        module = supernet.get_submodule(owner)
    except AttributeError:
        return False
    if not isinstance(module, BATCH_NORMS):
        return False
    if leaf in ("weight", "bias"):
        return not module.affine
    return not module.track_running_stats


def configure_batch_norm(module: nn.Module, *, affine: bool, track_running_stats: bool
                         ) -> nn.Module:
    """Replace every batch norm inside ``module`` by one with these settings (in place)."""
    for name, child in module.named_children():
        if isinstance(child, BATCH_NORMS):
            setattr(module, name, type(child)(
                child.num_features, eps=child.eps, momentum=child.momentum, affine=affine,
                track_running_stats=track_running_stats,
            ))
        else:
            configure_batch_norm(child, affine=affine, track_running_stats=track_running_stats)
    return module


def mixed(ops: Sequence[tuple[int, nn.Module]], weights: torch.Tensor, x: torch.Tensor,
          unit: Sequence[bool] | None = None) -> torch.Tensor | None:
    """``sum_k weights[k] * op_k(x)`` over the ``(k, op)`` pairs (``none`` left out); where
    ``unit[k]`` says the weight is a constant 1, the product is skipped."""
    total = None
    for k, op in ops:
        out = op(x) if unit is not None and unit[k] else weights[k] * op(x)
        total = out if total is None else total + out
    return total


def unit_weights(weights: torch.Tensor) -> list[list[bool]] | None:
    """Per row and column, whether a weight is a constant 1 (equal to 1 and not
    differentiated): multiplying by it can be skipped. ``None`` when weights need gradients."""
    if weights.requires_grad:
        return None
    return (weights == 1).tolist()
