"""Zero-cost proxies: published values, the published formulations, and independence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from nasbench.evaluators.proxies import (
    PASSES,
    compute_proxies,
    gradient_proxies,
    grasp,
    jacob_cov,
    jacob_cov_score,
    scored_layers,
    synflow,
    without_batch_norm,
)
from nasbench.results.scoring_sources import zc201_to_nb201
from nasbench.spaces.nb201 import Nb201Space
from scipy.stats import spearmanr
from torch import nn

ALL_PROXIES = [name for produces in PASSES.values() for name in produces]
SPACE = Nb201Space()
DENSE_CELL = ("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
              "nor_conv_1x1~2|")


def _small_network(seed: int = 0, cell: str = DENSE_CELL) -> nn.Module:
    torch.manual_seed(seed)
    return SPACE.build(SPACE.from_string(cell), input_shape=(1, 8, 8), num_classes=10, C=4, N=1)


def test_synflow_agrees_with_nas_bench_suite_zero_on_cells_across_its_range(suite_zero) -> None:
    """nasbench's synflow of the benchmark network (C=16, N=5, 32x32, 10 classes) against the
    published scores of 29 cells evenly spread over the published ranking (the whole 725 are
    in the validation study). Published synflow is the natural log of the sum; NASLib writes
    0.0 where the sum is 0, which nasbench reports as log 0 = -inf."""
    keys = sorted((k for k, r in suite_zero.items() if "synflow" in r),
                  key=lambda k: suite_zero[k]["synflow"]["score"])[::25]
    ours, published = [], []
    for i, key in enumerate(keys):
        arch = SPACE.from_string(zc201_to_nb201(key))
        torch.manual_seed(i)
        network = SPACE.build(arch, input_shape=(3, 32, 32), num_classes=10)
        ours.append(synflow(network, (3, 32, 32)))
        published.append(suite_zero[key]["synflow"]["score"])
    ours_a, published_a = np.array(ours), np.array(published)
    zero = published_a == 0.0
    assert np.all(np.isneginf(ours_a[zero])), "a cell with no synaptic flow must score log 0"
    rho = spearmanr(ours_a[~zero], published_a[~zero]).statistic
    gap = np.abs(ours_a[~zero] - published_a[~zero])
    assert rho > 0.99, f"Spearman {rho:.4f} with the published synflow"
    assert np.median(gap) < 0.1 and gap.max() < 0.75, f"log-synflow gaps {np.sort(gap)}"


def test_snip_is_the_gradient_of_a_multiplicative_mask(digits_batch) -> None:
    """The published formulation: |dL/dc| for a mask c = 1 multiplying every scored weight."""
    x, y = digits_batch
    network = _small_network()
    layers = scored_layers(network)
    snip = gradient_proxies(network, x, y)["snip"]
    masks = [torch.ones_like(layer.weight, requires_grad=True) for layer in layers]
    originals = [layer.weight for layer in layers]
    names = {id(m): n for n, m in network.named_modules()}
    masked = {f"{names[id(layer)]}.weight": w * m
              for layer, w, m in zip(layers, originals, masks, strict=True)}
    logits = torch.func.functional_call(network, masked, (x,))
    grads = torch.autograd.grad(F.cross_entropy(logits, y), masks)
    expected = sum(float(g.abs().sum()) for g in grads)
    assert snip == pytest.approx(expected, rel=1e-5)


def test_grad_norm_sums_the_norm_of_each_layer_gradient(digits_batch) -> None:
    x, y = digits_batch
    network = _small_network()
    weights = [layer.weight for layer in scored_layers(network)]
    grads = torch.autograd.grad(F.cross_entropy(network(x), y), weights)
    expected = sum(float(torch.sqrt((g.double() ** 2).sum())) for g in grads)
    assert gradient_proxies(network, x, y)["grad_norm"] == pytest.approx(expected, rel=1e-5)


def test_grasp_is_minus_weight_times_a_finite_difference_hessian_gradient(digits_batch) -> None:
    """H g by central differences of the gradient along g, in double precision, on a smooth
    network (convolution, batch norm, tanh, linear): ReLU kinks would break the differences."""
    x, y = digits_batch
    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Tanh(),
                            nn.Flatten(), nn.Linear(4 * 64, 10)).double()
    x = x.double()
    weights = [layer.weight for layer in scored_layers(network)]

    def gradient() -> list[torch.Tensor]:
        return list(torch.autograd.grad(F.cross_entropy(network(x), y), weights))

    def shift(direction: list[torch.Tensor], step: float) -> None:
        with torch.no_grad():
            for w, d in zip(weights, direction, strict=True):
                w.add_(step * d)

    score = grasp(network, x, y)
    g, eps = gradient(), 1e-4
    shift(g, eps)
    plus = gradient()
    shift(g, -2 * eps)
    minus = gradient()
    shift(g, eps)
    with torch.no_grad():
        expected = sum(float((-w * (p - m) / (2 * eps)).sum())
                       for w, p, m in zip(weights, plus, minus, strict=True))
    assert score == pytest.approx(expected, rel=1e-5)


def test_grasp_of_a_nas_bench_201_network_is_its_hessian_vector_product(digits_batch) -> None:
    x, y = digits_batch
    network = _small_network()
    weights = [layer.weight for layer in scored_layers(network)]
    names = {id(m): n for n, m in network.named_modules()}
    keys = [f"{names[id(layer)]}.weight" for layer in scored_layers(network)]

    def loss(*ws: torch.Tensor) -> torch.Tensor:
        logits = torch.func.functional_call(network, dict(zip(keys, ws, strict=True)), (x,))
        return F.cross_entropy(logits, y)

    g = torch.autograd.grad(loss(*weights), weights)
    _, hg = torch.autograd.functional.hvp(loss, tuple(w.detach() for w in weights), g)
    expected = sum(float((-w.detach() * h).sum()) for w, h in zip(weights, hg, strict=True))
    assert grasp(network, x, y) == pytest.approx(expected, rel=1e-4)


def test_fisher_of_a_linear_classifier_has_its_closed_form(digits_batch) -> None:
    """For logits a = Wx + b, dL/da = (softmax(a) - onehot(y)) / n; each class k scores
    0.5 mean_n (a_nk dL/da_nk)^2, counted once per incoming weight (64 here)."""
    x, y = digits_batch
    torch.manual_seed(0)
    network = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    a = network(x).detach()
    grad = (a.softmax(1) - F.one_hot(y, 10)) / len(y)
    expected = float((0.5 * (a * grad).pow(2).mean(0)).sum() * 64)
    assert gradient_proxies(network, x, y)["fisher"] == pytest.approx(expected, rel=1e-5)


def test_fisher_of_a_convolution_sums_over_positions_per_channel(digits_batch) -> None:
    x, y = digits_batch
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 3, 3, padding=1)
    head = nn.Linear(3 * 64, 10)
    network = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), head)
    a = conv(x)
    logits = head(torch.relu(a).flatten(1))
    da, dl = torch.autograd.grad(F.cross_entropy(logits, y), (a, logits))
    per_channel = 0.5 * (a * da).sum((2, 3)).pow(2).mean(0)
    per_class = 0.5 * (logits * dl).pow(2).mean(0)
    expected = float(per_channel.sum().detach() * 9 + per_class.sum().detach() * 3 * 64)
    assert gradient_proxies(network, x, y)["fisher"] == pytest.approx(expected, rel=1e-5)


def test_jacob_cov_reads_per_example_input_gradients(digits_batch) -> None:
    """In evaluation mode examples do not interact, so the rows are each example's own
    gradient of its summed logits."""
    x, _ = digits_batch
    network = _small_network().eval()
    rows = []
    for example in x:
        xi = example[None].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(network(xi).sum(), xi)
        rows.append(g.flatten().double().numpy())
    assert jacob_cov(network, x) == pytest.approx(jacob_cov_score(np.stack(rows)), rel=1e-6)


def test_a_network_whose_output_ignores_its_input_scores_nan_and_log_zero(digits_batch
                                                                          ) -> None:
    """This cell's output node only reads node 1, which has no input: the network's output
    is a constant. jacob_cov is undefined, synflow is log 0; the other proxies exist."""
    x, y = digits_batch
    dead = "|none~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|skip_connect~1|none~2|"
    assert set(SPACE.arch_key(SPACE.from_string(dead))) == {"#", "+"}  # every term is zero
    scores = compute_proxies(_small_network(0, dead), ALL_PROXIES, input_shape=(1, 8, 8),
                             inputs=x, targets=y).scores
    assert math.isnan(scores["jacob_cov"]) and scores["synflow"] == -math.inf
    assert all(math.isfinite(scores[p]) for p in ("grad_norm", "snip", "grasp", "fisher"))


def test_jacob_cov_score_of_identical_and_of_constant_rows() -> None:
    """Identical rows: the correlation matrix is all ones, eigenvalues n and n - 1 zeros."""
    n, k = 5, 1e-5
    rows = np.tile(np.arange(4.0), (n, 1))
    expected = -(math.log(n + k) + 1 / (n + k)) - (n - 1) * (math.log(k) + 1 / k)
    assert jacob_cov_score(rows) == pytest.approx(expected, rel=1e-9)
    rows[2] = 1.0
    assert math.isnan(jacob_cov_score(rows)), "correlations of a constant row are undefined"


def test_each_proxy_alone_equals_it_computed_with_the_others(digits_batch) -> None:
    x, y = digits_batch
    together = compute_proxies(_small_network(3), ALL_PROXIES, input_shape=(1, 8, 8),
                               inputs=x, targets=y)
    assert list(together.scores) == ALL_PROXIES
    assert set(together.seconds) == set(PASSES)
    for name in ALL_PROXIES:
        alone = compute_proxies(_small_network(3), [name], input_shape=(1, 8, 8), inputs=x,
                                targets=y)
        assert alone.scores == {name: together.scores[name]}, name


def test_synflow_params_and_flops_read_no_data(digits_batch) -> None:
    x, y = digits_batch
    free = compute_proxies(_small_network(), ["synflow", "params", "flops"],
                           input_shape=(1, 8, 8))
    with_data = compute_proxies(_small_network(), ["synflow", "params", "flops"],
                                input_shape=(1, 8, 8), inputs=x, targets=y)
    assert free.scores == with_data.scores
    assert free.scores["params"] == sum(p.numel() for p in _small_network().parameters())
    with pytest.raises(ValueError, match="need a minibatch"):
        compute_proxies(_small_network(), ["snip"], input_shape=(1, 8, 8))
    with pytest.raises(ValueError, match="unknown proxies"):
        compute_proxies(_small_network(), ["zen"], input_shape=(1, 8, 8))


def test_synflow_switches_batch_norm_off_and_leaves_other_layers() -> None:
    network = _small_network()
    convs = len(scored_layers(network))
    without_batch_norm(network)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in network.modules())
    assert len(scored_layers(network)) == convs


def test_more_parallel_convolutions_carry_more_synaptic_flow() -> None:
    """synflow grows with the paths of parameters: a cell of 3x3 convolutions on every edge
    beats one with a single convolution, which beats a cell of skips and pools."""
    cells = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
             "nor_conv_3x3~2|",
             "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|skip_connect~2|",
             "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|skip_connect~2|"]
    scores = [synflow(_small_network(0, cell), (1, 8, 8)) for cell in cells]
    assert scores[0] > scores[1] > scores[2], scores
