"""Numerics: the setting's place in the config hash, and telling drift from logic."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from nasbench import numerics
from nasbench.errors import ConfigError
from nasbench.numerics import PORTABLE_ENVIRONMENT, compare_trials, machine_record
from nasbench.protocol import load_study
from nasbench.registry import load_plugins

EXAMPLE = "examples/digits_training.toml"


@pytest.fixture(scope="module")
def plugins():
    return load_plugins()


def test_native_keeps_the_hash_portable_changes_it(plugins) -> None:
    plain = load_study(EXAMPLE, plugins)
    native = load_study(EXAMPLE, plugins, overrides=["execution.numerics=native"])
    portable = load_study(EXAMPLE, plugins, overrides=["execution.numerics=portable"])
    assert plain.numerics == native.numerics == "native"
    assert plain.config_hash == native.config_hash
    assert "numerics" not in native.resolved
    assert portable.numerics == "portable"
    assert portable.resolved["numerics"] == "portable"
    assert portable.config_hash != native.config_hash


def test_unknown_mode_is_a_config_error(plugins) -> None:
    with pytest.raises(ConfigError, match=r"execution.numerics.*available: native, portable"):
        load_study(EXAMPLE, plugins, overrides=["execution.numerics=avx512"])


def test_portable_refuses_a_process_where_torch_is_loaded_otherwise() -> None:
    code = ("import os, torch\n"
            "from nasbench.numerics import prepare\n"
            "from nasbench.errors import UserError\n"
            "try:\n    prepare('portable')\nexcept UserError as e:\n    print('refused', e)\n")
    env = {k: v for k, v in __import__("os").environ.items() if k not in PORTABLE_ENVIRONMENT}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert out.startswith("refused") and "ATEN_CPU_CAPABILITY=(unset)" in out


def _portable_process(code: str, *, numpy_first: bool, trains: bool = True) -> str:
    """Run ``code`` after ``ensure('portable', trains)`` in a fresh process (started without
    the portable variables, as ``nasbench run`` is), numpy imported before or not."""
    head = "import numpy\n" if numpy_first else ""
    script = (head + "from nasbench.numerics import ensure, numpy_avx512\n"
              "from nasbench.errors import UserError\n"
              f"try:\n    ensure('portable', trains={trains})\n"
              "except UserError as e:\n    print('refused', e)\n    raise SystemExit(0)\n"
              + code)
    env = {k: v for k, v in __import__("os").environ.items() if k not in PORTABLE_ENVIRONMENT}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=True).stdout


def test_portable_pins_numpy_loops_below_avx512() -> None:
    out = _portable_process("print('wide', numpy_avx512())\n", numpy_first=False)
    assert out == "wide []\n", out


@pytest.mark.parametrize("trains", [True, False], ids=["training", "tabular"])
def test_portable_refuses_numpy_loaded_with_avx512_loops(trains: bool) -> None:
    # This machine's numpy, imported natively here, tells whether it has AVX-512 loops to pin.
    native_wide = numerics.numpy_avx512()
    out = _portable_process("print('pinned', numpy_avx512())\n", numpy_first=True,
                            trains=trains)
    if native_wide:
        assert out.startswith("refused") and "NPY_DISABLE_CPU_FEATURES" in out, out
        assert all(t in out for t in native_wide)
    else:  # nothing to pin on this CPU: numpy's loops are AVX2 at most either way
        assert out.startswith("pinned []"), out


def test_machine_record_of_a_table_study_imports_no_torch() -> None:
    code = ("import sys\nfrom nasbench.numerics import machine_record\n"
            "r = machine_record('native', trains=False)\n"
            "print('torch' in sys.modules, 'torch' in r, bool(r['cpu_model']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False", "True"]


def test_machine_record_describes_torch_kernels() -> None:
    record = machine_record("native")
    assert record["cores"] >= 1 and record["numerics"] == "native"
    torch_part = record["torch"]
    assert torch_part["cpu_capability"] in ("DEFAULT", "AVX2", "AVX512", "NO AVX", "ZVECTOR",
                                            "SVE256", "VSX")
    assert torch_part["version"].split("+")[0].count(".") == 2
    assert torch_part["blas"]  # parsed from torch.__config__.show()


def _trials(rng: np.random.Generator, n_runs: int = 2, n: int = 5) -> pd.DataFrame:
    rows = []
    for r in range(n_runs):
        for t in range(n):
            rows.append({"run_id": f"rs-{r}", "trial": t, "repeat": 0,
                         "arch_key": f"a{rng.integers(1000)}", "status": "ok",
                         "fidelity": np.nan, "seed": r, "eval_seed": int(rng.integers(1 << 30)),
                         "search_metric": float(rng.uniform(50, 90)),
                         "digits/test_acc": float(rng.uniform(50, 90)),
                         "cost": float(rng.uniform(1, 2)), "wall_time": float(rng.uniform(1, 2)),
                         "info.seconds": float(rng.uniform(1, 2))})
    return pd.DataFrame(rows)


def test_identical_tables_whatever_the_timings_and_order() -> None:
    a = _trials(np.random.default_rng(0))
    b = a.sample(frac=1.0, random_state=1).copy()
    b["cost"] += 1.0
    b["wall_time"] *= 2
    b["info.seconds"] += 0.5
    assert compare_trials(a, b).verdict == "identical"


def test_drift_reports_its_size() -> None:
    a = _trials(np.random.default_rng(0))
    b = a.copy()
    b.loc[3, "digits/test_acc"] += 1e-6
    b.loc[7, "search_metric"] = np.nextafter(b.loc[7, "search_metric"], np.inf)
    c = compare_trials(a, b)
    assert c.verdict == "drift"
    assert c.by_metric["digits/test_acc"][0] == pytest.approx(1e-6, rel=1e-3)
    assert 0 < c.by_metric["search_metric"][0] < 1e-13
    assert c.max_abs == c.by_metric["digits/test_acc"][0]
    assert "drift" in c.describe()


def test_different_architecture_is_logic_with_the_first_difference() -> None:
    a = _trials(np.random.default_rng(0))
    b = a.copy()
    b.loc[6, "arch_key"] = "other"
    b.loc[8, "arch_key"] = "other too"
    c = compare_trials(a, b)
    assert c.verdict == "logic"
    assert c.first_difference["position"] == 6
    assert c.first_difference["arch_key"] == (a.loc[6, "arch_key"], "other")
    assert c.first_difference["run_id"] == "rs-1"


def test_status_or_length_or_missing_metric_is_logic() -> None:
    a = _trials(np.random.default_rng(0))
    b = a.copy()
    b.loc[2, "status"] = "diverged"
    assert compare_trials(a, b).first_difference["status"] == ("ok", "diverged")
    shorter = compare_trials(a, a.iloc[:-1])
    assert shorter.verdict == "logic" and shorter.first_difference["only_in"] == "first"
    c = a.copy()
    c.loc[4, "digits/test_acc"] = np.nan
    assert compare_trials(a, c).verdict == "logic"


@pytest.mark.parametrize("mode", ["native", "portable"])
def test_a_table_study_runs_without_torch_and_records_the_machine(tmp_path, mode) -> None:
    code = ("import sys\nfrom nasbench.cli import main\n"
            f"code = main(['run', 'examples/nb201_tabular.toml', '--out', {str(tmp_path)!r}, "
            "'--quiet', '--set', 'study.seeds=2', '--set', 'budget.evaluations=5', "
            f"'--set', 'execution.numerics={mode}'])\n"
            "print(code, 'torch' in sys.modules)\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "NASBENCH_DATA"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    assert out[-2:] == ["0", "False"]
    machine = json.loads((tmp_path / "manifest.json").read_text())["numerics"]
    assert machine["numerics"] == mode and "torch" not in machine and machine["cores"] >= 1


def test_an_incumbent_chosen_otherwise_by_drifted_metrics_is_still_drift() -> None:
    a = _trials(np.random.default_rng(0))
    a["incumbent"] = a["arch_key"]
    b = a.copy()
    b.loc[2, "search_metric"] += 1e-9
    b.loc[2, "incumbent"] = "another"
    c = compare_trials(a, b)
    assert c.verdict == "drift" and c.incumbent_changes == 1
    assert "incumbent differs at 1 trial" in c.describe()
    same_metrics = a.copy()
    same_metrics.loc[2, "incumbent"] = "another"
    assert compare_trials(a, same_metrics).verdict == "logic"
