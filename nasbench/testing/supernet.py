"""Supernet handles for tests: one-shot strategies checked on real data, without a study.

:func:`supernet_contexts` gives a factory of :class:`~nasbench.api.StrategyContext` objects,
each with a fresh supernet handle built exactly as the harness builds one (same data
preparation, same seed), so that the conformance kit can start several independent runs of a
one-shot strategy and compare them::

    make_context = supernet_contexts(Nb201Space(), "digits", size={"C": 4, "N": 1})
    check_strategy(MyOneShot, Nb201Space(), params=small, make_context=make_context)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nasbench.api import Budget, SearchSpace, StrategyContext


def supernet_contexts(space: SearchSpace, dataset: str = "digits", *,
                      size: Mapping[str, Any] | None = None, seed: int = 0,
                      budget: Budget | None = None, data_dir: Path | None = None,
                      cost_unit: str = "seconds", **protocol: Any) -> Callable[[], StrategyContext]:
    """A factory of strategy contexts holding fresh supernets of ``space`` on ``dataset``.

    Args:
        space: a space with the capability ``supernet``.
        dataset: a registered dataset the space's networks read.
        size: supernet size keys (small ones keep tests fast).
        seed: the seed of every handle (equal seeds, equal supernets).
        budget: the contexts' budget (default: 1,000 evaluations).
        data_dir: where the dataset's files are, if it needs any.
        cost_unit: what the handles charge (``seconds`` or ``flops``).
        **protocol: other :class:`~nasbench.supernet.protocol.SupernetProtocol` keys (e.g.
            ``train_samples``).
    """
    from nasbench.registry import load_plugins
    from nasbench.supernet.handle import SupernetHandle, supernet_data
    from nasbench.supernet.protocol import SupernetProtocol

    params = SupernetProtocol(size=dict(size or {}), **protocol)
    data = supernet_data(space, load_plugins().datasets.get(dataset)(), params,
                         data_dir=data_dir, cache_dir=None, root_seed=0)
    threads = params.threads if isinstance(params.threads, int) else 1

    def make() -> StrategyContext:
        handle = SupernetHandle(space, data, params, seed=seed, threads=threads,
                                cost_unit=cost_unit)
        return StrategyContext(budget=budget or Budget(evaluations=1000), supernet=handle)

    return make
