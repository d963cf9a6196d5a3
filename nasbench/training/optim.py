"""A training recipe's loss, optimiser and learning-rate schedule, in plain torch.

Shared by :class:`~nasbench.training.module.NetworkModule` (stand-alone networks under
Lightning) and the supernet handle (:mod:`nasbench.supernet.handle`), which trains shared
weights without importing Lightning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F

from nasbench.training.recipe import TrainingRecipe


def make_optimizer(params: Iterable[torch.nn.Parameter], recipe: TrainingRecipe,
                   total_steps: int) -> tuple[torch.optim.Optimizer, Any]:
    """The recipe's optimiser over ``params`` and its per-step schedule over
    ``total_steps`` steps (a ``LambdaLR``)."""
    r = recipe
    if r.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            params, lr=r.lr, momentum=r.momentum, weight_decay=r.weight_decay,
            nesterov=r.nesterov and r.momentum > 0,
        )
    else:
        cls = torch.optim.Adam if r.optimizer == "adam" else torch.optim.AdamW
        optimizer = cls(params, lr=r.lr, betas=(r.momentum, 0.999),
                        weight_decay=r.weight_decay)
    total = max(1, total_steps)
    factor = cosine(total, r.lr_min / r.lr) if r.schedule == "cosine" else constant
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def recipe_loss(recipe: TrainingRecipe, output: Any, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (label-smoothed if the recipe says so), plus the weighted loss of the
    auxiliary head when the network returns ``(logits, aux_logits)``."""
    smoothing = recipe.label_smoothing
    if isinstance(output, tuple):
        logits, aux_logits = output
        return (cross_entropy(logits, target, label_smoothing=smoothing)
                + recipe.auxiliary_weight
                * cross_entropy(aux_logits, target, label_smoothing=smoothing))
    return cross_entropy(output, target, label_smoothing=smoothing)


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Cross-entropy of ``(batch, classes)`` logits, or of ``(batch, T, classes)`` logits of a
    language model against ``(batch, T)`` next tokens (mean over every position)."""
    if logits.dim() > 2:
        logits, target = logits.flatten(0, -2), target.flatten()
    return F.cross_entropy(logits, target, **kwargs)


def constant(step: int) -> float:
    return 1.0


def cosine(total: int, floor: float) -> Callable[[int], float]:
    """Learning-rate factor annealed from 1 to ``floor`` by a half cosine over ``total``
    steps."""

    def factor(step: int) -> float:
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))

    return factor
