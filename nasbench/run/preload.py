"""A Dask worker preload: what every nasbench task imports, imported when the worker starts.

``nasbench run --workers N`` starts its ``LocalCluster`` with it; workers of an existing
cluster take it with ``dask worker ADDRESS --preload nasbench.run.preload`` (docs/scaling.md).
Without it a worker imports the same on its first task, so a study's first tasks on a fresh
worker wait for pyarrow, pandas (pyarrow imports it when it first converts a list) and the
plugins: about 0.5 s per worker on a laptop-class core.
"""

from __future__ import annotations

from typing import Any


def dask_setup(worker: Any = None) -> None:
    """Called by Dask when the worker starts."""
    import pandas  # noqa: F401
    import pyarrow as pa

    import nasbench.run.executors  # noqa: F401
    from nasbench.registry import load_plugins

    pa.array([0.0])  # the conversion machinery pyarrow loads on first use
    load_plugins()
