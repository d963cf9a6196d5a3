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
def nasbench_data_dir() -> Path:
    """The reference data directory (``$NASBENCH_DATA``); the test fails if it is unset."""
    value = os.environ.get("NASBENCH_DATA")
    if not value or not Path(value).is_dir():
        pytest.fail(
            "NASBENCH_DATA must point at the reference data directory (e.g. ../shared/data) "
            "for these tests."
        )
    return Path(value)
