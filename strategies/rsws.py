"""Random search with weight sharing (Li & Talwalkar, "Random Search and Reproducibility for
Neural Architecture Search", UAI 2019).

The supernet is trained one path at a time: every minibatch trains the shared weights of an
architecture drawn uniformly from the space. The search then draws many architectures
uniformly and ranks them by their accuracy with the shared weights on held-out data; the best
is the answer. As in the paper, which reuses DARTS's pipeline, the shared weights train on one
half of the training split and candidates are ranked on the other half, with DARTS's schedule
(50 epochs of batch 64, SGD 0.025 cosine-annealed to 0.001, momentum 0.9, weight decay 3e-4,
gradient norm clipped to 5).

Every candidate is measured on the same minibatches, so that rankings compare like with like;
how batch normalisation normalises while measuring is a parameter (``bn``), since it changes
weight-sharing rankings a lot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from nasbench.strategies.oneshot import AnytimeParams, OneShotStrategy, cosine_recipe

from nasbench.api import Architecture
from nasbench.hookspecs import hookimpl
from nasbench.params import param


@dataclass(frozen=True)
class RswsParams(AnytimeParams):
    epochs: int = param(50, doc="epochs over the weights' half of the training split", ge=1,
                        published="Li & Talwalkar 2019 (DARTS's pipeline): 50")
    batch_size: int = param(64, doc="examples per training step and per ranking batch", ge=2,
                            published="Li & Talwalkar 2019: 64")
    lr: float = param(0.025, doc="initial learning rate of the shared weights", gt=0,
                      published="Li & Talwalkar 2019: 0.025")
    lr_min: float = param(0.001, doc="learning rate at the end of the cosine schedule", ge=0,
                          published="Li & Talwalkar 2019: 0.001")
    momentum: float = param(0.9, doc="SGD momentum", ge=0, lt=1,
                            published="Li & Talwalkar 2019: 0.9")
    weight_decay: float = param(3e-4, doc="weight decay", ge=0,
                                published="Li & Talwalkar 2019: 3e-4")
    grad_clip: float = param(5.0, doc="clip the gradient norm to this (0: off)", ge=0,
                             published="Li & Talwalkar 2019: 5")
    candidates: int = param(1000, doc="architectures drawn and ranked with the shared weights",
                            ge=1, published="Li & Talwalkar 2019: 1000")
    rank_batches: int = param(10, doc="held-out minibatches each candidate is measured on",
                              ge=1)
    bn: Literal["running", "batch", "reestimate"] = param(
        "running", doc="batch normalisation while ranking: shared running statistics, each "
        "batch's statistics, or statistics re-estimated on the candidate's path")


class RandomSearchWeightSharing(OneShotStrategy):
    """Uniform single-path supernet training, then ranking of random architectures."""

    name: ClassVar[str] = "rsws"
    summary: ClassVar[str] = "random search with weight sharing (Li & Talwalkar 2019)"
    Params: ClassVar[type] = RswsParams
    w_split: ClassVar[str] = "w"

    def recipe(self) -> Any:
        p = self.params
        return cosine_recipe(p.batch_size, lr=p.lr, lr_min=p.lr_min, momentum=p.momentum,
                             nesterov=False, weight_decay=p.weight_decay, grad_clip=p.grad_clip)

    def train_step(self) -> None:
        arch = self.space.sample(self.rng)
        self.supernet.train_step(self.supernet.batch("w", self.params.batch_size), arch=arch)

    def answer(self) -> Architecture:
        p = self.params
        candidates = [self.space.sample(self.rng) for _ in range(p.candidates)]
        batches = [self.supernet.batch("alpha", p.batch_size) for _ in range(p.rank_batches)]
        scores = self.supernet.accuracy(candidates, batches, bn=p.bn)
        best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
        return candidates[best]


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(RandomSearchWeightSharing)
