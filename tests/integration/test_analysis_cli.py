"""The analysis commands end to end: real studies, published data, reports in a real browser.

The HTML reports are opened in headless Chromium (Debian's ``chromium``; ``.ci/run`` installs
it): a copy of each page gets a few lines of script that measure what the browser laid out, so
the test sees rendered tables and figures, not only markup.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

STUDY = """
[study]
name = "{name}"
seed = 1
seeds = 8

[space]
name = "nb201"

[evaluator]
name = "tabular"
dataset = "{dataset}"
search_metric = "valid_12ep"
report_metrics = ["test_200ep", "imagenet16_120/test_200ep"]

[budget]
evaluations = 30

[[strategies]]
name = "random_search"

[[strategies]]
name = "aging_evolution"
population_size = 10
sample_size = 3
"""

_PROBE = """
<script>
const figures = [...document.querySelectorAll('figure svg')].map(s => {
  const r = s.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; });
const tables = [...document.querySelectorAll('table')].map(t => t.rows.length);
const out = document.createElement('pre'); out.id = 'probe';
out.textContent = JSON.stringify({figures, tables, title: document.title,
  width: document.body.scrollWidth, height: document.body.scrollHeight});
document.body.appendChild(out);
</script>
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("headless Chromium is needed to check the HTML reports: "
                    "apt-get install -y chromium (.ci/run does it)")
    return path


def render(page: Path, tmp: Path) -> tuple[dict, np.ndarray]:
    """Lay ``page`` out in headless Chromium: what its probe measured, and a screenshot."""
    probe = tmp / f"probe-{page.parent.name}.html"
    probe.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    flags = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={tmp / 'chromium-profile'}",
             "--window-size=1200,1600"]
    dom = subprocess.run([*flags, "--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    shot = tmp / f"{page.parent.name}.png"
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True,
                   timeout=120, check=True)
    import matplotlib.image

    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, "the page did not run in the browser"
    text = match.group(1).replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(text), matplotlib.image.imread(shot)


def assert_rendered(measured: dict, pixels: np.ndarray, figures: int, tables: int) -> None:
    assert len(measured["figures"]) == figures
    for width, height in measured["figures"]:
        assert width > 150 and height > 80
    assert len(measured["tables"]) >= tables and min(measured["tables"]) >= 2
    ink = (pixels[..., :3] < 0.9).any(axis=-1).mean()
    assert 0.02 < ink < 0.9  # a page with text and figures, not a blank or black one
    colours = np.unique((pixels[..., :3] * 15).round().reshape(-1, 3), axis=0)
    assert len(colours) > 20  # the figures' colours, not only black text


@pytest.fixture(scope="module")
def two_studies(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, plugins) -> list[Path]:
    """Two small NB201 studies (searching on CIFAR-10 and on CIFAR-100), run in process."""
    import tomllib

    from nasbench.protocol import study_from_dict
    from nasbench.run import run_study

    base = tmp_path_factory.mktemp("studies")
    dirs = []
    for dataset in ("cifar10", "cifar100"):
        raw = tomllib.loads(STUDY.format(name=f"nb201-{dataset}", dataset=dataset))
        out = base / dataset
        assert run_study(study_from_dict(raw, plugins), plugins, out, progress=False).complete
        dirs.append(out)
    return dirs


def test_report_of_two_studies(cli, two_studies: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cli("report", *map(str, two_studies), "--out", str(out), "--resamples", "200")
    assert result.code == 0, result.err
    assert "## Across benchmarks" in result.out
    for name in ("leaderboard.md", "leaderboard.csv", "anytime.csv", "report.html"):
        assert (out / name).is_file()
    rows = pd.read_csv(out / "leaderboard.csv")
    for directory in two_studies:
        manifest = json.loads((directory / "manifest.json").read_text())
        mine = rows[rows["directory"] == str(directory)]
        assert set(mine["config_hash"]) == {manifest["config_hash"]}
        assert set(mine["study"]) == {manifest["study"]}
        runs = pd.read_parquet(directory / "runs.parquet")
        metric = manifest["report_metrics"][0]
        expected = runs.groupby("strategy")[metric].mean()
        got = mine[mine["metric"] == metric].set_index("strategy")["mean"]
        pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(),
                                       check_names=False)
    anytime = pd.read_csv(out / "anytime.csv")
    assert set(anytime["axis"]) == {"evaluations"} and anytime["x"].max() == 30

    # Per directory and metric: anytime curves, distribution, CD diagram; one more across.
    measured, pixels = render(out / "report.html", tmp_path)
    assert_rendered(measured, pixels, figures=2 * 2 * 3 + 1, tables=10)
    assert measured["title"] == "nasbench report"

    single = cli("report", str(two_studies[0]), "--no-print", "--quiet", "--no-figures",
                 "--resamples", "100")
    assert single.code == 0, single.err
    assert single.out == "" and single.err == "", "--no-print and --quiet print nothing"
    assert (two_studies[0] / "report" / "report.html").is_file()


def test_report_user_errors(cli, two_studies: list[Path], tmp_path: Path) -> None:
    result = cli("report", *map(str, two_studies))
    assert result.code == 2 and "--out" in result.err and "Traceback" not in result.err
    result = cli("report", str(tmp_path))
    assert result.code == 2 and "not a nasbench results directory" in result.err
    result = cli("report", str(two_studies[0]), "--post-hoc", "tukey", "--out", str(tmp_path))
    assert result.code == 2 and "nemenyi" in result.err


def test_ready_made_studies(cli, nb201_frame, yang2020_dir: Path, tmp_path: Path) -> None:
    """Every ready-made study, from the shipped tables; Yang et al.'s data (which nasbench may
    not ship) from a directory in its format given with --data-dir."""
    out = tmp_path / "studies"
    result = cli("correlate", "--study", "all", "--resamples", "20", "--out", str(out),
                 "--data-dir", str(yang2020_dir))
    assert result.code == 0, result.err
    expected_rows = {"fidelity": 3, "transfer": 3 + 21, "macro-seeds": 3,
                     "zero-cost": 3 * 13, "yang2020": 2 + 9}
    for study, n_rows in expected_rows.items():
        table = pd.read_csv(out / study / "correlations.csv")
        assert len(table) == n_rows, study
        assert (table["spearman low"] <= table["spearman"] + 1e-12).all()
        assert (out / study / "report.md").is_file()
    nb201 = nb201_frame.rename(columns=lambda c: c.replace("/", "_"))
    fidelity = pd.read_csv(out / "fidelity" / "correlations.csv").set_index("x")
    for dataset in ("cifar10", "cifar100", "imagenet16_120"):
        rho = stats.spearmanr(nb201[f"{dataset}_valid_12ep"], nb201[f"{dataset}_test_200ep"])[0]
        assert fidelity.loc[f"{dataset} valid 12ep", "spearman"] == pytest.approx(rho)
    yang = (out / "yang2020" / "report.md").read_text()
    assert "Relative improvement over random sampling" in yang and "CIFAR100" in yang
    measured, pixels = render(out / "fidelity" / "report.html", tmp_path)
    assert_rendered(measured, pixels, figures=3, tables=1)


def test_correlate_pair_import_and_errors(cli, yang2020_dir: Path, tmp_path: Path) -> None:
    env = {"NASBENCH_DATA": str(yang2020_dir)}  # Yang et al.'s files; the rest is shipped
    result = cli("correlate", "zc201:cifar100/synflow", "nb201:cifar100/test_200ep",
                 "--resamples", "50", "--top", "5%", "--out", str(tmp_path / "pair"), env=env)
    assert result.code == 0, result.err
    assert "| 725 |" in result.out and "p@5%" in result.out
    result = cli("correlate", "nb201:cifar10/valid_12ep", "zc201:cifar10/snyflow", env=env)
    assert result.code == 2 and "available" in result.err and "Traceback" not in result.err
    result = cli("correlate", "nb201:cifar10/valid_12ep", env=env)
    assert result.code == 2 and "two scorings" in result.err

    imported = tmp_path / "imported"
    result = cli("import", "--format", "yang2020", "--out", str(imported), env=env)
    assert result.code == 0, result.err
    dirs = sorted(p for p in imported.iterdir() if (p / "manifest.json").is_file())
    assert len(dirs) == 5
    result = cli("report", *map(str, dirs), "--out", str(tmp_path / "yang"), "--no-figures",
                 "--resamples", "100", "--no-print")
    assert result.code == 0, result.err
    rows = pd.read_csv(tmp_path / "yang" / "leaderboard.csv")
    assert rows["ri"].notna().sum() == 39  # the method-dataset pairs Yang et al. report
