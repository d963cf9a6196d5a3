"""Importers: convert a user's copy of an official release into nasbench's table format.

``nasbench data import NAME SOURCE [--dest DIR]`` finds the importer registered as ``NAME``
(plugins register them through the ``nasbench_register_importers`` hook, like every other
plugin kind), lets it write its table(s) into a fresh directory, records the checksums of the
source files and of everything written in ``provenance.json``, and moves the result to
``<import dir>/<NAME>/`` (:func:`nasbench.data.import_dir`; ``--dest`` chooses another root).
From then on :func:`nasbench.data.find_table` finds the tables there, and a table whose
description says ``"kind": "benchmark"`` is registered as a benchmark that studies can use.

Official pickled files are read only through restricted unpicklers, never ``pickle.load``.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from nasbench.errors import UserError
from nasbench.hookspecs import hookimpl

PROVENANCE = "provenance.json"


class Importer(ABC):
    """Converts one official release into nasbench tables.

    Attributes:
        name: what users type after ``nasbench data import`` (lower_snake).
        summary: one line.
        source: the official release and where users get it.
        licence: the release's licence.
        citation: what to cite.
        version: the importer's version, recorded in the provenance (bump it when the output
            of the same source changes).
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    source: ClassVar[str] = ""
    licence: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    version: ClassVar[str] = "1"

    @abstractmethod
    def convert(self, source: Path, dest: Path,
                progress: Callable[[int, int], None] | None = None) -> list[str]:
        """Read the official file or directory ``source`` and write table(s) into ``dest``.

        Returns:
            The names of the files written (relative to ``dest``).

        Raises:
            UserError: naming the file and what is wrong when ``source`` is not the expected
                release.
        """


def _sha256(path: Path) -> str:
    from nasbench.data.recipes import sha256

    return sha256(path)


def source_files(source: Path) -> list[Path]:
    """The files of ``source`` (itself if it is a file), in a stable order."""
    if source.is_file():
        return [source]
    return sorted(p for p in source.rglob("*") if p.is_file())


def run_import(importer: Importer, source: Path, dest_root: Path | None = None,
               progress: Callable[[int, int], None] | None = None) -> Path:
    """Import ``source`` with ``importer`` into ``<dest_root>/<importer.name>/``.

    The tables are written into a temporary directory beside the destination first and moved
    into place only when the importer succeeded, so a failed import leaves nothing behind and
    an earlier import of the same name stays until the new one is complete.

    Returns:
        The directory holding the imported tables and their ``provenance.json``.
    """
    from nasbench.data import import_dir

    source = Path(source).expanduser()
    if not source.exists():
        raise UserError(f"{source} does not exist; give the path of your copy of "
                        f"{importer.source or 'the official release'}.")
    root = Path(dest_root).expanduser() if dest_root is not None else import_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / importer.name
    work = Path(tempfile.mkdtemp(prefix=f".{importer.name}-", dir=root))
    try:
        written = importer.convert(source, work, progress)
        files = source_files(source)
        provenance = {
            "importer": importer.name,
            "importer_class": f"{type(importer).__module__}.{type(importer).__qualname__}",
            "importer_version": importer.version,
            "imported": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
            "source": str(source.resolve()),
            "source_files": [{"name": str(p.relative_to(source)) if p != source else p.name,
                              "bytes": p.stat().st_size, "sha256": _sha256(p)} for p in files],
            "licence": importer.licence,
            "citation": importer.citation,
            "files": {name: {"bytes": (work / name).stat().st_size,
                             "sha256": _sha256(work / name)} for name in sorted(written)},
        }
        (work / PROVENANCE).write_text(json.dumps(provenance, indent=1) + "\n")
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return final


def verify_import(directory: Path) -> list[str]:
    """Problems found checking an import directory against its ``provenance.json`` (empty:
    every file is there with its recorded checksum)."""
    path = directory / PROVENANCE
    try:
        provenance = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return [f"{path}: cannot be read ({exc})"]
    problems = []
    for name, rec in provenance.get("files", {}).items():
        file = directory / name
        if not file.is_file():
            problems.append(f"{file}: missing (recorded in {path})")
        elif _sha256(file) != rec["sha256"]:
            problems.append(f"{file}: SHA-256 differs from {path}; import it again")
    return problems


# -- Yang et al. 2020 -------------------------------------------------------------------------
class Yang2020Importer(Importer):
    """Yang et al.'s raw results, which nasbench may not ship (their repository states no
    licence). ``SOURCE`` is a directory holding the eight CSV files (``docs/analysis.md``)."""

    name: ClassVar[str] = "yang2020"
    summary: ClassVar[str] = "raw results of Yang et al., NAS evaluation is frustratingly hard"
    source: ClassVar[str] = ("github.com/antoyang/NAS-Benchmark, Plots/data/ (performance "
                             "tables and the seed and depth correlation arrays, as CSV)")
    licence: ClassVar[str] = "none stated (not redistributable)"
    citation: ClassVar[str] = ("Yang, Esperança & Carlucci, NAS evaluation is frustratingly "
                               "hard, ICLR 2020")

    def convert(self, source: Path, dest: Path,
                progress: Callable[[int, int], None] | None = None) -> list[str]:
        import csv

        from nasbench.data.recipes import YANG2020_META, YANG_FILES

        if not source.is_dir():
            raise UserError(f"{source} is not a directory; give the directory that holds "
                            f"{', '.join(YANG_FILES)}.")
        missing = [f for f in YANG_FILES if not (source / f).is_file()]
        if missing:
            raise UserError(f"{source} lacks {', '.join(missing)}; it is not the directory of "
                            "Yang et al.'s results nasbench expects (docs/benchmarks.md).")
        for i, name in enumerate(YANG_FILES):
            with (source / name).open(newline="") as fh:
                rows = list(csv.reader(fh))
            if len(rows) < 2 or len({len(r) for r in rows}) != 1:
                raise UserError(f"{source / name}: expected a CSV table with a header and "
                                "rows of equal length.")
            shutil.copyfile(source / name, dest / name)
            if progress is not None:
                progress(i + 1, len(YANG_FILES))
        (dest / "yang2020.json").write_text(
            json.dumps({"format": 1, "name": "yang2020", **YANG2020_META}, indent=1) + "\n")
        return [*YANG_FILES, "yang2020.json"]


def importer_classes(plugins: Any) -> dict[str, type[Importer]]:
    """Name -> importer class of every registered importer."""
    return {r.name: r.cls for r in plugins.importers}


@hookimpl
def nasbench_register_importers(registry: Any) -> None:
    registry.add(Yang2020Importer)
