"""The cross-machine reference: the portable study committed under tests/reference/ gives
bit-identical trials here, whatever the CPU; native kernels match it only on an AVX2 CPU.

Both studies run through ``nasbench run`` in their own processes (the kernel libraries read
their settings when torch loads), side by side to keep the test short.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from nasbench.numerics import compare_trials
from tests.conftest import ROOT

REFERENCE_DIR = ROOT / "tests" / "reference"
STUDY = REFERENCE_DIR / "nb201_digits_portable.toml"
REFERENCE = json.loads((REFERENCE_DIR / "nb201_digits_portable.trials.json").read_text())
COLUMNS = list(REFERENCE["trials"][0])


def _start(out: Path, *overrides: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "nasbench.cli", "run", str(STUDY), "--out", str(out)]
    for item in overrides:
        cmd += ["--set", item]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen, out: Path) -> tuple[pd.DataFrame, dict]:
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    trials = pd.read_parquet(out / "trials.parquet").sort_values(["run_id", "trial", "repeat"])
    manifest = json.loads((out / "manifest.json").read_text())
    return trials[COLUMNS].reset_index(drop=True), manifest


def test_portable_reference_is_bit_identical_and_native_differs_only_off_avx2(tmp_path):
    portable_proc = _start(tmp_path / "portable")
    native_proc = _start(tmp_path / "native", "execution.numerics=native")
    portable, portable_manifest = _finish(portable_proc, tmp_path / "portable")
    native, native_manifest = _finish(native_proc, tmp_path / "native")
    reference = pd.DataFrame(REFERENCE["trials"])[COLUMNS]

    machine = portable_manifest["numerics"]
    assert machine["numerics"] == "portable"
    assert machine["torch"]["cpu_capability"] == "AVX2"
    assert machine["torch"]["deterministic_algorithms"] is True
    assert portable_manifest["config"]["numerics"] == "portable"
    assert "numerics" not in native_manifest["config"]

    verdict = compare_trials(reference, portable)
    assert verdict.verdict == "identical", (
        f"{verdict.describe()}; reference made on {REFERENCE['machine']['cpu_model']} "
        f"(torch {REFERENCE['machine']['torch']['version']}), this run on {machine['cpu_model']} "
        f"(torch {machine['torch']['version']})")
    # every compared value, floats to the last bit
    assert portable.to_dict("records") == reference.to_dict("records")

    native_capability = native_manifest["numerics"]["torch"]["cpu_capability"]
    against = compare_trials(portable, native)
    if native_capability == "AVX2":  # the native kernels are the portable ones here
        assert against.verdict == "identical", against.describe()
    else:  # other kernels, the same decisions: pinning has an effect, and only on floats
        assert against.verdict == "drift", (native_capability, against.describe())
