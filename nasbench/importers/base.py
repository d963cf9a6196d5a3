"""The importer interface of ``FORMATS.md``, and the writer of a benchmark table.

:class:`Importer` is a local stand-in for ``nasbench.data.importers.Importer`` (the ABC of the
``nasbench data import`` framework, built separately): the importers here follow its
interface exactly (class attributes ``name``, ``summary``, ``source``, ``licence``,
``citation``; ``convert(source, dest, progress) -> list[str]``), so that the integrator can
replace this base class by that ABC and delete this one.

:func:`write_table` writes one table as ``FORMATS.md`` specifies: ``<stem>.parquet``
(zstd-compressed Parquet, an ``arch`` string column and float metric columns named
``<dataset>/<metric>[@epoch][#seed]``) and ``<stem>.json`` (its description).
:func:`import_release` runs an importer into a directory and records ``provenance.json``
(source files, sizes, SHA-256, importer name and version, date).
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from nasbench.errors import UserError

Progress = Callable[[int, int], None]

IMPORT_DIR_ENV = "NASBENCH_IMPORT_DIR"


class Importer(ABC):
    """Converts a user's copy of an official release into nasbench tables (``FORMATS.md``).

    LOCAL STAND-IN for ``nasbench.data.importers.Importer``; replace it at integration.
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    source: ClassVar[str] = ""
    licence: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    version: ClassVar[str] = "1"

    @abstractmethod
    def convert(self, source: Path, dest: Path, progress: Progress | None = None) -> list[str]:
        """Read ``source``, write table(s) into ``dest``; return the written file names.

        Raises:
            UserError: naming the file and what is wrong when ``source`` is not the release.
        """


def import_dir() -> Path:
    """Where imported tables live: ``$NASBENCH_IMPORT_DIR`` or the user cache directory."""
    env = os.environ.get(IMPORT_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("nasbench")) / "imported"


def write_table(dest: Path, stem: str, arch: Sequence[str], columns: Mapping[str, Any],
                description: Mapping[str, Any],
                keys: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """Write ``<stem>.parquet`` and ``<stem>.json`` into ``dest``; return their names.

    Args:
        arch: the architectures' public strings, one per row.
        columns: metric name -> values (one per row; ``NaN`` where the release has none).
        description: the table description (``FORMATS.md``); ``format`` is set here.
        keys: extra string columns, such as the space's ``arch_key`` of every row (named in
            the description's ``key_column``, so that a reader need not recompute keys).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    dest.mkdir(parents=True, exist_ok=True)
    keys = dict(keys or {})
    names = ["arch", *keys, *columns]
    arrays = [pa.array(list(arch), pa.string())]
    arrays += [pa.array(list(values), pa.string()) for values in keys.values()]
    for name in columns:
        values = np.asarray(columns[name], dtype=np.float64)
        if len(values) != len(arch):
            raise ValueError(f"column {name} has {len(values)} values for {len(arch)} rows")
        arrays.append(pa.array(values, pa.float64()))
    table = pa.Table.from_arrays(arrays, names=names)
    parquet = dest / f"{stem}.parquet"
    pq.write_table(table, parquet, compression="zstd")
    meta = {"format": 1, **description}
    (dest / f"{stem}.json").write_text(json.dumps(meta, indent=1, sort_keys=False) + "\n")
    return [parquet.name, f"{stem}.json"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_release(importer: Importer, source: Path, dest: Path | None = None,
                   progress: Progress | None = None) -> Path:
    """Convert ``source`` with ``importer`` into ``dest`` (default: ``import_dir()/<name>``)
    and write ``provenance.json`` beside the tables. Returns the directory."""
    source = Path(source).expanduser()
    if not source.exists():
        raise UserError(f"{source} does not exist; give the path of your copy of the release "
                        f"({importer.source})")
    out = Path(dest) if dest is not None else import_dir() / importer.name
    written = importer.convert(source, out, progress)
    files = sorted(p for p in (source.rglob("*") if source.is_dir() else [source])
                   if p.is_file())
    provenance = {
        "importer": importer.name,
        "importer_version": importer.version,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": str(source),
        "source_files": [
            {"name": str(p.relative_to(source)) if source.is_dir() else p.name,
             "bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in files
        ],
        "written": written,
    }
    (out / "provenance.json").write_text(json.dumps(provenance, indent=1) + "\n")
    return out
