"""What a results directory must record to be replayed: versions, revision, machine."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata as md
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from nasbench.hardware import describe_machine

LIBRARIES = (
    "numpy", "pandas", "pyarrow", "scipy", "pluggy", "optuna", "torch", "pytorch-lightning",
    "nas-bench-graph",
)


def _version(dist: str, installed: dict[str, str]) -> str | None:
    # from the record of installed packages (read once per process, from each metadata file's
    # head), which gives what md.version gives without parsing every file as an e-mail
    found = installed.get(dist.lower().replace("_", "-"))
    if found is not None:
        return found
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def versions(plugin_distributions: dict[str, str]) -> dict[str, Any]:
    """nasbench, plugin and library versions, read from metadata (nothing is imported)."""
    from nasbench.provenance import installed_packages

    installed = installed_packages()
    return {
        "python": platform.python_version(),
        "nasbench": _version("nasbench", installed),
        "plugins": plugin_distributions,
        "libraries": {name: _version(name, installed) for name in LIBRARIES},
    }


def git_revision() -> dict[str, Any]:
    """The git revision of the nasbench source, and whether it had uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}
    return {"revision": rev, "dirty": bool(dirty)}


def machine() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "python_executable": sys.executable,
        **describe_machine(with_torch=None),
    }


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
