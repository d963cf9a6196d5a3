"""The shipped tables are what the recipes make of the original sources, bit for bit (tables
nasbench generated itself, marked ``generated_by`` in the manifest, are left to
``nasbench data verify``).

The only test that reads ``../shared/data`` (or ``$NASBENCH_SOURCES``). It fails, not skips,
when the sources are absent: deselect it with ``-m "not shared_data"`` where they cannot be.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nasbench.data import PACKAGE_DIR, manifest
from nasbench.data.build import MAX_BYTES, build_all, default_sources, split_generated

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.shared_data


def test_rebuilding_gives_the_shipped_files_bit_for_bit(tmp_path: Path) -> None:
    sources = default_sources(ROOT)
    if not sources.is_dir():
        pytest.fail(f"the original sources are not at {sources}: put them there (or set "
                    "$NASBENCH_SOURCES), or deselect this test with -m 'not shared_data'")
    rebuilt = build_all(sources, tmp_path / "tables")
    # Tables nasbench generated itself (listed with generated_by) have no original sources to
    # rebuild from; `nasbench data verify` checks their checksums.
    shipped, generated = split_generated(manifest())
    for name, rec in generated.items():
        assert "derived_from" not in rec and (PACKAGE_DIR / name).is_file(), name
    assert set(rebuilt["files"]) == set(shipped["files"])
    writer = shipped["writer"]["pyarrow"]
    for name, rec in shipped["files"].items():
        assert (PACKAGE_DIR / name).stat().st_size == rec["bytes"] < MAX_BYTES
        assert rebuilt["files"][name]["sha256"] == rec["sha256"], (
            f"{name}: rebuilt from {sources} with pyarrow {rebuilt['writer']['pyarrow']}, it "
            f"differs from the shipped file (written with pyarrow {writer}); run "
            "scripts/build_tables.py and commit the result if the recipe changed")
    assert rebuilt == shipped
