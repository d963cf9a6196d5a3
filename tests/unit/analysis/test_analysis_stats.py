"""Bootstrap intervals and significance tests, on the NAS-Bench-201 table and a real study."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from nasbench.results.significance import (
    compare,
    compare_ranks,
    critical_difference,
    holm,
    nemenyi_q,
)
from nasbench.results.stats import BootstrapOptions, mean_estimates, ri_estimate
from scipy import stats


@pytest.fixture(scope="module")
def nb201(nb201_frame) -> pd.DataFrame:
    """The shipped NAS-Bench-201 table, with its source's column names (``cifar10_test_200ep``)."""
    return nb201_frame.rename(columns=lambda c: c.replace("/", "_"))


def test_mean_interval_covers_mean_and_shrinks_with_n(nb201: pd.DataFrame) -> None:
    column = nb201["cifar100_test_200ep"].to_numpy()
    rng = np.random.default_rng(7)
    widths = []
    for n in (40, 400, 4000):
        sample = column[rng.choice(column.size, n, replace=False)]
        (est,) = mean_estimates(sample, BootstrapOptions(), "test", n)
        assert est.value == pytest.approx(sample.mean())
        assert est.covers(est.value)
        # A percentile interval of the mean is close to the normal one, +- 1.96 s / sqrt(n).
        normal = 2 * 1.96 * sample.std(ddof=1) / np.sqrt(n)
        assert est.width == pytest.approx(normal, rel=0.2)
        widths.append(est.width)
    assert widths[0] > widths[1] > widths[2]


def test_intervals_are_reproducible_and_streams_independent(nb201: pd.DataFrame) -> None:
    values = nb201["cifar10_test_200ep"].to_numpy()[:200]
    options = BootstrapOptions(resamples=500, seed=4)
    a = mean_estimates(values, options, "study", "strategy_a")
    again = mean_estimates(values, options, "study", "strategy_a")
    other = mean_estimates(values, options, "study", "strategy_b")
    assert a == again
    assert a[0].low != other[0].low


def test_ri_interval_from_two_independent_samples(nb201: pd.DataFrame) -> None:
    good = nb201["cifar10_test_200ep"].nlargest(300).to_numpy()
    everyone = nb201["cifar10_test_200ep"].to_numpy()[::50]
    ri = ri_estimate(good, everyone, True, BootstrapOptions(), "ri")
    assert ri.value == pytest.approx(100 * (good.mean() - everyone.mean()) / everyone.mean())
    assert ri.low < ri.value < ri.high
    # Lower is better: the sign flips.
    flipped = ri_estimate(good, everyone, False, BootstrapOptions(), "ri")
    assert flipped.value == pytest.approx(-ri.value)


def _seed_matrix(study_results, metric: str = "cifar10/test_200ep") -> pd.DataFrame:
    return study_results.runs.pivot_table(index="seed", columns="strategy", values=metric)


def test_paired_and_unpaired_tests_match_scipy(study_results) -> None:
    wide = _seed_matrix(study_results)
    a, b = wide["random_search"].to_numpy(), wide["random_sampling"].to_numpy()
    paired = compare(a, b, paired=True)
    assert paired.test == "wilcoxon"
    assert paired.p_value == pytest.approx(stats.wilcoxon(a - b).pvalue)
    unpaired = compare(a, b, paired=False)
    assert unpaired.p_value == pytest.approx(stats.mannwhitneyu(a, b).pvalue)
    same = compare(a, a, paired=True)
    assert same.p_value == 1.0


def test_friedman_matches_scipy_and_ranks_by_hand(study_results) -> None:
    wide = _seed_matrix(study_results)
    ranks = compare_ranks(wide.to_numpy(), list(wide.columns))
    expected = stats.friedmanchisquare(*wide.to_numpy().T)
    assert ranks.statistic == pytest.approx(expected.statistic)
    assert ranks.p_value == pytest.approx(expected.pvalue)
    by_hand = wide.rank(axis=1, ascending=False).mean()
    np.testing.assert_allclose(ranks.mean_ranks, by_hand.to_numpy())
    assert ranks.critical_difference == pytest.approx(critical_difference(4, len(wide)))


def test_nemenyi_critical_values_are_demsars() -> None:
    # Demšar (JMLR 2006), Table 5(a): q_0.05 for k = 2..10.
    table = (1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164)
    for k, q in zip(range(2, 11), table, strict=True):
        assert nemenyi_q(k) == pytest.approx(q, abs=2e-3)


def test_holm_step_down() -> None:
    # Sorted p (0.005, 0.01, 0.03, 0.04) times (4, 3, 2, 1), then made monotone.
    adjusted = holm(np.array([0.01, 0.04, 0.03, 0.005]))
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_cliques_join_only_strategies_the_post_hoc_cannot_tell_apart(study_results) -> None:
    wide = _seed_matrix(study_results)
    for post_hoc in ("nemenyi", "holm"):
        ranks = compare_ranks(wide.to_numpy(), list(wide.columns), post_hoc=post_hoc)
        for clique in ranks.cliques():
            inside = ranks.different[np.ix_(clique, clique)]
            assert not inside.any()
        if post_hoc == "nemenyi":
            gap = np.abs(ranks.mean_ranks[:, None] - ranks.mean_ranks[None, :])
            np.testing.assert_array_equal(ranks.different, gap > ranks.critical_difference)
