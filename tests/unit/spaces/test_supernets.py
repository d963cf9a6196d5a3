"""The supernets of nb201, darts and enas_rnn on real data: one path is the stand-alone
network, the relaxation mixes operations, derivation follows each space's published rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nasbench.spaces.darts import PRIMITIVES, DartsParams, DartsSpace
from nasbench.spaces.enas_rnn import ACTIVATIONS, EnasRnnParams, EnasRnnSpace
from nasbench.spaces.nb201 import EDGES, OPS, Nb201Space

from nasbench.errors import ConfigError

NB201_SIZE = {"C": 4, "N": 1}
DARTS_SIZE = {"C": 4, "layers": 3, "pool_bn": False}


def _spaces() -> list[tuple[str, object, dict, str]]:
    return [
        ("nb201", Nb201Space(), NB201_SIZE, "digits"),
        ("darts", DartsSpace(), DARTS_SIZE, "digits"),
        ("darts_with_none", DartsSpace(DartsParams(allow_none=True)), DARTS_SIZE, "digits"),
        ("enas_rnn", EnasRnnSpace(EnasRnnParams(nodes=5)), {"hidden": 16}, "mnist1d"),
    ]


def _data(kind: str, digits, mnist1d) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
    if kind == "digits":
        x, y = digits
        return x[:64], y[:64], (1, 8, 8)
    x, y = mnist1d
    return x[:64, :, None], y[:64], (40, 1)


@pytest.mark.parametrize(("label", "space", "size", "data"), _spaces(),
                         ids=[s[0] for s in _spaces()])
def test_one_path_computes_the_standalone_network(label, space, size, data, digits, mnist1d
                                                  ) -> None:
    """Single-path equivalence: on a sampled architecture's path the supernet computes the
    function of the stand-alone network carrying the same weights, in evaluation mode (running
    statistics) and in training mode (batch statistics), bit for bit."""
    x, _, shape = _data(data, digits, mnist1d)
    torch.manual_seed(0)
    supernet = space.build_supernet(input_shape=shape, num_classes=10, **size)
    rng = np.random.default_rng(3)
    # Move the shared weights and statistics away from their initial values first.
    opt = torch.optim.SGD(supernet.parameters(), lr=0.1)
    supernet.train()
    for _ in range(3):
        supernet.set_path(space.sample(rng))
        opt.zero_grad()
        supernet(x).square().mean().backward()
        opt.step()
    for _ in range(6):
        arch = space.sample(rng)
        supernet.set_path(arch)
        network = supernet.extract(arch)
        assert type(network) is type(space.build(arch, input_shape=shape, num_classes=10,
                                                 **{k: v for k, v in size.items()
                                                    if k in space.size_defaults()}))
        supernet.eval()
        network.eval()
        with torch.no_grad():
            assert torch.equal(supernet(x), network(x)), space.to_string(arch)
            supernet.train()
            network.train()
            assert torch.equal(supernet(x), network(x)), space.to_string(arch)


@pytest.mark.parametrize(("label", "space", "size", "data"), _spaces()[:3],
                         ids=[s[0] for s in _spaces()[:3]])
def test_relaxation_with_one_hot_weights_is_the_path(label, space, size, data, digits,
                                                     mnist1d) -> None:
    """The mixed operations are right: one-hot architecture weights (every unused edge on
    ``none``) give exactly the single-path output of that architecture."""
    x, _, shape = _data(data, digits, mnist1d)
    torch.manual_seed(1)
    supernet = space.build_supernet(input_shape=shape, num_classes=10, **size).eval()
    rng = np.random.default_rng(5)
    for _ in range(4):
        arch = space.sample(rng)
        supernet.set_path(arch)
        with torch.no_grad():
            expected = supernet(x)
            supernet.set_relaxation(_one_hot(space, arch))
            assert torch.equal(supernet(x), expected), space.to_string(arch)


def _one_hot(space, arch) -> list[torch.Tensor]:
    if isinstance(space, Nb201Space):
        weights = torch.zeros(len(EDGES), len(OPS))
        weights[torch.arange(len(EDGES)), torch.tensor(arch)] = 1.0
        return [weights]
    from nasbench.spaces.darts import EDGE_OFFSETS

    out = []
    for edges in space.genotype(arch).values():
        weights = torch.zeros(14, len(PRIMITIVES))
        weights[:, PRIMITIVES.index("none")] = 1.0
        for e, (op, source) in enumerate(edges):
            row = EDGE_OFFSETS[e // 2] + source
            weights[row] = 0.0
            weights[row, PRIMITIVES.index(op)] = 1.0
        out.append(weights)
    return out


_RELAXED = [s for s in _spaces() if s[0] != "darts_with_none"]  # the same relaxation as darts


@pytest.mark.parametrize(("label", "space", "size", "data"), _RELAXED,
                         ids=[s[0] for s in _RELAXED])
def test_relaxation_trains_weights_and_architecture(label, space, size, data, digits,
                                                   mnist1d) -> None:
    """Under the relaxation the loss falls with SGD on the weights (gradient norm clipped, as
    DARTS and ENAS train), and every architecture parameter gets a finite, non-zero
    gradient."""
    x, y, shape = _data(data, digits, mnist1d)
    x, y = x[:32], y[:32]
    torch.manual_seed(2)
    supernet = space.build_supernet(input_shape=shape, num_classes=10, **size).train()
    alpha = [(1e-3 * torch.randn(*s)).requires_grad_() for s in space.relaxation_shapes()]
    opt = torch.optim.SGD(supernet.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for _ in range(6):
        supernet.set_relaxation([torch.softmax(a, -1) for a in alpha])
        loss = torch.nn.functional.cross_entropy(supernet(x), y)
        opt.zero_grad()
        for a in alpha:
            a.grad = None
        loss.backward()
        torch.nn.utils.clip_grad_norm_(supernet.parameters(), 1.0)  # recurrent cells need it
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    for a in alpha:
        assert a.grad is not None and torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0


def test_nb201_derivation_keeps_each_edges_strongest_operation() -> None:
    space = Nb201Space()
    weights = np.full((6, 5), 0.1)
    chosen = (0, 1, 3, 4, 2, 1)  # none wins edge 0: NAS-Bench-201's rule keeps it
    for e, k in enumerate(chosen):
        weights[e, k] = 0.6
    assert space.derive([weights]) == chosen
    assert space.relaxation_shapes() == ((6, 5),)


def test_darts_derivation_keeps_two_strongest_edges_without_none() -> None:
    """DARTS's genotype(): per node, each edge's strongest non-none operation; the two edges
    whose such operation is strongest, strongest first; ``none`` never chosen, even where it
    dominates."""
    space = DartsSpace()
    none = PRIMITIVES.index("none")
    normal = np.full((14, 8), 0.01)
    reduce = np.full((14, 8), 0.01)
    normal[:, none] = 0.9  # none dominates every edge: it must be ignored
    # node 2 (rows 0, 1): edge from 1 strongest (sep_conv_3x3), then from 0 (skip_connect)
    normal[0, PRIMITIVES.index("skip_connect")] = 0.3
    normal[1, PRIMITIVES.index("sep_conv_3x3")] = 0.5
    # node 3 (rows 2-4): from 2 (dil_conv_5x5) and from 0 (max_pool_3x3); 1 weaker
    normal[2, PRIMITIVES.index("max_pool_3x3")] = 0.4
    normal[3, PRIMITIVES.index("avg_pool_3x3")] = 0.2
    normal[4, PRIMITIVES.index("dil_conv_5x5")] = 0.7
    arch = space.derive([normal, reduce])
    genotype = space.genotype(arch)
    assert genotype["normal"][:4] == [("sep_conv_3x3", 1), ("skip_connect", 0),
                                      ("dil_conv_5x5", 2), ("max_pool_3x3", 0)]
    assert all(op != "none" for cell in genotype.values() for op, _ in cell)
    space.validate(arch)
    with_none = DartsSpace(DartsParams(allow_none=True))
    assert with_none.genotype(with_none.derive([normal, reduce])) == genotype


def test_enas_rnn_derivation_keeps_one_input_per_node() -> None:
    space = EnasRnnSpace(EnasRnnParams(nodes=4))
    shapes = space.relaxation_shapes()
    assert shapes == ((1, 4), (1, 4), (2, 4), (3, 4))
    weights = [np.full(s, 0.05) for s in shapes]
    weights[0][0, ACTIVATIONS.index("relu")] = 0.8
    weights[1][0, ACTIVATIONS.index("tanh")] = 0.8
    weights[2][0, ACTIVATIONS.index("sigmoid")] = 0.8  # node 3 reads node 1
    weights[3][1, ACTIVATIONS.index("identity")] = 0.8  # node 4 reads node 2
    assert space.to_string(space.derive(weights)) == "relu|1:tanh|1:sigmoid|2:identity"


def test_pool_batch_norm_supernets_refuse_extraction() -> None:
    space = DartsSpace()
    supernet = space.build_supernet(input_shape=(1, 8, 8), num_classes=10, C=4, layers=3)
    assert supernet.pool_bn  # DARTS's released search network
    with pytest.raises(ValueError, match="pool_bn"):
        supernet.extract(space.sample(np.random.default_rng(0)))


def test_unknown_supernet_size_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"size\.auxiliary"):
        DartsSpace().build_supernet(input_shape=(1, 8, 8), num_classes=10, auxiliary=True)
