"""Numerics: pinned CPU kernels for results that hold on other machines, the hardware record of
a results directory, and the comparison that tells floating-point drift from different logic.

Training is bit-identical run after run on one machine, but the instruction set that torch,
oneDNN and the BLAS choose at run time (AVX2, AVX-512, ...) changes the floating point, so the
same study gives other numbers on another CPU. ``[execution] numerics`` chooses:

* ``"native"`` (the default): the fastest kernels of this CPU; results are identical only on the
  same hardware (and the same thread count and library versions).
* ``"portable"``: every kernel library limited to AVX2 (what every x86-64 CPU of the last decade
  has; numpy's own loops included), MKL's conditional numerical reproducibility pinned, and
  torch's deterministic algorithms on; results are identical on any x86-64 machine with AVX2
  and the same library versions. It is part of the protocol (and the config hash).

The kernel libraries read their variables once, when they load, so :func:`prepare` sets them
before torch is imported, in every process that evaluates: the driver (``nasbench run`` imports
no torch before it), Dask workers (a ``LocalCluster`` starts them with the variables; a worker
of an existing cluster sets them before its first torch import, and refuses when torch is
already loaded with other kernels or its numpy, which Dask imports, runs AVX-512 loops) and the
child processes of ``trial_timeout`` isolation, which inherit them.

Nothing here imports torch, numpy or pandas at import time.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nasbench.errors import ConfigError, UserError
from nasbench.hardware import cpu_model

if TYPE_CHECKING:
    import pandas as pd

MODES = ("native", "portable")
DEFAULT = "native"

PORTABLE_ENVIRONMENT: Mapping[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",       # torch's own vectorised kernels
    "ONEDNN_MAX_CPU_ISA": "AVX2",        # oneDNN (convolutions, matmuls through mkldnn)
    "DNNL_MAX_CPU_ISA": "AVX2",          # the same, for oneDNN releases before 2.x
    "MKL_CBWR": "AVX2",                  # MKL conditional numerical reproducibility
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",   # MKL's instruction set
    "OPENBLAS_CORETYPE": "Haswell",      # OpenBLAS (numpy's BLAS, torch's on some builds)
    # numpy's own vectorised loops (its float64 exp and log differ in the last bit between its
    # AVX-512 and AVX2 kernels): its AVX-512 dispatch targets, as numpy >= 2.4 names them
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",  # deterministic cuBLAS, when a GPU trains
}
"""The variables ``"portable"`` sets, before any kernel library loads."""

MODE_VARIABLE = "NASBENCH_NUMERICS"
"""Set to the mode by :func:`prepare`, so that child processes can tell what they inherit."""

PORTABLE_CAPABILITY = "AVX2"
"""What ``torch.backends.cpu.get_cpu_capability()`` reports under ``"portable"``."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def check_mode(value: str | None) -> str:
    """The numerics mode a study asks for (``None`` is the default), or a ConfigError."""
    if value is None:
        return DEFAULT
    if value not in MODES:
        raise ConfigError("numerics", f"unknown numerics mode {value!r}; available: "
                          f"{', '.join(MODES)}",
                          "Use \"portable\" for results identical on other machines, "
                          "\"native\" (the default) for the fastest kernels of this one.")
    return value


def environment(mode: str) -> dict[str, str]:
    """The environment variables a process that trains under ``mode`` needs."""
    if mode == "portable":
        return {**PORTABLE_ENVIRONMENT, MODE_VARIABLE: mode}
    return {}


def _mismatched() -> dict[str, str | None]:
    return {k: os.environ.get(k) for k, v in PORTABLE_ENVIRONMENT.items()
            if os.environ.get(k) != v}


def prepare(mode: str) -> None:
    """Set this process's environment for ``mode``, before torch is imported.

    Raises:
        UserError: ``"portable"`` was asked for in a process where torch is already loaded
            with other kernel settings (they cannot change once torch has loaded).
    """
    if mode != "portable":
        return
    if "torch" in sys.modules and _mismatched():
        wrong = ", ".join(f"{k}={v or '(unset)'}" for k, v in _mismatched().items())
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in PORTABLE_ENVIRONMENT.items())
        raise UserError(
            "numerics = \"portable\" needs the CPU kernels pinned before torch is imported, "
            f"but torch is already loaded in this process with {wrong}. Run the study with "
            "'nasbench run' (it imports torch only after pinning them), or start Python (or the "
            f"Dask worker) with: env {exports} ..."
        )
    os.environ.update(environment(mode))


def ensure(mode: str, trains: bool) -> None:
    """Put this process (driver, worker or evaluation child) under ``mode`` and check it.

    Under ``"portable"``, every process checks that numpy's loops are limited to AVX2; a
    process that trains also imports torch, checks that its kernels are too and turns on its
    deterministic algorithms.

    Raises:
        UserError: the kernels could not be pinned here (torch or numpy already loaded
            otherwise, or a CPU without AVX2).
    """
    prepare(mode)
    if mode != "portable":
        return
    wide = numpy_avx512()
    if wide:
        import numpy as np

        raise UserError(
            f"numerics = \"portable\" pins numpy's loops to AVX2, but numpy {np.__version__} "
            f"dispatches {' '.join(wide)} in this process (numpy was imported before the "
            "variables were set, or this numpy names its targets otherwise): its results "
            "would not match other machines. Run the study with 'nasbench run', or start the "
            f"process with NPY_DISABLE_CPU_FEATURES=\"{' '.join(wide)}\"."
        )
    if not trains:
        return
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    if capability != PORTABLE_CAPABILITY:
        raise UserError(
            f"numerics = \"portable\" pins the CPU kernels to AVX2, but torch reports "
            f"{capability!r} on this machine ({cpu_model()}): its results would not match "
            "other machines. Use numerics = \"native\" here, or run on an x86-64 CPU with AVX2."
        )
    torch.use_deterministic_algorithms(True)


def numpy_avx512() -> list[str]:
    """numpy's AVX-512 dispatch targets active in this process (empty on a CPU without
    AVX-512, or once ``NPY_DISABLE_CPU_FEATURES`` has turned them off)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy 1.x
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    features = getattr(umath, "__cpu_features__", {})
    return [t for t in getattr(umath, "__cpu_dispatch__", [])
            if (t.startswith("AVX512") or t == "X86_V4") and features.get(t)]


def study_trains(study: Any, plugins: Any) -> bool:
    """Whether a study's evaluations run numeric kernels (train or evaluate networks), as
    opposed to looking results up in tables: a seeded evaluator, or a supernet protocol."""
    if getattr(study, "supernet", None) is not None:
        return True
    names = [study.evaluator.name]
    if study.final is not None:
        names.append(study.final.evaluator.name)
    return any(getattr(plugins.evaluators.get(n), "seeded", True) for n in names)


# -- the hardware record ---------------------------------------------------------------------
def _cpu_flags() -> list[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    wanted = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni",
                              "amx_tile", "sse4_2")
                    have = set(line.split(":", 1)[1].split())
                    return [w for w in wanted if w in have]
    except OSError:
        pass
    return []


def _parse_config(text: str) -> dict[str, str | None]:
    """oneDNN, MKL and BLAS versions from ``torch.__config__.show()``."""
    def find(pattern: str) -> str | None:
        m = re.search(pattern, text)
        return m.group(1).strip() if m else None

    return {
        "onednn": find(r"MKL-DNN (v[\w.]+)") or find(r"oneDNN (v[\w.]+)"),
        "mkl": find(r"Math Kernel Library Version ([^\n]+?)-Product"),
        "blas": find(r"BLAS_INFO=(\w+)"),
        "lapack": find(r"LAPACK_INFO=(\w+)"),
        "capability_usage": find(r"CPU capability usage: (\w+)"),
    }


def _torch_record() -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "version": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        **_parse_config(torch.__config__.show()),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if cuda else [],
    }


def _numpy_blas() -> list[dict[str, Any]]:
    """The BLAS libraries numpy (and anything else loaded) uses, through threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info()]


def machine_record(mode: str = DEFAULT, *, trains: bool = True) -> dict[str, Any]:
    """What a result's numbers depend on, beyond the code and the config: the CPU, the kernel
    libraries and their versions, thread settings and the numerics mode.

    Args:
        mode: the study's numerics mode.
        trains: whether the study runs numeric kernels; only then is torch imported (a tabular
            study stays torch-free) and its kernels described.
    """
    record: dict[str, Any] = {
        "numerics": mode,
        "cpu_model": cpu_model(),
        "cpu_flags": _cpu_flags(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "environment": {k: os.environ.get(k)
                        for k in (*PORTABLE_ENVIRONMENT, *THREAD_VARIABLES)},
    }
    if trains:
        try:
            record["torch"] = _torch_record()
        except ImportError:
            record["torch"] = None
        record["blas_libraries"] = _numpy_blas()
    return record


# -- telling drift from logic -----------------------------------------------------------------
DECISION_COLUMNS = ("run_id", "trial", "repeat", "arch_key", "fidelity", "status")
"""Columns that say what a study decided; the other numeric columns are measured metrics."""

INCUMBENT = "incumbent"
"""The best architecture so far: chosen by metrics, so drift alone may change it."""

NOT_METRICS = ("seed", "eval_seed")
"""Numeric columns that are neither decisions nor metrics (timings are recognised by name)."""

TIMING_WORDS = ("cost", "time", "seconds")


@dataclass(frozen=True)
class Comparison:
    """How two trial tables of the same study relate (see :func:`compare_trials`).

    Attributes:
        verdict: ``"identical"``; ``"drift"`` (the same trials and decisions, metrics that differ
            by floating point); or ``"logic"`` (a different trial sequence or decision).
        max_abs: the largest absolute difference of a metric (drift).
        max_rel: the largest relative difference of a metric (drift).
        by_metric: per metric, ``(max_abs, max_rel)`` (drift).
        first_difference: for ``"logic"``, the first trial (position and what differs).
        incumbent_changes: for ``"drift"``, the trials whose incumbent (best so far) differs
            because of the drifted metrics (the proposals and statuses are the same).
    """

    verdict: str
    max_abs: float = 0.0
    max_rel: float = 0.0
    by_metric: dict[str, tuple[float, float]] = field(default_factory=dict)
    first_difference: dict[str, Any] | None = None
    incumbent_changes: int = 0

    def describe(self) -> str:
        """One line for a person."""
        if self.verdict == "identical":
            return "identical: every trial, decision and metric is bit-identical"
        if self.verdict == "drift":
            worst = max(self.by_metric, key=lambda m: self.by_metric[m][0])
            return (f"floating-point drift: the same trials and decisions, metrics differ by at "
                    f"most {self.max_abs:.3g} (relative {self.max_rel:.3g}; largest in "
                    f"{worst}"
                    + (f"; the incumbent differs at {self.incumbent_changes} trial(s)"
                       if self.incumbent_changes else "")
                    + "); compare the hardware of both sides (manifest 'numerics')")
        return f"different logic: first difference at {self.first_difference}"


def _same(x: Any, y: Any) -> bool:
    """Equality of two cells, where two missing values (None, NaN) are the same."""
    missing_x = x is None or (isinstance(x, float) and x != x)
    missing_y = y is None or (isinstance(y, float) and y != y)
    if missing_x or missing_y:
        return missing_x and missing_y
    return bool(x == y)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _sorted(trials: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("run_id", "trial", "repeat") if c in trials.columns]
    out = trials.sort_values(keys, kind="stable") if keys else trials
    return out.reset_index(drop=True)


def compare_trials(a: pd.DataFrame, b: pd.DataFrame) -> Comparison:
    """Compare two trial tables (the columns of ``trials.parquet``) of the same study.

    The decisions are the rows' identities: the sequence of ``(run_id, trial, repeat, arch_key,
    fidelity, status)``. When they agree, every other numeric column present in both
    (except seeds, and costs and timings, which differ between any two runs) is a metric,
    compared exactly (NaN equals NaN). The first step that differs in a decision means the
    logic differs; an incumbent (best so far) that differs while they agree is drift choosing
    another best, counted in ``incumbent_changes``. A search that reacted to a drifted metric
    proposes other architectures later, so it reads as different logic from that trial on:
    the first difference says where, and the metrics before it whether they had drifted.

    ``nasbench verify`` calls this on a re-run and the original results.
    """
    import numpy as np

    a, b = _sorted(a), _sorted(b)
    decisions = [c for c in DECISION_COLUMNS if c in a.columns and c in b.columns]
    n = min(len(a), len(b))
    for i in range(n):
        ra = tuple(_plain(a.at[i, c]) for c in decisions)
        rb = tuple(_plain(b.at[i, c]) for c in decisions)
        if not all(_same(x, y) for x, y in zip(ra, rb, strict=True)):
            pairs = list(zip(decisions, ra, rb, strict=True))
            return Comparison("logic", first_difference={
                "position": i, **{c: x for c, x, y in pairs if _same(x, y)},
                **{c: (x, y) for c, x, y in pairs if not _same(x, y)}})
    if len(a) != len(b):
        longer = a if len(a) > len(b) else b
        return Comparison("logic", first_difference={
            "position": n, "only_in": "first" if len(a) > len(b) else "second",
            **{c: _plain(longer.at[n, c]) for c in decisions}})
    metrics = [c for c in a.columns if c in b.columns and c not in decisions
               and c not in NOT_METRICS and c != INCUMBENT and not any(w in c for w in TIMING_WORDS)
               and a[c].dtype.kind in "fiub" and b[c].dtype.kind in "fiub"]
    by_metric: dict[str, tuple[float, float]] = {}
    for c in metrics:
        x = a[c].to_numpy(dtype=float)
        y = b[c].to_numpy(dtype=float)
        both_nan = np.isnan(x) & np.isnan(y)
        one_nan = np.isnan(x) ^ np.isnan(y)
        if one_nan.any():
            i = int(np.flatnonzero(one_nan)[0])
            return Comparison("logic", first_difference={
                "position": i, c: (_plain(a.at[i, c]), _plain(b.at[i, c])),
                **{d: _plain(a.at[i, d]) for d in decisions}})
        diff = np.where(both_nan, 0.0, np.abs(x - y))
        if diff.any():
            scale = np.maximum(np.abs(x), np.abs(y))
            rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
            by_metric[c] = (float(diff.max()), float(rel.max()))
    changed = []
    if INCUMBENT in a.columns and INCUMBENT in b.columns:
        changed = [i for i in range(n) if not _same(a.at[i, INCUMBENT], b.at[i, INCUMBENT])]
    if not by_metric:
        if changed:  # equal metrics cannot choose another incumbent
            i = changed[0]
            return Comparison("logic", first_difference={
                "position": i, INCUMBENT: (a.at[i, INCUMBENT], b.at[i, INCUMBENT]),
                **{d: _plain(a.at[i, d]) for d in decisions}})
        return Comparison("identical")
    return Comparison("drift", max_abs=max(v[0] for v in by_metric.values()),
                      max_rel=max(v[1] for v in by_metric.values()), by_metric=by_metric,
                      incumbent_changes=len(changed))
