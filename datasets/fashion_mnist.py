"""Fashion-MNIST: 70,000 grey 28x28 images of clothing in 10 classes (Xiao et al., 2017).

Read from the four IDX files of the original release (``train-images-idx3-ubyte.gz`` and so
on, gzipped or not), looked for first in ``<data dir>/fashion-mnist/`` and then where Debian's
package ``dataset-fashion-mnist`` installs them, ``/usr/share/datasets/fashion-mnist``.
Official splits: 60,000 training and 10,000 test images.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any, ClassVar

from nasbench.api import DataKind, Dataset, DatasetArrays
from nasbench.errors import DataNotFoundError
from nasbench.hookspecs import hookimpl

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's ``dataset-fashion-mnist`` package puts the files."""
SUBDIR = "fashion-mnist"
"""The directory below the data directory that may hold the files instead."""
FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_UBYTE = 0x08


def read_idx(path: Path) -> Any:
    """An IDX file (the MNIST format: big-endian header, unsigned bytes) as a NumPy array."""
    import numpy as np

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _UBYTE:
        raise DataNotFoundError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataNotFoundError(
            f"{path} is truncated: its header says {shape}, it holds {body.size} bytes"
        )
    return body.reshape(shape)


def _find(directory: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


class FashionMnistDataset(Dataset):
    name: ClassVar[str] = "fashion_mnist"
    summary: ClassVar[str] = "Fashion-MNIST: 60,000 + 10,000 grey 28x28 images, 10 classes"
    data_kind: ClassVar[DataKind] = "image"
    input_shape: ClassVar[tuple[int, ...]] = (1, 28, 28)
    num_classes: ClassVar[int] = 10
    citation: ClassVar[str] = (
        "Xiao, Rasul & Vollgraf, Fashion-MNIST: a novel image dataset for benchmarking machine "
        "learning algorithms, arXiv:1708.07747 (2017)"
    )

    def files(self, data_dir: Path | None) -> dict[str, Path]:
        """The four IDX files, from the data directory or the system package.

        Raises:
            DataNotFoundError: naming both places and how to fill one of them.
        """
        places = ([data_dir / SUBDIR] if data_dir is not None else []) + [SYSTEM_DIR]
        for directory in places:
            found = {key: _find(directory, stem) for key, stem in FILES.items()}
            if all(found.values()):
                return found  # type: ignore[return-value]
        raise DataNotFoundError(
            f"Fashion-MNIST is not installed: looked for {', '.join(FILES.values())} (.gz or "
            f"not) in {' and '.join(str(p) for p in places)}. Install Debian's package with "
            f"'apt-get install dataset-fashion-mnist', or put the four IDX files of the "
            f"original release in <data dir>/{SUBDIR}/."
        )

    def check(self, data_dir: Path | None) -> None:
        self.files(data_dir)

    def load(self, data_dir: Path | None) -> DatasetArrays:
        import numpy as np

        arrays = {key: read_idx(path) for key, path in self.files(data_dir).items()}
        return DatasetArrays(
            arrays["x_train"][:, None], arrays["y_train"].astype(np.int64),
            arrays["x_test"][:, None], arrays["y_test"].astype(np.int64),
            num_classes=10,
        )


@hookimpl
def nasbench_register_datasets(registry: Any) -> None:
    registry.add(FashionMnistDataset)
