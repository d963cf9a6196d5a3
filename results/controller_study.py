"""What the controller learns: the ``controller-embedding`` study (Adam & Lorraine, 2019).

"Understanding Neural Architecture Search Techniques" (G. Adam and J. Lorraine, 2019) analysed
ENAS on Penn Treebank and found that (1) the LSTM controller's hidden state was the same for
every sampled architecture, (2) a memorisation regulariser (reconstruct past samples from a
replay buffer) made the hidden states differ and gave the highest, yet low, Spearman
correlation between the L2 distance of two architectures' controller embeddings and intuitive
similarity, and (3) architectures sampled from a trained controller beat those of an untrained
one under shared weights mostly because the shared weights were trained on a narrower set.

This study repeats the three analyses in nasbench, on two problems:

* **tabular**: the LSTM controller (ENAS's released settings) trained by REINFORCE on a
  benchmark table's validation accuracy (NAS-Bench-201's 12-epoch CIFAR-10 validation accuracy
  by default), with and without the regulariser, and an untrained one;
* **supernet**: ENAS on its recurrent-cell space (``enas_rnn``) on a language-modelling
  dataset (``ptb``, from the user's copy; where there is none, ``kjv``, the King James Bible
  of Debian's ``bible-kjv`` package): shared weights trained with the controller's
  samples, the controller trained by REINFORCE on validation token accuracy, against the same
  loop with a controller that is never updated (its shared weights see the untrained
  controller's samples). Then ``sampled`` architectures from each are measured with their
  shared weights, and a few of them trained stand-alone (``lightning`` evaluator).

For each controller it samples ``samples`` architectures, reads each with the controller
(:meth:`~nasbench.strategies.controller.LstmController.encode`), and correlates, over all
pairs of samples, the closeness of their embeddings (minus the L2 distance) with operations in
common, connections in common and minus the edit distance (Levenshtein over decisions).
Pairs share architectures, so the bootstrap intervals over pairs are narrower than intervals
over independent architectures would be: read them as descriptive.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.errors import UserError

SIMILARITIES = ("ops in common", "connections in common", "-edit distance")


@dataclass(frozen=True)
class ControllerStudyConfig:
    """Sizes of the study; the defaults are the documented run (``docs/controller.md``)."""

    benchmark: str = "nb201"
    dataset: str = "cifar10"
    metric: str = "valid_12ep"
    updates: int = 200
    batch: int = 10
    hidden_size: int = 64
    learning_rate: float = 0.0035
    tanh_constant: float = 1.1
    entropy_weight: float = 1e-4
    baseline_decay: float = 0.99
    init_range: float = 0.1
    memory_size: int = 10_000
    memory_fill_start: int = 25
    memory_start: int = 50
    memory_batch: int = 100
    memory_weight: float = 1.0
    samples: int = 100
    seed: int = 0
    rnn_dataset: str | None = "ptb"
    rnn_fallback: str | None = "kjv"
    """The corpus of the supernet part when ``rnn_dataset`` is not on this machine (``kjv``:
    Debian's King James Bible); ``None`` skips the part instead."""
    rnn_hidden: int = 32
    rnn_train_samples: int = 2000
    rnn_valid_samples: int = 500
    rnn_epochs: int = 3
    rnn_batch: int = 32
    rnn_controller_steps: int = 20
    rnn_controller_aggregate: int = 5
    rnn_sampled: int = 1000
    rnn_standalone: int = 5
    rnn_standalone_epochs: int = 1

    def controller(self, *, memorise: bool) -> Any:
        from nasbench.strategies.controller import ControllerConfig

        memory = ({"memory_size": self.memory_size, "memory_fill_start": self.memory_fill_start,
                   "memory_start": self.memory_start, "memory_batch": self.memory_batch,
                   "memory_weight": self.memory_weight} if memorise else {})
        return ControllerConfig(hidden_size=self.hidden_size, num_layers=1,
                                init_range=self.init_range, learning_rate=self.learning_rate,
                                tanh_constant=self.tanh_constant,
                                entropy_weight=self.entropy_weight,
                                baseline_decay=self.baseline_decay, **memory)


CONTROLLERS = ("untrained", "trained", "trained + memorisation")


# -- similarity of two architectures ----------------------------------------------------------
def _parts(space: Any, arch: Sequence[int]) -> tuple[list[Any], list[Any], bool]:
    """Operations and connections of ``arch``; whether connections count when both are
    present (NB201: an edge exists unless it is ``none``) rather than when they are equal."""
    if space.name == "nb201":
        return list(arch), [op != 0 for op in arch], True
    if space.name == "nbgraph":
        from nasbench.spaces.nbgraph import LINKS

        return list(arch[1:]), list(LINKS[arch[0]]), False
    names = [d.name for d in space.decisions()] if hasattr(space, "decisions") else []
    ops, links = [], []
    for t, choice in enumerate(arch):
        name = names[t] if t < len(names) else ""
        (links if name.endswith("input") else ops).append((t, choice))
    return ops, links, False


def _levenshtein(a: Sequence[int], b: Sequence[int]) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def similarities(space: Any, a: Sequence[int], b: Sequence[int]) -> dict[str, float]:
    """Operations in common, connections in common and minus the edit distance."""
    ops_a, links_a, presence = _parts(space, a)
    ops_b, links_b, _ = _parts(space, b)
    ops = sum(x == y for x, y in zip(ops_a, ops_b, strict=False))
    links = sum((x and y) if presence else (x == y)
                for x, y in zip(links_a, links_b, strict=False))
    return {"ops in common": float(ops), "connections in common": float(links),
            "-edit distance": -float(_levenshtein(a, b))}


# -- reading the controllers -------------------------------------------------------------------
@dataclass
class Reading:
    """What one controller produced: samples, hidden states, embeddings."""

    name: str
    archs: list[tuple[int, ...]]
    hidden: np.ndarray
    embedding: np.ndarray
    seconds: float = 0.0


def read(name: str, controller: Any, samples: int) -> Reading:
    """Sample ``samples`` architectures and read each with the controller."""
    archs = [controller.sample() for _ in range(samples)]
    codes = [controller.encode(a) for a in archs]
    return Reading(name, archs, np.stack([c[0] for c in codes]), np.stack([c[1] for c in codes]))


def pair_correlations(space: Any, reading: Reading, options: Any) -> list[Any]:
    """Embedding closeness against each similarity, over all pairs of samples."""
    from nasbench.results.correlation import correlate
    from nasbench.results.scorings import Scoring

    keys, closeness = [], []
    values: dict[str, list[float]] = {s: [] for s in SIMILARITIES}
    for i, j in itertools.combinations(range(len(reading.archs)), 2):
        keys.append(f"{i}-{j}")
        closeness.append(-float(np.linalg.norm(reading.embedding[i] - reading.embedding[j])))
        for s, v in similarities(space, reading.archs[i], reading.archs[j]).items():
            values[s].append(v)
    key_array = np.array(keys)
    options = replace(options, tops=())  # precision@k of pairs means nothing here
    x = Scoring(f"{reading.name}: -L2(embedding)", key_array, np.array(closeness))
    return [correlate(x, Scoring(s, key_array, np.array(v)), options) for s, v in values.items()]


def spread(reading: Reading) -> dict[str, float]:
    """How much the hidden states differ across samples, and how diverse the samples are."""
    h = reading.hidden
    return {"hidden std (mean over units)": float(h.std(axis=0).mean()),
            "hidden |mean| (mean over units)": float(np.abs(h.mean(axis=0)).mean()),
            "distinct hidden rows": float(len({row.tobytes() for row in h.round(6)})),
            "distinct architectures": float(len(set(reading.archs)))}


def heatmap(reading: Reading, path: Path | None = None) -> str:
    """The study's figure: hidden states (samples x units), as SVG (and PNG at ``path``)."""
    from nasbench.results.plots import _pyplot, _svg

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 3.4))
    limit = float(np.abs(reading.hidden).max()) or 1.0
    image = ax.imshow(reading.hidden, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                      interpolation="nearest")
    ax.set_xlabel("hidden unit")
    ax.set_ylabel("sampled architecture")
    ax.set_title(reading.name)
    fig.colorbar(image, ax=ax, shrink=0.8)
    if path is not None:
        fig.savefig(path, dpi=60, bbox_inches="tight")
    return _svg(fig, f"heat-{reading.name}")


# -- the tabular problem ------------------------------------------------------------------------
def tabular_controllers(plugins: Any, data_dir: Path | None, config: ControllerStudyConfig
                        ) -> tuple[Any, list[Reading], dict[str, Any]]:
    """Train the controllers on the table; return the space, their readings and facts."""
    from nasbench.strategies.controller import LstmController

    from nasbench import seeding

    benchmark = plugins.benchmarks.get(config.benchmark, "benchmark")()
    metric = f"{config.dataset}/{config.metric}"
    if metric not in benchmark.metrics() and config.metric not in benchmark.metrics():
        raise UserError(f"benchmark '{config.benchmark}' has no metric '{config.metric}'; "
                        f"available: {', '.join(benchmark.metrics())}")
    table = benchmark.load(data_dir, (config.dataset,))
    column = np.asarray(table.column(metric), dtype=float)
    space = plugins.spaces.get(benchmark.space)()

    def reward(arch: tuple[int, ...]) -> float:
        return float(column[table.row(arch)]) / 100.0

    readings, facts = [], {}
    for name in CONTROLLERS:
        rng = seeding.generator(config.seed, "controller-study", "tabular")
        t0 = time.perf_counter()
        controller = LstmController(space, rng,
                                    config.controller(memorise=name.endswith("memorisation")))
        rewards = []
        if name != "untrained":
            for _ in range(config.updates):
                archs = [controller.sample() for _ in range(config.batch)]
                values = [reward(a) for a in archs]
                rewards.append(float(np.mean(values)))
                controller.reinforce(archs, values)
        reading = read(name, controller, config.samples)
        reading.seconds = time.perf_counter() - t0
        sampled = [100 * reward(a) for a in reading.archs]
        facts[name] = {"mean reward, last 10 updates": 100 * float(np.mean(rewards[-10:]))
                       if rewards else float("nan"),
                       "mean accuracy of samples": float(np.mean(sampled)),
                       "buffer": len(controller.memory),
                       "reconstruction NLL of the samples": controller.memorisation_loss(
                           reading.archs)}
        readings.append(reading)
    return space, readings, facts


# -- the supernet problem -----------------------------------------------------------------------
def supernet_controllers(plugins: Any, data_dir: Path | None, config: ControllerStudyConfig
                         ) -> tuple[Any, list[Reading], list[list[str]]]:
    """ENAS on the recurrent-cell space with a trained and an untrained controller."""
    import torch
    from nasbench.strategies.controller import LstmController

    from nasbench import seeding
    from nasbench.supernet.handle import SupernetHandle, supernet_data
    from nasbench.supernet.protocol import SupernetProtocol
    from nasbench.training.recipe import TrainingRecipe

    space = plugins.spaces.get("enas_rnn")()
    dataset = plugins.datasets.get(config.rnn_dataset, "dataset")()
    dataset.check(data_dir)
    protocol = SupernetProtocol(size={"hidden": config.rnn_hidden},
                                train_samples=config.rnn_train_samples,
                                valid_samples=config.rnn_valid_samples, test_samples=10)
    data = supernet_data(space, dataset, protocol, data_dir=data_dir, cache_dir=None,
                         root_seed=config.seed)
    readings, rows = [], []
    for name in ("untrained", "trained"):
        seed = seeding.int_seed(config.seed, "controller-study", "supernet")
        t0 = time.perf_counter()
        handle = SupernetHandle(space, data, protocol, seed=seed, threads=torch.get_num_threads())
        steps_per_epoch = handle.steps_per_epoch("train", config.rnn_batch)
        handle.configure(TrainingRecipe(batch_size=config.rnn_batch, optimizer="sgd", lr=0.05,
                                        momentum=0.9, nesterov=True, weight_decay=1e-4,
                                        schedule="cosine", lr_min=0.0005, grad_clip=5.0),
                         config.rnn_epochs * steps_per_epoch)
        controller = LstmController(space, seeding.generator(seed, "controller"),
                                    config.controller(memorise=False))
        for _ in range(config.rnn_epochs):
            for _ in range(steps_per_epoch):
                handle.train_step(handle.batch("train", config.rnn_batch),
                                  arch=controller.sample())
            if name == "trained":
                for _ in range(config.rnn_controller_steps):
                    archs = [controller.sample() for _ in range(config.rnn_controller_aggregate)]
                    batch = handle.batch("valid", config.rnn_batch)
                    controller.reinforce(archs, [a / 100 for a in handle.accuracy(archs,
                                                                                  [batch])])
        valid = handle.eval_batches(data.x["valid"], data.y["valid"])
        sampled = [controller.sample() for _ in range(config.rnn_sampled)]
        scores = handle.measure(sampled, valid)
        reading = read(f"ENAS {name}", controller, config.samples)
        reading.seconds = time.perf_counter() - t0
        readings.append(reading)
        accuracy = np.array([acc for _, acc in scores])
        loss = np.array([lo for lo, _ in scores])
        standalone = _standalone(plugins, space, data_dir, config, sampled[:config.rnn_standalone])
        rows.append([f"ENAS, {name} controller", str(len(sampled)),
                     str(len(set(sampled))), f"{accuracy.mean():.2f} ± {accuracy.std():.2f}",
                     f"{np.exp(loss).mean():.1f}",
                     f"{np.mean(standalone):.2f} (n={len(standalone)})" if standalone else "–",
                     f"{reading.seconds:.0f}"])
    return space, readings, rows


def _standalone(plugins: Any, space: Any, data_dir: Path | None,
                config: ControllerStudyConfig, archs: Sequence[tuple[int, ...]]) -> list[float]:
    """Validation token accuracy of ``archs`` each trained on its own."""
    from nasbench.api import EvaluatorContext, Trial
    from nasbench.params import build_params

    if not archs:
        return []
    cls = plugins.evaluators.get("lightning")
    evaluator = cls(build_params(cls.Params, {
        "epochs": config.rnn_standalone_epochs, "batch_size": config.rnn_batch,
        "train_samples": config.rnn_train_samples, "valid_samples": config.rnn_valid_samples,
        "test_samples": 10, "size": {"hidden": config.rnn_hidden}, "lr": 0.05}, "evaluator"))
    evaluator.bind_plugins(plugins)
    metric = f"{config.rnn_dataset}/valid_acc"
    evaluator.setup(space, EvaluatorContext(config.rnn_dataset, metric, (), data_dir=data_dir,
                                            root_seed=config.seed))
    out = []
    for k, arch in enumerate(archs):
        result = evaluator.evaluate(space, Trial(arch), seed=config.seed + k)
        if result.status == "ok":
            out.append(float(result.metrics[metric]))
    evaluator.close()
    return out


# -- the report ---------------------------------------------------------------------------------
def controller_embedding(data_dir: Path | None, options: Any,
                         config: ControllerStudyConfig | None = None,
                         figures: Path | None = None) -> Any:
    """Build the study's report (see the module docstring)."""
    from nasbench.results.report_html import Document
    from nasbench.results.studies import StudyOutput, _statistics_note

    from nasbench.registry import load_plugins

    config = config or ControllerStudyConfig()
    plugins = load_plugins()
    doc = Document("What the controller learns: embeddings, hidden states, shared weights")
    doc.paragraph(
        "A repetition of Adam & Lorraine, 'Understanding Neural Architecture Search "
        "Techniques' (2019): do the controller's hidden states differ between sampled "
        "architectures, does the memorisation regulariser (reconstruct past samples from a "
        "replay buffer) make them differ, and does the distance between two architectures' "
        "embeddings track how similar they are? Configuration: "
        + ", ".join(f"{k}={v}" for k, v in asdict(config).items()) + ".")
    out: list[tuple[str, Any]] = []
    space, readings, facts = tabular_controllers(plugins, data_dir, config)
    doc.heading(1, f"Tabular: {config.benchmark} {config.dataset}/{config.metric}")
    _controller_sections(doc, out, space, readings, options, figures, "tabular")
    doc.table(["controller", *next(iter(facts.values()))],
              [[name, *(f"{v:.3f}" if isinstance(v, float) else str(v) for v in f.values())]
               for name, f in facts.items()], caption="Training and samples")
    if config.rnn_dataset is not None:
        from nasbench.errors import DataNotFoundError

        try:
            plugins.datasets.get(config.rnn_dataset, "dataset")().check(data_dir)
        except DataNotFoundError as err:
            fallback = _fallback(plugins, data_dir, config.rnn_fallback)
            if fallback is None:
                doc.heading(1, "Supernet: skipped")
                doc.paragraph(f"The supernet part needs the '{config.rnn_dataset}' dataset: "
                              f"{err}")
            else:
                doc.paragraph(f"The '{config.rnn_dataset}' dataset is not here ({err}); the "
                              f"supernet part reads '{fallback}' instead.")
            config = replace(config, rnn_dataset=fallback)
    if config.rnn_dataset is not None:
        rnn_space, rnn_readings, rows = supernet_controllers(plugins, data_dir, config)
        doc.heading(1, f"Supernet: ENAS recurrent cells on {config.rnn_dataset}")
        doc.table(["controller", "sampled", "distinct", "shared-weight valid token acc (%)",
                   "mean perplexity", "stand-alone valid token acc (%)", "seconds"], rows,
                  caption="Architectures sampled from each controller, under the shared weights "
                  "their own controller trained, and a few trained stand-alone")
        _controller_sections(doc, out, rnn_space, rnn_readings, options, figures, "rnn")
    doc.paragraph(_statistics_note(options) + " Pairs of samples share architectures, so "
                  "these intervals are descriptive.")
    return StudyOutput(doc, out)


def _fallback(plugins: Any, data_dir: Path | None, name: str | None) -> str | None:
    """``name`` if that dataset is available here, else ``None``."""
    from nasbench.errors import DataNotFoundError

    if name is None:
        return None
    try:
        plugins.datasets.get(name, "dataset")().check(data_dir)
    except DataNotFoundError:
        return None
    return name


def _controller_sections(doc: Any, out: list[tuple[str, Any]], space: Any,
                         readings: list[Reading], options: Any, figures: Path | None,
                         prefix: str) -> None:
    from nasbench.results.studies import correlation_rows

    doc.table(["controller", *spread(readings[0])],
              [[r.name, *(f"{v:.4g}" for v in spread(r).values())] for r in readings],
              caption="Hidden states of the samples: do they differ?")
    results = []
    for reading in readings:
        found = pair_correlations(space, reading, options)
        out += [(f"{prefix}: {reading.name}", c) for c in found]
        results += found
    doc.table(*correlation_rows(results))
    for reading in readings:
        path = None
        if figures is not None:
            figures.mkdir(parents=True, exist_ok=True)
            slug = reading.name.replace(" + ", "_").replace(" ", "_").replace(",", "")
            path = figures / f"controller_{prefix}_{slug}.png"
        doc.figure(heatmap(reading, path), f"Hidden states, {reading.name}: {len(reading.archs)} "
                   "sampled architectures (rows) x hidden units.")


def small_config(**changes: Any) -> ControllerStudyConfig:
    """A configuration that runs in seconds (tests)."""
    small = ControllerStudyConfig(benchmark="nbgraph", dataset="cora", metric="valid_acc",
                                  updates=20, batch=4, hidden_size=16, memory_fill_start=2,
                                  memory_start=5, memory_batch=8, samples=20, rnn_hidden=8,
                                  rnn_train_samples=64, rnn_valid_samples=32, rnn_epochs=1,
                                  rnn_batch=16, rnn_controller_steps=2,
                                  rnn_controller_aggregate=2, rnn_sampled=10, rnn_standalone=1)
    return replace(small, **changes)
