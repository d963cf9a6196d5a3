"""The ``update_rule_training`` evaluator: a fixed network trained by the candidate optimiser.

Each trial's expression (from an expression space such as ``update_rule``) is an update rule
in the form of Bello et al. (2017): every step, each weight ``w`` with gradient ``g`` moves by
``w <- w - lr * expression(g, m, v, m_hat, v_hat)``, where ``m`` and ``v`` are the running
averages of ``g`` and ``g^2`` (decays ``beta1`` and ``beta2``) and ``m_hat``, ``v_hat`` their
bias-corrected forms (:class:`ExpressionOptimizer`). The study's fixed network (a ReLU
multilayer perceptron, ``hidden``) trains once per learning rate of the grid ``lrs``; the
trial's figures are those of the learning rate with the best validation accuracy (its value is
the metric ``lr``), as the paper tuned each update rule's learning rate. A learning rate whose
training diverges is skipped; a rule that diverges at every one ends ``diverged``. The cost is
the time of all trainings.

With this form, SGD is ``g``, Adam is ``m_hat / sqrt_abs(v_hat)`` (the denominator kept above
1e-8 instead of adding it), PowerSign is ``exp(sign(g) * sign(m)) * g`` and AddSign is
``(1 + sign(g) * sign(m)) * g`` (the space's references).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.api import EvalResult, MetricInfo, SearchSpace, Trial
from nasbench.errors import ConfigError
from nasbench.hookspecs import hookimpl
from nasbench.params import param

from .expression_training import ExpressionTrainingEvaluator, ExpressionTrainingParams

SUPPLIED = ("g", "m", "m_hat", "v", "v_hat")


@dataclass(frozen=True)
class UpdateRuleTrainingParams(ExpressionTrainingParams):
    lrs: tuple[float, ...] = param(
        (1e-3, 1e-2, 1e-1), doc="learning rates tried for every rule; the best by validation "
        "accuracy counts", gt=0, published="Bello et al. 2017 tuned each rule's learning rate")
    beta1: float = param(0.9, doc="decay of the running average m of g", ge=0, lt=1,
                         published="Bello et al. 2017 (Adam's default)")
    beta2: float = param(0.999, doc="decay of the running average v of g^2", ge=0, lt=1,
                         published="Bello et al. 2017 (Adam's default)")
    epochs: int = param(5, doc="training epochs per learning rate", ge=1)

    def check(self) -> None:
        if not self.lrs or len(set(self.lrs)) != len(self.lrs):
            raise ConfigError("lrs", f"expected distinct learning rates, got {list(self.lrs)}")


def make_optimizer(params: Any, rule: Callable[..., Any], variables: tuple[str, ...], *,
                   lr: float, beta1: float, beta2: float) -> Any:
    """An :class:`ExpressionOptimizer` (torch is imported here)."""
    from .expression_optimizer import ExpressionOptimizer

    return ExpressionOptimizer(params, rule, variables, lr=lr, beta1=beta1, beta2=beta2)


class UpdateRuleTrainingEvaluator(ExpressionTrainingEvaluator):
    """Trains the study's fixed network with each candidate update rule as its optimiser."""

    name: ClassVar[str] = "update_rule_training"
    summary: ClassVar[str] = ("train a fixed MLP with the trial's expression as its optimiser's "
                              "update rule, best of a learning-rate grid (update-rule spaces)")
    Params: ClassVar[type] = UpdateRuleTrainingParams
    supplies: ClassVar[tuple[str, ...]] = SUPPLIED
    component: ClassVar[str] = "update rule"

    def metrics(self, dataset: str) -> Mapping[str, MetricInfo]:
        out = dict(super().metrics(dataset))
        out[f"{dataset}/lr"] = MetricInfo(
            "other", doc="the learning rate of the grid with the best validation accuracy")
        return out

    def evaluate(self, space: SearchSpace, trial: Trial, *, seed: int,
                 fidelity: float | None = None) -> EvalResult:
        p = self.params
        rule = space.function(trial.arch)  # type: ignore[attr-defined]
        variables = tuple(space.grammar.variables)  # type: ignore[attr-defined]
        epochs = int(fidelity) if fidelity is not None else p.epochs
        best: dict[str, float] | None = None
        seconds = 0.0
        reasons = []
        for lr in p.lrs:
            outcome = self.train(
                seed, epochs, self.network,
                lambda params, lr=lr: make_optimizer(params, rule, variables, lr=lr,
                                                     beta1=p.beta1, beta2=p.beta2))
            seconds += outcome.seconds
            if outcome.diverged:
                reasons.append(f"lr {lr:g}: {outcome.diverged}")
                continue
            if best is None or outcome.metrics["valid_acc"] > best["valid_acc"]:
                best = {**outcome.metrics, "lr": lr}
        info: dict[str, Any] = {"threads": self._threads, "epochs": epochs,
                                "expression": space.arch_key(trial.arch),
                                "diverged_lrs": len(reasons)}
        if best is None:
            return EvalResult({}, seconds, "diverged", "; ".join(reasons), info)
        return EvalResult(self.qualified(best), seconds, "ok", "", info)


@hookimpl
def nasbench_register_evaluators(registry: Any) -> None:
    registry.add(UpdateRuleTrainingEvaluator)
