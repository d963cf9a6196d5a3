"""REINFORCE with an LSTM controller: the NAS-RL search of Zoph & Le (ICLR 2017).

An autoregressive LSTM (:mod:`nasbench.strategies.controller`) samples architectures one
decision at a time; after every batch of m evaluated architectures it takes one Adam step along
(1/m) sum_k sum_t grad log P(a_t | a_<t) (R_k - b), with b an exponential moving average of
earlier rewards. The paper rewards the cube of the validation accuracy; that shaping and an
entropy bonus are options. It works on any space that declares its decisions through
``next_decision``, including spaces whose later decisions depend on earlier ones.

``record_states`` and ``memorise`` record the controller's hidden states and switch on the
memorisation regulariser of Adam & Lorraine (2019), its start points counted in controller
updates (see :mod:`nasbench.strategies.controller`).

The answer is the best architecture seen by the search metric. Failed evaluations carry no
reward and are left out of the batch. A repeated architecture (answered from the run's cache)
is a legitimate new sample of the policy and enters the batch like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from nasbench.strategies.controller import (
    ControllerConfig,
    IntrospectionParams,
    LstmController,
)
from nasbench.strategies.policy_gradient import shaped_reward

if TYPE_CHECKING:
    import numpy as np

from nasbench.api import Architecture, Observation, SearchSpace, Strategy, StrategyContext, Trial
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param


@dataclass(frozen=True)
class ReinforceParams(IntrospectionParams):
    hidden_size: int = param(35, doc="LSTM units per layer", ge=1,
                             published="Zoph & Le 2017: 35")
    num_layers: int = param(2, doc="stacked LSTM layers", ge=1, published="Zoph & Le 2017: 2")
    learning_rate: float = param(6e-4, doc="Adam learning rate of the controller", gt=0,
                                 published="Zoph & Le 2017: 0.0006")
    init_range: float = param(0.08, doc="weights start uniform in [-r, r]", gt=0,
                              published="Zoph & Le 2017: 0.08")
    batch_size: int = param(8, doc="m: architectures per policy-gradient step", ge=1,
                            published="Zoph & Le 2017: m = 8 child replicas per controller")
    baseline_decay: float = param(
        0.95, doc="decay of the moving-average reward baseline", ge=0, lt=1,
        published="Zoph & Le 2017: an exponential moving average (decay not given); "
        "ENAS code: 0.99",
    )
    reward_power: float = param(
        1.0, doc="reward = value ** power (3 cubes it, as NAS-RL does)", gt=0,
        published="Zoph & Le 2017: 3 (cube of the validation accuracy)",
    )
    entropy_weight: float = param(0.0, doc="weight of the policy-entropy bonus", ge=0,
                                  published="ENAS code: 1e-4; NAS-RL: none")
    temperature: float = param(1.0, doc="logits are divided by it before the softmax", gt=0,
                               published="ENAS paper: 5; NAS-RL: 1")
    tanh_constant: float | None = param(
        None, doc="if set, logits = c * tanh(logits / temperature)", gt=0,
        published="ENAS: 2.5 (paper), 1.1 (code); NAS-RL: none",
    )


class Reinforce(Strategy):
    """NAS-RL: an LSTM controller trained with REINFORCE on the search metric."""

    name: ClassVar[str] = "reinforce"
    summary: ClassVar[str] = "REINFORCE with an LSTM controller (NAS-RL, Zoph & Le 2017)"
    Params: ClassVar[type] = ReinforceParams

    def __init__(self, params: ReinforceParams | None = None) -> None:
        super().__init__(params)
        self._best = Incumbent()
        self._batch: list[tuple[Architecture, float]] = []
        self.controller: LstmController | None = None

    def setup(self, space: SearchSpace, rng: np.random.Generator,
              context: StrategyContext) -> None:
        super().setup(space, rng, context)
        p = self.params
        self.controller = LstmController(space, rng, ControllerConfig(
            hidden_size=p.hidden_size, num_layers=p.num_layers, init_range=p.init_range,
            learning_rate=p.learning_rate, temperature=p.temperature,
            tanh_constant=p.tanh_constant, entropy_weight=p.entropy_weight,
            baseline_decay=p.baseline_decay, **p.introspection(),
        ))

    def _policy(self) -> LstmController:
        if self.controller is None:
            raise RuntimeError("Reinforce.setup() must run before ask()/tell()")
        return self.controller

    def ask(self) -> Trial:
        return Trial(self._policy().sample())

    def tell(self, trial: Trial, observation: Observation) -> None:
        self._best.update(trial.arch, observation)
        if observation.value is None:
            return
        self._batch.append((trial.arch, shaped_reward(observation.value,
                                                      self.params.reward_power)))
        if len(self._batch) >= self.params.batch_size:
            archs, rewards = zip(*self._batch, strict=True)
            self._batch = []
            self._policy().reinforce(archs, rewards)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {
            "controller": self._policy().state_dict(),
            "batch": [[list(a), r] for a, r in self._batch],
            "best": self._best.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._policy().load_state_dict(state["controller"])
        self._batch = [(tuple(a), float(r)) for a, r in state["batch"]]
        self._best.load_state_dict(state["best"])


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(Reinforce)
