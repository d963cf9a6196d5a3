"""Time the NATS-Bench importer on a synthetic whole-space release, and compare the readers.

Writes all 15,625 NAS-Bench-201 cells in the single-file layout (one seed of the 200-epoch
CIFAR-10 schedule: validation at 3 epochs, 200 per-epoch training times) as a ``torch.save``
``.pth``, then times: ``torch.load(weights_only=True)`` on a copy without NumPy scalars (the
release's own scalars make it refuse), the restricted reader on the same file, and the whole
import. Usage: ``python tests/bench/bench_nats_import.py [CELLS]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch
from nasbench.spaces.nb201 import Nb201Space

from nasbench.importers.nats_bench import NatsTssImporter, _read_pth


def main() -> None:
    cells = int(sys.argv[1]) if len(sys.argv) > 1 else 15_625
    space = Nb201Space()
    archs = [space.to_string(a) for a in list(space.enumerate())[:cells]]
    infos = {}
    for i, arch in enumerate(archs):
        valid = {"epochs": 200, "params": 0.1,
                 "eval_acc1es": {f"x-valid@{e}": 50.0 + i % 40 for e in (21, 65, 199)},
                 "train_times": dict.fromkeys(range(200), 1.0 + i % 7)}
        infos[i] = {"full": {"arch_str": arch, "all_results": {("cifar10-valid", 1): valid}}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "NAS-Bench-201-v1_1-096897.pth"
        torch.save({"meta_archs": archs, "arch2infos": infos}, path)
        size = path.stat().st_size / 1e6
        start = time.perf_counter()
        torch.load(path, weights_only=True)
        torch_s = time.perf_counter() - start
        start = time.perf_counter()
        _read_pth(path)
        restricted_s = time.perf_counter() - start
        start = time.perf_counter()
        NatsTssImporter().convert(path, Path(tmp) / "out")
        import_s = time.perf_counter() - start
    print(f"{cells} cells, {size:.0f} MB: torch.load(weights_only=True) {torch_s:.1f} s, "
          f"restricted reader {restricted_s:.1f} s, whole import {import_s:.1f} s")


if __name__ == "__main__":
    main()
