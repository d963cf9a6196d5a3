"""Real data for the proxy tests: scikit-learn's digits and NAS-Bench-Suite-Zero's scores."""

from __future__ import annotations

from typing import Any

import pytest
import torch


@pytest.fixture(scope="session")
def digits_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """32 of scikit-learn's 8x8 digit images, shaped (32, 1, 8, 8), standardised."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.images[:32], dtype=torch.float32).unsqueeze(1)
    return (x - x.mean()) / x.std(), torch.tensor(data.target[:32], dtype=torch.long)


@pytest.fixture(scope="session")
def suite_zero(suite_zero_records) -> dict[str, dict[str, Any]]:
    """NAS-Bench-Suite-Zero's CIFAR-10 records of 725 NAS-Bench-201 cells (shipped table)."""
    return suite_zero_records["cifar10"]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)
