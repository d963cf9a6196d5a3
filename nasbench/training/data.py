"""From a registered dataset to the tensors networks train on.

Splits. Every study trains and measures on the same three splits, fixed by the study's root
seed and the dataset's name (stream ``("data", dataset)`` of :mod:`nasbench.seeding`), so
that every strategy, repetition, the random-sampling baseline and the final protocol see the
same validation and test examples:

* a split the dataset's source defines (MNIST-1D's, Fashion-MNIST's and CIFAR-10's test sets,
  Penn Treebank's validation and test files) is used as it is;
* a missing test split is carved out of all examples (``test_fraction``), then a missing
  validation split out of the rest (``valid_fraction``);
* the carving follows a class-stratified order, so every split, and every prefix of one, holds
  the classes in their overall proportions (up to one example per class);
* ``train_samples``, ``valid_samples`` and ``test_samples`` keep a prefix of that order: a
  class-balanced subset, nested in every larger one (the training subset of a search is part of
  the full training split of a final protocol, and the validation split does not change).

Inputs are then converted to float32 (token ids stay int64), images resized when
``image_size`` says so, standardised with the mean and standard deviation of the training
split (per channel for images, per feature otherwise), and flattened when a space that reads
vectors is trained on images or sequences.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nasbench import seeding
from nasbench.api import DataKind, Dataset, DatasetArrays
from nasbench.errors import ConfigError
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np
    import torch

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class DataParams:
    """How a dataset is split, subsampled and resized: part of a training protocol."""

    valid_fraction: float = param(
        0.2, doc="share of the training split held out for validation when the dataset has "
        "no validation split of its own", gt=0, lt=1,
    )
    test_fraction: float = param(
        0.2, doc="share of all examples held out for testing when the dataset has no test "
        "split of its own", gt=0, lt=1,
    )
    train_samples: int | Literal["all"] = param(
        "all", doc="train on a class-balanced subset of this many training examples", ge=2,
    )
    valid_samples: int | Literal["all"] = param(
        "all", doc="measure validation metrics on a class-balanced subset of this size", ge=1,
    )
    test_samples: int | Literal["all"] = param(
        "all", doc="measure test metrics on a class-balanced subset of this size", ge=1,
    )
    image_size: int | None = param(
        None, doc="resize images to this side length (antialiased bilinear); default: keep",
        ge=1,
    )


@dataclass(frozen=True)
class TrainingData:
    """The three splits as tensors, shaped as the network reads them.

    Attributes:
        x, y: split name (``train``, ``valid``, ``test``) -> examples / labels.
        input_shape: one example's shape as the network reads it (no batch dimension).
        num_classes: width of the logits.
        vocab_size: number of token ids when examples are tokens (language modelling), else
            ``None``.
    """

    x: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    input_shape: tuple[int, ...]
    num_classes: int
    vocab_size: int | None = None

    def sizes(self) -> dict[str, int]:
        return {split: len(y) for split, y in self.y.items()}

    def to(self, device: Any) -> TrainingData:
        """The same data on ``device``."""
        return TrainingData(
            {k: v.to(device) for k, v in self.x.items()},
            {k: v.to(device) for k, v in self.y.items()},
            self.input_shape, self.num_classes, self.vocab_size,
        )


# -- which spaces read which data -----------------------------------------------------------------
def check_data_kind(space: Any, dataset: type[Dataset], spaces: Any = None,
                    datasets: Any = None) -> None:
    """Refuse a space whose networks cannot read ``dataset``.

    A space reads the kind it declares (``image``, ``sequence``, ``vector``); a space that reads
    vectors also takes images and sequences, flattened. Token data (language modelling) is read
    by sequence spaces only (whose networks embed the tokens themselves).

    Args:
        space: the search space (its ``name`` and ``data_kind``).
        dataset: the dataset class.
        spaces, datasets: the registries, to name what would fit instead.

    Raises:
        ConfigError: naming both kinds and what would fit.
    """
    reads = getattr(space, "data_kind", None)
    if reads is None or "build" not in space.capabilities:
        builders = [r.name for r in spaces if "build" in r.cls.capabilities] if spaces else []
        raise ConfigError(
            "space.name",
            f"space '{space.name}' builds no networks, so it cannot be trained",
            f"Spaces that build networks: {', '.join(builders) or 'none installed'}; or use "
            "the tabular evaluator.",
        )
    if accepts(reads, dataset):
        return
    fits = sorted(r.name for r in datasets if accepts(reads, r.cls)) if datasets else []
    other = (sorted(r.name for r in spaces if getattr(r.cls, "data_kind", None) ==
                    dataset.data_kind and "build" in r.cls.capabilities) if spaces else [])
    what = "token sequences" if dataset.task == "language_model" else f"{dataset.data_kind} data"
    raise ConfigError(
        "evaluator.dataset",
        f"space '{space.name}' builds networks for {reads} data, and dataset "
        f"'{dataset.name}' holds {what}",
        f"Datasets for '{space.name}': {', '.join(fits) or 'none installed'}; spaces for "
        f"'{dataset.name}': {', '.join(other) or 'none installed'}.",
    )


def accepts(reads: str, dataset: type[Dataset]) -> bool:
    """Whether a space reading ``reads`` data can be trained on ``dataset``."""
    if dataset.task == "language_model":
        return reads == "sequence"
    return reads in (dataset.data_kind, "vector")


# -- loading, with a cache for slow sources ---------------------------------------------------
def load_arrays(dataset: Dataset, data_dir: Path | None,
                cache_dir: Path | None = None) -> DatasetArrays:
    """``dataset.load(data_dir)``, kept in ``cache_dir`` when the dataset is slow to load."""
    import numpy as np

    if not dataset.slow_to_load or cache_dir is None:
        return dataset.load(data_dir)
    path = cache_dir / "datasets" / f"{dataset.name}.npz"
    if path.is_file():
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        num_classes = int(arrays.pop("num_classes"))
        return DatasetArrays(**arrays, num_classes=num_classes)
    loaded = dataset.load(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.npz")
    fields = {f.name: getattr(loaded, f.name) for f in dataclasses.fields(loaded)}
    np.savez(tmp, **{k: v for k, v in fields.items() if v is not None})
    os.replace(tmp, path)
    return loaded


# -- splits ---------------------------------------------------------------------------------------
def stratified_order(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``range(len(labels))`` whose every prefix holds each class in
    its overall proportion, to within one example.

    Each example's key is its rank within its class (in a random order) over the class size;
    sorting by the key interleaves the classes evenly.
    """
    import numpy as np

    n = len(labels)
    perm = rng.permutation(n)
    shuffled = labels[perm]
    _, inverse, counts = np.unique(shuffled, return_inverse=True, return_counts=True)
    by_class = np.argsort(inverse, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(n, dtype=np.float64)
    rank[by_class] = np.arange(n) - np.repeat(starts, counts)
    key = (rank + 0.5) / counts[inverse]
    return perm[np.argsort(key, kind="stable")]


def _order(labels: np.ndarray, rng: np.random.Generator, stratify: bool) -> np.ndarray:
    return stratified_order(labels, rng) if stratify else rng.permutation(len(labels))


def split_arrays(arrays: DatasetArrays, params: DataParams, rng: np.random.Generator,
                 *, stratify: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The train, valid and test splits (see the module docstring), as NumPy arrays."""
    x, y = arrays.x_train, arrays.y_train
    order = _order(y, rng, stratify)
    out: dict[str, tuple[Any, Any]] = {}
    if arrays.x_test is not None:
        test = _order(arrays.y_test, rng, stratify)
        out["test"] = (arrays.x_test[test], arrays.y_test[test])
    else:
        n_test = _count(params.test_fraction * len(order), len(order), "test_fraction")
        out["test"] = (x[order[:n_test]], y[order[:n_test]])
        order = order[n_test:]
    if arrays.x_valid is not None:
        valid = _order(arrays.y_valid, rng, stratify)
        out["valid"] = (arrays.x_valid[valid], arrays.y_valid[valid])
    else:
        n_valid = _count(params.valid_fraction * len(order), len(order), "valid_fraction")
        out["valid"] = (x[order[:n_valid]], y[order[:n_valid]])
        order = order[n_valid:]
    out["train"] = (x[order], y[order])
    for split in SPLITS:
        wanted = getattr(params, f"{split}_samples")
        sx, sy = out[split]
        if wanted != "all":
            if wanted > len(sy):
                raise ConfigError(
                    f"evaluator.{split}_samples",
                    f"asks for {wanted} examples, and the {split} split holds {len(sy)}",
                    f"Ask for at most {len(sy)}, or \"all\".",
                )
            out[split] = (sx[:wanted], sy[:wanted])
    return {split: out[split] for split in SPLITS}


def _count(value: float, total: int, key: str) -> int:
    n = round(value)
    if not 1 <= n < total:
        raise ConfigError(f"evaluator.{key}", f"leaves {n} of {total} examples for the split",
                          "Choose a fraction that leaves examples on both sides.")
    return n


# -- tensors -------------------------------------------------------------------------------------
def prepare(dataset: Dataset, arrays: DatasetArrays, params: DataParams, *, reads: str,
            root_seed: int) -> TrainingData:
    """The splits as tensors for a space that reads ``reads`` data (see the module docstring).

    Args:
        dataset: the dataset (its name seeds the split; its kind and task say how to convert).
        arrays: what ``dataset.load`` returned.
        params: splits, subsets and resizing.
        reads: the space's data kind.
        root_seed: the study's root seed.
    """
    import torch

    tokens = dataset.task == "language_model"
    rng = seeding.generator(root_seed, "data", dataset.name)
    splits = split_arrays(arrays, params, rng, stratify=not tokens)
    if tokens:
        x = {s: torch.from_numpy(splits[s][0]).long() for s in SPLITS}
    else:
        x = {s: torch.from_numpy(splits[s][0]).float() for s in SPLITS}
        if dataset.data_kind == "image" and params.image_size is not None:
            x = {s: resize(v, params.image_size) for s, v in x.items()}
        x = standardise(x, dataset.data_kind)
        if reads == "vector" and dataset.data_kind != "vector":
            x = {s: v.flatten(1) for s, v in x.items()}
    y = {s: torch.from_numpy(splits[s][1]).long() for s in SPLITS}
    shape = tuple(x["train"].shape[1:])
    return TrainingData(x, y, shape, arrays.num_classes,
                        arrays.num_classes if tokens else None)


def resize(images: torch.Tensor, side: int) -> torch.Tensor:
    """Images ``(N, C, H, W)`` resized to ``side`` x ``side`` (antialiased bilinear)."""
    import torch.nn.functional as F

    if images.shape[-2:] == (side, side):
        return images
    return F.interpolate(images, size=(side, side), mode="bilinear", antialias=True,
                         align_corners=False)


def standardise(x: dict[str, torch.Tensor], kind: DataKind) -> dict[str, torch.Tensor]:
    """Zero mean and unit variance with the training split's statistics.

    Per channel for images ``(N, C, H, W)``, per feature for sequences ``(N, T, F)`` and
    vectors ``(N, F)``; a constant channel or feature is only centred.
    """
    train = x["train"]
    dims = (0, 2, 3) if kind == "image" else tuple(range(train.dim() - 1))
    mean = train.mean(dim=dims, keepdim=True)
    std = train.std(dim=dims, keepdim=True)
    std = std.masked_fill(std == 0, 1.0)
    return {s: ((v - mean) / std).contiguous() for s, v in x.items()}
