"""Time ``nasbench.data.recipes.write_table`` at the shipped tables' zstd level and at the
level importers use, on a synthetic table shaped like an imported NAS-Bench-101 table (string
``arch`` and ``arch_key`` columns, 32 float columns of accuracies to 4 decimals), and check
that each level writes the same bytes twice.

Usage: ``python tests/bench/bench_table_write.py [ROWS]`` (default 100,000; the NAS-Bench-101
release has 423,624 cells).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nasbench.data.recipes import (
    COMPRESSION_LEVEL,
    IMPORT_COMPRESSION_LEVEL,
    to_arrow,
    write_table,
)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = np.random.default_rng(0)
    columns = {"arch": [f"{i:032x}" for i in range(rows)],
               "arch_key": [f"{i:032x}" for i in range(rows)]}
    for j in range(32):
        columns[f"cifar10/m{j}"] = np.round(rng.uniform(80, 95, rows), 4)
    table = to_arrow(columns)
    with tempfile.TemporaryDirectory() as tmp:
        for level in (IMPORT_COMPRESSION_LEVEL, COMPRESSION_LEVEL):
            start = time.perf_counter()
            first = write_table(table, {}, Path(tmp) / f"a{level}", "t", level)[0]
            seconds = time.perf_counter() - start
            again = write_table(table, {}, Path(tmp) / f"b{level}", "t", level)[0]
            same = first.read_bytes() == again.read_bytes()
            print(f"zstd level {level}: {rows:,} rows x {len(columns)} columns written in "
                  f"{seconds:.1f} s, {first.stat().st_size / 1e6:.1f} MB; same bytes twice: "
                  f"{same}")


if __name__ == "__main__":
    main()
