"""The one place the sweep and verify commands reach the harness: running a study."""

from __future__ import annotations

from nasbench.run import run_study

__all__ = ["run_study"]
