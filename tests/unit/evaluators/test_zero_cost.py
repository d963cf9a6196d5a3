"""The zero_cost evaluator: conformance, seeds, data it reads (or not), configuration errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from nasbench.evaluators.proxies import synflow
from nasbench.evaluators.zero_cost import PROXIES, ZeroCostEvaluator, ZeroCostParams
from nasbench.results.scoring_sources import zc201_to_nb201
from nasbench.spaces.nb201 import Nb201Space

from nasbench.api import EvaluatorContext, Trial
from nasbench.errors import ConfigError, DataNotFoundError
from nasbench.params import build_params
from nasbench.protocol import study_from_dict
from nasbench.testing import check_evaluator

SPACE = Nb201Space()
CELL = SPACE.from_string(
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
)
SMALL = {"C": 4, "N": 1}


def _evaluator(plugins: Any, **params: Any) -> ZeroCostEvaluator:
    evaluator = ZeroCostEvaluator(build_params(ZeroCostParams, params, "evaluator"))
    evaluator.bind_plugins(plugins)
    return evaluator


def _ready(plugins: Any, dataset: str, data_dir: Path, **params: Any) -> ZeroCostEvaluator:
    evaluator = _evaluator(plugins, device="cpu", **params)
    metric = f"{dataset}/{evaluator.params.proxies[0]}"
    evaluator.check(SPACE, dataset, data_dir)
    evaluator.setup(SPACE, EvaluatorContext(dataset, metric, (metric,), data_dir=data_dir))
    return evaluator


def test_conforms_on_digits(plugins, data_dir: Path) -> None:
    evaluator = _evaluator(plugins, size=SMALL, batch_size=32, device="cpu")
    evaluator.check(SPACE, "digits", data_dir)
    context = EvaluatorContext("digits", "digits/synflow",
                               tuple(f"digits/{p}" for p in PROXIES), data_dir=data_dir)
    check_evaluator(evaluator, SPACE, context, samples=3)


def test_scores_follow_the_evaluation_seed(plugins, data_dir: Path) -> None:
    evaluator = _ready(plugins, "digits", data_dir, size=SMALL, batch_size=32)
    first = evaluator.evaluate(SPACE, Trial(CELL), seed=11)
    again = evaluator.evaluate(SPACE, Trial(CELL), seed=11)
    other = evaluator.evaluate(SPACE, Trial(CELL), seed=12)
    assert first.status == "ok" and set(first.metrics) == {f"digits/{p}" for p in PROXIES}
    assert dict(again.metrics) == dict(first.metrics)
    for proxy in ("grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow"):
        assert other.metrics[f"digits/{proxy}"] != first.metrics[f"digits/{proxy}"], proxy
    for proxy in ("params", "flops"):
        assert other.metrics[f"digits/{proxy}"] == first.metrics[f"digits/{proxy}"], proxy
    assert first.cost > 0 and first.info["threads"] == 1 and first.info["device"] == "cpu"
    assert {"seconds_build", "seconds_gradients", "seconds_synflow"} <= set(first.info)


def test_an_evaluation_leaves_the_global_random_state_alone(plugins, data_dir: Path) -> None:
    evaluator = _ready(plugins, "digits", data_dir, size=SMALL, batch_size=32,
                       proxies=["snip"])
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    evaluator.evaluate(SPACE, Trial(CELL), seed=3)
    assert torch.equal(torch.rand(3), expected)


def test_a_study_of_data_free_proxies_needs_no_dataset_files(plugins, tmp_path: Path,
                                                             suite_zero) -> None:
    """CIFAR-10 is not in an empty data directory, and synflow, params and flops do not read
    it: the benchmark network is scored from the dataset's declared shape. Its parameter
    count is NAS-Bench-Suite-Zero's, its synflow that of the same network built directly."""
    key = "(1, 0, 2, 2, 2, 1)"
    arch = SPACE.from_string(zc201_to_nb201(key))
    evaluator = _ready(plugins, "cifar10", tmp_path, proxies=["synflow", "params", "flops"],
                       flops_convention="suite_zero")
    result = evaluator.evaluate(SPACE, Trial(arch), seed=4)
    record = suite_zero[key]
    assert result.metrics["cifar10/params"] == round(record["params"]["score"] * 1e6)
    assert result.metrics["cifar10/flops"] == round(record["flops"]["score"] * 1e6)
    torch.manual_seed(4)
    network = SPACE.build(arch, input_shape=(3, 32, 32), num_classes=10)
    assert result.metrics["cifar10/synflow"] == synflow(network, (3, 32, 32))
    with pytest.raises(DataNotFoundError, match="CIFAR-10"):
        _evaluator(plugins, proxies=["synflow", "snip"]).check(SPACE, "cifar10", tmp_path)


def test_grey_images_feed_the_colour_benchmark_network(plugins, data_dir: Path,
                                                       suite_zero) -> None:
    """Fashion-MNIST resized to 32x32 with its channel repeated three times is scored by
    exactly the benchmark network (NAS-Bench-Suite-Zero's parameter count)."""
    key = "(0, 2, 3, 2, 3, 1)"
    evaluator = _ready(plugins, "fashion_mnist", data_dir, image_size=32, channels=3,
                       train_samples=512, valid_samples=16, test_samples=16, batch_size=16)
    result = evaluator.evaluate(SPACE, Trial(SPACE.from_string(zc201_to_nb201(key))), seed=0)
    assert result.status == "ok"
    assert result.metrics["fashion_mnist/params"] == round(
        suite_zero[key]["params"]["score"] * 1e6)
    assert all(math.isfinite(v) for v in result.metrics.values()), dict(result.metrics)


def _study(plugins: Any, data_dir: Path, dataset: str = "digits", search: str = "synflow",
           **evaluator: Any) -> Any:
    raw = {"study": {"seeds": 1}, "space": {"name": "nb201"},
           "evaluator": {"name": "zero_cost", "dataset": dataset, "search_metric": search,
                         "report_metrics": ["params"], **evaluator},
           "budget": {"evaluations": 3}, "strategies": [{"name": "random_search"}]}
    return study_from_dict(raw, plugins)


def test_configuration_mistakes_are_config_errors(plugins, data_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"evaluator.report_metrics: is missing, and "
                       r"'zero_cost' has no test metrics to report by default"):
        study_from_dict({"study": {"seeds": 1}, "space": "nb201", "budget": {"evaluations": 1},
                         "evaluator": {"name": "zero_cost", "dataset": "digits",
                                       "search_metric": "synflow"},
                         "strategies": [{"name": "random_search"}]}, plugins)
    with pytest.raises(ConfigError, match=r"evaluator.proxies: is empty"):
        _study(plugins, data_dir, proxies=[])
    with pytest.raises(ConfigError, match=r"evaluator.proxies\[0\]: 'zen' is not one of"):
        _study(plugins, data_dir, proxies=["zen"])
    with pytest.raises(ConfigError, match="names a proxy twice"):
        _study(plugins, data_dir, proxies=["snip", "snip"])
    with pytest.raises(ConfigError,
                       match=r"unknown metric 'snip'.*Available: digits/params, digits/synflow"):
        _study(plugins, data_dir, search="snip", proxies=["synflow", "params"])
    with pytest.raises(ConfigError, match=r"evaluator\.channels: repeats the channel of grey"):
        _study(plugins, data_dir, dataset="cifar10", channels=3,
               proxies=["synflow", "params"])
    with pytest.raises(ConfigError, match="space 'nb201' builds networks for image data"):
        _study(plugins, data_dir, dataset="mnist1d")
    with pytest.raises(ConfigError, match=r"evaluator.size.D: unknown size key|size.D"):
        _study(plugins, data_dir, size={"D": 3})


def test_a_minibatch_larger_than_the_training_split_is_refused(plugins, data_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"evaluator\.batch_size: asks for 64 examples, "
                       r"and the training split holds 40"):
        _ready(plugins, "digits", data_dir, train_samples=40, proxies=["snip"])


def test_a_benchmark_table_reports_the_true_accuracy_beside_the_proxies(plugins,
                                                                      data_dir: Path) -> None:
    """With benchmark = "nb201" the evaluator adds NAS-Bench-201's test metrics, looked up,
    so that a search on a proxy reports what it found; they cannot be searched on."""
    evaluator = _evaluator(plugins, proxies=["synflow"], size=SMALL, benchmark="nb201",
                           device="cpu")
    evaluator.check(SPACE, "digits", data_dir)
    metrics = evaluator.metrics("digits")
    assert "cifar10/test_200ep" in metrics and "cifar10/valid_12ep" not in metrics
    context = EvaluatorContext("digits", "digits/synflow",
                               ("cifar10/test_200ep", "cifar100/test_200ep"), data_dir=data_dir)
    evaluator.setup(SPACE, context)
    result = evaluator.evaluate(SPACE, Trial(CELL), seed=1)
    table = plugins.benchmarks.get("nb201")().load(None, ("cifar10", "cifar100"))
    for metric in ("cifar10/test_200ep", "cifar100/test_200ep"):
        assert result.metrics[metric] == table.column(metric)[table.row(CELL)]
    assert set(result.metrics) == {"digits/synflow", "cifar10/test_200ep", "cifar100/test_200ep"}
    with pytest.raises(ConfigError, match="selecting on test data"):
        _study(plugins, data_dir, search="cifar10/test_200ep", benchmark="nb201",
               proxies=["synflow"])
    with pytest.raises(ConfigError, match=r"evaluator\.benchmark: benchmark 'nbgraph' indexes"):
        _study(plugins, data_dir, benchmark="nbgraph", proxies=["synflow", "params"])
