"""The lean training loop: a ``NetworkModule`` trained through Lightning Fabric on tensors in
memory.

Small networks are dominated by what each optimisation step costs besides arithmetic, so the
loop does per step only what training needs: it slices a batch out of tensors already on the
device with one random permutation per epoch (no ``DataLoader``, no per-example collation),
applies batch-wise augmentation, and runs forward, backward and the optimiser. It logs nothing
per step, keeps the running loss on the device and reads it once per epoch, which is where a
diverging run is caught. Fabric places the module and data on the accelerator (``auto`` picks
a GPU when there is one) and adds nothing measurable on a CPU. See ``docs/training.md`` for
its speed against a plain PyTorch loop and a ``Trainer``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from lightning_fabric import Fabric

from nasbench.training import augment
from nasbench.training.data import TrainingData
from nasbench.training.module import NetworkModule, cross_entropy
from nasbench.training.recipe import TrainingRecipe

EVAL_BATCH_SIZE = 1024
"""Examples per forward pass when measuring: large, since nothing is kept for backward."""


@dataclass(frozen=True)
class TrainingOutcome:
    """What training one network produced.

    Attributes:
        metrics: ``train_loss`` (mean over the last epoch), and ``{valid,test}_{loss,acc}``
            (accuracy in %), empty when the run diverged.
        diverged: why the run was stopped (a non-finite loss), or ``None``.
        epochs: epochs completed.
        steps: optimisation steps taken.
        train_seconds: time spent training.
        eval_seconds: time spent measuring the validation and test splits.
    """

    metrics: dict[str, float] = field(default_factory=dict)
    diverged: str | None = None
    epochs: int = 0
    steps: int = 0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    """Full batches, plus the last partial one unless it holds a single example (batch
    normalisation cannot train on one)."""
    full, rest = divmod(n_examples, batch_size)
    return full + (rest >= 2)


def batch_augmenter(recipe: TrainingRecipe, generator: torch.Generator
                    ) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The recipe's image augmentations as one function of a batch, or ``None`` if none."""
    steps: list[Callable[[torch.Tensor], torch.Tensor]] = []
    if recipe.random_crop:
        steps.append(lambda x: augment.random_crop(x, recipe.random_crop, generator))
    if recipe.horizontal_flip:
        steps.append(lambda x: augment.horizontal_flip(x, generator))
    if recipe.cutout:
        steps.append(lambda x: augment.cutout(x, recipe.cutout, generator))
    if not steps:
        return None

    def apply(x: torch.Tensor) -> torch.Tensor:
        for step in steps:
            x = step(x)
        return x

    return apply


def fit(fabric: Fabric, module: NetworkModule, data: TrainingData,
        generator: torch.Generator) -> TrainingOutcome:
    """Train ``module`` on ``data["train"]`` for ``module.epochs`` epochs, then measure the
    validation and test splits.

    Args:
        fabric: places the module on its device; ``data`` must already be there.
        module: the network and its recipe.
        data: the splits.
        generator: the run's generator (on the data's device) for shuffling and augmentation.
    """
    recipe = module.recipe
    configured = module.configure_optimizers()
    scheduler = configured["lr_scheduler"]["scheduler"]
    model, optimizer = fabric.setup(module, configured["optimizer"])
    x_train, y_train = data.x["train"], data.y["train"]
    n, batch_size = len(y_train), recipe.batch_size
    n_steps = steps_per_epoch(n, batch_size)
    augmenter = batch_augmenter(recipe, generator)
    clip = recipe.grad_clip
    t0 = time.perf_counter()
    steps = 0
    train_loss = math.nan
    for epoch in range(module.epochs):
        module.set_epoch(epoch)
        model.train()
        order = torch.randperm(n, generator=generator, device=generator.device)
        running = torch.zeros((), device=x_train.device)
        for step in range(n_steps):
            index = order[step * batch_size : (step + 1) * batch_size]
            x = x_train[index]
            if augmenter is not None:
                x = augmenter(x)
            loss = model.training_step((x, y_train[index]), step)
            optimizer.zero_grad(set_to_none=True)
            fabric.backward(loss)
            if clip:
                fabric.clip_gradients(model, optimizer, max_norm=clip)
            optimizer.step()
            scheduler.step()
            running += loss.detach()
        steps += n_steps
        train_loss = running.item() / n_steps
        if not math.isfinite(train_loss):
            return TrainingOutcome(
                diverged=f"training loss became {train_loss} in epoch {epoch + 1}",
                epochs=epoch + 1, steps=steps, train_seconds=time.perf_counter() - t0,
            )
    train_seconds = time.perf_counter() - t0
    metrics = {"train_loss": train_loss}
    for split in ("valid", "test"):
        loss, acc = measure(model, data.x[split], data.y[split])
        metrics[f"{split}_loss"], metrics[f"{split}_acc"] = loss, acc
    eval_seconds = time.perf_counter() - t0 - train_seconds
    if not math.isfinite(metrics["valid_loss"]):
        return TrainingOutcome(
            diverged=f"validation loss is {metrics['valid_loss']} after training",
            epochs=module.epochs, steps=steps, train_seconds=train_seconds,
            eval_seconds=eval_seconds,
        )
    return TrainingOutcome(metrics, None, module.epochs, steps, train_seconds, eval_seconds)


@torch.no_grad()
def measure(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (%) of ``model`` in evaluation mode on ``(x, y)``, per
    example (per token for a language model)."""
    model.eval()
    loss = torch.zeros((), dtype=torch.float64, device=x.device)
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for i in range(0, len(y), EVAL_BATCH_SIZE):
        logits = model(x[i : i + EVAL_BATCH_SIZE])
        target = y[i : i + EVAL_BATCH_SIZE]
        loss += cross_entropy(logits, target, reduction="sum").double()
        correct += (logits.argmax(-1) == target).sum()
    n = max(1, y.numel())
    return loss.item() / n, 100.0 * correct.item() / n
