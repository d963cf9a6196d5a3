"""The NAS-Bench-Graph space against the benchmark's tables in the nas-bench-graph wheel."""

from __future__ import annotations

import numpy as np
import pytest
from nasbench.evaluators.nbgraph_table import NbGraphBenchmark
from nasbench.spaces.nbgraph import NbGraphSpace

from nasbench.errors import InvalidArchitectureError

SPACE = NbGraphSpace()


def test_every_encoding_maps_to_exactly_one_benchmark_entry() -> None:
    table = NbGraphBenchmark().load(None, ("cora",))
    keys = {}
    for arch in SPACE.enumerate():
        table.row(arch)  # every valid encoding is in the table
        keys.setdefault(SPACE.arch_key(arch), arch)
    assert SPACE.size() == 59040
    assert len(keys) == len(table) == 26206


def test_isomorphic_encodings_share_a_key_and_a_result() -> None:
    # Layers 2 and 3 both read the input and feed nothing: swapping them changes nothing.
    a = SPACE.from_string("0,0,0,1|gcn,gat,sage,fc")
    b = SPACE.from_string("0,0,0,1|gcn,sage,gat,fc")
    assert SPACE.arch_key(a) == SPACE.arch_key(b)
    table = NbGraphBenchmark().load(None, ("cora",))
    assert table.row(a) == table.row(b)
    c = SPACE.from_string("0,0,0,1|gat,gcn,sage,fc")  # layer 4 now reads gat, not gcn
    assert SPACE.arch_key(c) != SPACE.arch_key(a)


def test_all_skip_is_not_an_architecture() -> None:
    with pytest.raises(InvalidArchitectureError, match="skip"):
        SPACE.from_string("0,1,2,3|skip,skip,skip,skip")
    rng = np.random.default_rng(0)
    for _ in range(2000):
        assert SPACE.is_valid(SPACE.mutate(SPACE.sample(rng), rng))


def test_accuracies_are_percentages_of_the_wheels_fractions() -> None:
    from nas_bench_graph import light_read
    from nasbench.spaces.nbgraph import benchmark_hash

    raw = light_read("pubmed")
    table = NbGraphBenchmark().load(None, ("pubmed",))
    arch = SPACE.from_string("0,1,1,2|gcn,sage,arma,fc")
    entry = raw[benchmark_hash(arch)]
    row = table.row(arch)
    assert table.column("pubmed/valid_acc")[row] == pytest.approx(100 * entry["valid_perf"])
    assert table.column("pubmed/test_acc")[row] == pytest.approx(100 * entry["perf"])
