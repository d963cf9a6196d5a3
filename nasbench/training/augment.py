"""Data augmentation on whole batches of images held in memory.

Each function takes a batch ``(B, C, H, W)`` and the training loop's ``torch.Generator`` and
returns a new batch; drawing from that generator keeps a training run reproducible. Working on
whole batches (one random draw and a few tensor operations per batch) keeps augmentation from
becoming the per-example overhead that a ``DataLoader`` with per-sample transforms pays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` pixels and crop back to the original size at a random offset per
    image (the standard CIFAR augmentation with ``padding = 4``)."""
    import torch
    import torch.nn.functional as F

    b, _, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    offsets = torch.randint(0, 2 * padding + 1, (2, b), generator=generator,
                            device=generator.device).to(images.device)
    rows = (offsets[0, :, None] + torch.arange(h, device=images.device))[:, :, None]
    cols = (offsets[1, :, None] + torch.arange(w, device=images.device))[:, None, :]
    batch = torch.arange(b, device=images.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


def horizontal_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip each image left-right with probability 1/2."""
    import torch

    flip = torch.rand(images.shape[0], generator=generator, device=generator.device) < 0.5
    return torch.where(flip.to(images.device)[:, None, None, None], images.flip(3), images)


def cutout(images: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """Zero a ``length`` x ``length`` square at a random centre of each image; the square may
    reach past the border (DeVries & Taylor, 2017, as used by DARTS)."""
    import torch

    b, _, h, w = images.shape
    centres = torch.rand((2, b), generator=generator, device=generator.device)
    cy = (centres[0] * h).long().to(images.device)[:, None]
    cx = (centres[1] * w).long().to(images.device)[:, None]
    half = length // 2
    ys = torch.arange(h, device=images.device)[None, :]
    xs = torch.arange(w, device=images.device)[None, :]
    inside_y = (ys >= cy - half) & (ys < cy - half + length)
    inside_x = (xs >= cx - half) & (xs < cx - half + length)
    keep = ~(inside_y[:, :, None] & inside_x[:, None, :])
    return images * keep[:, None, :, :].to(images.dtype)
