"""Regenerate the cross-machine reference: run the portable study, write its trials and the
machine it ran on to ``nb201_digits_portable.trials.json``.

    python tests/reference/regenerate.py

Only regenerate on purpose (a change of the training code or of torch that changes results);
the test ``tests/integration/test_numerics_reference.py`` compares every machine against it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STUDY = HERE / "nb201_digits_portable.toml"
REFERENCE = HERE / "nb201_digits_portable.trials.json"
COLUMNS = ("run_id", "trial", "repeat", "arch", "arch_key", "status", "eval_seed",
           "search_metric", "digits/valid_loss", "digits/test_acc", "digits/train_loss",
           "info.params", "info.flops", "info.steps", "info.threads")
"""What is compared: decisions, seeds and metrics (not timings)."""


def run(out: Path, *overrides: str) -> tuple[list[dict], dict]:
    """Run the reference study (through the command users run) into ``out``; its trial rows
    (the compared columns, floats at full precision) and its manifest's machine record."""
    import pandas as pd

    cmd = [sys.executable, "-m", "nasbench.cli", "run", str(STUDY), "--out", str(out)]
    for item in overrides:
        cmd += ["--set", item]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    trials = pd.read_parquet(out / "trials.parquet").sort_values(["run_id", "trial", "repeat"])
    rows = [{c: (v.item() if hasattr(v, "item") else v) for c, v in row.items()}
            for row in trials[list(COLUMNS)].to_dict("records")]
    manifest = json.loads((out / "manifest.json").read_text())
    return rows, manifest["numerics"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows, machine = run(Path(tmp) / "out")
    import datetime as dt

    REFERENCE.write_text(json.dumps({
        "study": STUDY.name,
        "made": dt.date.today().isoformat(),
        "machine": machine,
        "trials": rows,
    }, indent=1) + "\n")
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main()
