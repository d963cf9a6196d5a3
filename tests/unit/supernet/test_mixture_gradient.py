"""The supernet handle's relaxation with given mixing weights: a one-hot row runs exactly the
path's operation, its training step is the path's, an accumulated step equals an immediate
one, and network costs are the stand-alone network's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nasbench.spaces.nb201 import OPS, Nb201Space

from nasbench.netstats import count_params
from nasbench.testing.supernet import supernet_contexts
from nasbench.training.recipe import TrainingRecipe

ARCH = (3, 1, 4, 0, 2, 3)
RECIPE = TrainingRecipe(batch_size=32, lr=0.05, momentum=0.9, weight_decay=3e-4, grad_clip=5.0)


@pytest.fixture(scope="module")
def make_handle():
    make = supernet_contexts(Nb201Space(), "digits", size={"C": 4, "N": 1}, train_samples=256)

    def handle():
        h = make().supernet
        h.configure(RECIPE, 10)
        return h

    return handle


def _one_hot(arch) -> list[torch.Tensor]:
    return [torch.nn.functional.one_hot(torch.tensor(arch), len(OPS)).float()]


def _weights(handle) -> list[torch.Tensor]:
    return [p.detach().clone() for p in handle.model.parameters()]


def test_one_hot_weights_train_exactly_the_path(make_handle) -> None:
    path, mixture = make_handle(), make_handle()
    batch = path.batch("w", 32)
    loss_path = path.train_step(batch, arch=ARCH)
    loss_mix, grads = mixture.mixture_gradient(_one_hot(ARCH), batch, train=True)
    assert loss_mix == pytest.approx(loss_path, rel=1e-6)
    for a, b in zip(_weights(path), _weights(mixture), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    # Undifferentiated one-hot weights run as the path itself: bit for bit.
    hard = make_handle()
    assert hard.train_step(batch, weights=_one_hot(ARCH)) == loss_path
    for a, b in zip(_weights(path), _weights(hard), strict=True):
        assert torch.equal(a, b)
    relaxed = make_handle()
    relaxed.supernet.set_relaxation([_one_hot(ARCH)[0] * 0.5 + 0.1])  # not one-hot
    assert all(cell._relaxation is not None for cell in relaxed.supernet._mixed_cells)
    (g,) = grads
    assert g.shape == (6, len(OPS)) and g.abs().sum() > 0


def test_unsampled_weights_get_their_nodes_output_gradient(make_handle) -> None:
    """As NAS-Bench-201's released forward_gdas: an unsampled operation is not computed, but
    its weight (zero) is added to its edge's output, so its gradient is the sum of the
    node's output gradient, equal for every unsampled weight of the edges into one node."""
    from nasbench.spaces.nb201 import EDGES

    handle = make_handle()
    arch = (3, 1, 4, 0, 2, 3)  # edge (0, 3) samples none
    _, (g,) = handle.mixture_gradient(_one_hot(arch), handle.batch("alpha", 32))
    sampled = _one_hot(arch)[0].bool()
    per_node = {}
    for e, (_, j) in enumerate(EDGES):
        unsampled = g[e][~sampled[e]]
        assert torch.allclose(unsampled, unsampled[0].expand_as(unsampled))
        per_node.setdefault(j, []).append(float(unsampled[0]))
    for j, values in per_node.items():
        assert values == pytest.approx([values[0]] * len(values), rel=1e-5), j
        assert values[0] != 0
    assert len({round(v[0], 9) for v in per_node.values()}) == 3
    assert g[3, OPS.index("none")] == 0  # a sampled none multiplies zeros: no gradient


def test_accumulated_step_equals_immediate_step_and_values_match(make_handle) -> None:
    now, later = make_handle(), make_handle()
    batch = now.batch("w", 32)
    soft = [torch.softmax(torch.from_numpy(np.random.default_rng(0).standard_normal((6, 5)))
                          .float(), dim=-1)]
    value_now, grads_now = now.mixture_gradient(soft, batch, train=True)
    value_later, grads_later = later.mixture_gradient(soft, batch, accumulate=True)
    later.step_weights()
    assert value_now == value_later and torch.equal(grads_now[0], grads_later[0])
    for a, b in zip(_weights(now), _weights(later), strict=True):
        assert torch.equal(a, b)
    plain, none = now.mixture_gradient(soft, batch, need_grad=False)
    with_grad, _ = now.mixture_gradient(soft, batch)
    assert none is None and plain == pytest.approx(with_grad, rel=1e-6)


def test_network_cost_is_the_standalone_networks(make_handle) -> None:
    handle = make_handle()
    network = Nb201Space().build(ARCH, input_shape=handle.input_shape, num_classes=10,
                                 C=4, N=1)
    assert handle.network_cost(ARCH, "params") == count_params(network)
    assert handle.network_cost(ARCH, "flops") > handle.network_cost((0,) * 6, "flops")
    with pytest.raises(ValueError, match="available: params, flops"):
        handle.network_cost(ARCH, "latency")
