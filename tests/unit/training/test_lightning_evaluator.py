"""The ``lightning`` evaluator trains real networks on digits: determinism, divergence, the
protocol's switches and its refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench.api import EvaluatorContext, Trial
from nasbench.errors import ConfigError
from nasbench.params import build_params
from nasbench.testing import check_evaluator
from nasbench.training import augment

TINY = {"size": {"C": 4, "N": 1}, "epochs": 2, "train_samples": 300, "batch_size": 16}
ARCH = (3, 2, 4, 1, 3, 2)


def _evaluator(plugins, space, dataset: str = "digits", data_dir: Path | None = None,
               **params):
    cls = plugins.evaluators.get("lightning")
    evaluator = cls(build_params(cls.Params, {**TINY, **params}, "evaluator"))
    evaluator.bind_plugins(plugins)
    evaluator.check(space, dataset, data_dir)
    return evaluator


def _context(dataset: str = "digits", **kw) -> EvaluatorContext:
    return EvaluatorContext(dataset, f"{dataset}/valid_acc", (f"{dataset}/test_acc",), **kw)


def _space(plugins, name: str = "nb201", **params):
    cls = plugins.spaces.get(name)
    return cls(build_params(cls.Params, params))


@pytest.fixture(scope="module")
def nb201_digits(plugins):
    space = _space(plugins)
    evaluator = _evaluator(plugins, space)
    evaluator.setup(space, _context())
    return space, evaluator


def test_same_architecture_protocol_and_seed_give_bit_identical_metrics(plugins,
                                                                        nb201_digits) -> None:
    space, evaluator = nb201_digits
    first = evaluator.evaluate(space, Trial(ARCH), seed=11)
    assert first.status == "ok", first.reason
    assert first.metrics == evaluator.evaluate(space, Trial(ARCH), seed=11).metrics
    other = evaluator.evaluate(space, Trial(ARCH), seed=12)
    assert other.metrics["digits/valid_loss"] != first.metrics["digits/valid_loss"]
    # a second evaluator, set up from scratch, reproduces the first one's numbers
    fresh = _evaluator(plugins, space)
    fresh.setup(space, _context())
    assert fresh.evaluate(space, Trial(ARCH), seed=11).metrics == first.metrics
    # the evaluation leaves torch's global random state as it found it
    state = torch.random.get_rng_state()
    evaluator.evaluate(space, Trial(ARCH), seed=11)
    assert torch.equal(state, torch.random.get_rng_state())


def test_reports_metrics_cost_size_and_the_thread_count(nb201_digits) -> None:
    space, evaluator = nb201_digits
    result = evaluator.evaluate(space, Trial(ARCH), seed=3)
    m = result.metrics
    assert m["digits/valid_acc"] > 50 and m["digits/test_acc"] > 50  # chance: 10
    assert result.cost > result.info["train_seconds"] > 0
    assert result.info["threads"] == 1 and result.info["device"] == "cpu"
    assert result.info["epochs"] == 2 and result.info["steps"] == 2 * 19  # 300 examples / 16
    net = space.build(ARCH, input_shape=(1, 8, 8), num_classes=10, C=4, N=1)
    assert m["digits/params"] == sum(p.numel() for p in net.parameters())
    assert m["digits/flops"] > m["digits/params"]


def test_the_fidelity_is_the_number_of_epochs(nb201_digits) -> None:
    space, evaluator = nb201_digits
    assert evaluator.evaluate(space, Trial(ARCH), seed=3, fidelity=1).info["epochs"] == 1


def test_conforms_to_the_evaluator_contract(plugins) -> None:
    space = _space(plugins)
    check_evaluator(_evaluator(plugins, space, epochs=1), space, _context(), samples=2)


def test_an_absurd_learning_rate_diverges_and_is_reported_not_raised(plugins) -> None:
    space = _space(plugins)
    evaluator = _evaluator(plugins, space, lr=1e6, epochs=3)
    evaluator.setup(space, _context())
    result = evaluator.evaluate(space, Trial(ARCH), seed=0)
    assert result.status == "diverged"
    assert "loss became nan in epoch 1" in result.reason
    assert result.metrics == {} and result.cost > 0


def test_darts_trains_with_every_trick_switched_on(plugins) -> None:
    space = _space(plugins, "darts")
    evaluator = _evaluator(plugins, space, size={"C": 4, "layers": 3}, auxiliary_weight=0.4,
                           drop_path_prob=0.2, cutout=4, label_smoothing=0.1, grad_clip=5.0,
                           random_crop=1, horizontal_flip=True, epochs=1)
    evaluator.setup(space, _context())
    arch = space.sample(np.random.default_rng(0))
    result = evaluator.evaluate(space, Trial(arch), seed=0)
    assert result.status == "ok", result.reason
    # the auxiliary head trains but is not counted in the network's size
    with_head = space.build(arch, input_shape=(1, 8, 8), num_classes=10, C=4, layers=3,
                            auxiliary=True)
    assert result.metrics["digits/params"] < sum(p.numel() for p in with_head.parameters())


def test_switches_a_space_cannot_honour_are_refused(plugins) -> None:
    nb201 = _space(plugins)
    with pytest.raises(ConfigError, match="no auxiliary head"):
        _evaluator(plugins, nb201, auxiliary_weight=0.4)
    evaluator = _evaluator(plugins, nb201, drop_path_prob=0.2)
    with pytest.raises(ConfigError, match="do not support drop-path"):
        evaluator.setup(nb201, _context())
    rnn = _space(plugins, "enas_rnn", nodes=3)
    with pytest.raises(ConfigError, match=r"evaluator\.cutout: augments images"):
        _evaluator(plugins, rnn, "mnist1d", size={"hidden": 8}, cutout=4)
    with pytest.raises(ConfigError, match="'ptb' holds token sequences"):
        _evaluator(plugins, _space(plugins, "mlp"), "ptb", size={})
    with pytest.raises(ConfigError, match="unknown size key"):
        _evaluator(plugins, nb201, size={"channels": 8})
    with pytest.raises(ConfigError, match="set by the protocol"):
        _evaluator(plugins, nb201, size={"auxiliary": True})


def test_vector_and_sequence_spaces_train_on_their_data(plugins) -> None:
    for name, dataset, size, space_params in (("mlp", "digits", {}, {}),
                                              ("enas_rnn", "mnist1d", {"hidden": 8},
                                               {"nodes": 3})):
        space = _space(plugins, name, **space_params)
        evaluator = _evaluator(plugins, space, dataset, size=size, epochs=1)
        evaluator.setup(space, _context(dataset))
        result = evaluator.evaluate(space, Trial(space.sample(np.random.default_rng(0))),
                                    seed=0)
        assert result.status == "ok", result.reason
        assert result.metrics[f"{dataset}/valid_loss"] > 0


def _images(seed: int = 0) -> torch.Tensor:
    return torch.rand((16, 3, 8, 8), generator=torch.Generator().manual_seed(seed)) + 1.0


def test_cutout_zeroes_one_square_per_image() -> None:
    images = _images()
    out = augment.cutout(images, 4, torch.Generator().manual_seed(0))
    zeroed = (out == 0).all(dim=1)
    for mask in zeroed:
        rows, cols = mask.any(dim=1).nonzero(), mask.any(dim=0).nonzero()
        assert 2 <= len(rows) <= 4 and 2 <= len(cols) <= 4
        assert mask.sum() == len(rows) * len(cols)  # a rectangle, clipped at the border
    assert torch.equal(out[~zeroed[:, None].expand_as(out)],
                       images[~zeroed[:, None].expand_as(out)])


def test_random_crop_shifts_each_image_within_the_padding() -> None:
    images = _images()
    out = augment.random_crop(images, 2, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    for image, crop in zip(padded, out, strict=True):
        windows = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(image[:, dy : dy + 8, dx : dx + 8], crop)]
        assert windows


def test_horizontal_flip_flips_about_half_of_the_images() -> None:
    images = _images()
    out = augment.horizontal_flip(images, torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, i.flip(2)) for o, i in zip(out, images, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, images, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 0 < sum(flipped) < len(images)
