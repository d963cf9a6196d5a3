"""The plugin conformance kit: checks every plugin must pass, for built-ins and third parties.

Use it from a plugin package's tests::

    from nasbench.testing import check_space, check_strategy

    def test_my_strategy_conforms(nb201_objective):
        check_strategy(MyStrategy, Nb201Space(), objective=nb201_objective)

Each check raises ``AssertionError`` with a message saying which rule was broken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nasbench.api import (
    Architecture,
    Budget,
    EvaluatorContext,
    Observation,
    SearchSpace,
    Strategy,
    StrategyContext,
    Trial,
)
from nasbench.store import decode_state, encode_state

Objective = Callable[[Architecture], "float | tuple[float, ...] | None"]
"""Search metric of an architecture (larger is better); ``None`` for a failed evaluation. For
a multi-objective strategy, a tuple of objectives (each larger is better)."""


def hashed_objective(arch: Architecture) -> float:
    """A deterministic stand-in objective for checks that only need *some* landscape."""
    rng = np.random.default_rng(abs(hash(tuple(arch))) % (2**32))
    return float(rng.random())


def _drive(
    strategy: Strategy,
    objective: Objective,
    n: int,
    fail_every: int = 0,
) -> list[Trial]:
    asked = []
    for i in range(n):
        trial = strategy.ask()
        if trial is None:
            break
        asked.append(trial)
        value = None if fail_every and i % fail_every == fail_every - 1 else objective(trial.arch)
        status = "failed" if value is None else "ok"
        vector = tuple(value) if isinstance(value, tuple) else None
        first = vector[0] if vector else value
        strategy.tell(trial, Observation(first, 1.0, status, trial.fidelity,  # type: ignore[arg-type]
                                         vector))
    return asked


def _fresh(
    cls: type[Strategy], params: Any, space: SearchSpace, seed: int,
    make_context: Callable[[], StrategyContext],
) -> tuple[Strategy, np.random.Generator]:
    strategy = cls(params)
    rng = np.random.default_rng(seed)
    strategy.setup(space, rng, make_context())
    return strategy, rng


def check_strategy(
    cls: type[Strategy],
    space: SearchSpace,
    *,
    params: Any = None,
    objective: Objective = hashed_objective,
    n_trials: int = 40,
    split: int | None = None,
    context: StrategyContext | None = None,
    make_context: Callable[[], StrategyContext] | None = None,
    fidelities: tuple[float, ...] = (1.0, 3.0, 9.0),
) -> None:
    """The strategy rules of the contract.

    1. Every proposal is an architecture of the space.
    2. The same seed gives the same proposals.
    3. ``state_dict`` survives pickling, and a strategy restored from it (with the generator's
       state) proposes exactly what the uninterrupted one proposes.
    4. Failed observations (value ``None``) are tolerated: the strategy keeps proposing.
    5. ``recommend`` returns ``None`` or an architecture of the space.
    6. A strategy that ``requires_fidelities`` runs with an evaluator offering ``fidelities``
       and asks only for those.

    A strategy that requires a supernet needs ``make_context``: a factory of contexts, each
    with a fresh supernet handle built with the same seed (see
    :func:`nasbench.testing.supernet.supernet_contexts`), since every run trains its own.

    A strategy with ``multi_objective = True`` is run on two objectives: ``objective`` (or its
    tuple, when it returns one) beside :func:`hashed_objective`, with a context naming them.
    """
    if getattr(cls, "multi_objective", False):
        single = objective

        def objective(arch: Architecture) -> tuple[float, ...] | None:
            v = single(arch)
            if v is None or isinstance(v, tuple):
                return v
            return (float(v), hashed_objective(arch))

        if context is None and make_context is None:
            context = StrategyContext(budget=Budget(evaluations=n_trials),
                                      objectives=("objective", "hashed"))
    if make_context is None:
        if "supernet" in cls.requires:
            raise TypeError(
                f"{cls.name} trains a supernet: pass make_context, a factory of contexts with "
                "fresh supernet handles (nasbench.testing.supernet.supernet_contexts)"
            )
        if context is None and cls.requires_fidelities:
            context = StrategyContext(budget=Budget(evaluations=n_trials),
                                      fidelities=tuple(fidelities),
                                      default_fidelity=max(fidelities))
        shared = context or StrategyContext(budget=Budget(evaluations=n_trials))

        def make_context() -> StrategyContext:
            return shared

    split = split if split is not None else n_trials // 2
    first_context: list[StrategyContext] = []
    factory = make_context

    def make_context() -> StrategyContext:  # remembers the first, for its fidelities
        made = factory()
        if not first_context:
            first_context.append(made)
        return made

    a, _ = _fresh(cls, params, space, 1234, make_context)
    first = _drive(a, objective, n_trials)
    assert first, f"{cls.name}: ask() returned nothing on a fresh run"
    for t in first:
        assert space.is_valid(t.arch), f"{cls.name}: proposed {t.arch!r}, not in {space.name}"
    offered = first_context[0].fidelities
    if offered:
        asked = {t.fidelity for t in first} - {None}
        assert asked <= set(offered), (
            f"{cls.name}: asked for fidelities {sorted(asked - set(offered))}, the evaluator "
            f"offers {list(offered)}"
        )
        if cls.requires_fidelities:
            assert len(asked) > 1, (
                f"{cls.name} requires several fidelities but asked only for {sorted(asked)} "
                f"when offered {list(offered)}"
            )
    b, _ = _fresh(cls, params, space, 1234, make_context)
    second = _drive(b, objective, n_trials)
    assert [t.arch for t in first] == [t.arch for t in second], (
        f"{cls.name}: the same seed gave different proposals"
    )

    c, rng_c = _fresh(cls, params, space, 1234, make_context)
    head = _drive(c, objective, split)
    if cls.checkpoints:
        # The state travels as a checkpoint file does: plain data, read without pickle.
        try:
            blob = encode_state((c.state_dict(), rng_c.bit_generator.state))
        except TypeError as err:
            raise AssertionError(
                f"{cls.name}: state_dict() is not plain data ({err}); return numbers, strings, "
                "lists, dicts and arrays, or set checkpoints = False to be resumed by replay"
            ) from None
        snapshot = decode_state(blob)
        d = cls(params)
        rng_d = np.random.default_rng(0)
        d.setup(space, rng_d, make_context())
        rng_d.bit_generator.state = snapshot[1]
        d.load_state_dict(snapshot[0])
    else:
        # Resumed by replay: a fresh strategy on the same seed, told the same results.
        d, _ = _fresh(cls, params, space, 1234, make_context)
        replayed = _drive(d, objective, split)
        assert [t.arch for t in replayed] == [t.arch for t in head], (
            f"{cls.name}: replaying a run from its seed proposed differently"
        )
    assert d.recommend() == c.recommend(), (
        f"{cls.name}: recommend() differs after a restore ({d.recommend()!r} against "
        f"{c.recommend()!r})"
    )
    tail = _drive(d, objective, n_trials - len(head))
    assert [t.arch for t in head + tail] == [t.arch for t in first], (
        f"{cls.name}: a strategy restored from state_dict() proposed differently from the "
        "uninterrupted one"
    )

    e, _ = _fresh(cls, params, space, 99, make_context)
    with_failures = _drive(e, objective, n_trials, fail_every=3)
    assert len(with_failures) == len(first) or len(with_failures) > 3, (
        f"{cls.name}: stopped proposing after failed evaluations"
    )
    rec = e.recommend()
    assert rec is None or space.is_valid(rec), f"{cls.name}: recommended {rec!r}, not valid"


def check_space(space: SearchSpace, *, samples: int = 200, seed: int = 0) -> None:
    """The space rules of the contract.

    Samples are valid and round-trip through the string format with a stable key; mutations
    are valid and differ from their parent; neighbours are valid, distinct and one step away;
    the decision walk matches the architectures' length; enumeration, where declared, yields
    ``size()`` distinct valid architectures; networks, where declared, follow
    :func:`check_network`.
    """
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        arch = space.sample(rng)
        assert isinstance(arch, tuple) and all(type(c) is int for c in arch), (
            f"{space.name}: sample() must return a tuple of ints, got {arch!r}"
        )
        space.validate(arch)
        text = space.to_string(arch)
        assert space.from_string(text) == arch, f"{space.name}: {text!r} does not round-trip"
        assert space.arch_key(arch) == space.arch_key(space.from_string(text))
        prefix: tuple[int, ...] = ()
        while (decision := space.next_decision(prefix)) is not None:
            assert len(prefix) < len(arch), f"{space.name}: decisions run past {arch!r}"
            assert 0 <= arch[len(prefix)] < len(decision.choices), (
                f"{space.name}: choice {arch[len(prefix)]} out of range for {decision.name}"
            )
            prefix = arch[: len(prefix) + 1]
        assert prefix == arch, f"{space.name}: the decision walk ended early on {arch!r}"
        child = space.mutate(arch, rng)
        space.validate(child)
        assert child != arch, f"{space.name}: mutate() returned its parent {arch!r}"
    arch = space.sample(rng)
    neighbours = space.neighbours(arch)
    assert neighbours, f"{space.name}: {arch!r} has no neighbours"
    assert len(set(neighbours)) == len(neighbours), f"{space.name}: repeated neighbours"
    for n in neighbours:
        space.validate(n)
        assert n != arch
    if "build" in space.capabilities:
        check_network(space, seed=seed)
    if "enumerate" in space.capabilities:
        archs = list(space.enumerate())
        assert len(archs) == space.size(), (
            f"{space.name}: enumerate() gave {len(archs)} architectures, size() says "
            f"{space.size()}"
        )
        assert len(set(archs)) == len(archs), f"{space.name}: enumerate() repeats itself"


_EXAMPLE_INPUTS = {"image": (3, 12, 12), "sequence": (6, 3), "vector": (10,)}


def check_network(space: SearchSpace, *, samples: int = 2, seed: int = 0) -> None:
    """The network rules of the contract, for spaces with the capability ``build``.

    The space declares a known ``data_kind``; networks of sampled architectures, built with
    the default sizes, map a batch shaped ``(batch, *input_shape)`` to logits
    ``(batch, num_classes)`` in evaluation mode (and to logits, or logits and auxiliary
    logits, in training mode); an unknown size key is a ``ConfigError``.
    """
    import torch

    from nasbench.errors import ConfigError

    assert space.data_kind in _EXAMPLE_INPUTS, (
        f"{space.name}: data_kind must be one of {sorted(_EXAMPLE_INPUTS)}, got "
        f"{space.data_kind!r}"
    )
    shape = _EXAMPLE_INPUTS[space.data_kind]
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        arch = space.sample(rng)
        torch.manual_seed(seed)
        net = space.build(arch, input_shape=shape, num_classes=3, **space.size_defaults())
        x = torch.randn(2, *shape)
        with torch.no_grad():
            logits = net.eval()(x)
            assert tuple(logits.shape) == (2, 3), (
                f"{space.name}: network of {space.to_string(arch)!r} gave {tuple(logits.shape)} "
                f"logits in evaluation mode, expected (2, 3)"
            )
            out = net.train()(x)
        for t in out if isinstance(out, tuple) else (out,):
            assert tuple(t.shape) == (2, 3), f"{space.name}: training output {tuple(t.shape)}"
    try:
        space.build(arch, input_shape=shape, num_classes=3, no_such_size_key=1)
    except ConfigError:
        pass
    else:
        raise AssertionError(f"{space.name}: build() accepted an unknown size key")


def check_evaluator(evaluator: Any, space: SearchSpace, context: EvaluatorContext,
                    *, samples: int = 5, seed: int = 0) -> None:
    """The evaluator rules: it returns the wanted metrics for sampled architectures, the same
    result for the same seed, and a cost that is a finite non-negative number."""
    evaluator.setup(space, context)
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        trial = Trial(space.sample(rng))
        first = evaluator.evaluate(space, trial, seed=7)
        assert first.status in ("ok", "failed", "diverged"), f"bad status {first.status!r}"
        if first.status == "ok":
            missing = set(context.wanted_metrics) - set(first.metrics)
            assert not missing, f"{evaluator.name}: result lacks {sorted(missing)}"
        assert first.cost >= 0 and np.isfinite(first.cost), f"bad cost {first.cost!r}"
        again = evaluator.evaluate(space, trial, seed=7)
        assert _same_metrics(again.metrics, first.metrics), (
            f"{evaluator.name}: the same trial and seed gave different metrics"
        )


def _same_metrics(a: Any, b: Any) -> bool:
    """Equal metrics, a NaN (an undefined value, reported as such) equal to a NaN."""
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (isinstance(a[k], float) and isinstance(b[k], float)
                         and np.isnan(a[k]) and np.isnan(b[k]))
        for k in a
    )
