"""Import the NATS-Bench repository's own sample files and compare them with the NB201 table.

The NATS-Bench repository (https://github.com/D-X-Y/NATS-Bench) ships three real cells in
``fake_torch_dir/NATS-tss-v1_0-3ffb9-simple/``. This imports that directory and compares the
12-epoch validation/test and 200-epoch test accuracies with the reference table
``<NASBENCH_DATA>/nb201/nb201_accuracies.csv``, printing the largest difference.
Usage: ``python tests/bench/nats_sample_check.py DIR`` (with ``NASBENCH_DATA`` set).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from nasbench.importers.nats_bench import NatsTssImporter


def main() -> None:
    source = Path(sys.argv[1])
    reference = pd.read_csv(Path(os.environ["NASBENCH_DATA"]) / "nb201/nb201_accuracies.csv")
    with tempfile.TemporaryDirectory() as tmp:
        NatsTssImporter().convert(source, Path(tmp))
        imported = pd.read_parquet(Path(tmp) / "nats_tss.parquet")
    merged = reference.merge(imported, on="arch")
    worst = 0.0
    for dataset in ("cifar10", "cifar100", "imagenet16_120"):
        for metric in ("valid_12ep", "test_12ep", "test_200ep"):
            diff = (merged[f"{dataset}_{metric}"] - merged[f"{dataset}/{metric}"]).abs().max()
            worst = max(worst, float(diff))
    print(f"{len(merged)} cells compared on 9 columns; largest difference {worst:.2e}")


if __name__ == "__main__":
    main()
