"""The benchmark suite: every installed black-box strategy on every available tabular problem.

A *problem* is one registered benchmark table and one of its datasets, searched on the
table's validation metric and reported on its test metric. The suite builds one ordinary
study per problem through the same validation as a TOML config (:func:`study_from_dict`), so
each problem's directory is a results directory like any other (``nasbench report`` works on
it), and runs it with the harness's :func:`~nasbench.run.run_study`.

Which strategies take part is read from what they declare, never from a list of names: a
strategy takes part when it searches (:attr:`Strategy.searches`) and needs no supernet; one
whose other needs (several fidelities, a space capability) a problem cannot meet is left out
of that problem, with the study loader's reason recorded. Every strategy runs with its default
hyper-parameters under one protocol: the same seeds, the same number of evaluations per run,
and the random-sampling baseline of every study.

Problems whose table is not available here (data not imported, a package not installed) or
that publish no validation metric to search on are listed as skipped, with the reason, rather
than failing the suite. A cost such as parameters is not a validation metric: NAS-Bench-Macro,
which publishes test accuracy only, declares parameters as its search metric for studies of
its own (e.g. multi-objective ones), but ranked on test accuracy a search that minimises
parameters well would rank worst. ``suite.json`` in the output directory records the protocol, the
problems and what was skipped; running the same command again resumes where it stopped.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nasbench.api import MetricInfo
from nasbench.errors import ConfigError, DataNotFoundError, UserError, available
from nasbench.protocol import Study, study_from_dict
from nasbench.registry import Plugins

SUITE_FILE = "suite.json"
FORMAT = 1
TABULAR_EVALUATOR = "tabular"
"""The evaluator that answers trials from a registered benchmark table."""


@dataclass(frozen=True)
class SuiteProtocol:
    """What every run of the suite shares.

    Attributes:
        seeds: repetition seeds per strategy and problem (0..seeds-1).
        evaluations: evaluations per run (repeats of an architecture are free).
        root_seed: root of every random stream.
    """

    seeds: int = 100
    evaluations: int = 100
    root_seed: int = 0


@dataclass(frozen=True)
class Problem:
    """One benchmark table and dataset, with the metrics it is searched and judged on.

    Attributes:
        name: ``<benchmark>-<dataset>``; the name of its study and of its directory.
        benchmark, space, dataset: where the table comes from.
        search_metric: validation metric strategies see (unqualified).
        report_metric: test metric the leaderboard ranks on (unqualified).
    """

    name: str
    benchmark: str
    space: str
    dataset: str
    search_metric: str
    report_metric: str


@dataclass(frozen=True)
class Skipped:
    """A problem (or a strategy of a problem) the suite cannot run here, and why."""

    name: str
    reason: str


@dataclass
class ProblemOutcome:
    """What the suite did with one problem."""

    problem: Problem
    directory: Path
    strategies: list[str]
    left_out: dict[str, str]
    seconds: float = 0.0
    resumed: bool = False
    already_done: bool = False


@dataclass
class SuiteOutcome:
    """Every problem run, every one skipped, and where the results are."""

    directory: Path
    problems: list[ProblemOutcome] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _declared(benchmark: Any, key: str) -> Any:
    """A benchmark's declared default (an attribute or a method), or ``None``."""
    value = getattr(benchmark, key, None)
    return value() if callable(value) else value


def _highest_fidelity(metrics: dict[str, MetricInfo]) -> str:
    return max(metrics, key=lambda m: (metrics[m].fidelity or 0.0))


def _metrics_of(benchmark: Any) -> tuple[str, str] | str:
    """The search and report metric of a benchmark, or the reason it has none."""
    metrics = dict(benchmark.metrics())
    search = _declared(benchmark, "search_metric")
    if not (isinstance(search, str) and search in metrics and metrics[search].split == "valid"):
        valid = {m: i for m, i in metrics.items() if i.split == "valid"}
        if not valid:
            declared = (f"; the search metric it declares, '{search}', measures cost, not what "
                        "is reported, so a better search would score worse"
                        if isinstance(search, str) and search in metrics else "")
            return ("publishes no validation metric to search on (searching on test data would "
                    f"overstate every strategy){declared}")
        search = _highest_fidelity(valid)
    reports = _declared(benchmark, "report_metrics")
    if isinstance(reports, (list, tuple)) and reports and reports[0] in metrics:
        report = str(reports[0])
    else:
        tests = {m: i for m, i in metrics.items() if i.split == "test"}
        if not tests:
            return "publishes no test metric to report"
        report = _highest_fidelity(tests)
    return search, report


def discover_problems(plugins: Plugins, data_dir: Path | None
                      ) -> tuple[list[Problem], list[Skipped]]:
    """Every benchmark x dataset that can be searched here, and those that cannot (why)."""
    problems: list[Problem] = []
    skipped: list[Skipped] = []
    for record in plugins.benchmarks:
        benchmark = record.cls()
        try:
            datasets = tuple(benchmark.datasets())
        except (UserError, OSError) as err:
            skipped.append(Skipped(record.name, str(err)))
            continue
        try:
            benchmark.check(data_dir)
        except DataNotFoundError as err:
            skipped += [Skipped(f"{record.name}-{d}", f"table not available: {err}")
                        for d in datasets]
            continue
        chosen = _metrics_of(benchmark)
        if isinstance(chosen, str):
            skipped += [Skipped(f"{record.name}-{d}", chosen) for d in datasets]
            continue
        search, report = chosen
        problems += [Problem(f"{record.name}-{d}", record.name, record.cls.space, d, search,
                             report) for d in datasets]
    return problems, skipped


def black_box_strategies(plugins: Plugins) -> list[str]:
    """Registered strategies that search without a supernet (what they declare)."""
    return [r.name for r in plugins.strategies
            if getattr(r.cls, "searches", True) and "supernet" not in r.cls.requires]


def select_strategies(plugins: Plugins, wanted: Sequence[str] | None) -> list[str]:
    """The suite's strategies: every black-box one, or the named ones (checked)."""
    eligible = black_box_strategies(plugins)
    if not wanted:
        return eligible
    out = []
    for name in wanted:
        if name not in plugins.strategies:
            raise UserError(f"unknown strategy '{name}'; black-box strategies installed: "
                            f"{available(eligible)} (see 'nasbench list').")
        if name not in eligible:
            raise UserError(f"strategy '{name}' is not a black-box search strategy (it needs a "
                            f"supernet or does not search); the suite runs {available(eligible)}.")
        if name not in out:
            out.append(name)
    return out


def select_problems(problems: list[Problem], patterns: Sequence[str] | None) -> list[Problem]:
    """The problems matching any pattern (a problem name, a benchmark name, or a glob)."""
    if not patterns:
        return problems
    out = []
    for pattern in patterns:
        hits = [p for p in problems if fnmatch.fnmatchcase(p.name, pattern)
                or p.benchmark == pattern]
        if not hits:
            raise UserError(f"--problems {pattern!r} matches no available problem; available: "
                            f"{available([p.name for p in problems])} (or a benchmark name, or "
                            "a glob such as 'nbgraph-*').")
        out += [p for p in hits if p not in out]
    return out


def problem_config(problem: Problem, strategies: Sequence[str], protocol: SuiteProtocol,
                   data_dir: Path | None = None) -> dict[str, Any]:
    """The study config of one problem, as a TOML file would give it."""
    study: dict[str, Any] = {"name": f"suite-{problem.name}", "seed": protocol.root_seed,
                             "seeds": protocol.seeds}
    if data_dir is not None:
        study["data_dir"] = str(Path(data_dir).resolve())
    return {
        "study": study,
        "space": {"name": problem.space},
        "evaluator": {"name": TABULAR_EVALUATOR, "benchmark": problem.benchmark,
                      "dataset": problem.dataset, "search_metric": problem.search_metric,
                      "report_metrics": [problem.report_metric]},
        "budget": {"evaluations": protocol.evaluations},
        "strategies": [{"name": s} for s in strategies],
    }


def problem_study(problem: Problem, strategies: Sequence[str], protocol: SuiteProtocol,
                  plugins: Plugins, data_dir: Path | None = None
                  ) -> tuple[Study, dict[str, str]]:
    """The validated study of one problem, and the strategies left out of it (why).

    A strategy the study loader refuses for this problem (it needs fidelities or a space
    capability the problem lacks) is left out with the loader's message; any other mistake
    is the suite's own and raised.
    """
    chosen = list(strategies)
    left_out: dict[str, str] = {}
    while chosen:
        try:
            study = study_from_dict(problem_config(problem, chosen, protocol, data_dir),
                                    plugins)
        except ConfigError as err:
            if not err.key.startswith("strategies["):
                raise
            index = int(err.key.split("[", 1)[1].split("]", 1)[0])
            left_out[chosen.pop(index)] = f"{err.problem}"
            continue
        return study, left_out
    raise UserError(f"no strategy of the suite can run on {problem.name}: "
                    + "; ".join(f"{k}: {v}" for k, v in left_out.items()))


def _check_not_exhaustive(study: Study, plugins: Plugins, protocol: SuiteProtocol) -> None:
    """Refuse a problem whose whole space fits in one run's budget: every strategy could
    evaluate every architecture, so the problem ranks nothing but the order of a full sweep."""
    size = study.make_space(plugins).size()
    if size is not None and size <= protocol.evaluations:
        raise UserError(f"its space '{study.space.name}' has {size} architectures and the "
                        f"protocol allows {protocol.evaluations} evaluations per run: every "
                        "run could sweep the whole space. Give it its own study with a smaller "
                        "budget (e.g. examples/dqn_cartpole_tabular.toml).")


def _complete(directory: Path, study: Study) -> bool:
    manifest = directory / "manifest.json"
    if not (directory / "runs.parquet").is_file() or not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("config_hash") == study.config_hash


def _check_protocol(out: Path, protocol: SuiteProtocol) -> None:
    path = out / SUITE_FILE
    if not path.is_file():
        if out.exists() and any(out.iterdir()):
            raise UserError(f"{out} exists and is not a suite directory (no {SUITE_FILE}). "
                            "Choose another --out.")
        return
    earlier = json.loads(path.read_text()).get("protocol", {})
    if earlier != asdict(protocol):
        raise UserError(f"{out} holds a suite run under another protocol ({earlier}); resume it "
                        "with the same --seeds and --evaluations, or choose another --out.")


def write_suite_file(outcome: SuiteOutcome, protocol: SuiteProtocol,
                     strategies: Sequence[str]) -> Path:
    """``suite.json``: the protocol, the problems and what was skipped (for the site)."""
    path = outcome.directory / SUITE_FILE
    data = {
        "format": FORMAT,
        "protocol": asdict(protocol),
        "strategies": list(strategies),
        "problems": [{**asdict(p.problem), "directory": p.directory.name,
                      "strategies": p.strategies, "left_out": p.left_out}
                     for p in outcome.problems],
        "skipped": [asdict(s) for s in outcome.skipped],
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def run_suite(plugins: Plugins, out: Path, *, problems: Sequence[str] | None = None,
              strategies: Sequence[str] | None = None,
              protocol: SuiteProtocol | None = None, workers: int = 1,
              data_dir: Path | None = None, progress: bool = True,
              log: Callable[[str], None] | None = None) -> SuiteOutcome:
    """Run (or resume) the suite into ``out``: one study directory per problem."""
    protocol = protocol or SuiteProtocol()
    if protocol.seeds < 1 or protocol.evaluations < 1:
        raise UserError("--seeds and --evaluations must be at least 1.")
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}.")
    from nasbench.run import run_study

    names = select_strategies(plugins, strategies)
    if not names:
        raise UserError("no black-box strategy is installed; see 'nasbench list'.")
    found, skipped = discover_problems(plugins, data_dir)
    chosen = select_problems(found, problems)
    if not chosen:
        raise UserError("no tabular problem is available here: "
                        + "; ".join(f"{s.name}: {s.reason}" for s in skipped))
    _check_protocol(out, protocol)
    out.mkdir(parents=True, exist_ok=True)
    outcome = SuiteOutcome(out, skipped=list(skipped))
    say = log or (lambda _line: None)
    for i, problem in enumerate(chosen, 1):
        try:
            study, left_out = problem_study(problem, names, protocol, plugins, data_dir)
            _check_not_exhaustive(study, plugins, protocol)
        except UserError as err:
            outcome.skipped.append(Skipped(problem.name, str(err)))
            say(f"[{i}/{len(chosen)}] {problem.name}: skipped ({err})")
            continue
        directory = out / problem.name
        labels = [s.label for s in study.strategies]
        done = ProblemOutcome(problem, directory, labels, left_out)
        outcome.problems.append(done)
        write_suite_file(outcome, protocol, names)
        if _complete(directory, study):
            done.already_done = True
            say(f"[{i}/{len(chosen)}] {problem.name}: already complete")
            continue
        done.resumed = (directory / "manifest.json").is_file()
        start = time.perf_counter()
        result = run_study(study, plugins, directory, resume=done.resumed, workers=workers,
                           progress=progress, command=None)
        done.seconds = time.perf_counter() - start
        state = "" if result.complete else f" ({result.runs_done}/{result.runs_total} runs done)"
        say(f"[{i}/{len(chosen)}] {problem.name}: {len(labels)} strategies x {protocol.seeds} "
            f"seeds x {protocol.evaluations} evaluations in {done.seconds:.1f} s{state}"
            + (f"; left out: {', '.join(left_out)}" if left_out else ""))
    write_suite_file(outcome, protocol, names)
    return outcome


def suite_directories(paths: Sequence[Path]) -> tuple[list[Path], list[Skipped]]:
    """Study directories of the given paths (a suite directory stands for its problems), and
    the problems the suites skipped."""
    dirs: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        suite_file = path / SUITE_FILE
        if suite_file.is_file():
            data = json.loads(suite_file.read_text())
            dirs += [path / p["directory"] for p in data.get("problems", [])]
            skipped += [Skipped(s["name"], s["reason"]) for s in data.get("skipped", [])]
        elif (path / "manifest.json").is_file():
            dirs.append(path)
        else:
            raise UserError(f"{path} is neither a suite directory ({SUITE_FILE}) nor a results "
                            "directory (manifest.json); pass what 'nasbench suite' or "
                            "'nasbench run' wrote.")
    return dirs, skipped
