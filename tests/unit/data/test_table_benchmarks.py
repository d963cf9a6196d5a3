"""One table-backed benchmark class for every table, and the problems they make searchable."""

from __future__ import annotations

from pathlib import Path

import pytest
from nasbench.evaluators.table_benchmark import TableBenchmark
from nasbench.spaces.nb201 import Nb201Space
from nasbench.spaces.transnas_micro import TransNasMicroSpace

from nasbench.data import read_frame, shipped_descriptions
from nasbench.errors import InvalidArchitectureError
from nasbench.protocol import study_from_dict
from nasbench.run import run_study

TASKS = ("class_object", "class_scene", "room_layout", "jigsaw", "autoencoder", "normal",
         "segmentsemantic")


def test_every_shipped_benchmark_is_the_one_generic_class(plugins) -> None:
    tables = {r.name: r.cls for r in plugins.benchmarks if getattr(r.cls, "table", None)}
    shipped = {n for n, cls in tables.items() if cls.table in shipped_descriptions()}
    assert shipped == {"nb201", "nasbench_macro", "transnas101_micro", "dqn_cartpole"}
    # the benchmarks of official releases a user imports are the same class, registered
    # before any import so that a study naming one is told how to import it
    assert set(tables) - shipped == {"nb101", "nats_tss"}
    for cls in tables.values():
        assert cls.__mro__[1] is TableBenchmark
    assert "nbgraph" in plugins.benchmarks  # read from its own installed package


def test_at_least_twelve_problems_search_from_shipped_data_and_installed_packages(
        plugins) -> None:
    problems = []
    for record in plugins.benchmarks:
        bench = record.cls()
        searchable = [m for m, info in bench.metrics().items() if info.split == "valid"]
        problems += [(record.name, d) for d in bench.datasets() if searchable]
    shipped = [p for p in problems if p[0] != "nbgraph"]
    # NB201 x 3 datasets, TransNAS-Bench-101 micro x 7 tasks, dqn_cartpole (generated here)
    assert len(shipped) == 3 + 7 + 1
    assert len(problems) == 3 + 7 + 1 + 8  # + NAS-Bench-Graph x 8


def test_objective_reads_metrics_fidelities_and_seeds(plugins) -> None:
    nb201 = plugins.benchmarks.get("nb201")()
    nb201.bind_space(Nb201Space())
    frame = read_frame("nb201").set_index("arch")
    cell = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
            "skip_connect~2|")
    arch = Nb201Space().from_string(cell)
    assert nb201.objective(arch) == {m: frame.loc[cell, f"cifar10/{m}"]
                                     for m in ("valid_12ep", "test_12ep", "test_200ep",
                                               "params", "flops")}
    assert set(nb201.objective(arch, fidelity=12, dataset="cifar100")) == {"valid_12ep",
                                                                          "test_12ep"}
    macro = plugins.benchmarks.get("nasbench_macro")()
    space = plugins.spaces.get("nasbench_macro")()
    macro.bind_space(space)
    code = space.from_string("02012100")
    seeds = [macro.objective(code, seed=s)["test_acc"] for s in range(3)]
    assert len(set(seeds)) == 3
    assert macro.objective(code)["test_acc"] == pytest.approx(sum(seeds) / 3)


def test_transnas_micro_space_is_nb201s_cell_with_four_ops(plugins) -> None:
    space = TransNasMicroSpace()
    archs = list(space.enumerate())
    assert len(archs) == space.size() == 4096
    frame = read_frame("transnas101_micro")
    assert {space.from_string(a) for a in frame["arch"]} == set(archs)
    nb201 = Nb201Space()
    for arch in archs[::97]:
        text = space.to_string(arch)
        assert text == nb201.to_string(arch) and space.from_string(text) == arch
        assert space.arch_key(arch) == nb201.arch_key(arch)
    with pytest.raises(InvalidArchitectureError, match="outside"):
        space.from_string(nb201.to_string((4, 0, 0, 0, 0, 0)))
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(200):
        arch = space.sample(rng)
        space.validate(arch)
        child = space.mutate(arch, rng)
        space.validate(child)
        assert sum(a != b for a, b in zip(arch, child, strict=True)) == 1


def test_the_op_digits_mean_what_transnas_bench_says(plugins) -> None:
    """A check of the op order (0 none, 1 skip, 2 conv 1x1, 3 conv 3x3, TransNAS-Bench-101's
    code): on object classification, more ``none`` edges hurt and more 3x3 convolutions
    help, clearly (|r| > 0.4 over the 4,096 cells)."""
    import numpy as np

    frame = read_frame("transnas101_micro")
    space = TransNasMicroSpace()
    archs = np.array([space.from_string(a) for a in frame["arch"]])
    accuracy = frame["class_object/val_metric"].to_numpy()
    r = {op: np.corrcoef((archs == i).sum(1), accuracy)[0, 1]
         for i, op in enumerate(space.ops)}
    assert r["none"] < -0.4 and r["nor_conv_3x3"] > 0.4, r


@pytest.mark.parametrize("task", TASKS)
def test_each_transnas_task_is_a_searchable_problem(plugins, tmp_path: Path, task: str) -> None:
    study = study_from_dict({
        "study": {"name": f"transnas-{task}", "seeds": 2},
        "space": {"name": "transnas_micro"},
        "evaluator": {"name": "tabular", "dataset": task, "search_metric": "val_metric",
                      "report_metrics": ["val_metric"]},
        "budget": {"evaluations": 20},
        "strategies": [{"name": "random_search"}, {"name": "local_search"}],
    }, plugins)
    assert run_study(study, plugins, tmp_path / task, progress=False).complete
    import pandas as pd

    runs = pd.read_parquet(tmp_path / task / "runs.parquet")
    column = read_frame("transnas101_micro")[f"{task}/val_metric"]
    found = runs[runs["kind"] == "search"][f"{task}/val_metric"]
    assert found.between(column.min(), column.max()).all()
    assert (found > column.median()).mean() >= 0.5
