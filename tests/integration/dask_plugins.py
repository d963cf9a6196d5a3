"""Plugins for the execution tests, importable by Dask worker processes (``tests`` is on their
path): a synthetic evaluator whose metrics are generated from the architecture and the seed,
and a strategy and evaluators that fail on purpose."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from typing import Any, ClassVar

from nasbench.strategies.random_search import RandomSearch

from nasbench.api import EvalResult, Evaluator, MetricInfo, Observation, Trial
from nasbench.hookspecs import hookimpl

METRICS = {
    "synthetic/valid_acc": MetricInfo("valid", True, "%"),
    "synthetic/test_acc": MetricInfo("test", True, "%"),
}


def _unit(*parts: Any) -> float:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


class SyntheticEvaluator(Evaluator):
    """Metrics drawn from a hash of the architecture's key and the evaluation seed."""

    name: ClassVar[str] = "synthetic"
    capabilities: ClassVar[frozenset[str]] = frozenset({"cost"})

    def datasets(self) -> tuple[str, ...]:
        return ("synthetic",)

    def metrics(self, dataset: str) -> dict[str, MetricInfo]:
        return dict(METRICS)

    def setup(self, space, context) -> None:
        self.space = space

    def evaluate(self, space, trial: Trial, *, seed: int, fidelity=None) -> EvalResult:
        key = space.arch_key(trial.arch)
        valid = 100 * _unit(key, seed)
        return EvalResult({"synthetic/valid_acc": valid,
                           "synthetic/test_acc": valid * (0.9 + 0.1 * _unit(key))},
                          cost=1.0 + _unit(key, "cost"))


class RaisingEvaluator(SyntheticEvaluator):
    """Raises on one architecture in twenty."""

    name: ClassVar[str] = "raising"

    def evaluate(self, space, trial, *, seed, fidelity=None):
        if _unit(space.arch_key(trial.arch), "raise") < 0.05:
            raise ValueError("this architecture breaks the evaluator")
        return super().evaluate(space, trial, seed=seed, fidelity=fidelity)


class DyingEvaluator(SyntheticEvaluator):
    """Kills its own process (SIGABRT) on one architecture in ten."""

    name: ClassVar[str] = "dying"

    def evaluate(self, space, trial, *, seed, fidelity=None):
        if _unit(space.arch_key(trial.arch), "die") < 0.1:
            os.kill(os.getpid(), signal.SIGABRT)
        return super().evaluate(space, trial, seed=seed, fidelity=fidelity)


class SlowEvaluator(SyntheticEvaluator):
    """Sleeps far too long on one architecture in ten."""

    name: ClassVar[str] = "slow"

    def evaluate(self, space, trial, *, seed, fidelity=None):
        if _unit(space.arch_key(trial.arch), "slow") < 0.1:
            time.sleep(3600)
        return super().evaluate(space, trial, seed=seed, fidelity=fidelity)


class PacedEvaluator(SyntheticEvaluator):
    """The synthetic evaluator, taking 5 ms per evaluation, so that a run lasts long enough
    to be killed in the middle."""

    name: ClassVar[str] = "paced"

    def evaluate(self, space, trial, *, seed, fidelity=None):
        time.sleep(0.005)
        return super().evaluate(space, trial, seed=seed, fidelity=fidelity)


class InterruptingEvaluator(SyntheticEvaluator):
    """The synthetic evaluator, interrupted (as by Ctrl-C) at its ``stop_at``-th call."""

    name: ClassVar[str] = "interrupting"
    calls: ClassVar[int] = 0
    stop_at: ClassVar[int | None] = None

    def evaluate(self, space, trial, *, seed, fidelity=None):
        type(self).calls += 1
        if type(self).calls == type(self).stop_at:
            raise KeyboardInterrupt
        return super().evaluate(space, trial, seed=seed, fidelity=fidelity)


class GpuEvaluator(SyntheticEvaluator):
    """The synthetic evaluator, declaring that it needs a GPU."""

    name: ClassVar[str] = "gpu_synthetic"
    needs_gpu: ClassVar[bool] = True


class BrokenSearch(RandomSearch):
    """Random search that raises when told its sixth result."""

    name: ClassVar[str] = "broken_search"

    def setup(self, space, rng, context) -> None:
        super().setup(space, rng, context)
        self.told = 0

    def tell(self, trial: Trial, observation: Observation) -> None:
        self.told += 1
        if self.told == 6:
            raise RuntimeError("broken on purpose")


class StrayingSearch(RandomSearch):
    """Random search whose fourth proposal is not an architecture of the space."""

    name: ClassVar[str] = "straying_search"

    def setup(self, space, rng, context) -> None:
        super().setup(space, rng, context)
        self.asked = 0

    def ask(self) -> Trial:
        self.asked += 1
        return Trial((9, 0, 0, 0, 0, 0)) if self.asked == 4 else super().ask()


class ExecutionPlugins:
    @hookimpl
    def nasbench_register_evaluators(self, registry) -> None:
        for cls in (SyntheticEvaluator, PacedEvaluator, RaisingEvaluator, DyingEvaluator,
                    SlowEvaluator, InterruptingEvaluator, GpuEvaluator):
            registry.add(cls)

    @hookimpl
    def nasbench_register_strategies(self, registry) -> None:
        registry.add(BrokenSearch)
        registry.add(StrayingSearch)
