"""The shipped tables: their manifest, how they load, and what overrides them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nasbench.data import (
    MANIFEST,
    PACKAGE_DIR,
    TABLES_DIR,
    find_table,
    manifest,
    read_frame,
    read_table,
    shipped_descriptions,
)
from nasbench.data.build import GENERATED, MAX_BYTES
from nasbench.data.catalog import verify
from nasbench.data.recipes import RECIPES, sha256
from nasbench.errors import DataNotFoundError

RAW_NAMES = {"nb201_accuracies.csv", "zc_nasbench201_725.json", "nas-bench-macro_cifar10.json",
             "transnas101_micro_val.csv"}


def test_the_manifest_lists_every_shipped_file_with_its_checksum_and_licence() -> None:
    files = manifest()["files"]
    on_disk = {f"tables/{p.name}" for p in TABLES_DIR.iterdir()}
    assert set(files) == on_disk
    for name, rec in files.items():
        path = PACKAGE_DIR / name
        assert path.stat().st_size == rec["bytes"] < MAX_BYTES
        assert sha256(path) == rec["sha256"]
        assert rec["licence"] and rec["citation"] and rec["why_shippable"] and rec["source"]
        assert path.name not in RAW_NAMES
    # every shipped table comes from a recipe, or from a script of the repository that
    # generated it (no original sources: marked generated_by, with no derived_from)
    generated = {rec["table"]: rec for rec in files.values() if GENERATED in rec}
    assert {rec["table"] for rec in files.values()} - set(generated) == set(RECIPES)
    root = Path(__file__).resolve().parents[3]
    for rec in generated.values():
        assert "derived_from" not in rec and (root / rec[GENERATED]).is_file()
    assert verify()[1] == []


def test_each_table_matches_its_description() -> None:
    for stem in RECIPES:
        where = find_table(stem)
        assert where.origin == "shipped"
        d = where.description
        table = read_table(stem)
        assert table.num_rows == d["rows"]
        assert table.column_names[0] == "arch"
        metric_columns = {f"{ds}/{m}" for ds in d["datasets"] for m in d["metrics"]}
        extra = set(d.get("annotations", {}))
        assert set(table.column_names) == {"arch", *metric_columns, *extra}
        for column, best in d["optimum"].items():
            values = table.column(column).drop_null().to_pylist()
            higher = d["metrics"][column.split("/", 1)[1].split("#")[0]]["higher_is_better"]
            assert best == (max(values) if higher else min(values))
        # No writer metadata that would differ between two builds of the same table.
        meta = pq.ParquetFile(TABLES_DIR / f"{stem}.parquet").schema_arrow.metadata
        assert not meta


def test_nb201_table_holds_the_published_optimum() -> None:
    frame = read_frame("nb201")
    assert len(frame) == 15625 and frame["arch"].is_unique
    best = frame.loc[frame["cifar10/test_200ep"].idxmax()]
    # NAS-Bench-201's best CIFAR-10 cell (94.37%, the paper's optimum).
    assert best["cifar10/test_200ep"] == pytest.approx(94.37, abs=0.01)
    assert best["arch"].count("nor_conv_3x3") >= 4


def test_every_benchmark_table_loads_through_its_benchmark(plugins) -> None:
    """Each table loads as the tabular evaluator loads it (space bound, every dataset), with a
    row for every architecture string; its load time is measured by
    tests/bench/bench_tables.py, not asserted here."""
    shipped = shipped_descriptions()
    for record in plugins.benchmarks:
        if getattr(record.cls, "table", None) not in shipped:  # import-only: nothing to load
            continue
        bench = record.cls()
        space = plugins.spaces.get(bench.space)()
        bench.bind_space(space)
        table = bench.load(None, bench.datasets())
        assert len(table) == bench.description["rows"]
        first = read_table(bench.table).column("arch")[0].as_py()
        assert table.row(space.from_string(first)) == 0


def test_a_data_directory_overrides_the_shipped_copy(tmp_path: Path, plugins) -> None:
    """A directory holding nb201.parquet/json is read instead of the shipped table."""
    frame = read_frame("nb201")
    frame["cifar10/test_200ep"] = 1.0
    frame.to_parquet(tmp_path / "nb201.parquet", index=False)
    shutil.copy(TABLES_DIR / "nb201.json", tmp_path / "nb201.json")
    assert find_table("nb201", tmp_path).origin == "data_dir"
    bench = plugins.benchmarks.get("nb201")()
    table = bench.load(tmp_path, ("cifar10",))
    assert set(table.column("cifar10/test_200ep")) == {1.0}
    # A directory without the table (e.g. one holding only datasets) leaves the shipped copy.
    assert find_table("nb201", tmp_path / "elsewhere").origin == "shipped"


def test_a_data_directory_with_the_original_sources_is_converted_in_memory(
        tmp_path: Path) -> None:
    """The original source layout (nb201/nb201_accuracies.csv) still works as a data
    directory: the recipe converts it, and gives the shipped table's values."""
    shipped = read_frame("nb201")
    head = shipped.iloc[:20]
    (tmp_path / "nb201").mkdir()
    head.rename(columns=lambda c: c.replace("/", "_")).rename_axis("index").to_csv(
        tmp_path / "nb201" / "nb201_accuracies.csv")
    assert find_table("nb201", tmp_path).origin == "source"
    converted = read_frame("nb201", tmp_path)
    assert converted.equals(head.reset_index(drop=True))


def test_an_unknown_table_is_a_clear_error() -> None:
    with pytest.raises(DataNotFoundError, match=r"no benchmark table 'nb999'.*nasbench data list"):
        find_table("nb999")


def test_the_manifest_file_is_deterministic_json() -> None:
    text = MANIFEST.read_text()
    assert json.loads(text) == manifest()
    assert text.endswith("\n")
