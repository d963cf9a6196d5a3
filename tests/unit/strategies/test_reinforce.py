"""The NAS-RL strategy and NAS-Bench-201's REINFORCE baseline."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from nasbench.spaces.nb201 import Nb201Space
from nasbench.strategies.reinforce import Reinforce, ReinforceParams
from nasbench.strategies.reinforce_logits import ReinforceLogits, ReinforceLogitsParams

from nasbench.api import Architecture, Budget, Observation, Strategy, StrategyContext
from nasbench.testing import check_strategy

CONTEXT = StrategyContext(budget=Budget(evaluations=1000))


def _run(strategy: Strategy, objective: Callable[[Architecture], float], n: int) -> list[float]:
    values = []
    for _ in range(n):
        trial = strategy.ask()
        value = objective(trial.arch)
        values.append(value)
        strategy.tell(trial, Observation(value, 1.0))
    return values


@pytest.mark.parametrize("cls", [Reinforce, ReinforceLogits])
def test_conforms_on_a_conditional_space(cls, layered_space):
    check_strategy(cls, layered_space)


def test_reinforce_updates_once_per_batch_and_skips_failures(nb201_valid):
    strategy = Reinforce(ReinforceParams(batch_size=4))
    strategy.setup(Nb201Space(), np.random.default_rng(0), CONTEXT)
    for i in range(10):
        trial = strategy.ask()
        value = None if i % 3 == 0 else nb201_valid(trial.arch)
        strategy.tell(trial, Observation(value, 1.0, "failed" if value is None else "ok"))
    # 6 successful evaluations: one step of 4, two waiting in the batch.
    assert strategy.controller.updates == 1
    assert len(strategy.state_dict()["batch"]) == 2


def test_reinforce_with_a_larger_step_learns_on_nb201(nb201_valid):
    strategy = Reinforce(ReinforceParams(learning_rate=0.01, batch_size=4))
    strategy.setup(Nb201Space(), np.random.default_rng(1), CONTEXT)
    values = _run(strategy, nb201_valid, 400)
    assert np.mean(values[-100:]) > np.mean(values[:100]) + 5.0


def test_cubed_reward_is_what_the_controller_sees(nb201_valid):
    """With reward_power = 3 the baseline averages cubed accuracies: it starts at the first
    batch's mean, then folds in each reward with the decay."""
    strategy = Reinforce(ReinforceParams(batch_size=2, reward_power=3.0, baseline_decay=0.9))
    strategy.setup(Nb201Space(), np.random.default_rng(2), CONTEXT)
    cubes = [v**3 for v in _run(strategy, nb201_valid, 2)]
    expected = np.mean(cubes)
    for c in cubes:
        expected = 0.9 * expected + 0.1 * c
    assert strategy.controller.baseline.value() == pytest.approx(expected, rel=1e-12)


def _nb201_reference(actions: list[Architecture], rewards: list[float], lr: float,
                     init: np.ndarray) -> np.ndarray:
    """NAS-Bench-201's exps/algos/reinforce.py loop in torch, fed the same actions."""
    logits = torch.nn.Parameter(torch.tensor(init, dtype=torch.float64))
    optimizer = torch.optim.Adam([logits], lr=lr)
    num = den = 0.0
    for action, reward in zip(actions, rewards, strict=True):
        num = 0.9 * num + 0.1 * reward
        den = 0.9 * den + 0.1
        log_prob = torch.distributions.Categorical(logits=logits).log_prob(
            torch.tensor(action)).sum()
        loss = -log_prob * (reward - num / den)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return logits.detach().numpy()


def test_reinforce_logits_is_nb201s_update(nb201_valid):
    space = Nb201Space()
    strategy = ReinforceLogits(ReinforceLogitsParams(learning_rate=0.05))
    strategy.setup(space, np.random.default_rng(3), CONTEXT)
    first = strategy.ask()
    init = np.stack([strategy._logits[d.name].values for d in space.decisions()])
    strategy.tell(first, Observation(nb201_valid(first.arch), 1.0))
    actions, rewards = [first.arch], [nb201_valid(first.arch)]
    for _ in range(30):
        trial = strategy.ask()
        actions.append(trial.arch)
        rewards.append(nb201_valid(trial.arch))
        strategy.tell(trial, Observation(rewards[-1], 1.0))
    reference = _nb201_reference(actions, rewards, 0.05, init)
    ours = np.stack([strategy._logits[d.name].values for d in space.decisions()])
    # Equal up to rounding (Adam divides by sqrt(v), which amplifies it where v is tiny).
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_reinforce_logits_initial_logits_are_small():
    strategy = ReinforceLogits()
    strategy.setup(Nb201Space(), np.random.default_rng(4), CONTEXT)
    strategy.ask()
    values = np.concatenate([e.values for e in strategy._logits.values()])
    assert values.shape == (30,) and 0 < np.abs(values).max() < 1e-2


def test_reinforce_logits_concentrates_on_good_operations(nb201_valid):
    """With the NATS-Bench learning rate the policy learns, within 500 evaluations, to avoid
    'none' on the direct edge from input to output (from 1/5 to under 1/10)."""
    space = Nb201Space()
    strategy = ReinforceLogits(ReinforceLogitsParams(learning_rate=0.01))
    strategy.setup(space, np.random.default_rng(5), CONTEXT)
    values = _run(strategy, nb201_valid, 500)
    assert np.mean(values[-100:]) > np.mean(values[:100]) + 3.0
    logits = strategy._logits["edge_3<-0"].values
    assert np.exp(logits[0]) / np.exp(logits).sum() < 0.1


def test_reinforce_logits_argmax_recommendation(nb201_valid):
    strategy = ReinforceLogits(ReinforceLogitsParams(learning_rate=0.05, recommend="argmax"))
    space = Nb201Space()
    strategy.setup(space, np.random.default_rng(6), CONTEXT)
    _run(strategy, nb201_valid, 50)
    expected = tuple(int(strategy._logits[d.name].values.argmax()) for d in space.decisions())
    assert strategy.recommend() == expected
    assert math.isfinite(nb201_valid(expected))
