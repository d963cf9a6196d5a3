"""What the one-shot strategies (``enas``, ``darts``, ``rsws``) share: training a supernet in
chunks between anytime proposals.

A one-shot method trains shared weights for a fixed number of epochs and then returns one
architecture. To run in the same ask/tell harness as black-box strategies, and to be compared
with them over time and at equal cost, each :meth:`OneShotStrategy.ask` trains the supernet
for ``report_every`` more epochs, then proposes the architecture the method would return if
training stopped there; the harness has the study's evaluator evaluate it like any other
trial. Once the schedule is complete the final architecture has been proposed and ``ask``
returns ``None``.

The supernet is the run's own (:class:`~nasbench.api.SupernetAccess`): its training time is
charged to the run by the harness. The run's answer is, by default, the latest proposal (the
published methods return what their search ends with, whatever a stand-alone evaluation of it
says); ``select = "best_observed"`` instead keeps the proposal with the best search metric.

Only the one-shot strategies derive from :class:`OneShotStrategy`; black-box strategies never
see any of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench.api import (
    Architecture,
    Observation,
    SearchSpace,
    Strategy,
    StrategyContext,
    SupernetAccess,
    Trial,
)
from nasbench.incumbent import Incumbent
from nasbench.params import param

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class AnytimeParams:
    """Parameters every one-shot strategy has: when to report, and what to return."""

    report_every: float = param(
        1.0, doc="epochs of supernet training between two proposals of the architecture the "
        "method would return now (the anytime incumbent the evaluator measures)", gt=0)
    select: Literal["last", "best_observed"] = param(
        "last", doc="the run's answer: the latest proposal (as the method returns it), or the "
        "proposal with the best search metric")


class OneShotStrategy(Strategy):
    """Base of the one-shot strategies: the chunked schedule, proposals and resumable state.

    Subclasses set :attr:`w_split` and implement :meth:`recipe` (how shared weights train),
    :meth:`prepare` (their own state, e.g. architecture parameters), :meth:`train_step` (one
    step), optionally :meth:`end_epoch`, :meth:`answer` (the architecture returned now), and
    :meth:`own_state` / :meth:`load_own_state`. Their params have ``epochs`` and
    ``batch_size`` besides :class:`AnytimeParams`.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"supernet"})
    w_split: ClassVar[str] = "train"
    """The data split the shared weights train on (its epochs are the schedule's epochs)."""
    supernet_gradient: ClassVar[bool] = False
    """Whether the method differentiates a loss through the supernet with respect to its
    architecture (DARTS, GDAS, UNAS): a supernet trained by reinforcement learning (the
    ``dqn`` evaluator's) has no such loss, and a study pairing them is refused."""

    supernet: SupernetAccess

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.step = 0
        self.proposal: Architecture | None = None
        self.stopped = ""
        self._best = Incumbent()

    def setup(self, space: SearchSpace, rng: np.random.Generator,
              context: StrategyContext) -> None:
        super().setup(space, rng, context)
        if context.supernet is None:
            raise RuntimeError(
                f"strategy '{self.name}' trains a supernet: it needs the handle the harness "
                "passes in StrategyContext.supernet"
            )
        self.supernet = context.supernet
        p = self.params
        self.steps_per_epoch = self.supernet.steps_per_epoch(self.w_split, p.batch_size)
        self.total_steps = p.epochs * self.steps_per_epoch
        self.report_steps = max(1, round(p.report_every * self.steps_per_epoch))
        self.supernet.configure(self.recipe(), self.total_steps)
        self.prepare()

    # -- the loop -----------------------------------------------------------------------------
    def ask(self) -> Trial | None:
        from nasbench.supernet import SupernetDiverged

        if self.stopped or self.step >= self.total_steps:
            return None
        target = min(self.total_steps, self.step + self.report_steps)
        try:
            while self.step < target:
                self.train_step()
                self.step += 1
                if self.step % self.steps_per_epoch == 0:
                    self.end_epoch(self.step // self.steps_per_epoch)
        except SupernetDiverged as err:
            self.stopped = str(err)
            return None
        self.proposal = self.answer()
        return Trial(self.proposal)

    def tell(self, trial: Trial, observation: Observation) -> None:
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        if self.params.select == "best_observed" and self._best.arch is not None:
            return self._best.arch
        return self.proposal

    # -- what subclasses provide ----------------------------------------------------------------
    def recipe(self) -> Any:
        """The :class:`~nasbench.training.recipe.TrainingRecipe` of the shared weights."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Create the strategy's own state (after the supernet is configured)."""

    def train_step(self) -> None:
        """One training step (of the shared weights, and of whatever else trains with them)."""
        raise NotImplementedError

    def end_epoch(self, epoch: int) -> None:
        """Called after the last step of epoch ``epoch`` (from 1)."""

    def answer(self) -> Architecture:
        """The architecture the method returns if training stops now."""
        raise NotImplementedError

    def own_state(self) -> dict[str, Any]:
        return {}

    def load_own_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`own_state`."""

    # -- persistence ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "supernet": self.supernet.state_dict(),
            "step": self.step,
            "proposal": list(self.proposal) if self.proposal is not None else None,
            "stopped": self.stopped,
            "best": self._best.state_dict(),
            "own": self.own_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.supernet.load_state_dict(state["supernet"])
        self.step = int(state["step"])
        proposal = state["proposal"]
        self.proposal = tuple(proposal) if proposal is not None else None
        self.stopped = state["stopped"]
        self._best.load_state_dict(state["best"])
        self.load_own_state(state["own"])



def cosine_recipe(batch_size: int, *, optimizer: str = "sgd", lr: float, lr_min: float,
                  momentum: float, nesterov: bool, weight_decay: float, grad_clip: float
                  ) -> Any:
    """The shared weights' :class:`~nasbench.training.recipe.TrainingRecipe` of the one-shot
    methods: one optimiser whose learning rate is cosine-annealed from ``lr`` to ``lr_min``
    over the schedule, with weight decay and gradient-norm clipping (0: off)."""
    from nasbench.training.recipe import TrainingRecipe

    return TrainingRecipe(batch_size=batch_size, optimizer=optimizer, lr=lr, momentum=momentum,
                          nesterov=nesterov, weight_decay=weight_decay, schedule="cosine",
                          lr_min=lr_min, grad_clip=grad_clip)


def architecture_logits(space: SearchSpace, rng: np.random.Generator, *, init: float,
                        lr: float, beta1: float, weight_decay: float) -> tuple[list[Any], Any]:
    """Logits over the space's relaxation (:meth:`~nasbench.api.SearchSpace.relaxation_shapes`),
    starting at ``init`` times N(0, 1) draws of ``rng``, and their Adam optimiser (betas
    ``(beta1, 0.999)``): the architecture parameters of DARTS, GDAS, SNAS and UNAS."""
    import torch

    logits = [torch.from_numpy(init * rng.standard_normal(shape)).float().requires_grad_(True)
              for shape in space.relaxation_shapes()]
    optimizer = torch.optim.Adam(logits, lr=lr, betas=(beta1, 0.999), weight_decay=weight_decay)
    return logits, optimizer
