"""Real data for network tests: scikit-learn's digits and MNIST-1D, both generated offline."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch


@pytest.fixture(scope="session")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """256 of scikit-learn's 8x8 digit images, shaped (N, 1, 8, 8), scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.images[:256], dtype=torch.float32).unsqueeze(1) / 16.0
    return x, torch.tensor(data.target[:256], dtype=torch.long)


@pytest.fixture(scope="session")
def mnist1d() -> tuple[torch.Tensor, torch.Tensor]:
    """256 MNIST-1D sequences (Greydanus 2020), regenerated offline, shaped (N, 40)."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = 400
    data = make_dataset(args)
    x = torch.tensor(data["x"][:256], dtype=torch.float32)
    return x, torch.tensor(data["y"][:256], dtype=torch.long)


def _loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = model(x)
    logits = out[0] if isinstance(out, tuple) else out
    return torch.nn.functional.cross_entropy(logits, y)


@pytest.fixture
def fit() -> Callable[..., tuple[float, float]]:
    """Train a network for a few SGD steps on one batch; return (first loss, last loss).

    Both losses are measured in training mode, so that batch statistics and drop-path are
    what the optimiser saw.
    """

    def run(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int = 15,
            lr: float = 0.05, clip: float | None = None) -> tuple[float, float]:
        torch.manual_seed(0)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        first = None
        for _ in range(steps):
            opt.zero_grad()
            loss = _loss(model, x, y)
            if first is None:
                first = loss.item()
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
        with torch.no_grad():
            last = _loss(model, x, y).item()
        assert first is not None
        return first, last

    return run


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)
