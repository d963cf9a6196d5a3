"""Splits, subsets, preparation and data-kind checks, on scikit-learn's digits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from nasbench.datasets.digits import DigitsDataset
from nasbench.datasets.mnist1d import Mnist1dDataset
from nasbench.datasets.ptb import PtbDataset
from nasbench.spaces.nb201 import Nb201Space

from nasbench import seeding
from nasbench.api import DatasetArrays
from nasbench.errors import ConfigError
from nasbench.protocol import study_from_dict
from nasbench.training.data import (
    DataParams,
    check_data_kind,
    prepare,
    split_arrays,
    stratified_order,
)


@pytest.fixture(scope="module")
def digits() -> DatasetArrays:
    return DigitsDataset().load(None)


def _splits(arrays: DatasetArrays, seed: int = 0, **params):
    rng = seeding.generator(seed, "data", "digits")
    return split_arrays(arrays, DataParams(**params), rng)


def test_stratified_order_keeps_class_proportions_in_every_prefix(digits) -> None:
    labels = digits.y_train
    order = stratified_order(labels, np.random.default_rng(3))
    assert sorted(order.tolist()) == list(range(len(labels)))
    share = np.bincount(labels) / len(labels)
    for n in (10, 50, 333, 1000):
        counts = np.bincount(labels[order[:n]], minlength=10)
        assert np.all(np.abs(counts - share * n) <= 1.0), (n, counts)


def test_splits_are_disjoint_stratified_and_fixed_by_the_root_seed(digits) -> None:
    splits = _splits(digits)
    sizes = {s: len(y) for s, (_, y) in splits.items()}
    assert sizes == {"train": 1150, "valid": 288, "test": 359}
    rows = {s: {x.tobytes() for x in xs} for s, (xs, _) in splits.items()}
    assert not rows["train"] & rows["valid"] and not rows["train"] & rows["test"]
    share = np.bincount(digits.y_train) / len(digits.y_train)
    for _, y in splits.values():
        assert np.all(np.abs(np.bincount(y, minlength=10) - share * len(y)) <= 1.0)
    again = _splits(digits)
    other = _splits(digits, seed=1)
    assert all((again[s][1] == splits[s][1]).all() for s in splits)
    assert not (other["valid"][1] == splits["valid"][1]).all()


def test_subsets_are_nested_and_leave_validation_and_test_unchanged(digits) -> None:
    full = _splits(digits)
    small = _splits(digits, train_samples=300, test_samples=100)
    assert (small["train"][0] == full["train"][0][:300]).all()
    assert (small["valid"][0] == full["valid"][0]).all()
    assert (small["test"][0] == full["test"][0][:100]).all()
    assert np.bincount(small["train"][1]).min() >= 29


def test_an_official_test_split_is_kept_whole(digits) -> None:
    official = dataclasses.replace(
        digits, x_train=digits.x_train[:1200], y_train=digits.y_train[:1200],
        x_test=digits.x_train[1200:], y_test=digits.y_train[1200:],
    )
    splits = _splits(official)
    assert len(splits["test"][1]) == 597 and len(splits["valid"][1]) == 240
    assert sorted(splits["test"][1].tolist()) == sorted(digits.y_train[1200:].tolist())


def test_asking_for_more_examples_than_a_split_holds_is_a_config_error(digits) -> None:
    with pytest.raises(ConfigError, match=r"evaluator\.train_samples.*1150"):
        _splits(digits, train_samples=5000)


def test_prepare_standardises_with_training_statistics_and_shapes_for_the_space(digits) -> None:
    image = prepare(DigitsDataset(), digits, DataParams(), reads="image", root_seed=0)
    assert image.input_shape == (1, 8, 8) and image.num_classes == 10
    assert image.vocab_size is None
    train = image.x["train"]
    assert train.dtype == torch.float32
    assert abs(train.mean().item()) < 1e-5 and abs(train.std().item() - 1) < 1e-3
    vector = prepare(DigitsDataset(), digits, DataParams(), reads="vector", root_seed=0)
    assert vector.input_shape == (64,)
    assert torch.equal(vector.x["valid"], image.x["valid"].flatten(1))
    resized = prepare(DigitsDataset(), digits, DataParams(image_size=16), reads="image",
                      root_seed=0)
    assert resized.input_shape == (1, 16, 16)
    assert torch.equal(resized.y["test"], image.y["test"])


def test_spaces_refuse_data_of_another_kind(plugins) -> None:
    nb201 = Nb201Space()
    check_data_kind(nb201, DigitsDataset)
    with pytest.raises(ConfigError, match=r"image data.*'mnist1d' holds sequence data") as err:
        check_data_kind(nb201, Mnist1dDataset, plugins.spaces, plugins.datasets)
    assert "digits" in str(err.value) and "fashion_mnist" in str(err.value)
    with pytest.raises(ConfigError, match="token sequences"):
        check_data_kind(nb201, PtbDataset, plugins.spaces, plugins.datasets)
    with pytest.raises(ConfigError, match="builds no networks"):
        check_data_kind(plugins.spaces.get("nbgraph")(), DigitsDataset, plugins.spaces)


def test_a_study_pairing_a_space_with_the_wrong_data_is_refused_before_it_runs(plugins) -> None:
    raw = {
        "study": {"seeds": 1},
        "space": {"name": "nb201"},
        "evaluator": {"name": "lightning", "dataset": "mnist1d", "search_metric": "valid_acc"},
        "budget": {"evaluations": 2},
        "strategies": [{"name": "random_search"}],
    }
    with pytest.raises(ConfigError, match=r"^evaluator\.dataset: space 'nb201' builds"):
        study_from_dict(raw, plugins)
