"""CIFAR-10: 60,000 colour 32x32 images in 10 classes (Krizhevsky, 2009), from a local copy.

Read from the official "CIFAR-10 python version" (``cifar-10-python.tar.gz`` unpacked): the
directory ``cifar-10-batches-py`` with ``data_batch_1`` ... ``data_batch_5`` (50,000 training
images) and ``test_batch`` (10,000 test images), looked for in the data directory (as
``<data dir>/cifar-10-batches-py``, the layout torchvision also uses). Nothing is downloaded.

The batches are pickles; they are read with an unpickler that accepts nothing but the NumPy
array they hold, so a tampered file cannot run code.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import DataKind, Dataset, DatasetArrays
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

DIRECTORY = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds NumPy arrays and plain containers; refuses every other class."""

    def find_class(self, module: str, name: str) -> Any:
        import numpy as np

        if name == "_reconstruct" and module in ("numpy.core.multiarray",
                                                 "numpy._core.multiarray"):
            return np.ndarray.__reduce__(np.empty(0))[0]
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if (module, name) == ("_codecs", "encode"):  # bytes in protocol-2 pickles
            import codecs

            return codecs.encode
        raise pickle.UnpicklingError(f"a CIFAR-10 batch holds no {module}.{name}")


def read_batch(path: Path) -> tuple[Any, Any]:
    """One batch file: images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` int64."""
    import numpy as np

    with path.open("rb") as fh:
        try:
            batch = _ArrayUnpickler(fh, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError, ValueError) as err:
            raise DataNotFoundError(f"{path} is not a CIFAR-10 python batch: {err}") from None
    try:
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (KeyError, TypeError) as err:
        raise DataNotFoundError(f"{path} is not a CIFAR-10 python batch (no {err})") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise DataNotFoundError(
            f"{path} is not a CIFAR-10 python batch: data {data.shape}, {len(labels)} labels"
        )
    return data.reshape(-1, 3, 32, 32), labels


class Cifar10Dataset(Dataset):
    name: ClassVar[str] = "cifar10"
    summary: ClassVar[str] = "CIFAR-10 from a local copy: 50,000 + 10,000 colour 32x32 images"
    data_kind: ClassVar[DataKind] = "image"
    input_shape: ClassVar[tuple[int, ...]] = (3, 32, 32)
    num_classes: ClassVar[int] = 10
    citation: ClassVar[str] = (
        "Krizhevsky, Learning multiple layers of features from tiny images, tech. report, "
        "University of Toronto (2009)"
    )

    def directory(self, data_dir: Path | None) -> Path:
        """The ``cifar-10-batches-py`` directory, checked to hold every batch.

        Raises:
            DataNotFoundError: saying where it was looked for and how to provide it.
        """
        how = (
            "Download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
            f"once, unpack it in your data directory (it creates {DIRECTORY}/), and set "
            "[study] data_dir or $NASBENCH_DATA to that directory."
        )
        if data_dir is None:
            raise DataNotFoundError(
                f"CIFAR-10 is read from <data dir>/{DIRECTORY}, and no data directory is set. "
                + how
            )
        root = data_dir / DIRECTORY
        missing = [n for n in (*TRAIN_BATCHES, TEST_BATCH) if not (root / n).is_file()]
        if missing:
            raise DataNotFoundError(
                f"CIFAR-10 is not in {root} (missing {', '.join(missing)}). " + how
            )
        return root

    def check(self, data_dir: Path | None) -> None:
        self.directory(data_dir)

    def load(self, data_dir: Path | None) -> DatasetArrays:
        import numpy as np

        root = self.directory(data_dir)
        train = [read_batch(root / name) for name in TRAIN_BATCHES]
        x_test, y_test = read_batch(root / TEST_BATCH)
        return DatasetArrays(
            np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
            x_test, y_test, num_classes=10,
        )


@hookimpl
def nasbench_register_datasets(registry: Any) -> None:
    registry.add(Cifar10Dataset)
