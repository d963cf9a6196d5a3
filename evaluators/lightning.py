"""The ``lightning`` evaluator: trains each architecture's network on real data.

For every trial it builds the space's network (capability ``build``), trains it under the
study's declared protocol (:class:`~nasbench.training.recipe.TrainingRecipe`: optimiser,
schedule, and the training tricks of Yang et al. as switches) on a registered dataset held in
memory, and reports validation and test metrics, the measured training time as the trial's
cost, and the network's parameter count and FLOPs. The fidelity is the number of epochs.

Reproducibility: an evaluation draws every random number (initial weights, batch order,
augmentation, drop-path) from the seed the harness hands it, inside a forked torch random
state, and runs with a fixed number of torch threads (``threads``, recorded with every
trial): the same architecture, protocol and seed give bit-identical metrics on a CPU.

A run whose loss becomes NaN or infinite ends with status ``diverged`` and the reason; the
study goes on. torch and Lightning are imported only when a study that trains is set up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench.api import (
    Dataset,
    EvalResult,
    Evaluator,
    EvaluatorContext,
    MetricInfo,
    SearchSpace,
    Trial,
)
from nasbench.errors import ConfigError
from nasbench.hookspecs import hookimpl
from nasbench.latency import LatencyMeter, LatencyParams, latency_metric_infos
from nasbench.params import param
from nasbench.training.data import DataParams, TrainingData, check_data_kind
from nasbench.training.recipe import TrainingRecipe

if TYPE_CHECKING:
    from torch import nn

_IMAGE_SWITCHES = ("cutout", "random_crop", "horizontal_flip")


@dataclass(frozen=True)
class LightningParams(DataParams, TrainingRecipe, LatencyParams):
    """The training protocol of a study: how every network is trained and measured."""

    size: Mapping[str, Any] = param(
        {}, doc="network size keys overriding the space's defaults, e.g. {C = 32, N = 5} "
        "('wider networks'; 'nasbench space NAME' lists the keys)")
    fidelities: tuple[int, ...] = param(
        (), doc="epoch budgets multi-fidelity strategies may ask for, besides epochs", ge=1)
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps"] = param(
        "auto", doc="device to train on; 'auto' takes a GPU when there is one")
    threads: int | Literal["auto"] = param(
        1, doc="torch threads per evaluation; results depend on it, so it is part of the "
        "protocol ('auto': the worker's share of the cores)", ge=1)
    cost_unit: Literal["seconds", "epochs", "flops"] = param(
        "seconds", doc="what an evaluation costs in budget.cost: measured seconds (differ "
        "between machines), or deterministic units that replay anywhere: epochs trained, or "
        "training FLOPs (3 x forward MACs per example x examples seen: forward and a backward "
        "of twice its cost); measured seconds are recorded beside as info.seconds")

    def check(self) -> None:
        if "auxiliary" in self.size:
            raise ConfigError("size.auxiliary", "is set by the protocol, not by hand",
                              "Set auxiliary_weight = 0.4 (DARTS) to train with the head.")
        if "language_model" in self.size:
            raise ConfigError("size.language_model", "is set by the dataset, not by hand",
                              "Remove it; language-modelling datasets (ptb) switch it on.")


def _metric_infos(task: str, latency: LatencyParams) -> dict[str, MetricInfo]:
    infos = {
        "valid_acc": MetricInfo("valid", unit="%", doc="validation accuracy after training"),
        "valid_loss": MetricInfo("valid", higher_is_better=False,
                                 doc="validation cross-entropy after training"),
        "test_acc": MetricInfo("test", unit="%", doc="test accuracy after training"),
        "test_loss": MetricInfo("test", higher_is_better=False,
                                doc="test cross-entropy after training"),
        "train_loss": MetricInfo("train", higher_is_better=False,
                                 doc="mean training loss over the last epoch"),
        "params": MetricInfo("other", higher_is_better=False,
                             doc="parameters of the network (auxiliary head excluded)"),
        "flops": MetricInfo("other", higher_is_better=False, unit="MACs",
                            doc="multiply-accumulates of one example's forward pass"),
        **latency_metric_infos(latency),
    }
    if task == "language_model":
        infos["valid_ppl"] = MetricInfo("valid", higher_is_better=False,
                                        doc="validation perplexity (exp of the loss)")
        infos["test_ppl"] = MetricInfo("test", higher_is_better=False,
                                       doc="test perplexity (exp of the loss)")
    return infos


class LightningEvaluator(Evaluator):
    """Trains each trial's network under the study's protocol and measures it."""

    name: ClassVar[str] = "lightning"
    summary: ClassVar[str] = "train each network on real data under a declared protocol"
    Params: ClassVar[type] = LightningParams

    def __init__(self, params: LightningParams | None = None) -> None:
        super().__init__(params)
        self._datasets: Any = None
        self._spaces: Any = None
        self._data: TrainingData | None = None
        self._size: dict[str, Any] = {}
        self._fabric: Any = None
        self._dataset_name = ""
        self._threads = 1
        self._latency: LatencyMeter | None = None

    @property
    def cost_unit(self) -> str:  # type: ignore[override]
        return self.params.cost_unit

    @property
    def capabilities(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({"cost", "fidelities"} if len(self.fidelities()) > 1 else {"cost"})

    def bind_plugins(self, plugins: Any) -> None:
        self._datasets = plugins.datasets
        self._spaces = plugins.spaces

    def datasets(self) -> tuple[str, ...]:
        return tuple(self._datasets.names()) if self._datasets is not None else ()

    def fidelities(self) -> tuple[float, ...]:
        if not self.params.fidelities:
            return ()
        return tuple(float(e) for e in sorted({*self.params.fidelities, self.params.epochs}))

    def metrics(self, dataset: str) -> Mapping[str, MetricInfo]:
        task = self._dataset_class(dataset).task if dataset in self.datasets() else ""
        infos = _metric_infos(task, self.params)
        return {f"{dataset}/{name}": info for name, info in infos.items()}

    def _dataset_class(self, name: str) -> type[Dataset]:
        if self._datasets is None:
            raise RuntimeError("LightningEvaluator needs bind_plugins() first")
        return self._datasets.get(name, "evaluator.dataset")

    # -- checks, before anything runs ---------------------------------------------------------
    def check(self, space: SearchSpace, dataset: str, data_dir: Path | None) -> None:
        if dataset not in self.datasets():
            return  # the study loader names the datasets on offer
        dataset_cls = self._dataset_class(dataset)
        check_data_kind(space, dataset_cls, self._spaces, self._datasets)
        p = self.params
        space.resolve_size(self.network_size(space, dataset_cls))
        if space.data_kind != "image":
            on = [k for k in _IMAGE_SWITCHES if getattr(p, k)]
            if on:
                raise ConfigError(
                    f"evaluator.{on[0]}",
                    f"augments images, and space '{space.name}' reads {space.data_kind} data",
                    "Switch it off for this space.",
                )
        if p.image_size is not None and dataset_cls.data_kind != "image":
            raise ConfigError("evaluator.image_size",
                              f"resizes images, and '{dataset}' holds {dataset_cls.data_kind} data",
                              "Remove image_size.")
        dataset_cls().check(data_dir)

    def network_size(self, space: SearchSpace, dataset: type[Dataset]) -> dict[str, Any]:
        """The size keys networks are built with: the protocol's ``size``, plus the auxiliary
        head when ``auxiliary_weight`` asks for it and the language-model head for
        language-modelling data.

        Raises:
            ConfigError: when the space's networks have no such head.
        """
        size = dict(self.params.size)
        heads = space.size_defaults()
        if self.params.auxiliary_weight:
            if "auxiliary" not in heads:
                raise ConfigError(
                    "evaluator.auxiliary_weight",
                    f"space '{space.name}' has no auxiliary head",
                    "Set auxiliary_weight = 0, or use a space with one (e.g. darts).",
                )
            size["auxiliary"] = True
        if dataset.task == "language_model":
            if "language_model" not in heads:
                raise ConfigError(
                    "evaluator.dataset",
                    f"'{dataset.name}' is a language-modelling dataset, and the networks of "
                    f"space '{space.name}' cannot model language",
                    "Use a space that can (e.g. enas_rnn).",
                )
            size["language_model"] = True
        return size

    # -- set-up, once per process -----------------------------------------------------------------
    def setup(self, space: SearchSpace, context: EvaluatorContext) -> None:
        import torch
        from lightning_fabric import Fabric

        from nasbench import seeding
        from nasbench.training.data import load_arrays, prepare

        p = self.params
        self._threads = context.threads if p.threads == "auto" else p.threads
        torch.set_num_threads(self._threads)
        self.check(space, context.dataset, context.data_dir)
        dataset = self._dataset_class(context.dataset)()
        self._size = self.network_size(space, type(dataset))
        arrays = load_arrays(dataset, context.data_dir, context.cache_dir)
        data = prepare(dataset, arrays, p, reads=space.data_kind, root_seed=context.root_seed)
        self._fabric = Fabric(accelerator=p.accelerator, devices=1, precision="32-true")
        self._data = data.to(self._fabric.device)
        self._dataset_name = context.dataset
        self._latency = LatencyMeter(p, space.name)
        if p.drop_path_prob:
            arch = space.sample(seeding.generator(context.root_seed, "probe", space.name))
            probe = self._network(space, arch, device="meta")
            if not hasattr(probe, "drop_path_prob"):
                raise ConfigError(
                    "evaluator.drop_path_prob",
                    f"the networks of space '{space.name}' do not support drop-path",
                    "Set drop_path_prob = 0, or use a space whose networks do (e.g. darts).",
                )

    def _network(self, space: SearchSpace, arch: tuple[int, ...], device: Any = None
                 ) -> nn.Module:
        """The trial's network, built on ``device`` (default: the training device)."""
        import torch

        assert self._data is not None
        with torch.device(device or self._fabric.device):
            return space.build(arch, input_shape=self._data.input_shape,
                               num_classes=self._data.num_classes, **self._size)

    # -- one trial ------------------------------------------------------------------------------
    def evaluate(
        self, space: SearchSpace, trial: Trial, *, seed: int, fidelity: float | None = None
    ) -> EvalResult:
        import torch

        from nasbench.netstats import count_flops, count_params
        from nasbench.training.loop import fit, steps_per_epoch
        from nasbench.training.module import NetworkModule

        if self._data is None:
            raise RuntimeError("LightningEvaluator.setup() must run before evaluate()")
        p = self.params
        data = self._data
        epochs = int(fidelity) if fidelity is not None else p.epochs
        torch.set_num_threads(self._threads)
        device = self._fabric.device
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            network = self._network(space, trial.arch)
            n_params = count_params(network)
            flops = count_flops(network, data.input_shape,
                                dtype=torch.long if data.vocab_size else None)
            module = NetworkModule(
                network, p, epochs=epochs,
                steps_per_epoch=steps_per_epoch(len(data.y["train"]), p.batch_size),
            )
            generator = torch.Generator(device=device).manual_seed(seed)
            outcome = fit(self._fabric, module, data, generator)
        seconds = time.perf_counter() - t0
        cost = training_cost(p.cost_unit, seconds, outcome.epochs, len(data.y["train"]), flops)
        info = {
            "epochs": outcome.epochs, "steps": outcome.steps, "threads": self._threads,
            "device": device.type, "train_seconds": outcome.train_seconds,
            "eval_seconds": outcome.eval_seconds, "params": n_params, "flops": flops,
            "seconds": seconds, "cost_unit": p.cost_unit,
        }
        if outcome.diverged is not None:
            return EvalResult({}, cost, "diverged", outcome.diverged, info)
        assert self._latency is not None
        latency, latency_info = self._latency.measure(
            network, trial.arch, data.input_shape, tokens=data.vocab_size is not None)
        info.update(latency_info)
        values = {**outcome.metrics, "params": float(n_params), "flops": float(flops),
                  **latency}
        if data.vocab_size is not None:
            values["valid_ppl"] = _perplexity(values["valid_loss"])
            values["test_ppl"] = _perplexity(values["test_loss"])
        metrics = {f"{self._dataset_name}/{k}": v for k, v in values.items()}
        return EvalResult(metrics, cost, "ok", "", info)

    def close(self) -> None:
        self._data = None
        self._fabric = None


def training_cost(unit: str, seconds: float, epochs: int, n_train: int, macs: int) -> float:
    """The cost of one training in ``unit``: measured ``seconds``; ``epochs`` trained; or
    training FLOPs, forward MACs per example x 3 (forward, and a backward pass of about twice
    the forward) x examples seen. The last two are the same on every machine."""
    if unit == "epochs":
        return float(epochs)
    if unit == "flops":
        return float(3 * macs * epochs * n_train)
    return seconds


def _perplexity(loss: float) -> float:
    import math

    return math.exp(loss) if loss < 700 else math.inf


@hookimpl
def nasbench_register_evaluators(registry: Any) -> None:
    registry.add(LightningEvaluator)
