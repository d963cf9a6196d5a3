"""Errors that reach users.

Every mistake a user can make (a config key, a plugin name, a missing data file) is raised as a
:class:`UserError`. The CLI prints its message as one paragraph and exits non-zero; anything
else is a bug in nasbench or a plugin and keeps its traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class UserError(Exception):
    """A mistake the user can fix. The message says what is wrong and what to do."""

    exit_code = 2


class ConfigError(UserError):
    """A study configuration that cannot run: one mistake, or several found together.

    Args:
        key: dotted path of the offending key, e.g. ``strategies[1].population_size``.
        problem: what is wrong with it.
        fix: what to do about it.

    A config is checked as a whole, so one error can carry every mistake found
    (:meth:`combine`); :attr:`problems` lists them, each with its own key, problem and fix.
    """

    def __init__(self, key: str, problem: str, fix: str = "") -> None:
        self.key = key
        self.problem = problem
        self.fix = fix
        self.problems: tuple[ConfigError, ...] = (self,)
        super().__init__(self.line())

    def line(self) -> str:
        """This one mistake as one line: key, problem, fix."""
        text = f"{self.key}: {self.problem}" if self.key else self.problem
        if self.fix:
            text = f"{text.rstrip('.')}. {self.fix}"
        return text

    @staticmethod
    def combine(errors: list[ConfigError]) -> ConfigError:
        """One error carrying every mistake of ``errors`` (itself when there is one)."""
        problems = [p for err in errors for p in err.problems]
        unique = list({p.line(): p for p in problems}.values())
        if len(unique) == 1:
            return unique[0]
        first = unique[0]
        combined = ConfigError(first.key, first.problem, first.fix)
        combined.problems = tuple(unique)
        lines = "\n".join(f"  - {p.line()}" for p in unique)
        combined.args = (f"the config has {len(unique)} problems:\n{lines}",)
        return combined

    def under(self, prefix: str) -> ConfigError:
        """The same error(s) with every key nested under ``prefix``."""
        nested = []
        for p in self.problems:
            key = f"{prefix}.{p.key}" if p.key else prefix
            nested.append(ConfigError(key, p.problem, p.fix))
        return ConfigError.combine(nested)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Problems:
    """Collects config mistakes so that one error reports all of them.

    Use ``with problems.check():`` around each independent check; a :class:`ConfigError`
    raised inside is recorded and the block is left. :meth:`raise_if_any` raises them together.
    """

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def add(self, error: ConfigError) -> None:
        self.errors.append(error)

    @contextlib.contextmanager
    def check(self) -> Iterator[None]:
        try:
            yield
        except ConfigError as err:
            self.errors.append(err)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ConfigError.combine(self.errors)


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
