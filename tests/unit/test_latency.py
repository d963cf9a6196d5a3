"""Latency: measured by every evaluator that builds networks, predicted by per-operation lookup
tables, published by NAS-Bench-Graph; and the machine description that goes with it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench.api import EvaluatorContext, Trial
from nasbench.errors import ConfigError
from nasbench.hardware import describe_machine
from nasbench.latency_table import LatencyTable, build_table
from nasbench.params import build_params
from tests.conftest import run_cli

ARCH = (3, 2, 4, 1, 3, 2)
TINY_NET = {"C": 4, "N": 1}


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def nb201_table(plugins, tmp_path_factory) -> Path:
    """A lookup table of small NB201 networks on digits-shaped input, written to disk."""
    space = plugins.spaces.get("nb201")()
    table = build_table(space, size=TINY_NET, input_shape=(1, 8, 8), runs=3, warmup=1,
                        references=2)
    path = tmp_path_factory.mktemp("latency") / "nb201.json"
    table.save(path)
    return path


def test_the_machine_is_described_with_torchs_view_of_the_cpu() -> None:
    machine = describe_machine()
    assert machine["cpu_count"] == os.cpu_count()
    assert 1 <= machine["cpus_usable"] <= machine["cpu_count"]
    assert machine["torch"] == torch.__version__
    assert machine["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert machine["torch_threads"] == torch.get_num_threads()
    assert machine["cpu_model"]
    json.dumps(machine)  # plain data, for manifests and tables


def test_lightning_reports_latency_as_a_validation_metric(plugins, nb201_table: Path) -> None:
    space = plugins.spaces.get("nb201")()
    cls = plugins.evaluators.get("lightning")
    params = {"size": TINY_NET, "epochs": 1, "train_samples": 64, "batch_size": 16,
              "latency": True, "latency_batch": 4, "latency_runs": 3,
              "latency_table": str(nb201_table)}
    evaluator = cls(build_params(cls.Params, params, "evaluator"))
    evaluator.bind_plugins(plugins)
    infos = evaluator.metrics("digits")
    for name in ("latency_ms", "latency_ms_b4", "predicted_latency_ms"):
        assert infos[f"digits/{name}"].split == "valid"
        assert not infos[f"digits/{name}"].higher_is_better
    evaluator.setup(space, EvaluatorContext("digits", "digits/latency_ms", ("digits/valid_acc",)))
    result = evaluator.evaluate(space, Trial(ARCH), seed=0)
    assert result.status == "ok", result.reason
    m = result.metrics
    assert 0 < m["digits/latency_ms"] < m["digits/latency_ms_b4"] * 4
    table = LatencyTable.load(nb201_table)
    assert m["digits/predicted_latency_ms"] == table.predict(ARCH)
    assert result.info["latency_threads"] == 1
    assert result.info["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert result.cost < result.info["train_seconds"] + result.info["eval_seconds"] + 5


def test_latency_is_off_by_default_and_a_table_of_another_space_is_refused(
        plugins, nb201_table: Path) -> None:
    cls = plugins.evaluators.get("zero_cost")
    plain = cls(build_params(cls.Params, {"proxies": ["synflow"]}, "evaluator"))
    plain.bind_plugins(plugins)
    assert set(plain.metrics("digits")) == {"digits/synflow"}
    wrong = cls(build_params(cls.Params, {"proxies": ["synflow"],
                                          "latency_table": str(nb201_table)}, "evaluator"))
    wrong.bind_plugins(plugins)
    darts = plugins.spaces.get("darts")()
    with pytest.raises(ConfigError, match="latency table of space 'nb201'"):
        wrong.setup(darts, EvaluatorContext("digits", "digits/synflow", ()))


def test_zero_cost_measures_before_synflow_turns_the_network_to_double(plugins) -> None:
    space = plugins.spaces.get("nb201")()
    cls = plugins.evaluators.get("zero_cost")
    evaluator = cls(build_params(cls.Params, {"proxies": ["synflow", "params"], "size": TINY_NET,
                                              "latency": True, "latency_batch": 1,
                                              "device": "cpu"}, "evaluator"))
    evaluator.bind_plugins(plugins)
    assert set(evaluator.metrics("digits")) == {"digits/synflow", "digits/params",
                                                "digits/latency_ms"}
    evaluator.setup(space, EvaluatorContext("digits", "digits/synflow", ("digits/latency_ms",)))
    result = evaluator.evaluate(space, Trial(ARCH), seed=0)
    assert result.metrics["digits/latency_ms"] > 0 and result.info["latency_seconds"] > 0
    assert np.isfinite(result.metrics["digits/synflow"])


def test_supernet_measures_the_stand_alone_network(plugins) -> None:
    space = plugins.spaces.get("nb201")()
    cls = plugins.evaluators.get("supernet")
    evaluator = cls(cls.Params(epochs=1, batch_size=32, train_samples=64, size=TINY_NET,
                               latency=True, latency_batch=2, latency_runs=2))
    evaluator.bind_plugins(plugins)
    evaluator.setup(space, EvaluatorContext("digits", "digits/valid_acc", ()))
    result = evaluator.evaluate(space, Trial(ARCH), seed=0)
    assert result.metrics["digits/latency_ms"] > 0 and result.metrics["digits/latency_ms_b2"] > 0
    # measuring does not change which supernet is trained (the cache key)
    other = cls(cls.Params(epochs=1, batch_size=32, train_samples=64, size=TINY_NET))
    other.bind_plugins(plugins)
    other.setup(space, EvaluatorContext("digits", "digits/valid_acc", ()))
    assert other.cache_key() == evaluator.cache_key()


def test_nb201_table_is_a_sum_over_edges_with_every_edge_alike(nb201_table: Path) -> None:
    table = LatencyTable.load(nb201_table)
    costs = table.edge_costs()
    assert costs.shape == (1, 6, 5) and table.ops[0] == "none"
    assert np.all(costs[:, :, 0] == 0)  # a 'none' edge is not computed
    assert np.all(costs[0] == costs[0, 0])  # every edge holds the same ops at the same sizes
    conv3 = table.ops.index("nor_conv_3x3")
    skip = table.ops.index("skip_connect")
    assert costs[0, 0, conv3] > costs[0, 0, skip] > 0
    expected = table.fixed_ms + sum(costs[0, e, op] for e, op in enumerate(ARCH))
    assert table.predict(ARCH) == pytest.approx(expected)
    assert table.machine["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert table.settings["threads"] == 1 and len(table.settings["references"]) == 2


def test_darts_table_charges_stride_two_edges_of_reduction_cells(plugins) -> None:
    space = plugins.spaces.get("darts")()
    table = build_table(space, size={"C": 2, "layers": 3}, input_shape=(1, 8, 8), runs=2,
                        warmup=0, references=1)
    costs = table.edge_costs()
    assert costs.shape == (2, 14, 7) and table.kinds == ["normal", "reduce"]
    arch = space.sample(np.random.default_rng(0))
    chosen = table.chosen(arch)
    assert len(chosen) == 16 and {k for k, _, _ in chosen} == {0, 1}
    assert table.predict(arch) == pytest.approx(
        table.fixed_ms + sum(costs[k, e, o] for k, e, o in chosen))


def test_bad_table_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        LatencyTable.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"space": "nb201"}')
    with pytest.raises(ConfigError, match="not a latency table"):
        LatencyTable.load(bad)


def test_latency_commands_build_and_check_a_table(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    built = run_cli("latency", "build", "nb201", "--out", str(out), "--size", "C=4",
                    "--size", "N=1", "--input-shape", "1,8,8", "--runs", "2",
                    "--references", "2")
    assert built.code == 0, built.err
    checked = run_cli("latency", "check", str(out), "--samples", "4", "--runs", "2")
    assert checked.code == 0, checked.err
    report = json.loads(checked.out)
    assert report["samples"] == 4 and -1 <= report["spearman"] <= 1
    assert report["mean_relative_error"] >= 0
    wrong = run_cli("latency", "build", "mlp", "--out", str(out))
    assert wrong.code == 2 and "spaces with one: nb201, darts" in wrong.err


def test_nbgraph_publishes_latency_in_milliseconds() -> None:
    from nasbench.evaluators.nbgraph_table import NbGraphBenchmark
    from nasbench.spaces.nbgraph import NbGraphSpace

    benchmark = NbGraphBenchmark()
    assert benchmark.metrics()["latency_ms"].split == "valid"
    table = benchmark.load(None, ("cora",))
    arch = NbGraphSpace().from_string("0,1,1,2|gcn,sage,arma,fc")
    row = table.row(arch)
    assert table.column("cora/latency_ms")[row] == pytest.approx(
        1000 * table.column("cora/latency")[row])
    assert table.column("cora/latency_ms")[row] > 0


def test_the_manifests_machine_description_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = ("import sys; from nasbench.manifest import machine; m = machine(); "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "assert m['cpu_model'] and m['torch'] and 'cpu_capability' not in m; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
