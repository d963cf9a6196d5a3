"""Time the NAS-Bench-101 importer on a synthetic TFRecord file in the official format.

Writes ``CELLS`` distinct random cells x 3 repeats at 108 epochs (the records of
``nasbench_only108.tfrecord``, built by the encoder of the importer's tests), imports them, and
prints records per second and the extrapolation to the release's 1,270,872 records
(423,624 cells x 3). Usage: ``PYTHONPATH=. python tests/bench/bench_nb101_import.py [CELLS]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from nasbench.spaces.nb101 import Nb101Space

from nasbench.importers import tfrecord
from nasbench.importers.nb101_tfrecord import Nb101Importer
from tests.unit.importers.test_nb101_tfrecord import _record, _tfrecord

RELEASE_RECORDS = 423_624 * 3


def main() -> None:
    cells = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    space = Nb101Space()
    rng = np.random.default_rng(0)
    archs: dict[str, tuple[int, ...]] = {}
    while len(archs) < cells:
        arch = space.sample(rng)
        archs.setdefault(space.arch_key(arch), arch)
    payloads = [_record(a, 108, rep, 1_000_000)[0] for a in archs.values() for rep in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nasbench_only108.tfrecord"
        path.write_bytes(_tfrecord(payloads))
        crc = "crc32c package" if tfrecord._CRC is not tfrecord.crc32c_python else "pure Python"
        start = time.perf_counter()
        Nb101Importer().convert(path, Path(tmp) / "out")
        seconds = time.perf_counter() - start
    rate = len(payloads) / seconds
    print(f"{len(payloads):,} records in {seconds:.1f} s ({rate:,.0f}/s, CRC by {crc}); the "
          f"release's {RELEASE_RECORDS:,} records: about {RELEASE_RECORDS / rate / 60:.0f} min")


if __name__ == "__main__":
    main()
