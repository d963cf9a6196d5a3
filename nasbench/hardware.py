"""The machine a measurement was taken on, described so that latencies can be compared.

Latency, and even trained accuracy (see ``docs/performance.md``), depends on the CPU model, its
instruction set as torch uses it, the core count and the torch build. :func:`describe_machine`
gathers these as plain data for results manifests and latency lookup tables. torch is imported
only when it is installed and asked about.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import sys
from typing import Any


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("model name", "Model", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def describe_machine(*, with_torch: bool | None = True) -> dict[str, Any]:
    """The machine, as plain JSON-ready data.

    Args:
        with_torch: also record torch's CPU capability (the instruction set its kernels use,
            ``torch.backends.cpu.get_cpu_capability()``), its thread count and any GPU it
            sees. ``None``: only when torch is already imported (a results manifest of a
            tabular study should not pay torch's 2 s import). torch's version is recorded
            always, from package metadata.

    Returns:
        ``cpu_model``, ``cpu_count`` (logical cores), ``cpus_usable`` (cores this process may
        run on), ``platform``, ``machine``, ``torch`` (version, ``None`` when not installed)
        and, with torch, ``cpu_capability``, ``torch_threads`` and ``cuda_device`` (``None``
        without a GPU).
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    out: dict[str, Any] = {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    try:
        out["torch"] = md.version("torch")
    except md.PackageNotFoundError:
        out["torch"] = None
        return out
    if with_torch is None:
        with_torch = "torch" in sys.modules
    if with_torch:
        import torch

        out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        out["torch_threads"] = torch.get_num_threads()
        out["cuda_device"] = (torch.cuda.get_device_name(0) if torch.cuda.is_available()
                              else None)
    return out
