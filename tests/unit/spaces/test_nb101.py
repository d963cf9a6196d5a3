"""The NAS-Bench-101 space: pruning, validity, the benchmark's graph hash, mutation, network."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from nasbench.spaces.nb101 import (
    EDGES,
    MAX_EDGES,
    N_EDGES,
    UNIQUE_CELLS,
    Nb101Space,
    from_spec,
)
from nasbench.spaces.nb101_graph import (
    INPUT_LABEL,
    OUTPUT_LABEL,
    cell_hash,
    isomorphic,
    matrix_from_bits,
    prune,
    upper_edges,
)

from nasbench.errors import InvalidArchitectureError
from nasbench.testing import check_space

INCEPTION = (
    [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
     [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
     "maxpool3x3", "output"],
)
"""The Inception-like cell queried in the released notebook (NASBench.ipynb, "Basic usage")."""
INCEPTION_STORED = (
    [[0, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
     [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "conv3x3-bn-relu",
     "conv3x3-bn-relu", "output"],
)
"""The same cell as the dataset stores it (the notebook prints this ``module_adjacency``)."""
INCEPTION_PARAMS = 2_694_282
"""``trainable_parameters`` the notebook prints for it."""


@pytest.fixture(scope="module")
def space() -> Nb101Space:
    return Nb101Space()


def test_conformance(space: Nb101Space) -> None:
    check_space(space, samples=100)


def test_isomorphic_cells_share_the_key_as_in_the_released_dataset(space: Nb101Space) -> None:
    queried, stored = from_spec(*INCEPTION), from_spec(*INCEPTION_STORED)
    assert queried != stored
    assert space.arch_key(queried) == space.arch_key(stored)
    changed = list(stored)
    changed[N_EDGES] = 1  # vertex 1: conv3x3 -> conv1x1 makes another cell
    assert space.arch_key(tuple(changed)) != space.arch_key(stored)


def test_relabelled_cells_share_the_key(space: Nb101Space) -> None:
    """Renumbering the interior vertices of a cell in any topological order keeps its key."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        arch = space.sample(rng)
        matrix, labels = prune(matrix_from_bits(arch[:N_EDGES], 7),
                               (INPUT_LABEL, *arch[N_EDGES:], OUTPUT_LABEL))
        n = len(matrix)
        for perm in itertools.permutations(range(1, n - 1)):
            order = (0, *perm, n - 1)
            pos = {v: i for i, v in enumerate(order)}
            if any(matrix[a][b] and pos[a] > pos[b] for a in range(n) for b in range(n)):
                continue
            moved = [[matrix[order[i]][order[j]] for j in range(n)] for i in range(n)]
            ops = ["input", *(space.ops[labels[v]] for v in order[1:-1]), "output"]
            assert space.arch_key(from_spec(moved, ops)) == space.arch_key(arch)


def test_pruning_and_edge_limit(space: Nb101Space) -> None:
    # vertex 2 reads the input but feeds nothing: pruned, same key as the cell without it
    base = [[0] * 7 for _ in range(7)]
    base[0][1] = base[1][6] = 1
    ops = ["input", *["conv3x3-bn-relu"] * 5, "output"]
    dangling = [row[:] for row in base]
    dangling[0][2] = 1
    assert space.arch_key(from_spec(dangling, ops)) == space.arch_key(from_spec(base, ops))
    assert prune(matrix_from_bits([0] * 21, 7), [0] * 7) is None
    with pytest.raises(InvalidArchitectureError, match="does not reach"):
        space.validate(from_spec([[0] * 7 for _ in range(7)], ops))
    # ten edges that all stay after pruning are too many; the same ten with one dangling are not
    dense = [[0] * 7 for _ in range(7)]
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 6), (0, 2), (1, 3),
                 (2, 4)]:
        dense[i][j] = 1
    with pytest.raises(InvalidArchitectureError, match=f"at most {MAX_EDGES}"):
        space.validate(from_spec(dense, ops))
    assert not space.is_valid(from_spec(dense, ops))


def test_hash_counts_isomorphism_classes_on_a_small_sub_space() -> None:
    """On every raw cell of 4 vertices, the hash has exactly as many values as there are
    isomorphism classes of pruned cells, found by brute force."""
    vertices = 4
    edges = upper_edges(vertices)
    hashes: set[str] = set()
    graphs: dict[tuple, tuple] = {}
    for bits in itertools.product((0, 1), repeat=len(edges)):
        matrix = matrix_from_bits(bits, vertices)
        for ops in itertools.product(range(3), repeat=vertices - 2):
            labels = (INPUT_LABEL, *ops, OUTPUT_LABEL)
            h = cell_hash(matrix, labels, MAX_EDGES)
            if h is None:
                continue
            hashes.add(h)
            pruned = prune(matrix, labels)
            graphs.setdefault(pruned, h)  # type: ignore[arg-type]
    classes: list[tuple] = []
    for graph in graphs:
        if not any(isomorphic(graph, other) for other in classes):
            classes.append(graph)
    assert len(hashes) == len(classes)
    # and the hash separates exactly those classes
    for a, b in itertools.combinations(classes, 2):
        assert graphs[a] != graphs[b]
    assert len(hashes) == 1 + 6 + 84  # cells of 2, 3, 4 vertices (tests/bench script's count)


def test_mutation_follows_the_released_evolution(space: Nb101Space) -> None:
    rng = np.random.default_rng(0)
    arch = space.sample(rng)
    flips = ops = 0
    for _ in range(300):
        child = space.mutate(arch, rng)
        assert space.is_valid(child) and child != arch
        flips += sum(a != b for a, b in zip(arch[:N_EDGES], child[:N_EDGES], strict=True))
        ops += sum(a != b for a, b in zip(arch[N_EDGES:], child[N_EDGES:], strict=True))
    # about 3 edges (21/7) and 1 operation per mutation, before rejection of invalid children
    assert 1.5 < flips / 300 < 4.5 and 0.5 < ops / 300 < 1.8
    neighbours = space.neighbours(arch)
    assert neighbours and all(
        sum(a != b for a, b in zip(arch, n, strict=True)) == 1 for n in neighbours
    )


def test_string_form(space: Nb101Space) -> None:
    arch = from_spec(*INCEPTION)
    text = space.to_string(arch)
    assert text.startswith("0111010/0000001/")
    assert text.endswith("|input,conv1x1-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,"
                         "conv3x3-bn-relu,maxpool3x3,output")
    assert space.from_string(text) == arch
    small = space.from_string("0110/0001/0001/0000|input,maxpool3x3,conv1x1-bn-relu,output")
    assert space.arch_key(small) == space.arch_key(space.from_string(space.to_string(small)))
    for bad in ("0110/0001", "0120/0001/0001/0000|input,maxpool3x3,conv1x1-bn-relu,output",
                "0110/0001/0001/0000|input,conv5x5,conv1x1-bn-relu,output",
                "0110/1001/0001/0000|input,maxpool3x3,conv1x1-bn-relu,output"):
        with pytest.raises(InvalidArchitectureError):
            space.from_string(bad)


def test_decisions_for_strategies(space: Nb101Space) -> None:
    decisions = space.decisions()
    assert len(decisions) == len(EDGES) + 5
    assert decisions[0].name == "edge_0->1" and decisions[0].choices == ("off", "on")
    assert decisions[-1].name == "op_5" and len(decisions[-1].choices) == 3
    assert space.size() == 2**21 * 3**5


def test_describe_states_the_papers_figures(space: Nb101Space) -> None:
    out = json.loads(json.dumps(space.describe()))
    assert out["unique"] == UNIQUE_CELLS == 423_624
    assert out["size"] == 509_607_936
    assert space.from_string(out["example"]) == from_spec(*INCEPTION)


def test_network_matches_the_released_parameter_count(space: Nb101Space) -> None:
    net = space.build(from_spec(*INCEPTION), input_shape=(3, 32, 32), num_classes=10)
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == INCEPTION_PARAMS
    small = space.build(from_spec(*INCEPTION_STORED), input_shape=(1, 8, 8), num_classes=10,
                        stem_channels=8, stacks=2, cells_per_stack=1)
    assert small(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_network_learns_digits(space: Nb101Space, digits, fit) -> None:
    net = space.build(from_spec(*INCEPTION), input_shape=(1, 8, 8), num_classes=10,
                      stem_channels=8, stacks=2, cells_per_stack=1)
    before, after = fit(net, *digits)
    assert after < before


def test_the_space_command_states_the_figures_without_enumerating() -> None:
    from tests.conftest import run_cli

    result = run_cli("space", "nb101")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert out["unique"] == 423_624 and out["size"] == 509_607_936
