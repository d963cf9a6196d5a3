"""Regenerate the tables shipped in nasbench/data/tables and nasbench/data/manifest.json.

    python scripts/build_tables.py [--sources DIR] [--dest DIR]

Reads the original source files (default: ../shared/data beside the repository, or
$NASBENCH_SOURCES) and writes every table bit for bit as shipped (fixed row order, zstd at a
fixed level, no timestamps or writer-dependent metadata beyond pyarrow's version, which the
manifest records). Run it after changing a recipe in nasbench/data/recipes.py, and commit the
result; tests/unit/data/test_rebuild_tables.py checks that the committed files match.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from nasbench.data import PACKAGE_DIR
    from nasbench.data import manifest as shipped_manifest
    from nasbench.data.build import build_all, default_sources, keep_generated, manifest_text
    from nasbench.errors import UserError

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sources", type=Path, default=default_sources(ROOT),
                   help="directory of the original source files (default %(default)s)")
    p.add_argument("--dest", type=Path, default=PACKAGE_DIR,
                   help="package data directory to write tables/ and manifest.json into "
                        "(default %(default)s)")
    args = p.parse_args(argv)
    try:
        manifest = build_all(args.sources, args.dest / "tables")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.dest.resolve() == PACKAGE_DIR.resolve():  # tables nasbench generated stay listed
        manifest = keep_generated(manifest, shipped_manifest())
    (args.dest / "manifest.json").write_text(manifest_text(manifest))
    for name, rec in manifest["files"].items():
        print(f"{name:36} {rec['bytes']:>10,} B  {rec['sha256'][:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
