"""Detection of Google's NAS-Bench-101 package, which installs under the same name.

Google's ``nasbench`` (github.com/google-research/nasbench, ``from nasbench import api``) is a
distribution named ``nasbench`` whose import package is ``nasbench``, like this project's. The
two cannot live in one environment: whichever is found first on ``sys.path`` hides the other,
and installing one over the other mixes their files in one directory (both have
``nasbench/api.py``). This module finds either situation cheaply (no heavy import) so that
``nasbench list`` and ``import nasbench`` can say what happened and how to resolve it.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterable
from pathlib import Path

GOOGLE_MARKER = Path("nasbench") / "lib" / "model_spec.py"
"""A file only Google's package has."""

RESOLUTION = (
    "Google's NAS-Bench-101 package is also imported as 'nasbench', so the two cannot share an "
    "environment. Keep it in a virtual environment of its own (python -m venv nb101 && "
    "nb101/bin/pip install <its source>), then, here, remove both with 'pip uninstall nasbench' "
    "(repeat until pip finds none) and reinstall this nasbench. nasbench reads NAS-Bench-101's "
    "released data without Google's package (see docs/plugins.md, 'Google's nasbench')."
)


def _is_ours(dist: importlib.metadata.Distribution) -> bool:
    return any(ep.group == "console_scripts" and ep.value.startswith("nasbench.cli")
               for ep in dist.entry_points) or any(ep.group == "nasbench"
                                                     for ep in dist.entry_points)


def foreign_distributions() -> list[str]:
    """Installed distributions named ``nasbench`` that are not this project, as
    ``name version (location)``."""
    found = []
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["name"] or "").lower().replace("_", "-")
        if name == "nasbench" and not _is_ours(dist):
            where = getattr(dist, "_path", None)  # the dist-info directory, where known
            location = f" ({Path(where).parent})" if where else ""
            found.append(f"nasbench {dist.version}{location}")
    return found


def foreign_files(paths: Iterable[str] | None = None) -> list[Path]:
    """Directories on ``sys.path`` (or ``paths``) holding Google's ``nasbench/lib``."""
    out = []
    for entry in sys.path if paths is None else paths:
        marker = Path(entry or ".") / GOOGLE_MARKER
        try:
            if marker.is_file():
                out.append(marker.parent.parent)
        except OSError:
            continue
    return out


def clash() -> str | None:
    """What of Google's package is installed, and how to resolve it; ``None`` if nothing."""
    dists = foreign_distributions()
    files = foreign_files()
    if not dists and not files:
        return None
    parts = []
    if dists:
        parts.append(f"the distribution {', '.join(dists)}")
    if files:
        parts.append("its files in " + ", ".join(str(f) for f in files))
    return f"Google's NAS-Bench-101 package is installed: {'; '.join(parts)}. {RESOLUTION}"
