"""The supernet evaluator on scikit-learn digits: trained once, cached in the study's cache
directory, every batch-norm mode reported, mistakes refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasbench.api import EvaluatorContext, Trial
from nasbench.errors import ConfigError
from nasbench.registry import load_plugins

PLUGINS = load_plugins()
SMALL = {"epochs": 2, "batch_size": 32, "train_samples": 512, "size": {"C": 4, "N": 1}}


def _evaluator(cache: Path | None, **changes):
    cls = PLUGINS.evaluators.get("supernet")
    evaluator = cls(cls.Params(**{**SMALL, **changes}))
    evaluator.bind_plugins(PLUGINS)
    space = PLUGINS.spaces.get("nb201")()
    evaluator.setup(space, EvaluatorContext("digits", "digits/valid_acc", ("digits/test_acc",),
                                            cache_dir=cache))
    return evaluator, space


def _scores(evaluator, space, archs) -> list[dict[str, float]]:
    return [dict(evaluator.evaluate(space, Trial(a), seed=0).metrics) for a in archs]


def test_supernet_is_trained_once_and_loaded_from_the_cache(tmp_path: Path) -> None:
    archs = [PLUGINS.spaces.get("nb201")().sample(np.random.default_rng(i)) for i in range(5)]
    first, space = _evaluator(tmp_path)
    result = first.evaluate(space, Trial(archs[0]), seed=0)
    assert result.info["supernet"] == "trained"
    assert result.info["supernet_train_seconds"] > 0
    assert result.cost < result.info["supernet_train_seconds"]  # training is not charged
    scores = _scores(first, space, archs)
    assert len(list((tmp_path / "supernet").glob("*.pt"))) == 1

    again, _ = _evaluator(tmp_path)
    assert again.evaluate(space, Trial(archs[0]), seed=0).info["supernet"] == "loaded"
    assert _scores(again, space, archs) == scores

    # Measurement parameters reuse the supernet; training parameters make a new one.
    reestimated, _ = _evaluator(tmp_path, bn="reestimate")
    assert reestimated.evaluate(space, Trial(archs[0]), seed=0).info["supernet"] == "loaded"
    assert [s["digits/valid_acc"] for s in _scores(reestimated, space, archs)] == [
        s["digits/valid_acc_bn_reestimate"] for s in scores]
    longer, _ = _evaluator(tmp_path, epochs=3)
    assert longer.evaluate(space, Trial(archs[0]), seed=0).info["supernet"] == "trained"
    assert len(list((tmp_path / "supernet").glob("*.pt"))) == 2


def test_every_batch_norm_mode_is_reported(tmp_path: Path) -> None:
    evaluator, space = _evaluator(None, epochs=4, lr=0.1)
    archs = [space.sample(np.random.default_rng(10 + i)) for i in range(6)]
    scores = _scores(evaluator, space, archs)
    for s in scores:
        for mode in ("running", "batch", "reestimate"):
            assert 0.0 <= s[f"digits/valid_acc_bn_{mode}"] <= 100.0
        assert s["digits/valid_acc"] == s["digits/valid_acc_bn_running"]
        assert s["digits/valid_loss"] > 0 and 0.0 <= s["digits/test_acc"] <= 100.0
    modes = {m: [s[f"digits/valid_acc_bn_{m}"] for s in scores]
             for m in ("running", "batch", "reestimate")}
    assert modes["running"] != modes["reestimate"]
    assert np.mean(modes["reestimate"]) > 20.0  # chance: 10%


def test_mistakes_are_refused() -> None:
    cls = PLUGINS.evaluators.get("supernet")
    evaluator = cls(cls.Params(size={"C": 4, "track_running_stats": False}))
    evaluator.bind_plugins(PLUGINS)
    with pytest.raises(ConfigError, match="track_running_stats"):
        evaluator.check(PLUGINS.spaces.get("nb201")(), "digits", None)
    with pytest.raises(ConfigError, match="has no supernet"):
        evaluator.check(PLUGINS.spaces.get("nbgraph")(), "digits", None)
    with pytest.raises(ConfigError, match=r"size\.width"):
        cls(cls.Params(size={"width": 3})).check(PLUGINS.spaces.get("nb201")(), "digits",
                                                   None)
