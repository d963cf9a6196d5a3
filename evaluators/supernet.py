"""The ``supernet`` evaluator: scores architectures by their accuracy with shared weights.

It trains one weight-sharing supernet of the study's space per study (its root seed and
``supernet_seed``), by uniform single-path sampling (every minibatch trains one architecture
drawn uniformly, as random search with weight sharing does), or loads it from the study's
cache directory when an earlier process trained the same one. Each trial is then measured with
the shared weights on the validation and test splits: no training per architecture. This is
what rank-correlation studies compare against stand-alone training (the ``lightning``
evaluator on the same data) and against NAS-Bench-201.

How batch normalisation normalises while measuring changes weight-sharing rankings a lot, so
``valid_acc``, ``valid_loss``, ``test_acc`` and ``test_loss`` follow the ``bn`` parameter, and the
validation accuracy is also reported under each mode (``valid_acc_bn_running``,
``valid_acc_bn_batch``, ``valid_acc_bn_reestimate``; see :data:`nasbench.supernet.BnMode`).

Costs: a trial costs the time its measurement took; the supernet's training time is reported
with every trial (``info.supernet_train_seconds``) and not charged to any of them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from nasbench.api import (
    EvalResult,
    Evaluator,
    EvaluatorContext,
    MetricInfo,
    SearchSpace,
    Trial,
)
from nasbench.errors import ConfigError
from nasbench.hookspecs import hookimpl
from nasbench.latency import (
    LATENCY_FIELDS,
    LatencyMeter,
    LatencyParams,
    latency_metric_infos,
)
from nasbench.params import param, params_to_dict
from nasbench.supernet.protocol import SupernetProtocol

BN_MODES = ("running", "batch", "reestimate")
_MEASUREMENT_ONLY = ("bn", "eval_batch_size", "bn_examples", *LATENCY_FIELDS)
"""Parameters that change how architectures are measured, not the supernet that is trained."""


@dataclass(frozen=True)
class SupernetEvaluatorParams(SupernetProtocol, LatencyParams):
    """The supernet protocol, how the supernet is trained, and how trials are measured.

    Latency (``latency_ms``...) is that of the architecture's stand-alone network at the
    space's default size, not of its path through the supernet."""

    epochs: int = param(50, doc="epochs of single-path training over the training split",
                        ge=1, published="Li & Talwalkar 2019 (DARTS's pipeline): 50")
    batch_size: int = param(64, doc="examples per training step", ge=2,
                            published="Li & Talwalkar 2019: 64")
    lr: float = param(0.025, doc="initial learning rate", gt=0,
                      published="Li & Talwalkar 2019: 0.025")
    lr_min: float = param(0.001, doc="learning rate at the end of the cosine schedule", ge=0,
                          published="Li & Talwalkar 2019: 0.001")
    momentum: float = param(0.9, doc="SGD momentum", ge=0, lt=1)
    weight_decay: float = param(3e-4, doc="weight decay", ge=0,
                                published="Li & Talwalkar 2019: 3e-4")
    grad_clip: float = param(5.0, doc="clip the gradient norm to this (0: off)", ge=0)
    supernet_seed: int = param(0, doc="which supernet of the study: seeds its weights, data "
                               "order and sampled paths, with the study's root seed", ge=0)
    bn: Literal["running", "batch", "reestimate"] = param(
        "running", doc="batch normalisation while measuring valid_acc/test_acc: the shared "
        "running statistics, each batch's statistics, or statistics re-estimated on the "
        "architecture's path")


def _metric_infos(latency: LatencyParams) -> dict[str, MetricInfo]:
    infos = {
        "valid_acc": MetricInfo("valid", unit="%", doc="validation accuracy with shared weights"),
        "valid_loss": MetricInfo("valid", higher_is_better=False,
                                 doc="validation cross-entropy with shared weights"),
        "test_acc": MetricInfo("test", unit="%", doc="test accuracy with shared weights"),
        "test_loss": MetricInfo("test", higher_is_better=False,
                                doc="test cross-entropy with shared weights"),
    }
    for mode in BN_MODES:
        infos[f"valid_acc_bn_{mode}"] = MetricInfo(
            "valid", unit="%", doc=f"validation accuracy with shared weights, batch norm: {mode}")
    infos.update(latency_metric_infos(latency))
    return infos


class SupernetEvaluator(Evaluator):
    """Measures each trial with the shared weights of one trained supernet."""

    name: ClassVar[str] = "supernet"
    summary: ClassVar[str] = "score architectures with the shared weights of a trained supernet"
    Params: ClassVar[type] = SupernetEvaluatorParams
    capabilities: ClassVar[frozenset[str]] = frozenset({"cost"})
    seeded: ClassVar[bool] = False

    def __init__(self, params: SupernetEvaluatorParams | None = None) -> None:
        super().__init__(params)
        self._datasets: Any = None
        self._spaces: Any = None
        self._context: EvaluatorContext | None = None
        self._space: SearchSpace | None = None
        self._data: Any = None
        self._handle: Any = None
        self._train_seconds = 0.0
        self._cache_state = ""
        self._latency: LatencyMeter | None = None

    def bind_plugins(self, plugins: Any) -> None:
        self._datasets = plugins.datasets
        self._spaces = plugins.spaces

    def datasets(self) -> tuple[str, ...]:
        return tuple(self._datasets.names()) if self._datasets is not None else ()

    def metrics(self, dataset: str) -> Mapping[str, MetricInfo]:
        return {f"{dataset}/{name}": info for name, info in _metric_infos(self.params).items()}

    def check(self, space: SearchSpace, dataset: str, data_dir: Path | None) -> None:
        from nasbench.training.data import check_data_kind

        if "supernet" not in space.capabilities:
            able = [r.name for r in self._spaces if "supernet" in r.cls.capabilities]
            raise ConfigError("evaluator.name", f"space '{space.name}' has no supernet",
                              f"Spaces with one: {', '.join(able)}.")
        try:
            dims = space.resolve_supernet_size(self.params.size)
        except ConfigError as err:
            raise err.under("evaluator") from None
        if dims.get("track_running_stats") is False:
            raise ConfigError("evaluator.size.track_running_stats",
                              "is false, and the supernet evaluator measures with running and "
                              "re-estimated batch-norm statistics too", "Set it to true.")
        if dataset not in self.datasets():
            return  # the study loader names the datasets on offer
        dataset_cls = self._datasets.get(dataset, "evaluator.dataset")
        if dataset_cls.task == "language_model":
            raise ConfigError("evaluator.dataset", "the supernet evaluator classifies; "
                              f"'{dataset}' is language modelling",
                              "Use a classification dataset.")
        check_data_kind(space, dataset_cls, self._spaces, self._datasets)
        dataset_cls().check(data_dir)

    def setup(self, space: SearchSpace, context: EvaluatorContext) -> None:
        from nasbench.supernet.handle import supernet_data

        self.check(space, context.dataset, context.data_dir)
        dataset = self._datasets.get(context.dataset)()
        self._data = supernet_data(space, dataset, self.params, data_dir=context.data_dir,
                                   cache_dir=context.cache_dir, root_seed=context.root_seed)
        self._space = space
        self._context = context
        self._latency = LatencyMeter(self.params, space.name)

    # -- the supernet, trained once per study ------------------------------------------------------
    def cache_key(self) -> str:
        """What the trained supernet depends on, hashed: the space, the dataset, the
        protocol and training parameters, the root seed."""
        assert self._space is not None and self._context is not None
        training = {k: v for k, v in params_to_dict(self.params).items()
                    if k not in _MEASUREMENT_ONLY}
        described = {"space": self._space.name,
                     "space_params": params_to_dict(self._space.params),
                     "dataset": self._context.dataset, "root_seed": self._context.root_seed,
                     "training": training}
        text = json.dumps(described, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _trained(self) -> Any:
        """The handle of the trained supernet: loaded from the cache, or trained and cached."""
        if self._handle is not None:
            return self._handle
        import torch

        from nasbench import seeding
        from nasbench.supernet.handle import SupernetHandle
        from nasbench.training.recipe import TrainingRecipe

        assert self._space is not None and self._context is not None
        p = self.params
        context = self._context
        threads = context.threads if p.threads == "auto" else p.threads
        seed = seeding.int_seed(context.root_seed, "supernet-evaluator", p.supernet_seed)
        handle = SupernetHandle(self._space, self._data, p, seed=seed, threads=threads)
        steps = p.epochs * handle.steps_per_epoch("train", p.batch_size)
        handle.configure(TrainingRecipe(
            batch_size=p.batch_size, optimizer="sgd", lr=p.lr, momentum=p.momentum,
            nesterov=False, weight_decay=p.weight_decay, schedule="cosine", lr_min=p.lr_min,
            grad_clip=p.grad_clip), steps)
        if context.cache_dir is None:
            self._train(handle, seed, steps)
            self._cache_state = "uncached"
        else:
            path = context.cache_dir / "supernet" / f"{self.cache_key()}.pt"
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path.with_suffix(".lock"), "ab") as lock:
                fcntl.lockf(lock, fcntl.LOCK_EX)  # another worker may be training it
                if path.is_file():
                    saved = torch.load(path, weights_only=True)
                    handle.model.load_state_dict(saved["model"])
                    self._train_seconds = float(saved["train_seconds"])
                    self._cache_state = "loaded"
                else:
                    self._train(handle, seed, steps)
                    tmp = path.with_suffix(".tmp")
                    torch.save({"model": handle.model.state_dict(),
                                "train_seconds": self._train_seconds}, tmp)
                    tmp.replace(path)
                    self._cache_state = "trained"
        self._handle = handle
        return handle

    def _train(self, handle: Any, seed: int, steps: int) -> None:
        from nasbench import seeding

        rng = seeding.generator(seed, "paths")
        space = self._space
        assert space is not None
        start = handle.seconds
        for _ in range(steps):
            handle.train_step(handle.batch("train", self.params.batch_size),
                              arch=space.sample(rng))
        self._train_seconds = handle.seconds - start

    # -- one trial ----------------------------------------------------------------------------
    def evaluate(self, space: SearchSpace, trial: Trial, *, seed: int,
                 fidelity: float | None = None) -> EvalResult:
        if self._data is None or self._context is None:
            raise RuntimeError("SupernetEvaluator.setup() must run before evaluate()")
        handle = self._trained()
        p = self.params
        t0 = time.perf_counter()
        valid = handle.eval_batches(self._data.x["valid"], self._data.y["valid"])
        test = handle.eval_batches(self._data.x["test"], self._data.y["test"])
        values: dict[str, float] = {}
        for mode in BN_MODES:
            ((loss, acc),) = handle.measure([trial.arch], valid, bn=mode)
            values[f"valid_acc_bn_{mode}"] = acc
            if mode == p.bn:
                values["valid_acc"], values["valid_loss"] = acc, loss
        ((values["test_loss"], values["test_acc"]),) = handle.measure([trial.arch], test,
                                                                       bn=p.bn)
        cost = time.perf_counter() - t0
        info = {"supernet_train_seconds": self._train_seconds, "supernet": self._cache_state,
                "threads": handle.threads}
        values.update(self._measure_latency(space, trial, handle.threads, info))
        dataset = self._context.dataset
        return EvalResult({f"{dataset}/{k}": v for k, v in values.items()}, cost, "ok", "", info)

    def _measure_latency(self, space: SearchSpace, trial: Trial, threads: int,
                         info: dict[str, Any]) -> dict[str, float]:
        """Latency metrics of the trial's stand-alone network (default size), built on the
        CPU with the supernet's thread count; not charged to the trial's cost."""
        p = self.params
        if self._latency is None or (not p.latency and p.latency_table is None):
            return {}
        import torch

        from nasbench.supernet.handle import torch_threads

        data = self._data
        network = None
        with torch_threads(threads):
            if p.latency:
                with torch.random.fork_rng():
                    torch.manual_seed(0)
                    network = space.build(trial.arch, input_shape=data.input_shape,
                                          num_classes=data.num_classes)
            values, extra = self._latency.measure(network, trial.arch, data.input_shape)
        info.update(extra)
        return values

    def close(self) -> None:
        self._handle = None
        self._data = None


@hookimpl
def nasbench_register_evaluators(registry: Any) -> None:
    registry.add(SupernetEvaluator)
