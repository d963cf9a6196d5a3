"""The supernet protocol: what data a supernet trains on, how big it is, how it is measured.

One-shot strategies train their supernet under the study's ``[supernet]`` table; the
``supernet`` evaluator has the same keys among its parameters. Keys a study's ``[evaluator]``
also has (the data split and subsampling, ``image_size``, the network ``size``,
``threads``) are inherited from it, so that by default the supernet sees
exactly the data and network size the search protocol trains stand-alone networks on. How the
shared weights are trained (optimiser, learning rate, epochs) belongs to each strategy: it is
part of the published method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from nasbench.params import param
from nasbench.training.data import DataParams


@dataclass(frozen=True)
class SupernetProtocol(DataParams):
    """Data, size and measurement of a weight-sharing supernet."""

    size: Mapping[str, Any] = param(
        {}, doc="supernet size keys overriding the space's supernet defaults, e.g. {C = 16, "
        "N = 1, affine = false, track_running_stats = true} ('nasbench space NAME' lists "
        "them)")
    threads: int | Literal["auto"] = param(
        1, doc="torch threads of supernet training; results depend on it ('auto': the "
        "worker's share of the cores)", ge=1)
    eval_batch_size: int = param(500, doc="examples per forward pass when measuring", ge=1)
    bn_examples: int = param(
        1000, doc="training examples on which batch-norm statistics are re-estimated for one "
        "architecture before measuring it, when re-estimation is asked for", ge=2)


COST_UNITS = ("seconds", "flops")
"""Units a supernet's work can be charged in: the study's evaluator's ``cost_unit`` must be
one of them when a strategy trains a supernet."""

INHERITED = ("valid_fraction", "test_fraction", "train_samples", "valid_samples",
             "test_samples", "image_size", "size", "threads")
"""Keys of :class:`SupernetProtocol` a study's ``[supernet]`` table inherits from its
``[evaluator]`` table when that table sets them."""
