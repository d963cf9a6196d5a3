"""MNIST-1D: 5,000 one-dimensional signals of length 40 in 10 classes (Greydanus, 2020).

Regenerated offline with ``mnist1d.data.make_dataset()`` and the package's default arguments
(seed 42), which reproduce the published dataset: 4,000 training and 1,000 test signals. The
package's ``get_dataset`` downloads and is never called. Each signal is a sequence of 40 steps
with one feature, shape ``(40, 1)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import DataKind, Dataset, DatasetArrays
from nasbench.hookspecs import hookimpl

LENGTH = 40


class Mnist1dDataset(Dataset):
    name: ClassVar[str] = "mnist1d"
    summary: ClassVar[str] = "MNIST-1D: 5,000 signals of 40 steps, 10 classes (regenerated)"
    data_kind: ClassVar[DataKind] = "sequence"
    input_shape: ClassVar[tuple[int, ...]] = (LENGTH, 1)
    num_classes: ClassVar[int] = 10
    citation: ClassVar[str] = (
        "Greydanus, Scaling down deep learning, arXiv:2011.14439 (2020); "
        "github.com/greydanus/mnist1d"
    )
    slow_to_load: ClassVar[bool] = True

    def load(self, data_dir: Path | None) -> DatasetArrays:
        import random

        import numpy as np
        from mnist1d.data import make_dataset

        # make_dataset seeds Python's and NumPy's global generators; put them back afterwards
        # so that loading data never changes anybody else's random numbers.
        py_state, np_state = random.getstate(), np.random.get_state()
        try:
            data = make_dataset()
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)

        def signals(x: Any) -> Any:
            return np.ascontiguousarray(x, dtype=np.float32)[:, :, None]

        return DatasetArrays(
            signals(data["x"]), data["y"].astype(np.int64),
            signals(data["x_test"]), data["y_test"].astype(np.int64),
            num_classes=10,
        )


@hookimpl
def nasbench_register_datasets(registry: Any) -> None:
    registry.add(Mnist1dDataset)
