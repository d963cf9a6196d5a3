"""The importer framework: a plugin's importer converts a release, the import records its
provenance, and the imported table becomes a benchmark that studies use."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from nasbench.data import find_table, read_frame
from nasbench.data.importers import Importer, run_import, verify_import
from nasbench.data.recipes import to_arrow, write_table
from nasbench.errors import UserError
from nasbench.hookspecs import hookimpl
from nasbench.protocol import study_from_dict
from nasbench.registry import load_plugins, make_plugin_manager
from nasbench.run import run_study


class CsvAccuracyImporter(Importer):
    """Reads a CSV of NAS-Bench-201 cells with a validation and a test accuracy column (the
    shape of a small third-party release) into a table of dataset ``toy``."""

    name: ClassVar[str] = "toy_csv"
    summary: ClassVar[str] = "a CSV of NAS-Bench-201 cells and two accuracies"
    source: ClassVar[str] = "generated in the test"
    licence: ClassVar[str] = "CC0"
    citation: ClassVar[str] = "none"

    def convert(self, source: Path, dest: Path,
                progress: Callable[[int, int], None] | None = None) -> list[str]:
        frame = pd.read_csv(source)
        if list(frame.columns) != ["arch", "valid", "test"]:
            raise UserError(f"{source}: expected the columns arch, valid, test")
        metrics = {"valid_acc": {"split": "valid", "unit": "%", "higher_is_better": True},
                   "test_acc": {"split": "test", "unit": "%", "higher_is_better": True}}
        description = {"format": 1, "name": "toy_nb201", "kind": "benchmark", "space": "nb201",
                       "summary": self.summary, "citation": self.citation,
                       "source": self.source, "licence": self.licence, "datasets": ["toy"],
                       "metrics": metrics, "cost_metric": None, "fidelities": {},
                       "search_metric": "valid_acc", "report_metrics": ["test_acc"],
                       "rows": len(frame)}
        table = to_arrow({"arch": frame["arch"].tolist(),
                          "toy/valid_acc": frame["valid"].tolist(),
                          "toy/test_acc": frame["test"].tolist()})
        return [p.name for p in write_table(table, description, dest, "toy_nb201")]


class _Plugin:
    @hookimpl
    def nasbench_register_importers(self, registry: Any) -> None:
        registry.add(CsvAccuracyImporter)


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """The 'release': NAS-Bench-201's CIFAR-100 columns under other names."""
    frame = read_frame("nb201")
    path = tmp_path / "release.csv"
    pd.DataFrame({"arch": frame["arch"], "valid": frame["cifar100/valid_12ep"],
                  "test": frame["cifar100/test_200ep"]}).to_csv(path, index=False)
    return path


def test_an_imported_table_is_a_benchmark_studies_use(release: Path, tmp_path: Path,
                                                       monkeypatch) -> None:
    monkeypatch.setenv("NASBENCH_IMPORT_DIR", str(tmp_path / "imports"))
    plugins = load_plugins(make_plugin_manager(plugins=[_Plugin()]))
    assert "toy_csv" in plugins.importers and "yang2020" in plugins.importers
    where = run_import(plugins.importers.get("toy_csv")(), release)
    assert where == tmp_path / "imports" / "toy_csv"
    provenance = json.loads((where / "provenance.json").read_text())
    assert provenance["source_files"][0]["name"] == "release.csv"
    assert provenance["importer_version"] == "1" and provenance["licence"] == "CC0"
    assert verify_import(where) == []
    assert find_table("toy_nb201").origin == "imported"

    plugins = load_plugins(make_plugin_manager(plugins=[_Plugin()]))
    assert "toy_nb201" in plugins.benchmarks
    study = study_from_dict({
        "study": {"name": "imported", "seeds": 2},
        "space": {"name": "nb201"},
        "evaluator": {"name": "tabular", "benchmark": "toy_nb201", "dataset": "toy",
                      "search_metric": "valid_acc", "report_metrics": ["test_acc"]},
        "budget": {"evaluations": 10},
        "strategies": [{"name": "random_search"}],
    }, plugins)
    assert run_study(study, plugins, tmp_path / "run", progress=False).complete
    trials = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    nb201 = read_frame("nb201").set_index("arch")
    for arch, valid, test in zip(trials["arch"], trials["search_metric"], trials["toy/test_acc"],
                                 strict=True):
        assert valid == nb201.loc[arch, "cifar100/valid_12ep"]
        assert test == nb201.loc[arch, "cifar100/test_200ep"]


def test_a_failed_import_leaves_nothing_and_keeps_the_previous_one(
        release: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NASBENCH_IMPORT_DIR", str(tmp_path / "imports"))
    importer = CsvAccuracyImporter()
    first = run_import(importer, release)
    before = (first / "provenance.json").read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("arch,acc\nx,1\n")
    with pytest.raises(UserError, match="expected the columns"):
        run_import(importer, bad)
    assert (first / "provenance.json").read_text() == before
    assert sorted(p.name for p in (tmp_path / "imports").iterdir()) == ["toy_csv"]
