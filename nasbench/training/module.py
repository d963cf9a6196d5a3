"""A search space's network with its loss, optimiser and schedule, as a ``LightningModule``.

The module is the training recipe in Lightning's terms, so the same object runs under the lean
loop of :mod:`nasbench.training.loop` (what the ``lightning`` evaluator uses) and under a
standard ``lightning.Trainer`` (what ``tests/bench/bench_training.py`` compares it with).
"""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from nasbench.training.recipe import TrainingRecipe


class NetworkModule(pl.LightningModule):
    """Trains ``network`` for classification under ``recipe``.

    Args:
        network: a network built by a search space; ``forward`` returns logits, or
            ``(logits, aux_logits)`` in training mode when it has an auxiliary head.
        recipe: the training protocol.
        epochs: training length (the fidelity), which sets the schedule's length.
        steps_per_epoch: optimisation steps per epoch.
    """

    def __init__(self, network: nn.Module, recipe: TrainingRecipe, *, epochs: int,
                 steps_per_epoch: int) -> None:
        super().__init__()
        self.network = network
        self.recipe = recipe
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch

    def forward(self, x: torch.Tensor) -> Any:
        return self.network(x)

    def loss(self, output: Any, target: torch.Tensor) -> torch.Tensor:
        """Cross-entropy (label-smoothed if the recipe says so), plus the weighted loss of the
        auxiliary head when the network returns one."""
        smoothing = self.recipe.label_smoothing
        if isinstance(output, tuple):
            logits, aux_logits = output
            return (cross_entropy(logits, target, label_smoothing=smoothing)
                    + self.recipe.auxiliary_weight
                    * cross_entropy(aux_logits, target, label_smoothing=smoothing))
        return cross_entropy(output, target, label_smoothing=smoothing)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor],
                      batch_idx: int) -> torch.Tensor:
        x, y = batch
        return self.loss(self(x), y)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor],
                        batch_idx: int) -> None:
        x, y = batch
        logits = self(x)
        self.log("valid_loss", cross_entropy(logits, y))
        self.log("valid_acc", (logits.argmax(-1) == y).float().mean() * 100.0)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        logits = self(x)
        self.log("test_loss", cross_entropy(logits, y))
        self.log("test_acc", (logits.argmax(-1) == y).float().mean() * 100.0)

    def configure_optimizers(self) -> dict[str, Any]:
        r = self.recipe
        params = self.parameters()
        if r.optimizer == "sgd":
            optimizer: torch.optim.Optimizer = torch.optim.SGD(
                params, lr=r.lr, momentum=r.momentum, weight_decay=r.weight_decay,
                nesterov=r.nesterov and r.momentum > 0,
            )
        else:
            cls = torch.optim.Adam if r.optimizer == "adam" else torch.optim.AdamW
            optimizer = cls(params, lr=r.lr, betas=(r.momentum, 0.999),
                            weight_decay=r.weight_decay)
        total = max(1, self.epochs * self.steps_per_epoch)
        factor = cosine(total, r.lr_min / r.lr) if r.schedule == "cosine" else constant
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def set_epoch(self, epoch: int) -> None:
        """Before epoch ``epoch`` (from 0): raise drop-path linearly as DARTS does."""
        if self.recipe.drop_path_prob:
            self.network.drop_path_prob = self.recipe.drop_path_prob * epoch / self.epochs

    def on_train_epoch_start(self) -> None:
        self.set_epoch(self.current_epoch)


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Cross-entropy of ``(batch, classes)`` logits, or of ``(batch, T, classes)`` logits of a
    language model against ``(batch, T)`` next tokens (mean over every position)."""
    if logits.dim() > 2:
        logits, target = logits.flatten(0, -2), target.flatten()
    return F.cross_entropy(logits, target, **kwargs)


def constant(step: int) -> float:
    return 1.0


def cosine(total: int, floor: float) -> Any:
    """Learning-rate factor annealed from 1 to ``floor`` by a half cosine over ``total``
    steps."""

    def factor(step: int) -> float:
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))

    return factor
