"""The NAS-Bench-201 space against the benchmark's own table."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
from nasbench.spaces.nb201 import Nb201Space

from nasbench.errors import InvalidArchitectureError

SPACE = Nb201Space()


@pytest.fixture(scope="module")
def table(nb201_frame) -> list[dict[str, str]]:
    return nb201_frame[["arch", "unique_str"]].to_dict("records")


def test_string_format_round_trips_every_cell_of_the_table(table) -> None:
    seen = set()
    for row in table:
        arch = SPACE.from_string(row["arch"])
        assert SPACE.to_string(arch) == row["arch"]
        seen.add(arch)
    assert seen == set(SPACE.enumerate())
    assert len(seen) == SPACE.size() == 15625


def test_canonical_key_matches_the_benchmarks_unique_str(table) -> None:
    # Same key <=> same unique_str, over all 15,625 cells: the partitions are identical.
    by_key: dict[str, set[str]] = defaultdict(set)
    by_unique: dict[str, set[str]] = defaultdict(set)
    for row in table:
        key = SPACE.arch_key(SPACE.from_string(row["arch"]))
        by_key[key].add(row["unique_str"])
        by_unique[row["unique_str"]].add(key)
    assert all(len(v) == 1 for v in by_key.values())
    assert all(len(v) == 1 for v in by_unique.values())
    assert len(by_key) == len(by_unique) == 6466


def test_isomorphic_cells_fold_skip_and_zero_edges() -> None:
    # A cell whose output only sees zero edges, however its other edges look, folds together.
    a = SPACE.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    b = SPACE.from_string("|avg_pool_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|")
    assert SPACE.arch_key(a) == SPACE.arch_key(b)
    c = SPACE.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|")
    assert SPACE.arch_key(c) != SPACE.arch_key(a)


def test_mutation_changes_exactly_one_edge_to_another_op() -> None:
    rng = np.random.default_rng(0)
    edges = Counter()
    for _ in range(3000):
        arch = SPACE.sample(rng)
        child = SPACE.mutate(arch, rng)
        diff = [i for i in range(6) if arch[i] != child[i]]
        assert len(diff) == 1
        edges[diff[0]] += 1
    assert set(edges) == set(range(6))
    assert min(edges.values()) > 400  # every edge mutated about 500 times


def test_sampling_is_uniform_over_ops() -> None:
    rng = np.random.default_rng(1)
    counts = np.zeros((6, 5))
    for _ in range(10000):
        for edge, op in enumerate(SPACE.sample(rng)):
            counts[edge, op] += 1
    from scipy.stats import chisquare

    for edge in range(6):
        assert chisquare(counts[edge]).pvalue > 1e-3


def test_neighbours_are_the_24_one_edge_changes() -> None:
    arch = (0, 1, 2, 3, 4, 0)
    neighbours = SPACE.neighbours(arch)
    assert len(neighbours) == 24 == len(set(neighbours))
    assert all(sum(a != b for a, b in zip(arch, n, strict=True)) == 1 for n in neighbours)


@pytest.mark.parametrize(
    "text",
    ["|nor_conv_3x3~0|+|none~0|", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
     "|nor_conv_3x3~1|+|none~0|none~1|+|none~0|none~1|none~2|"],
)
def test_bad_strings_are_refused(text: str) -> None:
    with pytest.raises(InvalidArchitectureError):
        SPACE.from_string(text)


def test_every_cell_string_parses_alike_on_the_fast_and_the_checked_path(monkeypatch) -> None:
    import itertools

    from nasbench.spaces import nb201

    cells = list(itertools.product(range(5), repeat=6))
    texts = [SPACE.to_string(a) for a in cells]
    assert [SPACE.from_string(t) for t in texts] == cells  # one match each
    monkeypatch.setattr(nb201, "_CANONICAL", type("NoMatch", (), {
        "fullmatch": staticmethod(lambda text: None)})())
    assert [SPACE.from_string(t) for t in texts] == cells  # the checked path
    assert SPACE.from_string(f"  {texts[7]}\n") == cells[7]  # surrounding blanks allowed
