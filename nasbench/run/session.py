"""The session: a study's space and evaluators, set up once per process (driver or worker)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasbench import seeding
from nasbench.api import (
    Architecture,
    EvalResult,
    Evaluator,
    EvaluatorContext,
    SearchSpace,
    SupernetAccess,
    Trial,
)
from nasbench.errors import UserError
from nasbench.protocol import Study
from nasbench.registry import Plugins
from nasbench.run.isolation import IsolatedEvaluations
from nasbench.run.plan import RunSpec
from nasbench.run.records import Evaluation
from nasbench.store import Layout

EVALUATIONS_KEPT = 100_000
"""Evaluations of a pure evaluator remembered per trial (see :meth:`Session.evaluate`)."""


class Session:
    """The space and evaluators of a study, set up once per process.

    Args:
        study: the study.
        plugins: the registry the study was loaded with.
        cache_dir: the evaluators' private cache (on a worker, a local directory).
        threads: torch/OpenMP/BLAS threads of each evaluation in this process.
        isolate: evaluate in a child process (default: when the budget sets
            ``trial_timeout`` or ``retries``; see :mod:`nasbench.run.isolation`).
    """

    def __init__(self, study: Study, plugins: Plugins, cache_dir: Path, threads: int = 1, *,
                 isolate: bool | None = None) -> None:
        from nasbench import numerics

        trains = numerics.study_trains(study, plugins)
        numerics.ensure(study.numerics, trains)
        if trains:  # before the first tensor: the allocator's thresholds for training loops
            from nasbench.allocator import tune_for_training

            tune_for_training()
        self.study = study
        self.plugins = plugins
        self.cache_dir = cache_dir
        self.space: SearchSpace = study.make_space(plugins)
        self.evaluator: Evaluator = study.make_evaluator(plugins)
        self.evaluator.check(self.space, study.dataset, study.data_dir)
        self.context = EvaluatorContext(
            dataset=study.dataset,
            search_metric=study.search_metric,
            report_metrics=study.report_metrics,
            data_dir=study.data_dir,
            cache_dir=cache_dir,
            threads=threads,
            root_seed=study.root_seed,
        )
        self.wanted = self.context.wanted_metrics
        self.evaluator.setup(self.space, self.context)
        self.fidelities: tuple[float, ...] = tuple(self.evaluator.fidelities())
        """What the evaluator offers a multi-fidelity search (asked once, not per run)."""
        self.final_evaluator: Evaluator | None = study.make_final_evaluator(plugins)
        if self.final_evaluator is not None:
            self.final_evaluator.check(self.space, study.dataset, study.data_dir)
            self.final_evaluator.setup(self.space, self.context)
        hook = plugins.manager.hook.nasbench_trial_finished
        self.observer: Callable[..., Any] | None = hook if hook.get_hookimpls() else None
        self.valid_archs: set[Architecture] = set()
        """Architectures found valid (the same set object for the session's life)."""
        self._known: dict[tuple[Architecture, float | None, int], Evaluation] | None = \
            {} if self.evaluator.pure else None
        """A pure evaluator's evaluations by trial and seed (``None`` for other evaluators)."""
        self.threads = threads
        self._supernet_data: Any = None
        budget = study.budget
        if isolate is None:
            isolate = budget.trial_timeout is not None or budget.retries > 0
        self._isolated: IsolatedEvaluations | None = None
        if isolate:
            self._isolated = IsolatedEvaluations(study, plugins, cache_dir, threads,
                                                 tuple(self.wanted))

    @classmethod
    def for_directory(cls, study: Study, plugins: Plugins, directory: Path,
                      threads: int = 1) -> Session:
        """A session whose evaluators cache under the results directory."""
        return cls(study, plugins, Layout(directory).cache, threads)

    def open_supernet(self, spec: RunSpec) -> SupernetAccess:
        """A fresh supernet handle for run ``spec``, seeded from its repetition and label."""
        from nasbench.supernet.handle import SupernetHandle, supernet_data

        study = self.study
        assert study.supernet is not None, "the study declares no supernet protocol"
        seed = seeding.int_seed(study.root_seed, "supernet", spec.label, spec.seed)
        if "supernet_access" in self.evaluator.capabilities:  # it trains them itself (dqn)
            return self.evaluator.open_supernet(self.space, seed=seed)  # type: ignore[attr-defined]
        protocol = study.supernet.params
        if self._supernet_data is None:
            dataset = self.plugins.datasets.get(study.supernet.dataset)()
            self._supernet_data = supernet_data(
                self.space, dataset, protocol, data_dir=study.data_dir,
                cache_dir=self.cache_dir, root_seed=study.root_seed)
        threads = self.threads if protocol.threads == "auto" else protocol.threads
        return SupernetHandle(self.space, self._supernet_data, protocol, seed=seed,
                              threads=threads, cost_unit=self.evaluator.cost_unit)

    def is_valid(self, arch: Architecture) -> bool:
        """Whether ``arch`` belongs to the space (remembered, since strategies revisit)."""
        if arch in self.valid_archs:
            return True
        if not self.space.is_valid(arch):
            return False
        if len(self.valid_archs) > 1_000_000:
            self.valid_archs.clear()
        self.valid_archs.add(arch)
        return True

    def eval_seed(self, rep_seed: int, arch: Architecture) -> int:
        """The evaluation seed of ``arch`` in repetition ``rep_seed`` (0 for seedless
        evaluators): shared by every strategy of the repetition, so equal architectures get
        equal results."""
        if not self.evaluator.seeded:
            return 0
        key = self.space.arch_key(arch)
        return seeding.int_seed(self.study.root_seed, "evaluator", rep_seed, key)

    def evaluate(self, trial: Trial, eval_seed: int, *,
                 final: bool = False) -> tuple[Evaluation, float]:
        """Evaluate (under the final protocol if ``final``), turning a plugin's exception into a
        failed result; returns the evaluation and its wall time."""
        if self._isolated is not None:
            return self._isolated.evaluate(trial, eval_seed, final)
        known = self._known
        if known is not None and not final:
            # a pure evaluator's answer to an equal trial (strategies and runs revisit cells)
            key = (trial.arch, trial.fidelity, eval_seed)
            evaluation = known.get(key)
            if evaluation is not None:
                return evaluation, 0.0
            evaluation, wall = self._evaluate(self.evaluator, trial, eval_seed)
            if evaluation.status == "ok":  # a failure may be the process's, not the trial's
                if len(known) >= EVALUATIONS_KEPT:
                    known.clear()
                known[key] = evaluation
            return evaluation, wall
        evaluator = self.final_evaluator if final else self.evaluator
        assert evaluator is not None
        return self._evaluate(evaluator, trial, eval_seed)

    def _evaluate(self, evaluator: Evaluator, trial: Trial,
                  eval_seed: int) -> tuple[Evaluation, float]:
        """Call ``evaluator`` (a plugin's exception becomes a failed result)."""
        t0 = time.perf_counter()
        try:
            result = evaluator.evaluate(
                self.space, trial, seed=eval_seed, fidelity=trial.fidelity
            )
        except (UserError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a failed evaluation must not end the study
            result = EvalResult.failure(f"{type(exc).__name__}: {exc}")
        wall = time.perf_counter() - t0
        metrics = result.metrics
        return Evaluation(result.status, result.reason, tuple(map(metrics.get, self.wanted)),
                          float(result.cost), eval_seed,
                          dict(result.info) if result.info else {}), wall

    def close(self) -> None:
        if self._isolated is not None:
            self._isolated.close()
        self.evaluator.close()
        if self.final_evaluator is not None:
            self.final_evaluator.close()
