"""The tables of a study file as typed parameters, and ``--set`` overrides.

Each table of a study (``[study]``, ``[budget]``, ``[baseline]``, ``[execution]``, ``[final]``)
is a frozen dataclass of :func:`~nasbench.params.param` fields, built and checked by
:func:`~nasbench.params.build_params` exactly as a plugin's parameters are: unknown keys (with
a did-you-mean), wrong types and values out of range are all reported together. The plugin
tables (``[space]``, ``[evaluator]``, ``[[strategies]]``) are the plugins' own ``Params``.
:mod:`nasbench.protocol` assembles them into a :class:`~nasbench.protocol.Study`.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nasbench.errors import ConfigError, Problems
from nasbench.params import param

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""A usable study name (it names the results directory)."""


@dataclass(frozen=True)
class StudyTable:
    """The ``[study]`` table."""

    seeds: int | tuple[int, ...] = param(
        doc="repetitions: a count (seeds = 10 for 0..9) or a list (seeds = [0, 1])")
    name: str = param("", doc="name of the study and its results (default: the file's stem)")
    seed: int = param(0, doc="root seed of every random stream", ge=0)
    data_dir: str = param("", doc="where benchmark tables and datasets are read, relative to "
                          "the study file (default $NASBENCH_DATA, then the shipped tables)")

    def check(self) -> None:
        problems = Problems()
        if self.name and not NAME.match(self.name):
            problems.add(ConfigError("name", f"{self.name!r} is not a usable name",
                                     "Use letters, digits, '-', '_', '.'."))
        if isinstance(self.seeds, int):
            if self.seeds < 1:
                problems.add(ConfigError("seeds", f"must be at least 1, got {self.seeds}",
                                         "Give a count (seeds = 10) or a list (seeds = [0, 1])."))
        elif not self.seeds:
            problems.add(ConfigError("seeds", "expected a count or a non-empty list, got []",
                                     "Give a count (seeds = 10) or a list (seeds = [0, 1])."))
        else:
            for i, s in enumerate(self.seeds):
                if s < 0:
                    problems.add(ConfigError(f"seeds[{i}]",
                                             f"expected a non-negative integer, got {s!r}"))
            if len(set(self.seeds)) != len(self.seeds):
                problems.add(ConfigError("seeds", "lists a seed twice", "Remove the repeats."))
        problems.raise_if_any()

    def seed_list(self) -> tuple[int, ...]:
        return tuple(range(self.seeds)) if isinstance(self.seeds, int) else self.seeds


@dataclass(frozen=True)
class BudgetTable:
    """The ``[budget]`` table: what one run may spend, and how failures are retried."""

    evaluations: int | None = param(None, doc="evaluations per run", ge=1)
    cost: float | None = param(None, doc="seconds of evaluation cost per run", gt=0)
    count_repeats: bool = param(False, doc="whether re-proposed architectures count towards "
                                "evaluations")
    max_proposals: int | None = param(None, doc="hard stop on proposals (default 20 x "
                                      "evaluations)", ge=1)
    retries: int | None = param(None, doc="attempts after a trial's process died before it is "
                                "recorded failed (default 0)", ge=0)
    trial_timeout: float | None = param(None, doc="seconds after which an evaluation is "
                                        "stopped and recorded failed", gt=0)

    def check(self) -> None:
        if self.evaluations is None and self.cost is None:
            raise ConfigError("", "sets no limit", "Set evaluations = N and/or cost = <seconds>.")


@dataclass(frozen=True)
class BaselineTable:
    """The ``[baseline]`` table: the random-sampling baseline (Yang et al., ICLR 2020)."""

    samples: int | None = param(None, doc="random architectures, one per seed (default: one "
                                "per repetition seed)", ge=1)


@dataclass(frozen=True)
class ExecutionTable:
    """The ``[execution]`` table: where runs execute. It never changes a study's results, except
    ``numerics = "portable"``, which is why that one value enters the resolved config (and the
    config hash) while ``"native"``, the default, leaves it as it was."""

    scheduler: str | None = param(None, doc="address of an existing Dask scheduler, e.g. "
                                  "tcp://HOST:PORT")
    workers: int | None = param(None, doc="worker processes of a local cluster", ge=1)
    numerics: str | None = param(None, doc="CPU kernels of training: \"native\" (the default, "
                                 "fastest, identical only on the same hardware) or \"portable\" "
                                 "(pinned to AVX2 and deterministic: identical on any x86-64 "
                                 "machine; part of the protocol)")
    checkpoint_seconds: float | None = param(None, doc="seconds between a run's checkpoints "
                                             "(default 2)", gt=0)

    def check(self) -> None:
        from nasbench.numerics import check_mode

        check_mode(self.numerics)
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ConfigError("scheduler", f"expected an address such as 'tcp://HOST:8786', "
                              f"got {self.scheduler!r}")


@dataclass(frozen=True)
class FinalTable:
    """The ``[final]`` table, less its ``[final.evaluator]`` overrides."""

    repeats: int = param(1, doc="evaluations per architecture, each with its own seed", ge=1)


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of a parsed config with ``KEY=VALUE`` overrides applied (``--set``).

    ``KEY`` is a dotted path (``budget.evaluations``, ``strategies[0].population_size``,
    ``evaluator.size.C``); ``VALUE`` is a TOML value (``2``, ``[0, 1]``, ``true``, ``"x"``),
    read as a string when it is not one (``evaluator.dataset=cora``). The overridden study is
    an ordinary study: its resolved config, and so its hash, say what ran.
    """
    out = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("", f"--set {item!r} is not KEY=VALUE",
                              "Write e.g. --set budget.evaluations=5.")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        node: Any = out
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", key)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part.startswith("["):
                index = int(part[1:-1])
                if not isinstance(node, list) or index >= len(node):
                    raise ConfigError(key, f"--set names item {index}, and there is none",
                                      "Count list items from 0.")
                if last:
                    node[index] = value
                else:
                    node = node[index]
            elif not isinstance(node, dict):
                raise ConfigError(key, f"--set goes into '{part}', which is not a table")
            elif last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return out
