"""The ``activation_training`` evaluator: a fixed network with the candidate activation.

Each trial's expression (a function of ``x``, from an expression space such as
``activation``) replaces ReLU after every hidden layer of the study's fixed multilayer
perceptron (``hidden``), which trains with Adam at a fixed learning rate on the study's
dataset and is measured on its validation and test splits (see
:mod:`nasbench.evaluators.expression_training`). This is the protocol of Ramachandran et al.
(2017) scaled down: one fixed network of the study's choosing, the activation the only change.
A candidate whose loss or weights stop being finite ends ``diverged``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.api import EvalResult, SearchSpace, Trial
from nasbench.hookspecs import hookimpl
from nasbench.params import param

from .expression_training import ExpressionTrainingEvaluator, ExpressionTrainingParams


@dataclass(frozen=True)
class ActivationTrainingParams(ExpressionTrainingParams):
    lr: float = param(3e-3, doc="Adam's learning rate", gt=0)


class ActivationTrainingEvaluator(ExpressionTrainingEvaluator):
    """Trains the study's fixed network with each candidate activation in place of ReLU."""

    name: ClassVar[str] = "activation_training"
    summary: ClassVar[str] = ("train a fixed MLP with the trial's expression as its activation "
                              "(activation spaces)")
    Params: ClassVar[type] = ActivationTrainingParams
    supplies: ClassVar[tuple[str, ...]] = ("x",)
    component: ClassVar[str] = "activation function"

    def evaluate(self, space: SearchSpace, trial: Trial, *, seed: int,
                 fidelity: float | None = None) -> EvalResult:
        import torch
        from torch import nn

        fn = space.function(trial.arch)  # type: ignore[attr-defined]
        n_args = len(space.grammar.variables)  # type: ignore[attr-defined]

        class Activation(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return fn(*([x] * max(1, n_args)))

        epochs = int(fidelity) if fidelity is not None else self.params.epochs
        outcome = self.train(
            seed, epochs, lambda: self.network(Activation),
            lambda params: torch.optim.Adam(params, lr=self.params.lr))
        info: dict[str, Any] = {"threads": self._threads, "epochs": epochs,
                                "expression": space.arch_key(trial.arch)}
        if outcome.diverged:
            return EvalResult({}, outcome.seconds, "diverged", outcome.diverged, info)
        return EvalResult(self.qualified(outcome.metrics), outcome.seconds, "ok", "", info)


@hookimpl
def nasbench_register_evaluators(registry: Any) -> None:
    registry.add(ActivationTrainingEvaluator)
