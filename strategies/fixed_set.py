"""A fixed set of architectures, the same in every run: the design of protocol studies.

Not a search strategy: it proposes a given list of architectures, or a uniform sample drawn
with its own seed, in order, then stops. Because the set depends on nothing but its
parameters, studies that differ only in their protocol (training seed, depth, training
tricks, or a zero-cost proxy instead of training) evaluate exactly the same architectures,
and so do the repetitions of one study (``seeds = [0, 1]`` trains every architecture under
two evaluation seeds). That is how Yang et al. (ICLR 2020) compare protocols, and how a proxy
is scored over a benchmark's architectures for a correlation study.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.api import Architecture, Observation, SearchSpace, Strategy, StrategyContext, Trial
from nasbench.errors import ConfigError
from nasbench.hookspecs import hookimpl
from nasbench.incumbent import Incumbent
from nasbench.params import param


@dataclass(frozen=True)
class FixedSetParams:
    archs: tuple[str, ...] = param(
        (), doc="architectures in the space's string format, proposed in this order; empty: "
        "a uniform sample")
    sample: int = param(50, doc="size of the uniform sample drawn when archs is empty", ge=1)
    sample_seed: int = param(
        0, doc="seed of the sample; independent of the study's seeds, so that studies under "
        "other protocols or root seeds draw the same architectures", ge=0)
    distinct: bool = param(
        True, doc="sample architectures that compute different functions (distinct canonical "
        "keys), so that no architecture counts twice in a correlation")


class FixedSet(Strategy):
    """Proposes its architectures in order, then stops; recommends the best seen."""

    name: ClassVar[str] = "fixed_set"
    summary: ClassVar[str] = ("the same listed or sampled architectures in every run (protocol "
                              "and correlation studies)")
    Params: ClassVar[type] = FixedSetParams
    searches: ClassVar[bool] = False

    def __init__(self, params: FixedSetParams | None = None) -> None:
        super().__init__(params)
        self._archs: list[Architecture] = []
        self._next = 0
        self._best = Incumbent()

    def setup(self, space: SearchSpace, rng: Any, context: StrategyContext) -> None:
        super().setup(space, rng, context)
        p = self.params
        if p.archs:
            self._archs = [space.from_string(text) for text in p.archs]
        else:
            self._archs = architecture_sample(space, p.sample, p.sample_seed, p.distinct)

    def ask(self) -> Trial | None:
        if self._next >= len(self._archs):
            return None
        self._next += 1
        return Trial(self._archs[self._next - 1])

    def tell(self, trial: Trial, observation: Observation) -> None:
        self._best.update(trial.arch, observation)

    def recommend(self) -> Architecture | None:
        return self._best.arch

    def state_dict(self) -> dict[str, Any]:
        return {"next": self._next, "best": self._best.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._next = state["next"]
        self._best.load_state_dict(state["best"])


def architecture_sample(space: SearchSpace, size: int, seed: int, distinct: bool = True
                        ) -> list[Architecture]:
    """``size`` architectures drawn uniformly from ``space`` with their own stream.

    Args:
        space: the space.
        size: how many.
        seed: root of the stream ``("fixed_set",)``.
        distinct: skip draws whose canonical key was drawn before.

    Raises:
        ConfigError: when the space holds fewer (distinct) architectures than ``size``.
    """
    from nasbench import seeding  # numpy: kept off `nasbench list`

    rng = seeding.generator(seed, "fixed_set")
    total = space.size()
    if total is not None and size > total:
        raise ConfigError("strategies.sample", f"asks for {size} architectures, and space "
                          f"'{space.name}' holds {total}", f"Ask for at most {total}.")
    if distinct and "enumerate" in space.capabilities and total is not None and total < 10**6:
        unique = len({space.arch_key(arch) for arch in space.enumerate()})
        if size > unique:
            raise ConfigError("strategies.sample", f"asks for {size} distinct architectures, "
                              f"and space '{space.name}' holds {unique}",
                              f"Ask for at most {unique}, or set distinct = false.")
    out: list[Architecture] = []
    seen: set[str] = set()
    while len(out) < size:
        arch = space.sample(rng)
        key = space.arch_key(arch) if distinct else repr(arch)
        if key not in seen:
            seen.add(key)
            out.append(arch)
    return out


@hookimpl
def nasbench_register_strategies(registry: Any) -> None:
    registry.add(FixedSet)
