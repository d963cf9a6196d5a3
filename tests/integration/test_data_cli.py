"""``nasbench data``: list, verify, path and import, end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nasbench.data import PACKAGE_DIR, TABLES_DIR, manifest
from tests.conftest import run_cli


def test_list_names_every_table_with_its_licence_decision() -> None:
    result = run_cli("data", "list", "--json")
    assert result.code == 0, result.err
    rows = {r["name"]: r for r in json.loads(result.out)}
    for name in ("nb201", "nasbench_macro", "transnas101_micro", "zc_nb201"):
        assert rows[name]["status"] == "shipped"
        assert rows[name]["licence"] and rows[name]["why"] and rows[name]["citation"]
        assert rows[name]["bytes"] < 2_000_000
    assert rows["nb201"]["rows"] == 15625 and len(rows["nb201"]["problems"]) == 3
    assert len(rows["transnas101_micro"]["problems"]) == 7
    assert rows["yang2020"]["status"].startswith("import only")
    assert "no licence" in rows["yang2020"]["why"] and rows["yang2020"]["importer"] == "yang2020"
    assert len(rows["nbgraph"]["problems"]) == 8
    text = run_cli("data", "list")
    assert text.code == 0 and "nasbench data import yang2020 SOURCE" in text.out


def test_import_verify_and_path(yang2020_dir: Path, tmp_path: Path) -> None:
    env = {"NASBENCH_IMPORT_DIR": str(tmp_path / "imports")}
    result = run_cli("data", "import", "yang2020", str(yang2020_dir / "yang2020"), env=env)
    assert result.code == 0, result.err
    where = tmp_path / "imports" / "yang2020"
    provenance = json.loads((where / "provenance.json").read_text())
    assert provenance["importer"] == "yang2020"
    assert {f["name"] for f in provenance["source_files"]} >= {"seed_correlation_24.csv"}
    assert set(provenance["files"]) >= {"performance_CIFAR10.csv", "yang2020.json"}
    assert run_cli("data", "path", "yang2020", env=env).out.strip() == str(where)
    assert run_cli("data", "path", "nb201", env=env).out.strip() == str(
        TABLES_DIR / "nb201.parquet")
    listed = {r["name"]: r for r in json.loads(run_cli("data", "list", "--json", env=env).out)}
    assert listed["yang2020"]["status"] == "imported"
    # Correlation studies read the imported copy with no data directory.
    out = tmp_path / "study"
    result = run_cli("correlate", "--study", "yang2020", "--resamples", "20", "--out", str(out),
                     env=env)
    assert result.code == 0, result.err
    assert (out / "correlations.csv").is_file()

    verified = run_cli("data", "verify", env=env)
    assert verified.code == 0, verified.err
    (where / "seed_correlation_24.csv").write_text("architecture,seed_a,seed_b\n0,1,2\n")
    damaged = run_cli("data", "verify", env=env)
    assert damaged.code == 2 and "Traceback" not in damaged.err
    assert str(where / "seed_correlation_24.csv") in damaged.err


def test_import_mistakes_are_user_errors(yang2020_dir: Path, tmp_path: Path) -> None:
    env = {"NASBENCH_IMPORT_DIR": str(tmp_path / "imports")}
    result = run_cli("data", "import", "nats_nope", str(tmp_path), env=env)
    assert result.code == 2 and "no importer 'nats_nope'" in result.err and "yang2020" in result.err
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(yang2020_dir / "yang2020" / "performance_CIFAR10.csv", partial)
    result = run_cli("data", "import", "yang2020", str(partial), env=env)
    assert result.code == 2 and "lacks" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "imports" / "yang2020").exists()  # nothing half-imported
    result = run_cli("data", "import", "yang2020", str(tmp_path / "absent"), env=env)
    assert result.code == 2 and "does not exist" in result.err
    assert run_cli("data", "path", "nb999", env=env).code == 2


def test_a_damaged_shipped_file_is_named_by_verify(tmp_path: Path, monkeypatch) -> None:
    """Verify a copy of the package data with one table changed (the installed files stay)."""
    from nasbench.data.catalog import verify

    copy = tmp_path / "data"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    assert verify(copy) == ([str(copy / n) for n in manifest()["files"]], [])
    (copy / "tables" / "nb201.json").write_text("{}\n")
    (copy / "tables" / "extra.parquet").write_bytes(b"")
    monkeypatch.setenv("NASBENCH_IMPORT_DIR", str(tmp_path / "none"))
    checked, problems = verify(copy)
    assert len(checked) == len(manifest()["files"])
    assert problems == [f"{copy / 'tables' / 'nb201.json'}: SHA-256 differs from "
                        f"{copy / 'manifest.json'}; the file was changed or damaged: reinstall "
                        "nasbench, or rebuild it with scripts/build_tables.py",
                        f"{copy / 'tables' / 'extra.parquet'}: not listed in "
                        f"{copy / 'manifest.json'}"]
