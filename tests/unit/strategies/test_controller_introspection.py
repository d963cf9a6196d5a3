"""What a controller learns: recorded hidden states and embeddings, and the memorisation
regulariser of Adam & Lorraine (2019) reconstructing past samples from a replay buffer."""

from __future__ import annotations

import json

import numpy as np
from nasbench.spaces.nb201 import Nb201Space
from nasbench.strategies.controller import ControllerConfig, LstmController
from nasbench.strategies.enas import EnasParams
from nasbench.strategies.reinforce import Reinforce, ReinforceParams

from nasbench.api import Budget, Observation, StrategyContext

SPACE = Nb201Space()


def test_recorded_states_are_the_controllers_reading_of_each_sample() -> None:
    controller = LstmController(SPACE, np.random.default_rng(0),
                                ControllerConfig(hidden_size=12, record=True))
    archs = [controller.sample() for _ in range(5)]
    assert [tuple(r["arch"]) for r in controller.records] == archs
    for arch, record in zip(archs, controller.records, strict=True):
        hidden, embedding = controller.encode(arch)
        assert len(record["hidden"]) == 12 and len(record["embedding"]) == 24
        assert np.allclose(record["hidden"], hidden) and np.allclose(record["embedding"],
                                                                     embedding)
    # the embedding reads the whole architecture: the last choice changes it
    a = archs[0]
    b = (*a[:-1], (a[-1] + 1) % 5)
    assert not np.allclose(controller.encode(a)[1], controller.encode(b)[1])
    assert np.allclose(controller.encode(a)[0], controller.encode(b)[0])  # not the hidden


def test_memorisation_makes_the_controller_reproduce_its_buffer() -> None:
    """With zero advantages the policy gradient is zero; only the regulariser trains."""
    def nll_after(memory: int) -> tuple[float, float, list]:
        controller = LstmController(SPACE, np.random.default_rng(1), ControllerConfig(
            hidden_size=16, num_layers=1, learning_rate=0.01, memory_size=memory,
            memory_batch=8, memory_start=0))
        buffer = [controller.sample() for _ in range(8)]
        before = controller.memorisation_loss(buffer)
        for _ in range(60):  # reinforce samples nothing: the buffer stays as it is
            controller.reinforce([buffer[0]], [0.5])
        return before, controller.memorisation_loss(buffer), controller.memory

    before, after, memory = nll_after(8)
    assert len(memory) == 8
    assert after < 0.8 * before
    plain_before, plain_after, plain_memory = nll_after(0)
    assert plain_memory == [] and abs(plain_after - plain_before) < 0.05 * plain_before


def test_reinforce_turns_the_regulariser_on_and_keeps_it_in_plain_state() -> None:
    params = ReinforceParams(batch_size=2, record_states=True, memorise=True, memory_size=4,
                             memory_fill_start=0, memory_start=1, memory_batch=2)
    config = params.introspection()
    assert config["memory_size"] == 4 and config["memory_start"] == 1
    assert ReinforceParams().introspection() == {"record": False}  # off by default
    strategy = Reinforce(params)
    strategy.setup(SPACE, np.random.default_rng(3), StrategyContext(Budget(evaluations=10)))
    for i in range(6):
        trial = strategy.ask()
        strategy.tell(trial, Observation(float(i % 3), 1.0, "ok"))
    state = strategy.state_dict()["controller"]
    json.dumps({"memory": state["memory"], "records": state["records"]})
    assert len(state["records"]) == 6 and len(state["memory"]) == 4  # full, then replaced
    again = Reinforce(params)
    again.setup(SPACE, np.random.default_rng(3), StrategyContext(Budget(evaluations=10)))
    again.load_state_dict(strategy.state_dict())
    assert again.controller.memory == strategy.controller.memory
    assert again.controller.records == strategy.controller.records


def test_enas_counts_the_regulariser_start_in_epochs() -> None:
    params = EnasParams(memorise=True, controller_steps=30)
    config = params.controller()
    assert config.memory_size == 10_000 and config.memory_batch == 100
    assert config.memory_fill_start == 5 * 30 and config.memory_start == 10 * 30
    assert EnasParams().controller().memory_size == 0
