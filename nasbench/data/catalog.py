"""The catalog of every table nasbench knows: shipped, imported, import-only, from packages.

``nasbench data list`` prints it; ``nasbench data verify`` checks every shipped file against
the manifest and every imported one against its ``provenance.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nasbench.data import (
    MANIFEST,
    PACKAGE_DIR,
    TABLES_DIR,
    import_dir,
    imported_descriptions,
    manifest,
    shipped_descriptions,
)


def _problems(description: dict[str, Any]) -> list[str]:
    """The searchable problems of a benchmark table: ``space x dataset``."""
    if description.get("kind") != "benchmark" or not description.get("search_metric"):
        return []
    return [f"{description['space']}/{d}" for d in description.get("datasets", [])]


def entries(plugins: Any = None) -> list[dict[str, Any]]:
    """One entry per table: its name, status, problems, rows, bytes, source, licence,
    citation and why it is (or is not) shipped."""
    out: list[dict[str, Any]] = []
    files = manifest().get("files", {})
    shipped = shipped_descriptions()
    for stem, d in shipped.items():
        size = sum(rec["bytes"] for name, rec in files.items() if rec.get("table") == stem)
        out.append(_entry(stem, d, "shipped", size, str(TABLES_DIR / f"{stem}.parquet")))
    for stem, (directory, d) in imported_descriptions().items():
        size = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
        status = "imported (overrides shipped)" if stem in shipped else "imported"
        out.append(_entry(stem, d, status, size, str(directory)))
    from nasbench.data.recipes import IMPORT_ONLY

    known = {e["name"] for e in out}
    for name, meta in IMPORT_ONLY.items():
        if name not in known:
            out.append(_entry(name, {"name": name, **meta}, "import only (not imported)", 0,
                              ""))
    if plugins is not None:
        for record in plugins.benchmarks:
            if record.name in known or getattr(record.cls, "table", None):
                continue
            bench = record.cls()
            out.append({
                "name": record.name, "kind": "benchmark",
                "status": "in an installed package",
                "space": bench.space,
                "problems": [f"{bench.space}/{d}" for d in bench.datasets()],
                "rows": None, "bytes": None, "path": "", "summary": bench.summary,
                "source": getattr(record.cls, "source", "") or record.source.plugin,
                "licence": getattr(record.cls, "licence", ""),
                "citation": bench.citation,
                "why": "read from its own installed package; nasbench copies nothing",
            })
    return out


def _entry(stem: str, d: dict[str, Any], status: str, size: int, path: str) -> dict[str, Any]:
    return {
        "name": d.get("name", stem), "kind": d.get("kind", ""), "status": status,
        "space": d.get("space"), "problems": _problems(d), "rows": d.get("rows"),
        "bytes": size, "path": path, "summary": d.get("summary", ""),
        "source": d.get("source", ""), "licence": d.get("licence", ""),
        "citation": d.get("citation", ""), "why": d.get("licence_note", ""),
    }


def verify(package_dir: Path = PACKAGE_DIR) -> tuple[list[str], list[str]]:
    """Check every shipped file (below ``package_dir``, by default the installed package's
    data) against its manifest, and every import against its provenance. Returns (what was
    checked, problems found, each naming the file)."""
    import json

    from nasbench.data.importers import PROVENANCE, verify_import
    from nasbench.data.recipes import sha256

    checked, problems = [], []
    listing = package_dir / MANIFEST.name
    try:
        files = json.loads(listing.read_text()).get("files", {})
    except (OSError, ValueError) as exc:
        return [], [f"{listing}: cannot be read ({exc}); reinstall nasbench"]
    for name, rec in files.items():
        path = package_dir / name
        checked.append(str(path))
        if not path.is_file():
            problems.append(f"{path}: missing (listed in {listing}); reinstall nasbench")
        elif path.stat().st_size != rec["bytes"] or sha256(path) != rec["sha256"]:
            problems.append(f"{path}: SHA-256 differs from {listing}; the file was changed or "
                            "damaged: reinstall nasbench, or rebuild it with "
                            "scripts/build_tables.py")
    listed = {package_dir / n for n in files}
    for path in sorted((package_dir / TABLES_DIR.name).glob("*")):
        if path not in listed:
            problems.append(f"{path}: not listed in {listing}")
    root = import_dir()
    if root.is_dir():
        for directory in sorted(p for p in root.iterdir() if p.is_dir()
                                and not p.name.startswith(".")):
            checked.append(str(directory / PROVENANCE))
            problems.extend(verify_import(directory))
    return checked, problems


def table_path(name: str) -> Path:
    """Where the table (or import) ``name`` is read from."""
    from nasbench.data import find_table

    imported = import_dir() / name
    if imported.is_dir() and not (imported / f"{name}.parquet").is_file():
        return imported
    return find_table(name).path
