"""The supernet handle on real data (scikit-learn digits): determinism, exact resume, DARTS's
second-order gradient against autograd, batch-norm modes, data streams, the cost clock."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nasbench.spaces.nb201 import Nb201Space

from nasbench.store import decode_state, encode_state
from nasbench.testing.supernet import supernet_contexts
from nasbench.training.recipe import TrainingRecipe

SIZE = {"C": 4, "N": 1}
RECIPE = TrainingRecipe(batch_size=32, lr=0.05, momentum=0.9, weight_decay=3e-4,
                        nesterov=False, grad_clip=5.0)


@pytest.fixture(scope="module")
def make_handle():
    make_context = supernet_contexts(Nb201Space(), "digits", size=SIZE, train_samples=512)

    def make(recipe: TrainingRecipe = RECIPE, steps: int = 100):
        handle = make_context().supernet
        handle.configure(recipe, steps)
        return handle

    return make


def _train(handle, steps: int, rng: np.random.Generator) -> list[float]:
    space = Nb201Space()
    alpha = [torch.zeros(6, 5)]
    losses = []
    for i in range(steps):
        batch = handle.batch("w", 32)
        if i % 2:
            losses.append(handle.train_step(batch, alpha=alpha))
        else:
            losses.append(handle.train_step(batch, arch=space.sample(rng)))
    return losses


def _weights(handle) -> dict[str, torch.Tensor]:
    return handle.model.state_dict()


def test_same_seed_same_training_and_resume_is_exact(make_handle) -> None:
    a, b = make_handle(), make_handle()
    assert _train(a, 6, np.random.default_rng(0)) == _train(b, 6, np.random.default_rng(0))
    for k, v in _weights(a).items():
        assert torch.equal(v, _weights(b)[k]), k

    snapshot = decode_state(encode_state(a.state_dict()))  # as a checkpoint file holds it
    tail_a = _train(a, 8, np.random.default_rng(1))
    c = make_handle()
    c.load_state_dict(snapshot)
    assert _train(c, 8, np.random.default_rng(1)) == tail_a
    for k, v in _weights(a).items():
        assert torch.equal(v, _weights(c)[k]), k


def test_streams_are_seeded_permutations(make_handle) -> None:
    handle = make_handle()
    n = handle.splits["w"]
    per_pass = n // 32
    assert handle.steps_per_epoch("w", 32) == per_pass
    _, y_all = handle._data["w"]
    seen = torch.cat([handle.batch("w", 32)[1] for _ in range(per_pass)])
    # one pass draws every example at most once: as many of each label as the split holds
    assert seen.numel() == per_pass * 32
    assert (torch.bincount(seen, minlength=10) <= torch.bincount(y_all, minlength=10)).all()
    assert handle.splits["w"] + handle.splits["alpha"] == handle.splits["train"] == 512


def test_second_order_gradient_matches_autograd() -> None:
    """The finite-difference Hessian-vector product gives the gradient of the loss after one
    unrolled SGD step, which autograd computes exactly through the step.

    Checked on the ENAS recurrent supernet on MNIST-1D, which has no batch norm: with batch
    statistics (NAS-Bench-201's cells) the loss's second derivatives jump wherever a unit
    crosses a ReLU, and a finite difference at DARTS's step size does not converge to them.
    """
    from nasbench.spaces.enas_rnn import EnasRnnParams, EnasRnnSpace

    space = EnasRnnSpace(EnasRnnParams(nodes=3))
    recipe = TrainingRecipe(batch_size=32, lr=0.1, momentum=0.0, weight_decay=0.0,
                            nesterov=False, schedule="constant")
    handle = supernet_contexts(space, "mnist1d", size={"hidden": 8, "highway": False},
                               train_samples=256)().supernet
    handle.configure(recipe, 100)
    rng = np.random.default_rng(0)
    for _ in range(4):
        handle.train_step(handle.batch("w", 32), arch=space.sample(rng))
    torch.manual_seed(0)
    alpha = [(0.5 * torch.randn(*shape)).requires_grad_() for shape in
             space.relaxation_shapes()]
    w_batch, a_batch = handle.batch("w", 16), handle.batch("alpha", 16)
    handle.alpha_gradient(alpha, a_batch, order=1)
    first = [a.grad.clone() for a in alpha]
    handle.alpha_gradient(alpha, a_batch, w_batch=w_batch, order=2, xi=0.0)
    for a, f in zip(alpha, first, strict=True):
        assert torch.allclose(a.grad, f, atol=1e-7)
    handle.alpha_gradient(alpha, a_batch, w_batch=w_batch, order=2, xi=0.1)
    second = [a.grad.clone() for a in alpha]

    model = handle.model
    names = [n for n, _ in model.named_parameters()]
    params = list(model.parameters())
    handle.supernet.set_relaxation([torch.softmax(a, -1) for a in alpha])
    loss_w = torch.nn.functional.cross_entropy(model(w_batch[0]), w_batch[1])
    grads = torch.autograd.grad(loss_w, params, create_graph=True, allow_unused=True)
    unrolled = {n: p - 0.1 * (g if g is not None else 0)
                for n, p, g in zip(names, params, grads, strict=True)}
    loss_a = torch.nn.functional.cross_entropy(
        torch.func.functional_call(model, unrolled, (a_batch[0],)), a_batch[1])
    exact = torch.autograd.grad(loss_a, alpha)
    implicit = _norm([e - f for e, f in zip(exact, first, strict=True)])
    error = _norm([s - e for s, e in zip(second, exact, strict=True)])
    assert implicit > 1e-5  # the unrolled step matters ...
    assert error < 0.1 * implicit  # ... and the approximation gets it


def _norm(tensors: list[torch.Tensor]) -> float:
    return float(torch.sqrt(sum((t * t).sum() for t in tensors)))


def test_second_order_passes_leave_weights_and_statistics(make_handle) -> None:
    handle = make_handle()
    _train(handle, 4, np.random.default_rng(2))
    alpha = [(0.5 * torch.randn(6, 5)).requires_grad_()]
    w_batch, a_batch = handle.batch("w", 32), handle.batch("alpha", 32)
    before = {k: v.clone() for k, v in _weights(handle).items()}
    momentum = {k: v.clone() for k, v in handle.state_dict()["optimizer"]["state"][0].items()}
    handle.alpha_gradient(alpha, a_batch, w_batch=w_batch, order=2)
    for k, v in _weights(handle).items():
        assert torch.equal(v, before[k]), k
    after = handle.state_dict()["optimizer"]["state"][0]
    assert all(torch.equal(v, after[k]) for k, v in momentum.items())
    assert torch.isfinite(alpha[0].grad).all() and alpha[0].grad.abs().sum() > 0


def test_batch_norm_modes_measure_differently_and_leave_statistics(make_handle) -> None:
    handle = make_handle()
    _train(handle, 80, np.random.default_rng(3))
    before = {k: v.clone() for k, v in _weights(handle).items()}
    x, y = handle._data["valid"]
    batches = handle.eval_batches(x, y)
    archs = [Nb201Space().sample(np.random.default_rng(i)) for i in range(4)]
    scores = {bn: handle.accuracy(archs, batches, bn=bn)
              for bn in ("running", "batch", "reestimate")}
    for k, v in _weights(handle).items():
        assert torch.equal(v, before[k]), k
    assert scores["running"] != scores["reestimate"]
    assert all(0.0 <= s <= 100.0 for v in scores.values() for s in v)
    # Statistics re-estimated on each path suit it better than the statistics shared by all
    # paths, and the supernet beats chance (10%) clearly.
    assert np.mean(scores["reestimate"]) > np.mean(scores["running"])
    assert np.mean(scores["reestimate"]) > 20.0
    assert handle.accuracy(archs, batches, bn="running") == scores["running"]


def test_clock_counts_time_in_the_handle(make_handle) -> None:
    handle = make_handle()
    start = handle.seconds
    _train(handle, 3, np.random.default_rng(4))
    middle = handle.seconds
    assert middle > start
    handle.batch("valid", 32)  # drawing data costs no supernet time
    assert handle.seconds == middle


def test_misuse_is_refused(make_handle) -> None:
    handle = make_handle()
    batch = handle.batch("w", 32)
    with pytest.raises(ValueError, match="exactly one"):
        handle.train_step(batch)
    with pytest.raises(ValueError, match="w_batch"):
        handle.alpha_gradient([torch.zeros(6, 5, requires_grad=True)], batch, order=2)
    with pytest.raises(KeyError, match="splits"):
        handle.batch("test", 32)
    fresh = supernet_contexts(Nb201Space(), "digits", size=SIZE, train_samples=512)().supernet
    with pytest.raises(RuntimeError, match="configure"):
        fresh.train_step(batch, arch=(0,) * 6)


def test_flops_are_charged_by_the_rules_of_stand_alone_training() -> None:
    """With cost_unit = "flops", a pass costs what the lightning evaluator charges for the
    same network: forward MACs x 3 when it trains the shared weights, x 2 when it is
    differentiated for the architecture only, x 1 when it measures; a relaxation pays for
    every operation it computes. No clock is involved, so the counts are exact."""
    make_context = supernet_contexts(Nb201Space(), "digits", size=SIZE, train_samples=512,
                                     cost_unit="flops")
    handle = make_context().supernet
    handle.configure(RECIPE, 100)
    space = Nb201Space()
    arch = space.from_string("|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|"
                             "nor_conv_1x1~0|none~1|nor_conv_3x3~2|")
    macs = handle.network_cost(arch, "flops")  # one example's forward MACs, stand-alone
    assert handle.cost == handle.flops == 0
    handle.train_step(handle.batch("w", 32), arch=arch)
    assert handle.flops == 3 * macs * 32
    assert handle.seconds > 0  # measured beside

    one_hot = torch.zeros(6, 5)
    for edge, op in enumerate(arch):
        one_hot[edge, op] = 1.0
    before = handle.flops
    handle.mixture_gradient([one_hot], handle.batch("alpha", 32), need_grad=True)
    assert handle.flops - before == 2 * macs * 32  # one path computed, no weight gradient

    before = handle.flops
    handle.accuracy([arch], [handle.batch("valid", 16)] * 2)
    assert handle.flops - before == macs * 32

    # the relaxation computes every operation but none: the sum over edges of each
    # operation's own cost, on top of what every cell network shares
    everything = [torch.zeros(6, 5)]
    before = handle.flops
    handle.alpha_gradient([torch.zeros(6, 5, requires_grad=True)], handle.batch("alpha", 32))
    relaxed = (handle.flops - before) / (2 * 32)
    none = handle.network_cost(tuple(0 for _ in arch), "flops")  # op 0 is none
    per_op = [[handle.network_cost(tuple(op if e == edge else 0 for e in range(6)), "flops")
               - none for op in range(5)] for edge in range(6)]
    assert relaxed == none + sum(map(sum, per_op))
    before = handle.flops
    handle.train_step(handle.batch("w", 32), alpha=everything)
    assert handle.flops - before == 3 * relaxed * 32
    assert handle.cost == float(handle.flops)


def test_cost_is_measured_seconds_by_default_and_units_are_checked(make_handle) -> None:
    handle = make_handle()
    _train(handle, 2, np.random.default_rng(5))
    assert handle.cost == handle.seconds > 0 and handle.flops == 0
    from nasbench.supernet.handle import SupernetHandle

    with pytest.raises(ValueError, match="seconds or flops, not 'epochs'"):
        SupernetHandle(Nb201Space(), None, None, seed=0, threads=1,  # type: ignore[arg-type]
                       cost_unit="epochs")


@pytest.mark.parametrize(("space_name", "dataset", "size"), [
    ("darts", "digits", {"C": 4, "layers": 2}),
    ("mlp", "digits", None),  # layers on slices of the widest weights, counted by the supernet
    ("enas_rnn", "kjv", None),  # a language model: token ids in, one step per token
])
def test_a_single_path_is_charged_what_its_stand_alone_network_costs(
        space_name, dataset, size) -> None:
    from nasbench.registry import load_plugins

    space = load_plugins().spaces.get(space_name)()
    make_context = supernet_contexts(space, dataset, size=size or space.supernet_size_defaults(),
                                     train_samples=256, cost_unit="flops")
    handle = make_context().supernet
    handle.configure(TrainingRecipe(batch_size=8), 10)
    for seed in (0, 1):
        arch = space.sample(np.random.default_rng(seed))
        before = handle.flops
        handle.train_step(handle.batch("w", 8), arch=arch)
        assert handle.flops - before == 3 * 8 * handle.network_cost(arch, "flops") > 0
