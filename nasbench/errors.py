"""Errors that reach users.

Every mistake a user can make (a config key, a plugin name, a missing data file) is raised as a
:class:`UserError`. The CLI prints its message as one paragraph and exits non-zero; anything
else is a bug in nasbench or a plugin and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix. The message says what is wrong and what to do."""

    exit_code = 2


class ConfigError(UserError):
    """A study configuration that cannot run.

    Args:
        key: dotted path of the offending key, e.g. ``strategies[1].population_size``.
        problem: what is wrong with it.
        fix: what to do about it.
    """

    def __init__(self, key: str, problem: str, fix: str = "") -> None:
        self.key = key
        self.problem = problem
        self.fix = fix
        text = f"{key}: {problem}" if key else problem
        if fix:
            text = f"{text.rstrip('.')}. {fix}"
        super().__init__(text)

    def under(self, prefix: str) -> ConfigError:
        """The same error with its key nested under ``prefix``."""
        key = f"{prefix}.{self.key}" if self.key else prefix
        return ConfigError(key, self.problem, self.fix)


class DataNotFoundError(UserError):
    """A benchmark table or dataset that is not where nasbench looks for it."""


class InvalidArchitectureError(UserError):
    """An architecture that does not belong to its search space."""


class ResumeError(UserError):
    """A results directory that cannot be resumed with the given study."""


def available(names: object) -> str:
    """Comma-separated sorted names, for 'available: ...' hints."""
    items = sorted(str(n) for n in names)  # type: ignore[union-attr]
    return ", ".join(items) if items else "(none)"
