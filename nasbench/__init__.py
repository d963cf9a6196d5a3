"""nasbench: benchmark neural architecture search strategies honestly.

The plugin contract lives in :mod:`nasbench.api`, the hooks in :mod:`nasbench.hookspecs`.
"""

from __future__ import annotations

from importlib.metadata import distributions as _distributions
from pathlib import Path as _Path


def _own_version() -> str:
    # Google's NAS-Bench-101 package is a distribution named 'nasbench' too: take ours, the one
    # that declares the 'nasbench' entry points.
    for dist in _distributions(name="nasbench"):
        if any(ep.group == "nasbench" for ep in dist.entry_points):
            return dist.version
    return "0+unknown"  # running from a source tree that was not installed


__version__ = _own_version()

if (_Path(__file__).parent / "lib" / "model_spec.py").is_file():
    # Google's NAS-Bench-101 package was installed over this one: both are 'nasbench'.
    import warnings as _warnings

    from nasbench.clash import RESOLUTION as _RESOLUTION

    _warnings.warn(f"{_Path(__file__).parent} also holds Google's NAS-Bench-101 package. "
                   f"{_RESOLUTION}", RuntimeWarning, stacklevel=2)
