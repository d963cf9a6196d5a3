"""nasbench: benchmark neural architecture search strategies honestly.

The plugin contract lives in :mod:`nasbench.api`, the hooks in :mod:`nasbench.hookspecs`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nasbench")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
