"""nasbench zero-cost validate: NAS-Bench-Suite-Zero's cells scored by nasbench, and reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from nasbench.evaluators.zero_cost_validation import published_cells, spread_subset

from tests.conftest import run_cli


def test_a_spread_subset_covers_the_published_ranking(data_dir: Path) -> None:
    cells = published_cells(data_dir)
    assert len(cells) == 725 and len({arch for arch, _ in cells}) == 725
    accuracy = dict(cells)
    subset = spread_subset(cells, 5)
    ranked = sorted(accuracy.values())
    assert [accuracy[a] for a in subset] == [ranked[0], ranked[181], ranked[362], ranked[543],
                                             ranked[724]]
    assert len(spread_subset(cells, 1000)) == 725


def test_validate_scores_cells_and_reports_them_against_published_scores(
        tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "validation"
    result = run_cli("zero-cost", "validate", "--cells", "10", "--proxies",
                     "synflow,params,flops", "--threads", "1", "--out", str(out), "--quiet")
    assert result.code == 0, result.err
    table = pd.read_csv(out / "report" / "correlations.csv").set_index(["section", "x"])
    for proxy in ("params", "flops"):
        assert table.loc[("agreement", f"nasbench {proxy}"), "spearman"] == 1.0
    synflow = table.loc[("agreement", "nasbench synflow")]
    assert synflow["spearman"] > 0.95 and synflow["n"] == 9  # the cell with no flow is -inf
    accuracy = table.loc["accuracy"]
    assert set(accuracy.index) == {"nasbench synflow", "published synflow (same cells)",
                                   "nasbench params", "published params (same cells)",
                                   "nasbench flops", "published flops (same cells)"}
    report = (out / "report" / "report.md").read_text()
    assert "10 of NAS-Bench-Suite-Zero's 725 cells" in report and "Cost per cell" in report
    assert "None of these proxies reads data: `fashion_mnist` only fixes the input" in report
    trials = pd.read_parquet(out / "trials.parquet")
    assert (trials.query("strategy == 'cells'")["status"] == "ok").all()


def test_data_based_proxies_read_a_substitute_dataset(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "digits"
    result = run_cli("zero-cost", "validate", "--cells", "4", "--proxies", "snip,jacob_cov",
                     "--dataset", "digits", "--threads", "1", "--out", str(out), "--quiet")
    assert result.code == 0, result.err
    table = pd.read_csv(out / "report" / "correlations.csv")
    agreement = table[table["section"] == "agreement"].set_index("x")
    assert agreement.loc["nasbench snip", "y"] == "published snip"
    assert agreement.loc["nasbench jacob_cov", "y"] == "published jacob_cov"
    report = (out / "report" / "report.md").read_text()
    assert "`digits` training images (resized to 32x32, channel repeated 3 times)" in report


def test_validate_mistakes_are_user_errors(tmp_path: Path, data_dir: Path) -> None:
    result = run_cli("zero-cost", "validate", "--proxies", "zen", "--out", str(tmp_path))
    assert result.code == 2 and "names unknown proxies ['zen']" in result.err
    result = run_cli("zero-cost", "validate", "--dataset", "mnist1d", "--out", str(tmp_path))
    assert result.code == 2 and "does not hold grey or colour images" in result.err
