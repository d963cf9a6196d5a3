"""ENAS: efficient neural architecture search via parameter sharing (Pham, Guan, Zoph, Le &
Dean, ICML 2018).

Two parameter sets train in alternation. Every minibatch of an epoch trains the shared weights
of one architecture sampled by the controller (the LSTM of
:mod:`nasbench.strategies.controller`); after the epoch, the controller takes
``controller_steps`` REINFORCE steps, each on ``controller_aggregate`` sampled architectures
whose reward is their accuracy (a fraction) on one validation minibatch with the shared
weights, with an entropy bonus and a moving-average baseline. The answer: sample
``final_samples`` architectures and keep the one with the best accuracy on shared weights.

Hyper-parameters: ``hyperparameters = "code"`` (the default) takes the controller of the
released code (64 units, learning rate 0.0035, ``logits = 1.1 tanh(logits)``), ``"paper"`` the
paper's (100 units, 0.00035, ``logits = 2.5 tanh(logits / 5)``); the ``controller_*``,
``tanh_constant`` and ``temperature`` parameters override single values. The code is the
default because it is what produced the published cells. Other defaults follow the released
micro-search script (CIFAR-10): 150 epochs of batch 160; shared weights by SGD with Nesterov
momentum 0.9, learning rate 0.05 cosine-annealed to 0.0005, weight decay 1e-4, gradient norm
clipped to 5 (the script restarts its cosine schedule; here it runs once over the epochs); 30
controller steps of 10 architectures per epoch; entropy weight 1e-4; baseline decay 0.99;
controller weights uniform in [-0.1, 0.1]. The reward is measured with each minibatch's own
batch-norm statistics, as the released code does (``reward_bn``).

``record_states`` and ``memorise`` (with the ``memory_*`` parameters, whose start points count
epochs here) record the controller's hidden states and switch on the memorisation regulariser
of Adam & Lorraine (2019); see :mod:`nasbench.strategies.controller`.

Departures, all documented choices: the entropy bonus is a term of the loss (the policy's
entropy, weighted) rather than an addition to each reward; the final candidates are measured
on the same validation minibatches, so that they compare on equal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from nasbench.strategies.controller import (
    ControllerConfig,
    IntrospectionParams,
    LstmController,
)
from nasbench.strategies.oneshot import AnytimeParams, OneShotStrategy, cosine_recipe

from nasbench.api import Architecture
from nasbench.hookspecs import hookimpl
from nasbench.params import param

PRESETS: dict[str, dict[str, float]] = {
    "code": {"controller_hidden_size": 64, "controller_lr": 0.0035, "tanh_constant": 1.1,
             "temperature": 1.0},
    "paper": {"controller_hidden_size": 100, "controller_lr": 0.00035, "tanh_constant": 2.5,
              "temperature": 5.0},
}
"""The controller of the released code and of the paper (Pham et al. 2018)."""


@dataclass(frozen=True)
class EnasParams(AnytimeParams, IntrospectionParams):
    hyperparameters: Literal["code", "paper"] = param(
        "code", doc="controller settings of the released code or of the paper (see the "
        "module docstring); single values can be overridden below")
    controller_hidden_size: int | None = param(
        None, doc="LSTM units (default from 'hyperparameters')", ge=1,
        published="ENAS code: 64; paper: 100")
    controller_layers: int = param(1, doc="stacked LSTM layers", ge=1,
                                   published="ENAS code: 1")
    controller_lr: float | None = param(
        None, doc="Adam learning rate of the controller (default from 'hyperparameters')",
        gt=0, published="ENAS code: 0.0035; paper: 0.00035")
    tanh_constant: float | None = param(
        None, doc="c in logits = c tanh(logits / T) (default from 'hyperparameters')", gt=0,
        published="ENAS code: 1.1; paper: 2.5")
    temperature: float | None = param(
        None, doc="T in logits = c tanh(logits / T) (default from 'hyperparameters')", gt=0,
        published="ENAS code: none (1); paper: 5")
    controller_init_range: float = param(0.1, doc="controller weights start uniform in "
                                         "[-r, r]", gt=0, published="ENAS code: 0.1")
    entropy_weight: float = param(1e-4, doc="weight of the policy-entropy bonus", ge=0,
                                  published="ENAS code: 1e-4")
    baseline_decay: float = param(0.99, doc="decay of the moving-average reward baseline",
                                  ge=0, lt=1, published="ENAS code: 0.99")
    controller_steps: int = param(30, doc="controller updates after each epoch", ge=0,
                                  published="ENAS code (micro search): 30")
    controller_aggregate: int = param(10, doc="architectures per controller update", ge=1,
                                      published="ENAS code (micro search): 10")
    reward_bn: Literal["running", "batch", "reestimate"] = param(
        "batch", doc="batch normalisation while measuring rewards and final candidates",
        published="ENAS code: each minibatch's statistics")
    epochs: int = param(150, doc="epochs of shared-weight training", ge=1,
                        published="ENAS code (micro search): 150")
    batch_size: int = param(160, doc="examples per training step and per reward minibatch",
                            ge=2, published="ENAS code (micro search): 160")
    lr: float = param(0.05, doc="initial learning rate of the shared weights", gt=0,
                      published="ENAS code: 0.05")
    lr_min: float = param(0.0005, doc="learning rate at the end of the cosine schedule", ge=0,
                          published="ENAS code: 0.0005")
    momentum: float = param(0.9, doc="Nesterov momentum of the shared weights", ge=0, lt=1,
                            published="ENAS code: 0.9")
    weight_decay: float = param(1e-4, doc="weight decay of the shared weights", ge=0,
                                published="ENAS code (micro search): 1e-4")
    grad_clip: float = param(5.0, doc="clip the shared weights' gradient norm to this", ge=0,
                             published="ENAS code: 5")
    final_samples: int = param(10, doc="architectures sampled for the answer", ge=1,
                               published="Pham et al. 2018: several")
    final_batches: int = param(1, doc="validation minibatches each of them is measured on",
                               ge=1, published="Pham et al. 2018: one minibatch")

    def controller(self) -> ControllerConfig:
        """The controller's configuration: the preset, with the overrides applied."""
        preset = PRESETS[self.hyperparameters]

        def pick(name: str) -> Any:
            value = getattr(self, name)
            return preset[name] if value is None else value

        return ControllerConfig(
            hidden_size=int(pick("controller_hidden_size")),
            num_layers=self.controller_layers,
            init_range=self.controller_init_range,
            learning_rate=float(pick("controller_lr")),
            temperature=float(pick("temperature")),
            tanh_constant=float(pick("tanh_constant")),
            entropy_weight=self.entropy_weight,
            baseline_decay=self.baseline_decay,
            **self.introspection(per_unit=self.controller_steps),
        )


class Enas(OneShotStrategy):
    """ENAS: an LSTM controller and shared weights trained in alternation."""

    name: ClassVar[str] = "enas"
    summary: ClassVar[str] = "ENAS: controller + shared weights (Pham et al. 2018)"
    Params: ClassVar[type] = EnasParams
    w_split: ClassVar[str] = "train"

    def recipe(self) -> Any:
        p = self.params
        return cosine_recipe(p.batch_size, lr=p.lr, lr_min=p.lr_min, momentum=p.momentum,
                             nesterov=True, weight_decay=p.weight_decay, grad_clip=p.grad_clip)

    def prepare(self) -> None:
        self.controller = LstmController(self.space, self.rng, self.params.controller())

    def train_step(self) -> None:
        arch = self.controller.sample()
        self.supernet.train_step(self.supernet.batch("train", self.params.batch_size),
                                 arch=arch)

    def end_epoch(self, epoch: int) -> None:
        p = self.params
        for _ in range(p.controller_steps):
            archs = [self.controller.sample() for _ in range(p.controller_aggregate)]
            rewards = [self.supernet.accuracy(
                [arch], [self.supernet.batch("valid", p.batch_size)], bn=p.reward_bn)[0] / 100
                for arch in archs]
            self.controller.reinforce(archs, rewards)

    def answer(self) -> Architecture:
        p = self.params
        candidates = [self.controller.sample() for _ in range(p.final_samples)]
        batches = [self.supernet.batch("valid", p.batch_size) for _ in range(p.final_batches)]
        scores = self.supernet.accuracy(candidates, batches, bn=p.reward_bn)
        best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
        return candidates[best]

    def own_state(self) -> dict[str, Any]:
        return {"controller": self.controller.state_dict()}

    def load_own_state(self, state: Mapping[str, Any]) -> None:
        self.controller.load_state_dict(state["controller"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(Enas)
