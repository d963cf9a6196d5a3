"""The NATS-Bench topology release (NAS-Bench-201's cells): synthetic files written here in the
release's layout (bz2 pickles of plain dicts per cell, as ``nats_bench.api_utils`` loads them;
one ``.pth`` as NAS-Bench-201 v1.1 ships) are imported; studies then budget in simulated
seconds and BOHB searches over epochs, on the imported curves."""

from __future__ import annotations

import bz2
import collections
import itertools
import json
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from nasbench.spaces.nb201 import Nb201Space

from nasbench.data.importers import run_import
from nasbench.errors import UserError
from nasbench.importers.nats_bench import NatsTssImporter
from nasbench.importers.restricted_pickle import RestrictedPickleError
from nasbench.protocol import load_study
from nasbench.registry import load_plugins
from nasbench.run import run_study

SEEDS = {12: (111, 777), 200: (777, 888, 999)}
RELEASE_NAMES = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")


def _acc(index: int, dataset: str, split: str, seed: int, epoch: int, schedule: int) -> float:
    """A smooth, distinct synthetic learning curve (accuracy in %)."""
    top = 60 + (index * 7 + len(dataset) * 3 + len(split)) % 30 + (seed % 10) / 10
    return round(top * (1 - math.exp(-(epoch + 1) / (schedule / 4))), 6)


def _epoch_time(index: int, dataset: str, seed: int) -> float:
    return 5.0 + index + len(dataset) / 10 + seed / 1000


def _results_count(index: int, dataset: str, seed: int, schedule: int, names: tuple[str, ...],
                   numpy_params: bool) -> dict:
    """A ``ResultsCount`` state as the release stores it (a subset of its 16 keys). As in the
    release, the 200-epoch schedule records only the final epoch of some splits: ``ori-test``
    of ``cifar10-valid``, ``x-valid`` and ``x-test`` of CIFAR-100 and ImageNet16-120."""
    def final_only(name: str) -> bool:
        return schedule == 200 and (name in ("x-valid", "x-test") if dataset != "cifar10-valid"
                                    else name == "ori-test")

    accs = {f"{name}@{e}": _acc(index, dataset, name, seed, e, schedule)
            for name in names for e in range(schedule)
            if e == schedule - 1 or not final_only(name)}
    params = 0.1 + index / 100
    return {
        "name": dataset, "seed": f"{seed:04d}", "epochs": schedule, "flop": 10.0 + index,
        "params": np.float64(params) if numpy_params else params,
        "train_times": collections.OrderedDict(
            (e, _epoch_time(index, dataset, seed)) for e in range(schedule)),
        "train_acc1es": {e: 50.0 for e in range(schedule)},
        "eval_names": list(names), "eval_acc1es": accs,
        "eval_times": {k: 1.0 for k in accs}, "eval_losses": {k: 1.0 for k in accs},
        "arch_config": {"channel": 16, "num_cells": 5}, "net_state_dict": None,
    }


def _arch_results(index: int, arch: str, schedule: int, numpy_params: bool) -> dict:
    """An ``ArchResults`` state: ``all_results`` keyed by (dataset, seed)."""
    evals = {"cifar10-valid": ("x-valid", "ori-test"), "cifar10": ("ori-test",),
             "cifar100": ("x-valid", "x-test", "ori-test"),
             "ImageNet16-120": ("x-valid", "x-test", "ori-test")}
    all_results = {(d, s): _results_count(index, d, s, schedule, evals[d], numpy_params)
                   for d in RELEASE_NAMES for s in SEEDS[schedule]}
    return {"arch_index": index, "arch_str": arch, "all_results": all_results,
            "dataset_seed": {d: list(SEEDS[schedule]) for d in RELEASE_NAMES},
            "clear_net_done": True}


def _cells(n: int) -> list[str]:
    space = Nb201Space()
    return [space.to_string(a) for a in itertools.islice(space.enumerate(), 0, 997 * n, 997)]


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, list[str]]:
    """``NATS-tss-v1_0-3ffb9-full``-like: meta.pickle.pbz2 and five ``{index:06d}.pickle.pbz2``."""
    root = tmp_path_factory.mktemp("nats") / "NATS-tss-v1_0-3ffb9-full"
    root.mkdir()
    archs = _cells(5)
    meta = {"meta_archs": archs, "total_archs": len(archs), "arch2infos": None,
            "evaluated_indexes": set()}
    (root / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(meta)))
    for index, arch in enumerate(archs):
        record = collections.OrderedDict(
            (str(s), _arch_results(index, arch, s, numpy_params=True)) for s in (12, 200))
        (root / f"{index:06d}.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(record)))
    return root, archs


@pytest.fixture(scope="module")
def imported(release, tmp_path_factory) -> Path:
    root, _ = release
    return run_import(NatsTssImporter(), root, tmp_path_factory.mktemp("data"))


def test_import_reads_curves_times_and_splits(release, imported) -> None:
    _, archs = release
    table = pd.read_parquet(imported / "nats_tss.parquet").set_index("arch")
    description = json.loads((imported / "nats_tss.json").read_text())
    assert list(table.index) == archs
    assert description["datasets"] == ["cifar10", "cifar100", "imagenet16_120"]
    assert description["cost_metric"] == "train_time_12ep"
    assert description["fidelities"]["22"] == {"valid": "valid_200ep@22",
                                               "cost": "train_time_200ep@22"}
    provenance = json.loads((imported / "provenance.json").read_text())
    assert len(provenance["source_files"]) == 6
    i, arch = 3, archs[3]
    row = table.loc[arch]
    for schedule in (12, 200):
        seeds = SEEDS[schedule]
        # CIFAR-10: validation from cifar10-valid's x-valid, test from cifar10's ori-test
        for e in (1, schedule // 2, schedule):
            valid = [_acc(i, "cifar10-valid", "x-valid", s, e - 1, schedule) for s in seeds]
            assert row[f"cifar10/valid_{schedule}ep@{e}"] == pytest.approx(np.mean(valid))
            assert row[f"cifar10/valid_{schedule}ep@{e}#{seeds[0]}"] == valid[0]
            test = [_acc(i, "cifar10", "ori-test", s, e - 1, schedule) for s in seeds]
            assert row[f"cifar10/test_{schedule}ep@{e}"] == pytest.approx(np.mean(test))
        assert row[f"cifar10/valid_{schedule}ep"] == row[f"cifar10/valid_{schedule}ep@{schedule}"]
        # CIFAR-100: x-valid and x-test of the same run
        assert row[f"cifar100/test_{schedule}ep"] == pytest.approx(np.mean(
            [_acc(i, "cifar100", "x-test", s, schedule - 1, schedule) for s in seeds]))
        # training time of the run a search pays for (cifar10-valid), cumulative per epoch
        per_epoch = [_epoch_time(i, "cifar10-valid", s) for s in seeds]
        assert row[f"cifar10/train_time_{schedule}ep"] == pytest.approx(
            schedule * np.mean(per_epoch))
        assert row[f"cifar10/train_time_{schedule}ep@5"] == pytest.approx(5 * np.mean(per_epoch))
        assert row[f"cifar10/train_time_{schedule}ep#{seeds[-1]}"] == pytest.approx(
            schedule * per_epoch[-1])
    assert row["cifar10/params"] == pytest.approx(0.13)  # a NumPy float64 in the release


def test_the_pth_release_gives_the_same_table(release, imported, tmp_path) -> None:
    """``NAS-Bench-201-v1_1-096897.pth``'s layout ('less'/'full' schedules), with NumPy scalars
    that ``torch.load(weights_only=True)`` refuses: read through the restricted reader."""
    _, archs = release
    whole = {"meta_archs": archs, "evaluated_indexes": list(range(len(archs))),
             "arch2infos": {i: {"less": _arch_results(i, a, 12, numpy_params=True),
                                "full": _arch_results(i, a, 200, numpy_params=True)}
                            for i, a in enumerate(archs)}}
    pth = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    torch.save(whole, pth)
    with pytest.raises(pickle.UnpicklingError):  # why the restricted reader reads it
        torch.load(pth, weights_only=True)
    NatsTssImporter().convert(pth, tmp_path / "out")
    a = pd.read_parquet(tmp_path / "out" / "nats_tss.parquet")
    b = pd.read_parquet(imported / "nats_tss.parquet")
    pd.testing.assert_frame_equal(a, b)


def _payload_cases(marker: Path) -> list[object]:
    class Touch:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    class Open:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return [Touch(), Open()]


def test_a_planted_pickle_is_refused_and_never_runs(release, tmp_path) -> None:
    root, _ = release
    marker = tmp_path / "pwned"
    for k, payload in enumerate(_payload_cases(marker)):
        planted = tmp_path / f"planted{k}"
        planted.mkdir()
        for f in root.iterdir():
            (planted / f.name).write_bytes(f.read_bytes())
        record = {"12": {"arch_str": "x", "all_results": {("cifar10", 1): payload}}}
        (planted / "000002.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(record)))
        with pytest.raises(RestrictedPickleError, match=r"000002\.pickle\.pbz2: refused to load"):
            NatsTssImporter().convert(planted, tmp_path / "out")
        # and as a .pth (torch's own loader refuses it too, then the restricted reader)
        torch.save({"meta_archs": ["x"], "arch2infos": {0: {"less": payload}}},
                   tmp_path / "planted.pth")
        with pytest.raises(RestrictedPickleError, match="refused to load"):
            NatsTssImporter().convert(tmp_path / "planted.pth", tmp_path / "out")
    assert not marker.exists()
    assert not (tmp_path / "out" / "nats_tss.parquet").exists()


def test_not_a_release_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(UserError, match=r"holds no '<index>\.pickle\.pbz2' files"):
        NatsTssImporter().convert(tmp_path, tmp_path / "out")
    bad = tmp_path / "000000.pickle.pbz2"
    bad.write_bytes(b"definitely not bz2")
    with pytest.raises(UserError, match=r"000000\.pickle\.pbz2: cannot read it"):
        NatsTssImporter().convert(tmp_path, tmp_path / "out")


SECONDS_STUDY = """
[study]
name = "nats-seconds"
seeds = 2
data_dir = "{data_dir}"
[space]
name = "nb201"
[evaluator]
name = "tabular"
benchmark = "nats_tss"
dataset = "cifar10"
search_metric = "valid_12ep"
report_metrics = ["test_200ep"]
[budget]
cost = {seconds}
[[strategies]]
name = "fixed_set"
archs = {archs}
"""


def test_a_study_budgeted_in_simulated_seconds_charges_recorded_times(
        release, imported, tmp_path) -> None:
    """As the NB201 paper budgets (12,000 s per run there): every evaluation is charged its
    recorded 12-epoch training time, and a run stops once the budget is spent."""
    _, archs = release
    table = pd.read_parquet(imported / "nats_tss.parquet").set_index("arch")
    times = [table.loc[a, "cifar10/train_time_12ep"] for a in archs]
    seconds = times[0] + times[1] + times[2] / 2  # the third evaluation crosses the budget
    config = tmp_path / "study.toml"
    config.write_text(SECONDS_STUDY.format(data_dir=imported, seconds=seconds,
                                           archs=json.dumps(archs)))
    plugins = load_plugins()
    run_study(load_study(config, plugins), plugins, tmp_path / "out", progress=False)
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    for _, run in trials.groupby("run_id"):
        assert list(run["arch"]) == archs[:3]
        assert list(run["cost"]) == pytest.approx(times[:3])
        assert list(run["cum_cost"]) == pytest.approx(np.cumsum(times[:3]))
        assert list(run["search_metric"]) == pytest.approx(
            [table.loc[a, "cifar10/valid_12ep"] for a in archs[:3]])
    searched = runs[runs["kind"] != "baseline"] if "kind" in runs else runs
    assert set(searched["stop_reason"]) >= {"budget: cost"}


BOHB_STUDY = """
[study]
name = "nats-bohb"
seeds = 1
data_dir = "{data_dir}"
[space]
name = "nb201"
[evaluator]
name = "tabular"
benchmark = "nats_tss"
dataset = "cifar10"
search_metric = "valid_200ep"
report_metrics = ["test_200ep"]
[budget]
evaluations = 40
[[strategies]]
name = "bohb"
"""


@pytest.fixture(scope="module")
def whole_space(tmp_path_factory) -> Path:
    """All 15,625 cells in one file (the single-file ``NATS-tss-v1_0-3ffb9.pickle.pbz2``
    layout, left uncompressed to save time), holding the 200-epoch CIFAR-10 validation curve
    at the fidelity epochs, the final test accuracy and the per-epoch training times: enough
    for BOHB."""
    space = Nb201Space()
    archs = [space.to_string(a) for a in space.enumerate()]
    infos = {}
    for i, arch in enumerate(archs):
        accs = {f"x-valid@{e - 1}": _acc(i, "c", "v", 1, e - 1, 200) for e in (22, 66, 200)}
        cifar10 = {"epochs": 200, "eval_acc1es": {"ori-test@199": _acc(i, "c", "t", 1, 199, 200)}}
        valid = {"epochs": 200, "params": 0.1, "eval_acc1es": accs,
                 "train_times": dict.fromkeys(range(200), 1.0 + (i % 7))}
        infos[i] = {"200": {"arch_str": arch, "all_results": {("cifar10-valid", 1): valid,
                                                              ("cifar10", 1): cifar10}}}
    path = tmp_path_factory.mktemp("whole") / "NATS-tss-v1_0-3ffb9.pickle"
    with path.open("wb") as f:
        pickle.dump({"meta_archs": archs, "arch2infos": infos, "evaluated_indexes": set()}, f)
    return run_import(NatsTssImporter(), path, path.parent / "data")


def test_bohb_searches_epochs_as_fidelities_with_validation_rewards(whole_space, tmp_path):
    table = pd.read_parquet(whole_space / "nats_tss.parquet").set_index("arch")
    config = tmp_path / "study.toml"
    config.write_text(BOHB_STUDY.format(data_dir=whole_space))
    plugins = load_plugins()
    study = load_study(config, plugins)
    run_study(study, plugins, tmp_path / "out", progress=False)
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    assert set(trials["fidelity"]) == {22.0, 66.0, 200.0}
    assert (trials["status"] == "ok").all()
    for _, trial in trials.iterrows():
        f = int(trial["fidelity"])
        valid = "cifar10/valid_200ep" if f == 200 else f"cifar10/valid_200ep@{f}"
        time = "cifar10/train_time_200ep" if f == 200 else f"cifar10/train_time_200ep@{f}"
        assert trial["search_metric"] == table.loc[trial["arch"], valid]
        assert trial["cost"] == pytest.approx(table.loc[trial["arch"], time])
    # promoted cells are evaluated again at a higher fidelity
    assert trials.groupby("arch")["fidelity"].nunique().max() >= 2


def test_nasbench_data_import_runs_the_registered_importers(release, tmp_path, capsys,
                                                            monkeypatch) -> None:
    """``nasbench data import nats_tss DIR`` (and ``nb101 FILE``) find the importers through
    the plugin hook; the import is then listed and verified, and the nb201 space's default
    benchmark stays the shipped ``nb201`` table: ``nats_tss`` must be named."""
    from nasbench.evaluators.table_benchmark import TableBenchmark

    from nasbench.cli import main

    root, archs = release
    monkeypatch.setenv("NASBENCH_IMPORT_DIR", str(tmp_path / "imports"))
    assert main(["data", "import", "nats_tss", str(root)]) == 0
    where = tmp_path / "imports" / "nats_tss"
    assert len(pd.read_parquet(where / "nats_tss.parquet")) == len(archs)
    capsys.readouterr()
    assert main(["data", "verify"]) == 0
    assert "OK:" in capsys.readouterr().out
    (where / "nats_tss.json").write_text((where / "nats_tss.json").read_text() + " ")
    assert main(["data", "verify"]) != 0
    assert f"{where / 'nats_tss.json'}: SHA-256 differs" in capsys.readouterr().err
    assert main(["data", "list", "--json"]) == 0
    listed = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed["nats_tss"]["status"] == "imported"
    assert listed["nb101"]["status"] == "import only (not imported)"
    assert listed["nb101"]["licence"] == "Apache-2.0" and "2 MB" in listed["nb101"]["why"]
    assert listed["nb101"]["importer"] == "nb101" and listed["nb101"]["citation"]
    assert main(["data", "import", "nb101", str(root)]) != 0
    assert "is not a file; expected nasbench_only108.tfrecord" in capsys.readouterr().err
    plugins = load_plugins()
    nats = plugins.benchmarks.get("nats_tss")
    assert issubclass(nats, TableBenchmark) and not nats.implicit
    evaluator = plugins.evaluators.get("tabular")()
    evaluator.bind_plugins(plugins)
    evaluator.check(Nb201Space(), "cifar10", None)
    assert evaluator.benchmark.name == "nb201"


def test_a_missing_table_says_how_to_import_it(tmp_path, monkeypatch) -> None:
    from nasbench.errors import DataNotFoundError

    monkeypatch.setenv("NASBENCH_IMPORT_DIR", str(tmp_path / "nothing"))
    plugins = load_plugins()
    with pytest.raises(DataNotFoundError, match=r"nasbench data import nats_tss SOURCE"):
        plugins.benchmarks.get("nats_tss")().check(tmp_path)
    config = tmp_path / "study.toml"
    config.write_text(SECONDS_STUDY.format(data_dir=tmp_path, seconds=100, archs="[]"))
    with pytest.raises(UserError, match=r"does not ship it.*nasbench data import nats_tss"):
        load_study(config, plugins)


def test_a_fidelity_the_release_lacks_fails_with_a_reason(imported) -> None:
    """CIFAR-100's 200-epoch validation is recorded at the end only: epochs 22 and 66 fail with a
    reason, 200 answers and is charged the 200-epoch training time."""
    from nasbench.api import EvaluatorContext, Trial

    plugins = load_plugins()
    space = Nb201Space()
    evaluator = plugins.evaluators.get("tabular")(
        plugins.evaluators.get("tabular").Params(benchmark="nats_tss"))
    evaluator.bind_plugins(plugins)
    evaluator.check(space, "cifar100", imported)
    evaluator.setup(space, EvaluatorContext("cifar100", "cifar100/valid_200ep",
                                            ("cifar100/test_200ep",), data_dir=imported))
    assert evaluator.fidelities() == (22.0, 66.0, 200.0)
    table = pd.read_parquet(imported / "nats_tss.parquet").set_index("arch")
    arch = table.index[1]
    trial = Trial(space.from_string(arch))
    early = evaluator.evaluate(space, trial, seed=0, fidelity=22.0)
    assert early.status == "failed"
    assert "no counterpart of cifar100/valid_200ep at fidelity 22" in early.reason
    full = evaluator.evaluate(space, trial, seed=0, fidelity=200.0)
    assert full.status == "ok"
    assert full.metrics["cifar100/valid_200ep"] == table.loc[arch, "cifar100/valid_200ep"]
    assert full.cost == pytest.approx(table.loc[arch, "cifar100/train_time_200ep"])


def test_trained_weights_of_the_full_archive_are_skipped_unread(release, imported, tmp_path):
    """``-full`` files carry each run's weights (pickled tensors, whose loading would call
    ``torch.load`` on bytes from the file): they are dropped and nothing in them runs."""
    root, _ = release
    marker = tmp_path / "pwned"
    (evil,) = [p for p in _payload_cases(marker) if type(p).__name__ == "Touch"]
    buffer = __import__("io").BytesIO()
    torch.save(evil, buffer)

    class TorchBytes:  # what a storage pickles to; its bytes here are a payload
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (buffer.getvalue(),))

    full = tmp_path / "NATS-tss-v1_0-3ffb9-full"
    full.mkdir()
    for f in root.iterdir():
        record = pickle.loads(bz2.decompress(f.read_bytes()))
        if f.name != "meta.pickle.pbz2":
            for results in record.values():
                for run in results["all_results"].values():
                    run["net_state_dict"] = collections.OrderedDict(
                        [("w", torch.ones(2, 2)), ("p", torch.nn.Parameter(torch.zeros(2))),
                         ("s", TorchBytes())])
        (full / f.name).write_bytes(bz2.compress(pickle.dumps(record)))
    NatsTssImporter().convert(full, tmp_path / "out")
    assert not marker.exists()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "nats_tss.parquet"),
                                  pd.read_parquet(imported / "nats_tss.parquet"))
