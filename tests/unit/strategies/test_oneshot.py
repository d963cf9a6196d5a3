"""ENAS, DARTS and RSWS on supernets trained on scikit-learn digits: published settings,
what each proposes, answers, divergence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nasbench.spaces.darts import DartsSpace
from nasbench.spaces.nb201 import Nb201Space
from nasbench.strategies.controller import ControllerConfig
from nasbench.strategies.darts import Darts, DartsParams
from nasbench.strategies.enas import Enas, EnasParams
from nasbench.strategies.rsws import RandomSearchWeightSharing, RswsParams

from nasbench.api import Observation
from nasbench.testing.supernet import supernet_contexts

SMALL = {"epochs": 1, "batch_size": 32, "report_every": 0.5}


@pytest.fixture(scope="module")
def nb201_context():
    return supernet_contexts(Nb201Space(), "digits", size={"C": 4, "N": 1},
                             train_samples=256)


def _start(cls, params, space, make_context, seed: int = 0):
    strategy = cls(params)
    strategy.setup(space, np.random.default_rng(seed), make_context())
    return strategy


def test_enas_controller_presets_are_the_code_and_the_paper() -> None:
    code = EnasParams().controller()
    assert code == ControllerConfig(hidden_size=64, num_layers=1, init_range=0.1,
                                    learning_rate=0.0035, temperature=1.0, tanh_constant=1.1,
                                    entropy_weight=1e-4, baseline_decay=0.99)
    paper = EnasParams(hyperparameters="paper").controller()
    assert (paper.hidden_size, paper.learning_rate, paper.tanh_constant, paper.temperature) == (
        100, 0.00035, 2.5, 5.0)
    mixed = EnasParams(hyperparameters="paper", controller_lr=0.01).controller()
    assert mixed.learning_rate == 0.01 and mixed.hidden_size == 100


def test_enas_trains_its_controller_after_every_epoch(nb201_context) -> None:
    params = EnasParams(**{**SMALL, "epochs": 2, "report_every": 1.0}, controller_steps=3,
                        controller_aggregate=2, final_samples=2)
    enas = _start(Enas, params, Nb201Space(), nb201_context)
    before = [p.clone() for p in enas.controller.state_dict()["core"]]
    trials = [enas.ask(), enas.ask()]
    assert enas.ask() is None  # two epochs, one proposal per epoch
    assert enas.controller.updates == 2 * 3
    after = enas.controller.state_dict()["core"]
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert enas.recommend() == trials[-1].arch


def test_darts_proposes_the_derivation_of_its_architecture_weights(nb201_context) -> None:
    space = Nb201Space()
    darts = _start(Darts, DartsParams(**SMALL), space, nb201_context)
    start = [a.detach().clone() for a in darts.alpha]
    trial = darts.ask()
    weights = darts.weights()
    assert trial.arch == space.derive(weights) == tuple(int(r.argmax()) for r in weights[0])
    assert not torch.equal(darts.alpha[0], start[0])  # alpha moved ...
    assert darts.supernet.seconds > 0  # ... and so did the shared weights, on the clock
    second = _start(Darts, DartsParams(**SMALL, order=2), space, nb201_context)
    assert space.is_valid(second.ask().arch)
    assert not torch.equal(second.alpha[0], darts.alpha[0])


def test_darts_on_the_darts_space_derives_valid_cells() -> None:
    space = DartsSpace()
    make_context = supernet_contexts(space, "digits", size={"C": 4, "layers": 3},
                                     train_samples=128)
    darts = _start(Darts, DartsParams(epochs=1, batch_size=16, report_every=1.0), space,
                   make_context)
    arch = darts.ask().arch
    space.validate(arch)
    assert [s for s in space.relaxation_shapes()] == [tuple(a.shape) for a in darts.alpha]
    assert "none" not in space.to_string(arch)


def test_rsws_answer_is_the_best_candidate_on_shared_weights(nb201_context) -> None:
    params = RswsParams(**SMALL, candidates=6, rank_batches=2)
    rsws = _start(RandomSearchWeightSharing, params, Nb201Space(), nb201_context)
    state = rsws.state_dict()
    rng_state = rsws.rng.bit_generator.state
    arch = rsws.ask().arch
    # Replay the ranking from the same state: the answer has the best shared-weight accuracy.
    other = _start(RandomSearchWeightSharing, params, Nb201Space(), nb201_context)
    other.load_state_dict(state)
    other.rng.bit_generator.state = rng_state
    for _ in range(other.report_steps):
        other.train_step()
    other.step = other.report_steps
    candidates = [other.space.sample(other.rng) for _ in range(6)]
    batches = [other.supernet.batch("alpha", 32) for _ in range(2)]
    scores = other.supernet.accuracy(candidates, batches)
    assert arch in candidates
    assert scores[candidates.index(arch)] == max(scores)


def test_best_observed_selection_keeps_the_best_proposal(nb201_context) -> None:
    params = RswsParams(**SMALL, candidates=3, rank_batches=1, select="best_observed")
    rsws = _start(RandomSearchWeightSharing, params, Nb201Space(), nb201_context)
    first, second = rsws.ask(), rsws.ask()
    rsws.tell(first, Observation(90.0, 1.0))
    rsws.tell(second, Observation(None, 1.0, "failed"))
    assert rsws.recommend() == first.arch
    last = RandomSearchWeightSharing(RswsParams(**SMALL, candidates=3, rank_batches=1))
    last.setup(Nb201Space(), np.random.default_rng(0), nb201_context())
    trials = [last.ask(), last.ask()]
    assert last.recommend() == trials[-1].arch


def test_a_diverging_supernet_ends_the_run(nb201_context) -> None:
    params = DartsParams(**{**SMALL, "report_every": 0.25}, w_lr=1e9, grad_clip=0.0)
    darts = _start(Darts, params, Nb201Space(), nb201_context)
    asked = [darts.ask() for _ in range(4)]
    assert None in asked
    assert "became" in darts.stopped
    assert darts.ask() is None


@pytest.mark.parametrize(("cls", "params"), [
    (Enas, EnasParams(**SMALL, controller_steps=2, controller_aggregate=2, final_samples=2)),
    (Darts, DartsParams(**SMALL)),
    (RandomSearchWeightSharing, RswsParams(**SMALL, candidates=3, rank_batches=1)),
], ids=["enas", "darts", "rsws"])
def test_one_shot_strategies_conform_on_the_recurrent_space(cls, params, rnn_context) -> None:
    """ENAS's own recurrent cell on MNIST-1D sequences: a shared matrix per pair of nodes."""
    from nasbench.testing import check_strategy

    space, make_context = rnn_context
    check_strategy(cls, space, params=params, n_trials=2, split=1, make_context=make_context)


@pytest.fixture(scope="module")
def rnn_context():
    from nasbench.spaces.enas_rnn import EnasRnnParams, EnasRnnSpace

    space = EnasRnnSpace(EnasRnnParams(nodes=4))
    return space, supernet_contexts(space, "mnist1d", size={"hidden": 16}, train_samples=256)
