"""Running a strategy's own torch work on one thread.

Strategies compute with small tensors (a 35-unit LSTM, a Gaussian process over a few hundred
points), where more threads only add contention; the thread count is restored afterwards, so
that an evaluator training networks in the same process keeps the threads it was given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the enclosed torch operations on one thread."""
    import torch

    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)
