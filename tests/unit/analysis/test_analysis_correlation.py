"""Rank correlations and their bootstrap on the published tables, checked against scipy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nasbench.results.correlation import CorrelationOptions, _MidRanks, _weighted_pearson, correlate
from nasbench.results.kendall import concordance_counts, tau_b_influence, tau_b_resampled
from nasbench.results.scorings import Scoring, load_scoring
from nasbench.results.spearman import rho_influence
from nasbench.results.stats import BootstrapOptions, counts_from_indices, resample_indices
from nasbench.results.topk import TopOfRankings
from scipy import stats

from nasbench.errors import UserError


@pytest.fixture(scope="module")
def nb201(nb201_frame) -> pd.DataFrame:
    """The shipped NAS-Bench-201 table, with its source's column names (``cifar10_test_200ep``)."""
    return nb201_frame.rename(columns=lambda c: c.replace("/", "_"))


@pytest.fixture(scope="module")
def fidelity_pair(data_dir: Path) -> tuple[Scoring, Scoring]:
    return (load_scoring("nb201:cifar10/valid_12ep", data_dir),
            load_scoring("nb201:cifar10/test_200ep", data_dir))


def _scoring(name: str, values: np.ndarray, unit: str = "%") -> Scoring:
    return Scoring(name, np.array([str(i) for i in range(values.size)], dtype=object), values,
                   unit=unit)


def test_point_estimates_are_scipys_on_all_15625_cells(fidelity_pair, nb201) -> None:
    x, y = fidelity_pair
    assert len(x) == len(y) == 15625
    c = correlate(x, y, CorrelationOptions(BootstrapOptions(resamples=200)))
    valid, test = nb201["cifar10_valid_12ep"], nb201["cifar10_test_200ep"]
    assert c.n == 15625
    assert c.estimates["spearman"].value == pytest.approx(stats.spearmanr(valid, test)[0],
                                                          abs=1e-12)
    assert c.estimates["kendall"].value == pytest.approx(stats.kendalltau(valid, test)[0],
                                                         abs=1e-12)
    sparse = stats.kendalltau(np.round(valid / 0.1), np.round(test / 0.1))[0]
    assert c.estimates["sparse_kendall"].value == pytest.approx(sparse, abs=1e-12)
    for est in c.estimates.values():
        assert est.low <= est.value <= est.high or est.width == 0
    assert c.method == "linearised"


def test_exact_replicates_equal_scipy_on_the_resampled_data(nb201) -> None:
    # Rounding to 1% makes many ties, the hard case for tau-b and mid-ranks.
    x = nb201["cifar100_valid_12ep"].to_numpy()[:400].round(0)
    y = nb201["cifar100_test_200ep"].to_numpy()[:400].round(0)
    indices = resample_indices(np.random.default_rng(2), x.size, 12)
    counts = counts_from_indices(indices, x.size)
    taus = tau_b_resampled(x, y, counts)
    rhos = _weighted_pearson(counts, _MidRanks(x)(counts), _MidRanks(y)(counts))
    for i, idx in enumerate(indices):
        assert taus[i] == pytest.approx(stats.kendalltau(x[idx], y[idx])[0], abs=1e-12)
        assert rhos[i] == pytest.approx(stats.spearmanr(x[idx], y[idx])[0], abs=1e-12)


def test_concordance_counts_by_brute_force(nb201) -> None:
    x = nb201["imagenet16_120_valid_12ep"].to_numpy()[:900].round(0)
    y = nb201["imagenet16_120_test_200ep"].to_numpy()[:900].round(0)
    brute = (np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])).sum(axis=1)
    np.testing.assert_array_equal(concordance_counts(x, y), brute)


def test_linearised_replicates_track_the_exact_ones(nb201) -> None:
    x = nb201["cifar10_valid_12ep"].to_numpy()
    y = nb201["cifar10_test_200ep"].to_numpy()
    indices = resample_indices(np.random.default_rng(5), x.size, 12)
    for influence, statistic in ((tau_b_influence, stats.kendalltau),
                                 (rho_influence, stats.spearmanr)):
        value, psi = influence(x, y)
        assert value == pytest.approx(statistic(x, y)[0], abs=1e-12)
        exact = np.array([statistic(x[i], y[i])[0] for i in indices])
        linear = value + psi[indices].sum(axis=1) - psi.sum()
        assert np.max(np.abs(linear - exact)) < 0.1 * np.std(exact)


def test_spearman_influence_is_the_derivative_of_the_resampled_rho(nb201) -> None:
    # Ties (accuracies rounded to 1%) exercise the mid-rank terms.
    x = nb201["cifar100_valid_12ep"].to_numpy()[:60].round(0)
    y = nb201["cifar100_test_200ep"].to_numpy()[:60].round(0)
    _, psi = rho_influence(x, y)

    def rho(counts: np.ndarray) -> np.ndarray:
        return _weighted_pearson(counts, _MidRanks(x)(counts), _MidRanks(y)(counts))

    step = 1e-6 * np.eye(x.size)
    numeric = (rho(1.0 + step) - rho(1.0 - step)) / 2e-6
    np.testing.assert_allclose(psi, numeric, atol=1e-8)


def test_intervals_shrink_with_more_architectures(fidelity_pair) -> None:
    x, y = fidelity_pair
    options = CorrelationOptions(BootstrapOptions(resamples=300), tops=("10",))
    rng = np.random.default_rng(11)
    widths = []
    for n in (60, 600):
        keep = rng.choice(len(x), n, replace=False)
        sub_x = Scoring("x", x.keys[keep], x.values[keep], unit="%")
        c = correlate(sub_x, y, options)
        assert c.n == n and c.method == "exact"
        widths.append(c.estimates["spearman"].width)
        assert c.estimates["kendall"].covers(c.estimates["kendall"].value)
    assert widths[1] < widths[0]


def test_precision_at_k_and_regret_by_hand(nb201) -> None:
    x = nb201["cifar10_valid_12ep"].to_numpy()[:3000]
    y = nb201["cifar10_test_200ep"].to_numpy()[:3000]
    sx, sy = np.sort(-x), np.sort(-y)
    # A k where no tie straddles the k-th place of either scoring: unambiguous top-k sets.
    k = next(k for k in range(40, 80) if sx[k - 1] != sx[k] and sy[k - 1] != sy[k])
    top_x, top_y = np.argsort(-x, kind="stable")[:k], np.argsort(-y, kind="stable")[:k]
    assert np.sum(x == x.max()) == 1
    top = TopOfRankings(x, y, (k,)).point()
    assert top.precision[k][0] == pytest.approx(len(set(top_x) & set(top_y)) / k)
    assert top.regret[0] == pytest.approx(y.max() - y[np.argmax(x)])


def test_resampled_top_statistics_equal_those_of_the_expanded_sample(nb201) -> None:
    x = nb201["cifar100_valid_12ep"].to_numpy()[:2000].round(1)
    y = nb201["cifar100_test_200ep"].to_numpy()[:2000].round(1)
    indices = resample_indices(np.random.default_rng(3), x.size, 6)
    resampled = TopOfRankings(x, y, (10, 100)).resampled(indices)
    for i, idx in enumerate(indices):
        expanded = TopOfRankings(x[idx], y[idx], (10, 100)).point()
        for k in (10, 100):
            assert resampled.precision[k][i] == pytest.approx(expanded.precision[k][0])
        assert resampled.regret[i] == pytest.approx(expanded.regret[0])


def test_zero_cost_keys_decode_to_nb201_strings(data_dir: Path) -> None:
    truth = load_scoring("nb201:cifar10/test_200ep", data_dir)
    accuracy = load_scoring("zc201:cifar10/val_accuracy", data_dir)
    c = correlate(accuracy, truth, CorrelationOptions(BootstrapOptions(resamples=50)))
    assert c.n == 725
    # The file's own validation accuracy ranks its cells like NB201's test accuracy: the
    # tuple encoding is decoded right (a wrong edge or op order gives rho near 0).
    assert c.estimates["spearman"].value > 0.95


def test_orientation_and_user_errors(fidelity_pair) -> None:
    x, y = fidelity_pair
    options = CorrelationOptions(BootstrapOptions(resamples=20), tops=("10",))
    flipped = Scoring("loss", x.keys, -x.values, higher_is_better=False, unit="%")
    a = correlate(x, y, options).estimates["kendall"].value
    assert correlate(flipped, y, options).estimates["kendall"].value == pytest.approx(a)
    few = Scoring("few", x.keys[:2], x.values[:2])
    with pytest.raises(UserError, match="share 2 architectures"):
        correlate(few, y, options)
    with pytest.raises(UserError, match="not a scoring spec"):
        load_scoring("nb2O1:cifar10/valid_12ep")
    with pytest.raises(UserError, match="no column"):
        load_scoring("nb201:cifar10/valid_200ep")


def test_results_directory_scoring_matches_its_benchmark(study_dir: Path, data_dir: Path) -> None:
    # A study's evaluated trials, read back as a scoring, are the table's own values: the
    # keys of results and benchmark scorings agree.
    mine = load_scoring(f"results:{study_dir}:cifar100/test_200ep", data_dir)
    table = load_scoring("nb201:cifar100/test_200ep", data_dir)
    a, b = mine.aligned(table)
    assert a.size == len(mine) > 500
    np.testing.assert_array_equal(a, b)
    with pytest.raises(UserError, match="no metric"):
        load_scoring(f"results:{study_dir}:cifar100/valid_12ep", data_dir)
