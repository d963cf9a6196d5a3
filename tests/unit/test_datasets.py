"""Every registered dataset on its real data, and the clear errors of those absent here."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pytest
from nasbench.datasets import cifar10, fashion_mnist, ptb

from nasbench.errors import DataNotFoundError

BUILT_IN = ("cifar10", "digits", "fashion_mnist", "kjv", "mnist1d", "mnist5k", "ptb")


def _load(plugins, name: str, data_dir: Path | None = None):
    dataset = plugins.datasets.get(name)()
    arrays = dataset.load(data_dir)
    n = len(arrays.y_train)
    assert arrays.x_train.shape == (n, *dataset.input_shape)
    assert arrays.y_train.dtype == np.int64
    assert arrays.y_train.min() >= 0 and arrays.y_train.max() < arrays.num_classes
    return dataset, arrays


def test_every_built_in_dataset_is_registered_and_described(plugins) -> None:
    assert set(BUILT_IN) <= set(plugins.datasets.names())
    for name in BUILT_IN:
        described = plugins.datasets.get(name)().describe()
        assert described["data_kind"] in ("image", "sequence", "vector")
        assert described["citation"]


def test_digits_is_scikit_learns_1797_images(plugins) -> None:
    _, arrays = _load(plugins, "digits")
    assert arrays.x_train.shape == (1797, 1, 8, 8)
    assert arrays.x_train.max() == 16
    assert arrays.x_test is None and arrays.x_valid is None
    assert np.bincount(arrays.y_train).min() >= 174


def test_mnist1d_is_regenerated_offline_without_touching_global_generators(plugins) -> None:
    random.seed(123)
    np.random.seed(123)
    expected_py, expected_np = random.random(), np.random.random()
    random.seed(123)
    np.random.seed(123)
    _, arrays = _load(plugins, "mnist1d")
    assert (random.random(), np.random.random()) == (expected_py, expected_np)
    assert arrays.x_train.shape == (4000, 40, 1) and arrays.x_test.shape == (1000, 40, 1)
    assert arrays.x_train.dtype == np.float32
    # make_dataset() standardises the whole set: the published MNIST-1D statistics.
    both = np.concatenate([arrays.x_train, arrays.x_test])
    assert abs(both.mean()) < 1e-4 and abs(both.std() - 1) < 1e-4


def test_mnist5k_is_mlxtends_balanced_mnist_sample(plugins) -> None:
    _, arrays = _load(plugins, "mnist5k")
    assert arrays.x_train.shape == (5000, 1, 28, 28) and arrays.x_train.dtype == np.uint8
    assert np.bincount(arrays.y_train).tolist() == [500] * 10


def test_fashion_mnist_reads_the_debian_package(plugins) -> None:
    _, arrays = _load(plugins, "fashion_mnist")
    assert arrays.x_train.shape == (60000, 1, 28, 28)
    assert arrays.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(arrays.y_train).tolist() == [6000] * 10
    assert np.bincount(arrays.y_test).tolist() == [1000] * 10


def test_fashion_mnist_absent_says_how_to_install_it(plugins, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", tmp_path / "not-installed")
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        plugins.datasets.get("fashion_mnist")().check(tmp_path)


def test_idx_reader_refuses_a_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + (10).to_bytes(4, "big") + (28).to_bytes(4, "big")
                     + (28).to_bytes(4, "big") + bytes(100))
    with pytest.raises(DataNotFoundError, match="truncated"):
        fashion_mnist.read_idx(path)


@pytest.mark.parametrize(("name", "where"), [("cifar10", "cifar-10-batches-py"),
                                             ("ptb", "ptb.train.txt")])
def test_local_datasets_absent_say_where_and_how(plugins, name: str, where: str,
                                                 tmp_path: Path) -> None:
    dataset = plugins.datasets.get(name)()
    for data_dir in (None, tmp_path):
        with pytest.raises(DataNotFoundError, match=where):
            dataset.check(data_dir)
        with pytest.raises(DataNotFoundError, match=where):
            dataset.load(data_dir)


def _cifar_batch(path: Path, labels: list[int], protocol: int) -> np.ndarray:
    data = np.arange(len(labels) * 3072, dtype=np.int64).astype(np.uint8).reshape(-1, 3072)
    batch = {b"batch_label": b"x", b"labels": labels, b"data": data,
             b"filenames": [b"f"] * len(labels)}
    path.write_bytes(pickle.dumps(batch, protocol=protocol))
    return data


def test_cifar10_reads_the_official_python_batches(plugins, tmp_path: Path) -> None:
    """No CIFAR-10 copy exists here: batches in the official layout (dicts of bytes keys, the
    images as one uint8 row of 3x32x32 per image) check the reader's conversions."""
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    first = _cifar_batch(root / "data_batch_1", [3, 1], protocol=2)
    for i in range(2, 6):
        _cifar_batch(root / f"data_batch_{i}", [i, 0], protocol=4)
    _cifar_batch(root / "test_batch", [9, 8, 7], protocol=2)
    _, arrays = _load(plugins, "cifar10", tmp_path)
    assert arrays.x_train.shape == (10, 3, 32, 32) and arrays.x_test.shape == (3, 3, 32, 32)
    assert arrays.y_train[:4].tolist() == [3, 1, 2, 0]
    # channel-major rows: the first 1024 bytes are the red plane of the first image
    assert (arrays.x_train[0, 0].ravel() == first[0, :1024]).all()
    assert (arrays.x_train[1, 2].ravel() == first[1, 2048:]).all()


def test_cifar10_batches_cannot_run_code(tmp_path: Path) -> None:
    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}))
    with pytest.raises(DataNotFoundError, match=r"builtins\.print"):
        cifar10.read_batch(path)


def test_ptb_reads_the_standard_files_as_language_modelling_windows(plugins,
                                                                    tmp_path: Path) -> None:
    """No Penn Treebank copy exists here: files in its format check the tokenisation (an
    ``<eos>`` per line, the training vocabulary) and the windows."""
    root = tmp_path / "ptb"
    root.mkdir()
    words = [f"w{i % 50}" for i in range(1000)]
    lines = [" ".join(words[i : i + 9]) for i in range(0, 1000, 9)]
    (root / "ptb.train.txt").write_text("\n".join(lines) + "\n")
    (root / "ptb.valid.txt").write_text(" ".join(words[:80]) + "\n")
    (root / "ptb.test.txt").write_text(" ".join(words[100:180]) + "\n")
    _, arrays = _load(plugins, "ptb", tmp_path)
    assert arrays.num_classes == 51  # 50 words and <eos>
    stream = ptb.tokens(root / "ptb.train.txt")
    assert stream[9] == ptb.EOS and len(stream) == 1000 + len(lines)
    context = ptb.CONTEXT
    assert arrays.x_train.shape == ((len(stream) - 1) // context, context)
    vocab = {w: i for i, w in enumerate(dict.fromkeys(stream))}
    ids = [vocab[w] for w in stream]
    assert arrays.y_train.shape == arrays.x_train.shape
    for k in (0, 5, len(arrays.y_train) - 1):
        assert arrays.x_train[k].tolist() == ids[k * context : (k + 1) * context]
        assert arrays.y_train[k].tolist() == ids[k * context + 1 : (k + 1) * context + 1]
    assert arrays.x_valid.shape == (2, context) and arrays.x_test.shape == (2, context)


def test_ptb_refuses_words_outside_the_training_vocabulary(plugins, tmp_path: Path) -> None:
    root = tmp_path / "ptb"
    root.mkdir()
    (root / "ptb.train.txt").write_text("a b c\n" * 30)
    (root / "ptb.valid.txt").write_text("a b zebra\n" * 30)
    (root / "ptb.test.txt").write_text("a b c\n" * 30)
    with pytest.raises(DataNotFoundError, match="zebra"):
        plugins.datasets.get("ptb")().load(tmp_path)
