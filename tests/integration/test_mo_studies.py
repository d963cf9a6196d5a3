"""Multi-objective studies end to end on shipped tables, checked against brute force."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nasbench.results.pareto import REFERENCE, analyse_fronts
from nasbench.results.report import write_report
from nasbench.results.schema import load_results

from nasbench.protocol import study_from_dict
from nasbench.run import run_study
from tests.conftest import ROOT


def _brute_front(costs: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``costs`` (minimised) that no other row dominates: all pairs."""
    keep = np.ones(len(costs), dtype=bool)
    for start in range(0, len(costs), 512):
        block = costs[start:start + 512]
        le = (costs[None, :, :] <= block[:, None, :]).all(axis=2)
        lt = (costs[None, :, :] < block[:, None, :]).any(axis=2)
        keep[start:start + len(block)] = ~(le & lt).any(axis=1)
    return keep


def _dominated_by(points: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Which of ``points`` (minimised) some row of ``others`` dominates: all pairs."""
    out = np.zeros(len(points), dtype=bool)
    for start in range(0, len(points), 2048):
        block = points[start:start + 2048]
        le = (others[None, :, :] <= block[:, None, :]).all(axis=2)
        lt = (others[None, :, :] < block[:, None, :]).any(axis=2)
        out[start:start + len(block)] = (le & lt).any(axis=1)
    return out


def _brute_hv_2d(costs: np.ndarray, ref: float) -> float:
    """Area dominated by ``costs`` (normalised, minimised) below (ref, ref): union of boxes."""
    pts = costs[_brute_front(costs)]
    pts = pts[(pts < ref).all(axis=1)]
    xs = np.unique(np.concatenate([pts[:, 0], [ref]]))
    area = 0.0
    for x0, x1 in itertools.pairwise(xs):
        covering = pts[pts[:, 0] <= x0]
        if len(covering):
            area += (x1 - x0) * (ref - covering[:, 1].min())
    return area


def _study(plugins, name: str, seeds: int, evaluations: int, strategies=None):
    raw = tomllib.loads((ROOT / "examples" / f"{name}.toml").read_text())
    raw["study"]["seeds"] = seeds
    raw["budget"]["evaluations"] = evaluations
    if strategies is not None:
        raw["strategies"] = strategies
    return study_from_dict(raw, plugins)


@pytest.mark.parametrize("example", ["mo_macro", "mo_nbgraph", "mo_nb201",
                                     "mo_nb201_latency"])
def test_fronts_and_hypervolumes_match_brute_force(example, plugins, tmp_path: Path) -> None:
    study = _study(plugins, example, seeds=3, evaluations=40, strategies=[
        {"name": "random_search"}, {"name": "nsga2", "population_size": 10},
        {"name": "mo_evolution"}, {"name": "random_scalarisation"}])
    run_study(study, plugins, tmp_path / "out", progress=False)
    results = load_results(tmp_path / "out")
    analysis = analyse_fronts(results)
    assert analysis is not None and analysis.bounds_from == "the whole table"

    metrics = [o.metric for o in study.objectives]
    signs = np.array([-1.0 if o.higher_is_better else 1.0 for o in study.objectives])
    table = study.make_evaluator(plugins)
    table.check(study.make_space(plugins), study.dataset, None)
    bench = table.benchmark.load(None, (study.dataset,))
    # The tabular evaluator's whole columns: the table's, or a latency table's predictions.
    every = np.stack([np.asarray(table.whole_column(bench, m), dtype=float) for m in metrics],
                     axis=1)
    every = every[np.isfinite(every).all(axis=1)]
    costs = every * signs
    ideal, nadir = costs.min(axis=0), costs.max(axis=0)
    np.testing.assert_allclose(analysis.ideal, ideal)
    np.testing.assert_allclose(analysis.nadir, nadir)
    # The claimed true front is exactly the table's non-dominated set: none of its points is
    # dominated by any architecture, and every other architecture is dominated by one of them.
    front = analysis.true_front * signs
    assert not _dominated_by(front, costs).any()
    on_front = (costs[:, None, :] == front[None, :, :]).all(axis=2).any(axis=1)
    assert _dominated_by(costs[~on_front], front).all()
    norm = (front - ideal) / (nadir - ideal)
    assert analysis.true_hypervolume == pytest.approx(_brute_hv_2d(norm, REFERENCE), rel=1e-9)

    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    trials[study.search_metric] = trials["search_metric"]
    assert len(analysis.runs) == 12
    for run in analysis.runs:
        rows = trials[(trials["run_id"] == run.run_id) & (trials["status"] == "ok")
                      & ~trials["repeat"]].drop_duplicates("arch_key")
        values = rows[metrics].to_numpy(dtype=float)
        mask = _brute_front(values * signs)
        assert sorted(map(tuple, run.front)) == sorted(map(tuple, values[mask]))
        run_norm = (values * signs - ideal) / (nadir - ideal)
        assert run.hypervolume == pytest.approx(_brute_hv_2d(run_norm, REFERENCE), rel=1e-9)
        assert run.hypervolume <= analysis.true_hypervolume + 1e-12
    # The multi-objective strategies see both objectives: their fronts are not one point.
    assert np.mean([len(r.front) for r in analysis.runs if r.strategy == "nsga2"]) > 2
    paths = write_report([results], tmp_path / "report")
    text = paths["markdown"].read_text()
    assert "Pareto fronts" in text and "RI over random_search" in text
    assert ("Selected on test data" in text) == (example == "mo_macro")
    fronts = pd.read_csv(paths["fronts"])
    assert len(fronts) == 12 and fronts["hypervolume"].between(0, REFERENCE ** 2).all()


def test_reinforce_searches_mnasnet_reward(plugins, tmp_path: Path) -> None:
    """REINFORCE, unchanged, maximises MnasNet's reward (hard form): what it observes, and so
    its incumbent, is the evaluated architecture with the highest reward."""
    raw = {
        "study": {"seeds": 2},
        "space": {"name": "nbgraph"},
        "evaluator": {"name": "tabular", "benchmark": "nbgraph", "dataset": "cora",
                      "search_metric": "valid_acc", "report_metrics": ["test_acc"]},
        "reward": {"kind": "mnasnet", "metric": "latency", "target": 0.002, "form": "hard"},
        "budget": {"evaluations": 30},
        "strategies": [{"name": "reinforce"}],
    }
    study = study_from_dict(raw, plugins)
    run_study(study, plugins, tmp_path / "out", progress=False)
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    differs = 0
    for run_id, rows in trials[trials["strategy"] == "reinforce"].groupby("run_id"):
        ok = rows[(rows["status"] == "ok") & ~rows["repeat"]]
        latency = ok["cora/latency"].to_numpy()
        reward = ok["search_metric"].to_numpy() * np.where(latency <= 0.002, 1.0,
                                                           0.002 / latency)
        best = ok["arch"].iloc[int(np.argmax(reward))]
        assert runs.loc[runs["run_id"] == run_id, "incumbent"].iloc[0] == best
        differs += best != ok["arch"].iloc[int(np.argmax(ok["search_metric"].to_numpy()))]
    assert differs, "the reward never changed the answer: the test shows nothing"


@pytest.mark.parametrize("checkpoint_seconds", [60.0, 0.0])
def test_interrupted_multi_objective_study_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checkpoint_seconds: float
) -> None:
    """Killed mid-study and resumed (by replay alone, or from checkpoints where the strategy
    has plain-data state), the tables equal the uninterrupted study's."""
    from nasbench.registry import load_plugins, make_plugin_manager
    from nasbench.run import loop
    from tests.integration.test_harness import _Interrupting, _InterruptPlugin

    monkeypatch.setattr(loop, "FLUSH_SECONDS", 0.0)
    monkeypatch.setattr(loop, "CHECKPOINT_SECONDS", checkpoint_seconds)
    plugins = load_plugins(make_plugin_manager(plugins=[_InterruptPlugin()]))
    raw = tomllib.loads((ROOT / "examples" / "mo_nb201.toml").read_text())
    raw["study"]["seeds"] = 2
    raw["budget"]["evaluations"] = 40
    raw["evaluator"]["name"] = "interrupting_tabular"
    raw["strategies"] = [{"name": "nsga2", "population_size": 10}, {"name": "mo_evolution"},
                         {"name": "random_scalarisation"}]

    def run(out: Path, **kw) -> None:
        run_study(study_from_dict(raw, plugins), plugins, out, progress=False, **kw)

    _Interrupting.calls, _Interrupting.stop_at = 0, None
    run(tmp_path / "whole")
    _Interrupting.calls, _Interrupting.stop_at = 0, 150
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut")
    _Interrupting.stop_at = None
    assert any((tmp_path / "cut" / "runs").glob("*.state")) == (checkpoint_seconds < 1)
    run(tmp_path / "cut", resume=True)
    for name in ("trials", "runs"):
        whole = pd.read_parquet(tmp_path / "whole" / f"{name}.parquet").drop(
            columns=["wall_time"])
        cut = pd.read_parquet(tmp_path / "cut" / f"{name}.parquet").drop(columns=["wall_time"])
        pd.testing.assert_frame_equal(whole, cut)
