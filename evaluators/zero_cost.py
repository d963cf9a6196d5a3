"""The ``zero_cost`` evaluator: scores untrained networks with zero-cost proxies.

For every trial it builds the space's network (capability ``build``), initialised from the
evaluation seed, and computes the requested proxies of Abdelfattah et al. (ICLR 2021) on one
minibatch of the study's training split, drawn with the same seed (definitions, signs and
sources: :mod:`nasbench.evaluators.proxies` and ``docs/zero_cost.md``). synflow, params and
flops read no data: a study that asks only for them never loads its dataset, so it runs
where the dataset is not installed. The cost of a trial is the measured seconds of the whole
evaluation, network construction included.

How proxies are used. A study has one evaluator, and every metric of this one is a proxy
(split ``other``, larger predicts better), so:

* as the evaluator of a study, a strategy searches on a proxy (``search_metric =
  "synflow"``); with ``benchmark = "nb201"`` the evaluator also looks up the test metrics of
  that benchmark table for every architecture (never searchable: they are test metrics), so the
  study reports the true accuracy of what a proxy-driven search found, and of the
  random-sampling baseline, at zero-cost speed (``examples/zero_cost_nb201.toml``); in spaces
  without a table, train the incumbents with a ``lightning`` study;
* as scorings of a correlation study, a proxy is compared with ground truth on the same
  architectures: ``results:<dir>:<dataset>/<proxy>`` against a benchmark column, or the
  validation over the 725 NAS-Bench-201 cells of NAS-Bench-Suite-Zero
  (``nasbench zero-cost validate``, :mod:`nasbench.zero_cost_validation`).

Reproducibility: the same architecture, parameters, seed, device and thread count give the
same scores; initial weights and the minibatch come from the evaluation seed inside a forked
torch random state, so nothing else in the process is disturbed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench.evaluators.tabular import TabularEvaluator, TabularParams

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
from nasbench.training.data import DataParams, check_data_kind

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, slots=True)
class ProxyInfo:
    """One proxy, as users see it.

    Attributes:
        name: the metric it is reported as (``<dataset>/<name>``).
        needs_data: whether it reads the minibatch.
        unit: of its values.
        doc: one line: what it measures (larger predicts better).
    """

    name: str
    needs_data: bool
    unit: str
    doc: str


PROXIES: Mapping[str, ProxyInfo] = MappingProxyType({p.name: p for p in (
    ProxyInfo("grad_norm", True, "", "sum over layers of the norm of the loss gradient "
              "(Abdelfattah et al. 2021)"),
    ProxyInfo("snip", True, "", "sum of |weight x loss gradient| (SNIP, Lee et al. 2019)"),
    ProxyInfo("grasp", True, "", "sum of -weight x Hessian-gradient product (GraSP, Wang et "
              "al. 2020)"),
    ProxyInfo("fisher", True, "", "Fisher information of the activations per channel (Turner "
              "et al. 2020)"),
    ProxyInfo("jacob_cov", True, "", "-sum(log(l + k) + 1/(l + k)) over the eigenvalues of the "
              "input-Jacobian correlations (Mellor et al. 2021)"),
    ProxyInfo("synflow", False, "log", "log of the synaptic flow of |weights| on an all-ones "
              "input, batch norm off (Tanaka et al. 2020)"),
    ProxyInfo("params", False, "", "parameters of the network"),
    ProxyInfo("flops", False, "MACs", "multiply-accumulates of one example's forward pass"),
)})
"""Every proxy, in report order."""

ProxyName = Literal["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow", "params",
                    "flops"]


@dataclass(frozen=True)
class ZeroCostParams(DataParams, LatencyParams):
    """Which proxies, on which minibatch, of which network."""

    proxies: tuple[ProxyName, ...] = param(
        tuple(PROXIES), doc="proxies to compute, reported as <dataset>/<proxy>")
    batch_size: int = param(64, doc="examples in the minibatch the data-based proxies read",
                            ge=2, published="Abdelfattah et al. and NAS-Bench-Suite-Zero: 64")
    size: Mapping[str, Any] = param(
        {}, doc="network size keys overriding the space's defaults, e.g. {C = 16, N = 5} "
        "('nasbench space NAME' lists the keys)")
    channels: int | None = param(
        None, doc="repeat the single channel of grey images this many times (3 feeds them to "
        "a network built for colour input, like NAS-Bench-201's)", ge=1)
    flops_convention: Literal["nb201", "suite_zero", "nb_macro"] = param(
        "nb201", doc="FLOP counting rules (see nasbench.netstats)")
    device: Literal["auto", "cpu", "cuda"] = param(
        "auto", doc="where networks are scored; 'auto' takes a GPU when there is one")
    threads: int | Literal["auto"] = param(
        1, doc="torch threads per evaluation; scores depend on it, so it is part of the "
        "protocol ('auto': the worker's share of the cores)", ge=1)
    benchmark: str | None = param(
        None, doc="also report this benchmark table's test metrics of every architecture "
        "(e.g. nb201: the true accuracy a proxy-driven search found); never searchable")

    def check(self) -> None:
        if not self.proxies:
            raise ConfigError("proxies", "is empty", f"Name at least one of {', '.join(PROXIES)}.")
        if len(set(self.proxies)) != len(self.proxies):
            raise ConfigError("proxies", "names a proxy twice", "Remove the repeats.")

    @property
    def needs_data(self) -> bool:
        """Whether any requested proxy reads the minibatch."""
        return any(PROXIES[name].needs_data for name in self.proxies)


class ZeroCostEvaluator(Evaluator):
    """Scores each trial's untrained network with zero-cost proxies."""

    name: ClassVar[str] = "zero_cost"
    summary: ClassVar[str] = ("score untrained networks: grad_norm, snip, grasp, fisher, "
                              "jacob_cov, synflow, params, flops")
    Params: ClassVar[type] = ZeroCostParams
    capabilities: ClassVar[frozenset[str]] = frozenset({"cost"})

    def __init__(self, params: ZeroCostParams | None = None) -> None:
        super().__init__(params)
        self._datasets: Any = None
        self._spaces: Any = None
        self._dataset_name = ""
        self._input_shape: tuple[int, ...] = ()
        self._num_classes = 0
        self._x: torch.Tensor | None = None
        self._y: torch.Tensor | None = None
        self._device: Any = None
        self._threads = 1
        self._table: TabularEvaluator | None = None
        self._table_metrics: tuple[str, ...] = ()
        self._latency: LatencyMeter | None = None

    def bind_plugins(self, plugins: Any) -> None:
        self._datasets = plugins.datasets
        self._spaces = plugins.spaces
        if self.params.benchmark is not None:
            self._table = TabularEvaluator(TabularParams(benchmark=self.params.benchmark))
            self._table.bind_plugins(plugins)

    def datasets(self) -> tuple[str, ...]:
        return tuple(self._datasets.names()) if self._datasets is not None else ()

    def metrics(self, dataset: str) -> Mapping[str, MetricInfo]:
        out = {f"{dataset}/{name}": MetricInfo("other", True, PROXIES[name].unit,
                                               doc=PROXIES[name].doc)
               for name in self.params.proxies}
        out.update({f"{dataset}/{name}": info
                    for name, info in latency_metric_infos(self.params).items()})
        if self._table is not None:
            out.update({name: info for name, info in self._table.metrics(dataset).items()
                        if info.split == "test"})
        return out

    def _dataset_class(self, name: str) -> type[Dataset]:
        if self._datasets is None:
            raise RuntimeError("ZeroCostEvaluator needs bind_plugins() first")
        return self._datasets.get(name, "evaluator.dataset")

    # -- checks, before anything runs ---------------------------------------------------------
    def check(self, space: SearchSpace, dataset: str, data_dir: Path | None) -> None:
        if dataset not in self.datasets():
            return  # the study loader names the datasets on offer
        dataset_cls = self._dataset_class(dataset)
        check_data_kind(space, dataset_cls, self._spaces, self._datasets)
        p = self.params
        if dataset_cls.task != "classification":
            raise ConfigError(
                "evaluator.dataset",
                f"zero-cost proxies score classifiers of real-valued inputs, and '{dataset}' "
                f"is a {dataset_cls.task.replace('_', ' ')} task",
                "Use a classification dataset, or the lightning evaluator for this one.",
            )
        if p.image_size is not None and dataset_cls.data_kind != "image":
            raise ConfigError("evaluator.image_size",
                              f"resizes images, and '{dataset}' holds {dataset_cls.data_kind} "
                              "data", "Remove image_size.")
        if p.channels is not None:
            grey = dataset_cls.data_kind == "image" and dataset_cls.input_shape[0] == 1
            if not grey or space.data_kind != "image":
                raise ConfigError(
                    "evaluator.channels",
                    f"repeats the channel of grey images for image networks, and '{dataset}' "
                    f"holds {dataset_cls.data_kind} data shaped {dataset_cls.input_shape} "
                    f"for a space reading {space.data_kind} data",
                    "Remove channels.",
                )
        space.resolve_size(p.size)
        if p.needs_data:
            dataset_cls().check(data_dir)
        if self._table is not None:
            try:
                self._table.check(space, dataset, data_dir)
            except ConfigError as err:
                raise ConfigError("evaluator.benchmark", err.problem, err.fix) from None

    # -- set-up, once per process -----------------------------------------------------------------
    def setup(self, space: SearchSpace, context: EvaluatorContext) -> None:
        import torch

        p = self.params
        self._threads = context.threads if p.threads == "auto" else p.threads
        torch.set_num_threads(self._threads)
        self.check(space, context.dataset, context.data_dir)
        if p.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("evaluator.device", "asks for a GPU, and torch sees none",
                              "Set device = \"auto\" or \"cpu\".")
        use_cuda = p.device == "cuda" or (p.device == "auto" and torch.cuda.is_available())
        self._device = torch.device("cuda" if use_cuda else "cpu")
        dataset_cls = self._dataset_class(context.dataset)
        self._dataset_name = context.dataset
        self._num_classes = dataset_cls.num_classes
        self._input_shape = declared_input_shape(dataset_cls, p, space.data_kind or "")
        if p.needs_data:
            self._load(space, dataset_cls(), context)
        self._latency = LatencyMeter(p, space.name)
        own = {f"{context.dataset}/{name}" for name in (*p.proxies, *latency_metric_infos(p))}
        self._table_metrics = tuple(m for m in context.wanted_metrics if m not in own)
        if self._table is not None and self._table_metrics:
            first, *rest = self._table_metrics
            self._table.setup(space, EvaluatorContext(first.split("/", 1)[0], first,
                                                      tuple(rest), data_dir=context.data_dir))

    def _load(self, space: SearchSpace, dataset: Dataset, context: EvaluatorContext) -> None:
        """Keep the training split, on the scoring device, to draw minibatches from."""
        from nasbench.training.data import load_arrays, prepare

        p = self.params
        arrays = load_arrays(dataset, context.data_dir, context.cache_dir)
        data = prepare(dataset, arrays, p, reads=space.data_kind or "",
                       root_seed=context.root_seed)
        x, y = data.x["train"], data.y["train"]
        if p.batch_size > len(y):
            raise ConfigError(
                "evaluator.batch_size",
                f"asks for {p.batch_size} examples, and the training split holds {len(y)}",
                f"Set batch_size to at most {len(y)}.",
            )
        if p.channels is not None:
            x = x.expand(-1, p.channels, -1, -1)
        self._x, self._y = x.to(self._device), y.to(self._device)
        self._num_classes = data.num_classes
        self._input_shape = tuple(self._x.shape[1:])

    # -- one trial ------------------------------------------------------------------------------
    def evaluate(
        self, space: SearchSpace, trial: Trial, *, seed: int, fidelity: float | None = None
    ) -> EvalResult:
        import torch
        from nasbench.evaluators.proxies import compute_proxies

        if self._device is None:
            raise RuntimeError("ZeroCostEvaluator.setup() must run before evaluate()")
        p = self.params
        device = self._device
        torch.set_num_threads(self._threads)
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            with device:
                network = space.build(trial.arch, input_shape=self._input_shape,
                                      num_classes=self._num_classes, **p.size)
            built = time.perf_counter() - t0
            # before the proxies: synflow turns the network to double precision
            assert self._latency is not None
            latency, latency_info = self._latency.measure(network, trial.arch,
                                                          self._input_shape)
            inputs, targets = self._minibatch(seed)
            measured = compute_proxies(network, p.proxies, input_shape=self._input_shape,
                                       inputs=inputs, targets=targets,
                                       flops_convention=p.flops_convention)
        cost = time.perf_counter() - t0 - latency_info.get("latency_seconds", 0.0)
        info: dict[str, Any] = {"threads": self._threads, "device": device.type,
                                "seconds_build": built}
        info.update({f"seconds_{name}": s for name, s in measured.seconds.items()})
        info.update(latency_info)
        scores = {**measured.scores, **latency}
        metrics = {f"{self._dataset_name}/{k}": v for k, v in scores.items()}
        if self._table is not None and self._table_metrics:
            looked_up = self._table.evaluate(space, trial, seed=seed)
            if looked_up.status != "ok":
                return EvalResult.failure(looked_up.reason, cost=cost)
            metrics.update(looked_up.metrics)
        return EvalResult(metrics, cost, "ok", "", info)

    def _minibatch(self, seed: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``batch_size`` training examples drawn without replacement with ``seed``."""
        import torch

        if self._x is None or self._y is None:
            return None, None
        generator = torch.Generator().manual_seed(seed)
        rows = torch.randperm(len(self._y), generator=generator)[: self.params.batch_size]
        rows = rows.to(self._device)
        return self._x[rows], self._y[rows]

    def close(self) -> None:
        self._x = self._y = None


def declared_input_shape(dataset: type[Dataset], params: ZeroCostParams,
                         reads: str) -> tuple[int, ...]:
    """The shape of one example as the network reads it, from what the dataset declares:
    resized (``image_size``), channels repeated (``channels``), flattened for vector spaces."""
    shape = tuple(dataset.input_shape)
    if dataset.data_kind == "image":
        if params.image_size is not None:
            shape = (shape[0], params.image_size, params.image_size)
        if params.channels is not None:
            shape = (params.channels, *shape[1:])
    if reads == "vector" and dataset.data_kind != "vector":
        size = 1
        for d in shape:
            size *= d
        shape = (size,)
    return shape


@hookimpl
def nasbench_register_evaluators(registry: Any) -> None:
    registry.add(ZeroCostEvaluator)
