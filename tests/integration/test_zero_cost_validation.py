"""nasbench zero-cost validate: NAS-Bench-Suite-Zero's cells scored by nasbench, and reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nasbench.zero_cost_validation import published_cells, spread_subset
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


def test_small_samples_work_or_are_refused_clearly(tmp_path: Path, data_dir: Path) -> None:
    """Five cells once ended in a traceback (a point estimate outside its bootstrap interval
    drawn as a negative error bar); fewer than four are refused with the reason."""
    env = {"NASBENCH_DATA": str(data_dir)}
    out = tmp_path / "five"
    result = run_cli("zero-cost", "validate", "--cells", "5", "--proxies", "synflow,params",
                     "--threads", "1", "--out", str(out), "--quiet", env=env)
    assert result.code == 0, result.err
    assert (out / "report" / "report.html").is_file()
    for cells in ("2", "3"):
        result = run_cli("zero-cost", "validate", "--cells", cells, "--out",
                         str(tmp_path / cells), env=env)
        assert result.code == 2 and "Traceback" not in result.err
        assert "--cells must be between 4 and 725" in result.err and "-inf" in result.err
        assert not (tmp_path / cells).exists()
    again = run_cli("zero-cost", "validate", "--cells", "5", "--proxies", "synflow,params",
                    "--out", str(out), env=env)
    assert again.code == 2 and "Pass --resume" in again.err
    resumed = run_cli("zero-cost", "validate", "--cells", "5", "--proxies", "synflow,params",
                      "--threads", "1", "--out", str(out), "--resume", "--quiet", env=env)
    assert resumed.code == 0, resumed.err
