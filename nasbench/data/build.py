"""Build the shipped tables and their manifest from the original source files.

``scripts/build_tables.py`` runs :func:`build_all` into ``nasbench/data/tables``; the rebuild
test runs it into a temporary directory and compares every file's SHA-256 with the manifest.
The sources are the files under ``../shared/data`` (next to the repository) or
``$NASBENCH_SOURCES``; each recipe (:mod:`nasbench.data.recipes`) names the files it reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nasbench.data.recipes import IMPORT_ONLY, RECIPES, sha256, write_table

SOURCES_ENV = "NASBENCH_SOURCES"
MAX_BYTES = 2_000_000
"""No shipped file may be larger (the package stays small)."""


def default_sources(repo_root: Path) -> Path:
    """``$NASBENCH_SOURCES``, else ``../shared/data`` beside the repository root."""
    env = os.environ.get(SOURCES_ENV)
    return Path(env).expanduser() if env else repo_root.parent / "shared" / "data"


def build_all(sources: Path, tables_dir: Path) -> dict[str, Any]:
    """Write every shipped table into ``tables_dir`` and return the manifest (not written).

    Raises:
        DataNotFoundError: when a recipe's source files are missing.
        ValueError: when a written file exceeds :data:`MAX_BYTES`.
    """
    import pyarrow

    files: dict[str, Any] = {}
    for stem, recipe in RECIPES.items():
        table = recipe.build(sources)
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        description = recipe.description(columns)
        for path in write_table(table, description, tables_dir, stem):
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise ValueError(f"{path} is {size:,} bytes; shipped files must stay under "
                                 f"{MAX_BYTES:,}.")
            files[f"tables/{path.name}"] = {
                "sha256": sha256(path),
                "bytes": size,
                "table": stem,
                "derived_from": list(recipe.sources),
                "source": description["source"],
                "licence": description["licence"],
                "citation": description["citation"],
                "why_shippable": description["licence_note"],
            }
    return {
        "format": 1,
        "writer": {"pyarrow": pyarrow.__version__, "compression": "zstd",
                   "compression_level": 19},
        "files": files,
        "import_only": {name: {k: meta[k] for k in ("summary", "source", "licence",
                                                    "licence_note", "citation")}
                        for name, meta in IMPORT_ONLY.items()},
    }


GENERATED = "generated_by"
"""Manifest key of a shipped file that nasbench generated itself (by the script it names, e.g.
the ``dqn_cartpole`` table by training every network) rather than converted from original
sources: such files have no ``derived_from``, :func:`build_all` does not make them, and a
rebuild keeps their manifest entries (:func:`keep_generated`)."""


def split_generated(manifest: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``manifest`` without its generated files, and those files' entries."""
    files = manifest.get("files", {})
    generated = {name: rec for name, rec in files.items() if GENERATED in rec}
    rebuilt = {**manifest, "files": {n: r for n, r in files.items() if n not in generated}}
    return rebuilt, generated


def keep_generated(manifest: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` (from :func:`build_all`) with the generated files of ``previous``."""
    _, generated = split_generated(previous)
    return {**manifest, "files": {**manifest["files"], **generated}}


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
