"""``python -m nasbench.importers NAME SOURCE [--dest DIR]``: import an official release.

An interim entry point until ``nasbench data import NAME SOURCE`` (the data commands) calls
the same importers; it writes the table and ``provenance.json`` into ``DIR`` (default: the
import directory, ``$NASBENCH_IMPORT_DIR`` or the user cache, then ``NAME/``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nasbench.errors import UserError

from .base import Importer, import_release
from .nats_bench import NatsTssImporter
from .nb101_tfrecord import Nb101Importer

IMPORTERS: dict[str, type[Importer]] = {c.name: c for c in (Nb101Importer, NatsTssImporter)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nasbench.importers",
                                     description="Import an official benchmark release.")
    parser.add_argument("name", choices=sorted(IMPORTERS))
    parser.add_argument("source", type=Path, help="your copy of the release (file or directory)")
    parser.add_argument("--dest", type=Path, default=None, help="output directory")
    args = parser.parse_args(argv)
    importer = IMPORTERS[args.name]()

    def progress(done: int, total: int) -> None:
        print(f"\r{importer.name}: {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        out = import_release(importer, args.source, args.dest, progress)
    except UserError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    print(f"\nimported into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
