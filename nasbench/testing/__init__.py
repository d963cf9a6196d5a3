"""Testing helpers for nasbench plugins: the conformance kit and pytest fixtures.

Installed with nasbench as a pytest plugin (entry point ``pytest11``), so a plugin package's
tests get the fixtures ``nasbench_plugins`` and ``nasbench_data_dir`` without configuration.
"""

from __future__ import annotations

from nasbench.testing.conformance import (
    check_evaluator,
    check_network,
    check_space,
    check_strategy,
    hashed_objective,
)

__all__ = ["check_evaluator", "check_network", "check_space", "check_strategy",
           "hashed_objective"]
