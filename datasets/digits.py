"""scikit-learn's handwritten digits: 1,797 grey 8x8 images of the digits 0-9.

The UCI "Optical Recognition of Handwritten Digits" test set as shipped inside scikit-learn
(pixel values 0-16). It has no official test split: the evaluator carves validation and test
splits from it with the study's seed. Small enough that thousands of small networks train on
two cores, which makes it the default dataset for training-based studies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import DataKind, Dataset, DatasetArrays
from nasbench.hookspecs import hookimpl


class DigitsDataset(Dataset):
    name: ClassVar[str] = "digits"
    summary: ClassVar[str] = "scikit-learn digits: 1,797 grey 8x8 images, 10 classes"
    data_kind: ClassVar[DataKind] = "image"
    input_shape: ClassVar[tuple[int, ...]] = (1, 8, 8)
    num_classes: ClassVar[int] = 10
    citation: ClassVar[str] = (
        "Alpaydin & Kaynak, Optical Recognition of Handwritten Digits, UCI ML Repository "
        "(1998), as distributed with scikit-learn"
    )

    def load(self, data_dir: Path | None) -> DatasetArrays:
        import numpy as np
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images = bunch.images.astype(np.uint8)[:, None, :, :]
        return DatasetArrays(images, bunch.target.astype(np.int64), num_classes=10)


@hookimpl
def nasbench_register_datasets(registry: Any) -> None:
    registry.add(DigitsDataset)
