"""Where nasbench finds benchmark tables and data files.

Three places, in this order, for a table with stem ``STEM``:

1. the data directory, when one is set: the study's ``data_dir`` (relative to the study file),
   ``--data-dir`` or ``$NASBENCH_DATA``. It overrides the copy nasbench ships when it holds
   ``STEM.parquet`` (the table format of ``docs/benchmarks.md``), or the original source files
   a shipped table is derived from (e.g. ``nb201/nb201_accuracies.csv``), which are then
   converted in memory by the table's recipe (:mod:`nasbench.data.recipes`);
2. the import directory (:func:`import_dir`), where ``nasbench data import`` puts the tables it
   converts from official releases: ``<import dir>/<name>/STEM.parquet``;
3. the tables shipped inside the package (``nasbench/data/tables``), listed with their
   checksums in ``nasbench/data/manifest.json``.

This module imports nothing heavy: ``nasbench list`` reads table descriptions through it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from nasbench.errors import DataNotFoundError

ENV_VAR = "NASBENCH_DATA"
IMPORT_ENV_VAR = "NASBENCH_IMPORT_DIR"
PACKAGE_DIR = Path(__file__).resolve().parent
TABLES_DIR = PACKAGE_DIR / "tables"
MANIFEST = PACKAGE_DIR / "manifest.json"


def default_data_dir() -> Path | None:
    """``$NASBENCH_DATA`` if set."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else None


def import_dir() -> Path:
    """Where imported tables live: ``$NASBENCH_IMPORT_DIR``, else the user's XDG cache
    (``$XDG_CACHE_HOME/nasbench/imported``, by default ``~/.cache/nasbench/imported``)."""
    env = os.environ.get(IMPORT_ENV_VAR)
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "nasbench" / "imported"


def locate(data_dir: Path | None, relative: str, what: str, importer: str | None = None) -> Path:
    """The path of the data file ``relative``: below the data directory, else below the import
    directory.

    Args:
        data_dir: the study's data directory (``None``: ``$NASBENCH_DATA``, if set).
        relative: the file's path below the directory, e.g. ``yang2020/seed_correlation_24.csv``.
        what: what the file is, for the error message.
        importer: the ``nasbench data import`` name that brings the file, if one does.

    Raises:
        DataNotFoundError: saying where the file was looked for and how to provide it.
    """
    root = data_dir if data_dir is not None else default_data_dir()
    places = [root / relative] if root is not None else []
    places.append(import_dir() / relative)
    for path in places:
        if path.is_file():
            return path
    how = (f"Import your copy once with 'nasbench data import {importer} DIR', or put the "
           f"file at <data dir>/{relative} and pass --data-dir DIR (a study: [study] data_dir; "
           f"or export {ENV_VAR}=DIR).") if importer else (
           f"Put the file at <data dir>/{relative} and pass --data-dir DIR (a study: [study] "
           f"data_dir; or export {ENV_VAR}=DIR).")
    looked = " and ".join(str(p) for p in places)
    raise DataNotFoundError(f"{what}: {Path(relative).name} not found (looked for {looked}). "
                            f"{how}")


# -- tables ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableLocation:
    """Where a table was found.

    Attributes:
        stem: the table's stem.
        origin: ``data_dir`` (a Parquet copy there), ``source`` (original files there,
            converted in memory), ``imported`` or ``shipped``.
        path: the Parquet file, or for ``source`` the data directory.
        description: the table's JSON description.
    """

    stem: str
    origin: str
    path: Path
    description: dict[str, Any]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataNotFoundError(f"{path} cannot be read as a table description: {exc}") from None


def shipped_descriptions() -> dict[str, dict[str, Any]]:
    """Stem -> description of every table shipped with nasbench."""
    return {p.stem: _read_json(p) for p in sorted(TABLES_DIR.glob("*.json"))}


def imported_descriptions() -> dict[str, tuple[Path, dict[str, Any]]]:
    """Stem -> (directory, description) of every imported table."""
    root = import_dir()
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    if not root.is_dir():
        return out
    for path in sorted(root.glob("*/*.json")):
        if path.name == "provenance.json":
            continue
        try:
            out[path.stem] = (path.parent, _read_json(path))
        except DataNotFoundError:
            continue
    return out


def manifest() -> dict[str, Any]:
    """The shipped tables' manifest (``nasbench/data/manifest.json``)."""
    return _read_json(MANIFEST)


def find_table(stem: str, data_dir: Path | None = None) -> TableLocation:
    """Where the table ``stem`` is read from (see the module docstring for the order).

    Raises:
        DataNotFoundError: naming the places looked at and what to do.
    """
    from nasbench.data import recipes

    root = data_dir if data_dir is not None else default_data_dir()
    shipped = TABLES_DIR / f"{stem}.json"
    if root is not None:
        if (root / f"{stem}.parquet").is_file() and (root / f"{stem}.json").is_file():
            return TableLocation(stem, "data_dir", root / f"{stem}.parquet",
                                 _read_json(root / f"{stem}.json"))
        recipe = recipes.RECIPES.get(stem)
        if recipe is not None and recipe.sources_present(root):
            return TableLocation(stem, "source", root, recipe.description())
    imported = imported_descriptions().get(stem)
    if imported is not None and (imported[0] / f"{stem}.parquet").is_file():
        return TableLocation(stem, "imported", imported[0] / f"{stem}.parquet", imported[1])
    if shipped.is_file():
        return TableLocation(stem, "shipped", TABLES_DIR / f"{stem}.parquet", _read_json(shipped))
    recipe = recipes.RECIPES.get(stem)
    only = recipes.IMPORT_ONLY.get(stem)
    if only is not None:
        hint = (f"nasbench does not ship it (see 'nasbench data list' for why): import your "
                f"copy of {only['source']} once with 'nasbench data import "
                f"{only.get('importer', stem)} SOURCE', or put {stem}.parquet and {stem}.json "
                "in the data directory")
    elif recipe is not None and recipe.importer:
        hint = f"Import it with 'nasbench data import {recipe.importer} SOURCE'"
    else:
        hint = "See 'nasbench data list' for the tables nasbench knows"
    raise DataNotFoundError(
        f"no benchmark table '{stem}': not in the data directory "
        f"({root if root is not None else 'none set'}), not imported ({import_dir()}), and "
        f"not shipped with nasbench. {hint}."
    )


@lru_cache(maxsize=16)
def _read_parquet(path: Path, mtime: float) -> Any:
    import pyarrow.parquet as pq

    # ParquetFile.read skips the dataset machinery of read_table: ~50x faster on a first call.
    return pq.ParquetFile(path).read()


@lru_cache(maxsize=8)
def _convert(stem: str, root: Path, stamp: tuple[float, ...]) -> Any:
    from nasbench.data import recipes

    return recipes.RECIPES[stem].build(root)


def read_table(stem: str, data_dir: Path | None = None) -> Any:
    """The table ``stem`` as a :class:`pyarrow.Table` (cached per file and modification time)."""
    where = find_table(stem, data_dir)
    if where.origin == "source":
        from nasbench.data import recipes

        recipe = recipes.RECIPES[stem]
        stamp = tuple(p.stat().st_mtime for p in recipe.source_paths(where.path))
        return _convert(stem, where.path, stamp)
    try:
        return _read_parquet(where.path, where.path.stat().st_mtime)
    except OSError as exc:
        raise DataNotFoundError(f"{where.path} cannot be read: {exc}") from None


def read_frame(stem: str, data_dir: Path | None = None) -> Any:
    """The table ``stem`` as a :class:`pandas.DataFrame`, one row per architecture."""
    return read_table(stem, data_dir).to_pandas()
