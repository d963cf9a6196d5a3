"""``nasbench suite`` and ``nasbench leaderboard --site`` end to end, the site in a real browser.

The suite runs on two NAS-Bench-Graph problems (their tables ship in the installed
nas-bench-graph wheel) with every installed black-box strategy, the example plugin package's
strategy included (installed by pip into a directory of its own, as in
test_third_party_plugin.py). The site is opened from ``file://`` in headless Chromium: the
pages load, no script error reaches the console or the page, every relative link resolves,
and clicking a header sorts the table.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import rankdata

from tests.conftest import ROOT, run_cli

SEEDS = 6
EVALUATIONS = 20
PROBLEMS = ("nbgraph-cora", "nbgraph-citeseer")
BUILT_IN = {"random_search", "aging_evolution", "local_search", "reinforce", "reinforce_logits",
            "bayesian"}


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("plugin")
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
               str(ROOT / "examples" / "plugin")]
    # Without build isolation when the environment can build wheels itself (fast); else pip
    # builds in an isolated environment from the configured index.
    done = subprocess.run([*command, "--no-build-isolation"], capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(site)
        site.mkdir()
        subprocess.run(command, check=True, capture_output=True, text=True)
    return site


@pytest.fixture(scope="module")
def env(plugin_site: Path) -> dict[str, str]:
    # no data directory: only what is installed is available
    return {"PYTHONPATH": os.pathsep.join([str(plugin_site), str(ROOT)]), "NASBENCH_DATA": ""}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> dict:
    """The suite run in two goes (the second resumes the first), then its site."""
    tmp = tmp_path_factory.mktemp("suite")
    out = tmp / "suite"
    common = ["--seeds", str(SEEDS), "--evaluations", str(EVALUATIONS), "--out", str(out)]
    first = run_cli("suite", "--problems", PROBLEMS[0], *common, env=env)
    assert first.code == 0, first.err
    created = json.loads((out / PROBLEMS[0] / "manifest.json").read_text())["created"]
    second = run_cli("suite", "--problems", *PROBLEMS, *common, env=env)
    assert second.code == 0, second.err
    site = tmp / "site"
    built = run_cli("leaderboard", str(out), "--site", str(site), "--resamples", "200", env=env)
    assert built.code == 0, built.err
    return {"out": out, "site": site, "first": first, "second": second, "created": created,
            "tmp": tmp}


def test_every_black_box_strategy_runs_on_every_problem_plugin_included(suite: dict) -> None:
    data = json.loads((suite["out"] / "suite.json").read_text())
    names = set(data["strategies"])
    assert BUILT_IN | {"epsilon_greedy"} <= names
    # one-shot strategies need a supernet, fixed_set does not search: declared, left out
    assert not names & {"darts", "enas", "rsws", "fixed_set"}
    assert [p["name"] for p in data["problems"]] == list(PROBLEMS)
    for problem in data["problems"]:
        # bohb needs several fidelities; NAS-Bench-Graph has one: left out, with the reason
        assert "several fidelities" in problem["left_out"]["bohb"]
        runs = pd.read_parquet(suite["out"] / problem["directory"] / "runs.parquet")
        assert set(runs["strategy"]) == set(problem["strategies"]) | {"random_sampling"}
        assert set(problem["strategies"]) == names - set(problem["left_out"])
        search = runs[runs["strategy"] != "random_sampling"]
        assert (search["n_evaluations"] == EVALUATIONS).all()
        assert sorted(search.groupby("strategy")["seed"].nunique().unique()) == [SEEDS]


def test_the_suite_resumes_and_skips_what_is_done(suite: dict) -> None:
    assert f"{PROBLEMS[0]}: already complete" in suite["second"].err
    assert f"{PROBLEMS[1]}: " in suite["second"].err
    again = json.loads((suite["out"] / PROBLEMS[0] / "manifest.json").read_text())["created"]
    assert again == suite["created"]


def test_each_problem_is_an_ordinary_study_directory(suite: dict, env: dict) -> None:
    report = run_cli("report", str(suite["out"] / PROBLEMS[1]), "--no-figures", "--quiet",
                     "--out", str(suite["tmp"] / "report"), env=env)
    assert report.code == 0, report.err
    assert "epsilon_greedy" in (suite["tmp"] / "report" / "leaderboard.md").read_text()


def test_suite_refuses_what_it_cannot_run(tmp_path: Path, env: dict) -> None:
    bad = run_cli("suite", "--strategies", "darts", "--out", str(tmp_path / "x"), env=env)
    assert bad.code != 0 and "not a black-box search strategy" in bad.err
    assert "Traceback" not in bad.err
    bad = run_cli("suite", "--problems", "nosuch-*", "--out", str(tmp_path / "y"), env=env)
    assert bad.code != 0 and "matches no available problem" in bad.err
    assert "nbgraph-cora" in bad.err
    bad = run_cli("leaderboard", str(tmp_path), "--site", str(tmp_path / "s"), env=env)
    assert bad.code != 0 and "neither a suite directory" in bad.err


def _scores(out: Path) -> dict[str, pd.Series]:
    return {p: pd.read_parquet(out / p / "runs.parquet").groupby("strategy")["cora/test_acc"
            if p.endswith("cora") else "citeseer/test_acc"].mean() for p in PROBLEMS}


def test_index_figures_recomputed_by_hand(suite: dict) -> None:
    scores = pd.DataFrame(_scores(suite["out"])).T  # problems x strategies
    ranks = pd.DataFrame(rankdata(-scores.to_numpy(), axis=1), index=scores.index,
                         columns=scores.columns)
    rows = _index_rows(suite["site"])
    for label, mean_rank in ranks.mean().items():
        assert rows[label][1] == f"{mean_rank:.2f}"
    for label in scores.columns:
        if label == "random_search":
            continue
        outcomes = []
        for p in PROBLEMS:
            runs = pd.read_parquet(suite["out"] / p / "runs.parquet").sort_values("seed")
            metric = f"{p.split('-', 1)[1]}/test_acc"
            a = runs[runs["strategy"] == label][metric].to_numpy()
            b = runs[runs["strategy"] == "random_search"][metric].to_numpy()
            if np.all(a == b):
                outcomes.append("tie")
                continue
            pv = stats.wilcoxon(a, b).pvalue
            outcomes.append("tie" if pv >= 0.05 else ("win" if a.mean() > b.mean() else "loss"))
        wtl = f"{outcomes.count('win')}/{outcomes.count('tie')}/{outcomes.count('loss')}"
        assert rows[label][5] == wtl


def test_normalised_regret_recomputed_from_the_table(suite: dict, plugins) -> None:
    scores = pd.DataFrame(_scores(suite["out"])).T
    per_problem = {}
    for p in PROBLEMS:
        dataset = p.split("-", 1)[1]
        table = plugins.benchmarks.get("nbgraph")().load(None, (dataset,))
        column = np.asarray(table.column(f"{dataset}/test_acc"), dtype=float)
        best, mean = column.max(), column.mean()
        per_problem[p] = (best - scores.loc[p]) / (best - mean)
    regret = pd.DataFrame(per_problem).mean(axis=1)
    rows = _index_rows(suite["site"])
    for label, value in regret.items():
        assert rows[label][3] == f"{value:.3f}"
    problems = {r[0]: r for r in _rows_of((suite["site"] / "index.html").read_text(), 1)}
    table = plugins.benchmarks.get("nbgraph")().load(None, ("cora",))
    assert problems["nbgraph-cora"][4] == f"{max(table.column('cora/test_acc')):.2f}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.hrefs.append(value)


def test_every_link_resolves_and_nothing_is_loaded_from_elsewhere(suite: dict) -> None:
    site = suite["site"]
    pages = sorted(site.rglob("*.html"))
    assert {p.relative_to(site).as_posix() for p in pages} >= {
        "index.html", *(f"problems/{p}.html" for p in PROBLEMS),
        "strategies/epsilon_greedy.html", "strategies/random_search.html"}
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text())
        for href in parser.hrefs:
            assert not re.match(r"^[a-z]+:", href), f"{page}: {href} leaves the site"
            target = href.split("#", 1)[0]
            if target:
                assert (page.parent / target).resolve().is_file(), f"{page}: {href}"
    plugin_page = (site / "strategies" / "epsilon_greedy.html").read_text()
    for p in PROBLEMS:
        assert f"../problems/{p}.html" in plugin_page


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("headless Chromium is needed to check the site: apt-get install -y chromium")
    return path


def dump(url: str, tmp: Path) -> tuple[str, str]:
    """The DOM of ``url`` after its scripts ran, and Chromium's log (console messages)."""
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp / 'chromium-profile'}",
         "--enable-logging=stderr", "--v=0", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=True)
    return proc.stdout, proc.stderr


def _rows_of(dom: str, table: int = 0) -> list[list[str]]:
    body = re.findall(r"<tbody>(.*?)</tbody>", dom, re.S)[table]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r,
                                                                     re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _index_rows(site: Path) -> dict[str, list[str]]:
    return {r[0]: r for r in _rows_of((site / "index.html").read_text())}


def test_pages_load_without_script_errors(suite: dict) -> None:
    site = suite["site"]
    for page in ["index.html", f"problems/{PROBLEMS[0]}.html", "strategies/epsilon_greedy.html"]:
        dom, log = dump((site / page).as_uri(), suite["tmp"])
        assert 'data-ready="1"' in dom, f"{page}: the script did not run"
        assert '<pre id="js-error"' not in dom, f"{page}: {dom[-400:]}"
        assert ":CONSOLE" not in log, f"{page}: {log}"
        assert "<svg" in dom or page.startswith("strategies")


def test_clicking_a_header_sorts_the_table(suite: dict) -> None:
    site = suite["site"]
    index = (site / "index.html").as_uri()
    original = [r[0] for r in _rows_of(dump(index, suite["tmp"])[0])]
    # column 3: normalised regret; one click ascending, two clicks descending
    dom, _ = dump(f"{index}#click=0:3", suite["tmp"])
    assert 'data-sorted="3:asc"' in dom
    values = [float(r[3]) for r in _rows_of(dom)]
    assert values == sorted(values)
    dom, _ = dump(f"{index}#click=0:3:2", suite["tmp"])
    values = [float(r[3]) for r in _rows_of(dom)]
    assert values == sorted(values, reverse=True)
    # column 0: names, alphabetically
    dom, _ = dump(f"{index}#click=0:0", suite["tmp"])
    names = [r[0] for r in _rows_of(dom)]
    assert names == sorted(original)
    # the rows moved, not only their values: every row kept its own link
    assert set(re.findall(r'href="(strategies/[^"]+)"', dom)) == {
        f"strategies/{n}.html" for n in original}
