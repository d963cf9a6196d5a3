"""A search space's network with its loss, optimiser and schedule, as a ``LightningModule``.

The module is the training recipe in Lightning's terms, so the same object runs under the lean
loop of :mod:`nasbench.training.loop` (what the ``lightning`` evaluator uses) and under a
standard ``lightning.Trainer`` (what ``tests/bench/bench_training.py`` compares it with).
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

from nasbench.training.optim import cross_entropy, make_optimizer, recipe_loss
from nasbench.training.recipe import TrainingRecipe

__all__ = ["NetworkModule", "cross_entropy"]


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
        """The recipe's loss (:func:`~nasbench.training.optim.recipe_loss`)."""
        return recipe_loss(self.recipe, output, target)

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
        optimizer, scheduler = make_optimizer(self.parameters(), self.recipe,
                                              self.epochs * self.steps_per_epoch)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def set_epoch(self, epoch: int) -> None:
        """Before epoch ``epoch`` (from 0): raise drop-path linearly as DARTS does."""
        if self.recipe.drop_path_prob:
            self.network.drop_path_prob = self.recipe.drop_path_prob * epoch / self.epochs

    def on_train_epoch_start(self) -> None:
        self.set_epoch(self.current_epoch)

