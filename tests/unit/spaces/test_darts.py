"""The DARTS cell space: genotype strings, canonical keys, mutations and the network."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from nasbench.spaces.darts import DARTS_V2, EVAL_SIZE, DartsParams, DartsSpace

from nasbench.errors import InvalidArchitectureError
from nasbench.netstats import count_params


def test_genotype_strings_round_trip_and_accept_the_released_range_form() -> None:
    space = DartsSpace()
    arch = space.from_string(DARTS_V2)
    assert space.to_string(arch) == DARTS_V2
    released = DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)")
    assert space.from_string(released) == arch


@pytest.mark.parametrize("text", [
    "normal=[]",
    "Genotype(normal=[('sep_conv_3x3', 0)], reduce=[])",
    DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"),
    DARTS_V2.replace("('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0)",
                     "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0)"),
    DARTS_V2.replace("sep_conv_3x3", "conv_9x9", 1),
    DARTS_V2.replace("('skip_connect', 0), ('skip_connect', 0)", "('none', 0), ('none', 1)"),
    "__import__('os').system('true')",
])
def test_malformed_genotypes_are_refused(text: str) -> None:
    with pytest.raises(InvalidArchitectureError, match="darts"):
        DartsSpace().from_string(text)


def test_none_is_offered_only_when_allowed() -> None:
    text = DARTS_V2.replace("('skip_connect', 0), ('skip_connect', 0)", "('none', 0), ('none', 1)")
    space = DartsSpace(DartsParams(allow_none=True))
    assert space.to_string(space.from_string(text)) == text
    assert len(space.ops) == 8 and len(DartsSpace().ops) == 7


def _swap(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_the_key_identifies_swapped_inputs_and_renumbered_nodes() -> None:
    space = DartsSpace()
    key = space.arch_key(space.from_string(DARTS_V2))
    swapped = _swap(DARTS_V2, "('skip_connect', 0), ('dil_conv_3x3', 2)",
                    "('dil_conv_3x3', 2), ('skip_connect', 0)")
    assert space.arch_key(space.from_string(swapped)) == key
    # Normal nodes 3 and 4 read only the cell inputs and node 5 reads neither: exchanging
    # their contents renumbers the graph and keeps the function.
    renumbered = _swap(
        DARTS_V2,
        "('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0)",
        "('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)",
    )
    assert space.arch_key(space.from_string(renumbered)) == key
    other = _swap(DARTS_V2, "('dil_conv_3x3', 2)", "('dil_conv_5x5', 2)")
    assert space.arch_key(space.from_string(other)) != key


def test_mutation_changes_one_op_or_moves_one_input() -> None:
    space = DartsSpace()
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(300):
        arch = space.sample(rng)
        child = space.mutate(arch, rng)
        changed = [i for i, (a, b) in enumerate(zip(arch, child, strict=True)) if a != b]
        assert len(changed) == 1
        kinds.add(space.decisions()[changed[0]].name.split(".")[-1][:2])
    assert kinds == {"in", "op"}


def test_sampling_is_uniform_over_input_pairs() -> None:
    space = DartsSpace()
    rng = np.random.default_rng(0)
    pairs = [space.sample(rng)[12:15:2] for _ in range(6000)]  # normal node 5: inputs a, b
    counts = np.unique(np.array(pairs), axis=0, return_counts=True)[1]
    assert len(counts) == 5 * 4
    assert counts.min() > 0.8 * 6000 / 20 and counts.max() < 1.2 * 6000 / 20


def test_darts_v2_evaluation_network_has_the_published_size() -> None:
    """DARTS (second order) on CIFAR-10: 3.3M parameters (Liu et al. 2019, Table 1)."""
    space = DartsSpace()
    with torch.device("meta"):
        net = space.build(space.from_string(DARTS_V2), input_shape=(3, 32, 32),
                          num_classes=10, **EVAL_SIZE)
    assert round(count_params(net) / 1e6, 1) == 3.3
    assert count_params(net, include_auxiliary=True) > count_params(net)


def test_sampled_networks_train_on_digits_with_auxiliary_head_and_drop_path(
        digits, fit: Callable) -> None:
    space = DartsSpace()
    x, y = digits[0][:16], digits[1][:16]
    rng = np.random.default_rng(5)
    for _ in range(2):
        arch = space.sample(rng)
        torch.manual_seed(0)
        net = space.build(arch, input_shape=(1, 8, 8), num_classes=10, C=4, layers=3,
                          auxiliary=True)
        net.drop_path_prob = 0.2
        logits, aux = net.train()(x)
        assert logits.shape == aux.shape == (16, 10)
        assert net.eval()(x).shape == (16, 10)
        first, last = fit(net, x, y, steps=10)
        assert last < 0.8 * first, f"{space.to_string(arch)}: loss {first:.3f} -> {last:.3f}"


def test_networks_for_other_input_sizes() -> None:
    space = DartsSpace()
    arch = space.from_string(DARTS_V2)
    for shape in [(3, 32, 32), (1, 28, 28), (3, 15, 9)]:
        net = space.build(arch, input_shape=shape, num_classes=5, C=4, layers=5, auxiliary=True)
        logits, aux = net(torch.randn(2, *shape))
        assert logits.shape == aux.shape == (2, 5)
