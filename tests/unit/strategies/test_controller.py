"""The LSTM controller: a proper policy over any decision walk, exact log-probabilities, and a
policy-gradient step that learns on real data."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch
from nasbench.spaces.nb201 import Nb201Space
from nasbench.spaces.nbgraph import NbGraphSpace
from nasbench.strategies.controller import ControllerConfig, LstmController, _Adam


def test_samples_follow_the_decision_walk_of_fixed_and_conditional_spaces(layered_space):
    for space in (Nb201Space(), NbGraphSpace(), layered_space):
        controller = LstmController(space, np.random.default_rng(0))
        for _ in range(50):
            space.validate(controller.sample())
    depths = Counter(controller.sample()[0] for _ in range(300))
    assert set(depths) == {0, 1, 2}, "every depth of the conditional space is reachable"


def test_the_policy_is_a_distribution_over_a_conditional_space(layered_space):
    controller = LstmController(layered_space, np.random.default_rng(1),
                                ControllerConfig(init_range=1.0))
    archs = list(layered_space.enumerate())
    with torch.no_grad():
        log_prob, _ = controller.log_prob_and_entropy(archs)
    assert math.isclose(float(log_prob.double().exp().sum()), 1.0, rel_tol=1e-4)


@pytest.mark.parametrize("space_fixture", ["layered_space", "excluding_space"])
def test_sampling_frequencies_match_the_recomputed_probabilities(space_fixture, request):
    """The numpy sampler and the torch log-probabilities describe the same policy, also where
    decisions exclude choices."""
    space = request.getfixturevalue(space_fixture)
    controller = LstmController(space, np.random.default_rng(2),
                                ControllerConfig(init_range=1.0))
    n = 5_000
    counts = Counter(controller.sample() for _ in range(n))
    archs = sorted(counts, key=counts.get, reverse=True)[:6]
    with torch.no_grad():
        probs = controller.log_prob_and_entropy(archs)[0].exp().tolist()
    for arch, p in zip(archs, probs, strict=True):
        assert abs(counts[arch] / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-3, arch


def test_batched_log_probabilities_equal_one_sequence_at_a_time(layered_space):
    controller = LstmController(layered_space, np.random.default_rng(3),
                                ControllerConfig(temperature=2.0, tanh_constant=1.5))
    archs = [controller.sample() for _ in range(12)]
    assert len({len(a) for a in archs}) > 1, "the batch must mix lengths"
    with torch.no_grad():
        batch_lp, batch_h = controller.log_prob_and_entropy(archs)
        for k, arch in enumerate(archs):
            lp, h = controller.log_prob_and_entropy([arch])
            assert torch.allclose(batch_lp[k], lp[0], atol=1e-5)
            assert torch.allclose(batch_h[k], h[0], atol=1e-5)


def test_entropy_is_the_summed_entropy_of_the_decisions_taken():
    space = Nb201Space()
    controller = LstmController(space, np.random.default_rng(4))
    with torch.no_grad():
        _, entropy = controller.log_prob_and_entropy([controller.sample()])
    # Small uniform weights: every softmax is nearly uniform over 5 operations.
    assert float(entropy[0]) == pytest.approx(6 * math.log(5), rel=1e-2)


def test_hand_written_adam_equals_torch_adam():
    torch.manual_seed(0)
    start = [torch.randn(4, 3), torch.randn(3)]
    ours = [torch.nn.Parameter(t.clone()) for t in start]
    theirs = [torch.nn.Parameter(t.clone()) for t in start]
    mine = _Adam(0.01)
    mine.add(ours)
    reference = torch.optim.Adam(theirs, lr=0.01)
    for step in range(20):
        grads = [torch.randn_like(t) for t in start]
        for q, g in zip(theirs, grads, strict=True):
            q.grad = g.clone()
        ours_grads: list = [g.numpy().copy() for g in grads]
        if step % 5 == 4:  # a parameter without a gradient must not advance its step count
            ours_grads[1] = theirs[1].grad = None
        mine.step(ours_grads)
        reference.step()
    for p, q in zip(ours, theirs, strict=True):
        assert torch.allclose(p, q, atol=1e-6)


def _autograd_gradients(controller: LstmController, archs, w_logp, w_entropy):
    """torch's gradients of sum_k w_logp[k] log P(arch_k) + w_entropy[k] H(arch_k), in the
    optimiser's order (None where autograd leaves a tensor without a gradient)."""
    log_prob, entropy = controller.log_prob_and_entropy(archs)
    loss = (log_prob * torch.from_numpy(w_logp)).sum() \
        + (entropy * torch.from_numpy(w_entropy)).sum()
    for p in controller._optimizer.params:
        p.grad = None
    loss.backward()
    return log_prob.detach().numpy(), entropy.detach().numpy(), [
        None if p.grad is None else p.grad.numpy() for p in controller._optimizer.params]


@pytest.mark.parametrize("case", ["nb201", "shaped", "layered", "excluding"])
def test_numpy_gradients_equal_autograd(case, layered_space, excluding_space):
    """The hand-written back-propagation through time gives torch's log-probabilities,
    entropies and gradients, with logit shaping, excluded choices and sequences of different
    lengths in one batch."""
    from nasbench.strategies.controller_grad import log_prob_entropy_grad

    space, config = {
        "nb201": (Nb201Space(), ControllerConfig()),
        "shaped": (Nb201Space(), ControllerConfig(temperature=5.0, tanh_constant=2.5,
                                                  num_layers=1, hidden_size=16)),
        "layered": (layered_space, ControllerConfig(num_layers=3)),
        "excluding": (excluding_space, ControllerConfig(tanh_constant=1.1)),
    }[case]
    controller = LstmController(space, np.random.default_rng(3), config)
    archs = [controller.sample() for _ in range(12)]
    if case in ("layered", "excluding"):
        assert len({len(a) for a in archs}) > 1  # the batch mixes lengths
    rng = np.random.default_rng(4)
    w_logp = rng.normal(size=12).astype(np.float32)
    w_entropy = rng.normal(size=12).astype(np.float32)
    lp, ent, grads = log_prob_entropy_grad(controller, archs, w_logp, w_entropy)
    ref_lp, ref_ent, ref_grads = _autograd_gradients(controller, archs, w_logp, w_entropy)
    np.testing.assert_allclose(lp, ref_lp, atol=2e-5)
    np.testing.assert_allclose(ent, ref_ent, atol=2e-5)
    ours = [grads.start, *(g for cell in grads.cells for g in cell)]
    for name in controller._heads:
        ours.extend(grads.heads.get(name, [None, None, None]))
    assert len(ours) == len(ref_grads)
    for mine, ref in zip(ours, ref_grads, strict=True):
        assert (mine is None) == (ref is None)
        if ref is not None:
            scale = max(float(np.abs(ref).max()), 1e-6)
            np.testing.assert_allclose(mine, ref, atol=1e-5 * scale)


def test_the_memorisation_term_gradient_equals_autograd(layered_space):
    """A reinforce step with the memorisation regulariser on moves the weights as torch's
    gradient of the same loss, fed to the same optimiser, does."""
    config = ControllerConfig(learning_rate=0.01, entropy_weight=0.1, memory_size=50,
                              memory_batch=10, memory_weight=0.5)
    ours = LstmController(layered_space, np.random.default_rng(8), config)
    theirs = LstmController(layered_space, np.random.default_rng(8), config)
    for step in range(3):
        archs = [ours.sample() for _ in range(6)]
        assert [theirs.sample() for _ in range(6)] == archs
        rewards = [float(len(a)) + 0.1 * step for a in archs]
        ours.reinforce(archs, rewards)
        # The same update through autograd: identical baseline, replay draw and optimiser.
        if not theirs.baseline.ready:
            theirs.baseline.update(sum(rewards) / len(rewards))
        b = theirs.baseline.value()
        adv = np.array([r - b for r in rewards], np.float32)
        log_prob, entropy = theirs.log_prob_and_entropy(archs)
        loss = -(log_prob * torch.from_numpy(adv)).mean() - 0.1 * entropy.mean()
        replay = theirs._replay()
        if replay:
            loss = loss - 0.5 * theirs.log_prob_and_entropy(replay)[0].mean()
        for p in theirs._optimizer.params:
            p.grad = None
        loss.backward()
        theirs._optimizer.step([None if p.grad is None else p.grad.numpy()
                                for p in theirs._optimizer.params])
        for r in rewards:
            theirs.baseline.update(r)
        theirs.updates += 1
        assert step < 2 or replay  # the replay term is on by the last step
    for p, q in zip(ours._optimizer.params, theirs._optimizer.params, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-5)


def test_policy_gradient_steps_raise_the_reward_of_samples_on_nb201(nb201_valid):
    space = Nb201Space()
    controller = LstmController(space, np.random.default_rng(5),
                                ControllerConfig(learning_rate=0.01))
    rewards = []
    for _ in range(60):
        archs = [controller.sample() for _ in range(8)]
        batch = [nb201_valid(a) for a in archs]
        rewards.extend(batch)
        controller.reinforce(archs, batch)
    first, last = np.mean(rewards[:80]), np.mean(rewards[-80:])
    assert last > first + 5.0, (first, last)


def test_state_dict_restores_the_policy_exactly(layered_space):
    rng = np.random.default_rng(6)
    a = LstmController(layered_space, rng, ControllerConfig(learning_rate=0.05))
    for _ in range(3):
        archs = [a.sample() for _ in range(4)]
        a.reinforce(archs, [float(len(x)) for x in archs])
    state, rng_state = a.state_dict(), rng.bit_generator.state
    b = LstmController(layered_space, np.random.default_rng(99),
                       ControllerConfig(learning_rate=0.05))
    b.load_state_dict(state)
    b.rng.bit_generator.state = rng_state
    for _ in range(3):
        archs_a = [a.sample() for _ in range(4)]
        archs_b = [b.sample() for _ in range(4)]
        assert archs_a == archs_b
        a.reinforce(archs_a, [float(len(x)) for x in archs_a])
        b.reinforce(archs_b, [float(len(x)) for x in archs_b])
    for p, q in zip(a.state_dict()["core"], b.state_dict()["core"], strict=True):
        assert torch.equal(p, q)


def test_a_decision_that_changes_its_choices_is_refused():
    from nasbench.api import Decision

    class Inconsistent(Nb201Space):
        def next_decision(self, prefix):
            if len(prefix) >= 2:
                return None
            return Decision("same_name", ("a", "b") if not prefix else ("a", "b", "c"))

    controller = LstmController(Inconsistent(), np.random.default_rng(0))
    with pytest.raises(ValueError, match="must keep its choices"):
        controller.sample()


def test_draws_again_when_the_space_rejects_a_sequence(constrained_space):
    """Sequences the walk allows but the space's rules refuse are never returned."""
    controller = LstmController(constrained_space, np.random.default_rng(7),
                                ControllerConfig(init_range=1.0))
    archs = [controller.sample() for _ in range(200)]
    assert all(constrained_space.is_valid(a) for a in archs)
    assert any(a[0] > 0 for a in archs), "multi-layer networks, where the rule bites, occur"


def test_excluded_choices_get_no_probability(excluding_space, constrained_space):
    """Where the walk says which choices an earlier one rules out, the policy never draws
    them: every walk ends in a valid architecture, and the probabilities of the valid
    architectures sum to one."""
    controller = LstmController(excluding_space, np.random.default_rng(8),
                                ControllerConfig(init_range=1.0))
    drawn = [controller._sample_sequence() for _ in range(300)]
    assert all(excluding_space.is_valid(a) for a in drawn)
    assert any(a[0] > 0 for a in drawn), "multi-layer networks, where the rule bites, occur"
    archs = list(excluding_space.enumerate())
    assert sorted(archs) == sorted(constrained_space.enumerate())
    with torch.no_grad():
        log_prob, entropy = controller.log_prob_and_entropy(archs)
    assert math.isclose(float(log_prob.double().exp().sum()), 1.0, rel_tol=1e-4)
    assert torch.isfinite(entropy).all()


def test_every_controller_walk_on_darts_is_a_valid_cell():
    from nasbench.spaces.darts import DartsSpace

    space = DartsSpace()
    controller = LstmController(space, np.random.default_rng(10),
                                ControllerConfig(init_range=1.0))
    cells = [controller._sample_sequence() for _ in range(100)]
    assert all(space.is_valid(c) for c in cells)
    loss = controller.reinforce(cells[:8], [float(i) for i in range(8)])
    assert math.isfinite(loss)
