"""pytest fixtures for testing nasbench plugins (loaded through the ``pytest11`` entry point).

Kept free of heavy imports: it is loaded by every pytest run in an environment that has
nasbench installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def nasbench_plugins() -> Any:
    """Every installed plugin, loaded once per test session."""
    from nasbench.registry import load_plugins

    return load_plugins()


@pytest.fixture(scope="session")
def nasbench_data_dir() -> Path | None:
    """The data directory plugin tests pass to evaluators and benchmarks: ``$NASBENCH_DATA``
    when it is set (a directory overriding nasbench's shipped tables, or holding datasets a
    plugin needs), else ``None``, which reads the tables shipped with nasbench."""
    value = os.environ.get("NASBENCH_DATA")
    if value and not Path(value).is_dir():
        pytest.fail(f"NASBENCH_DATA={value} is not a directory; unset it to use the tables "
                    "shipped with nasbench.")
    return Path(value) if value else None
