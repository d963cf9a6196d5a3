"""What the evaluators of expression spaces share: a fixed network, data, a plain training loop.

The searched expression is a component (an activation function, an optimiser's update rule),
so the network is fixed by the study, not by the trial: a multilayer perceptron with the
hidden widths of ``hidden`` (data read as vectors: MNIST-1D, digits, Fashion-MNIST, ...), or
with ``network = "cnn"`` a small convolutional network with the widths of ``channels`` (image
data: digits, Fashion-MNIST), trained on a registered classification dataset with the splits
of :mod:`nasbench.training.data`. The loop is plain torch (no Lightning: at this size its
per-step cost dominates), draws every random number from the trial's seed inside a forked
torch random state, and runs with a fixed number of torch threads, so that one expression,
protocol and seed give bit-identical metrics on a CPU.

A training whose loss, weights or measured loss stop being finite ends ``diverged`` with the
reason (an expression such as ``exp(x^3)`` does).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench.api import Dataset, Evaluator, EvaluatorContext, MetricInfo, SearchSpace
from nasbench.errors import ConfigError, available
from nasbench.params import param
from nasbench.training.data import DataParams, TrainingData

if TYPE_CHECKING:
    import torch
    from torch import nn

EVAL_BATCH = 1024


@dataclass(frozen=True)
class ExpressionTrainingParams(DataParams):
    """The fixed network and how long it trains."""

    network: Literal["mlp", "cnn"] = param(
        "mlp", doc="the fixed network: 'mlp' (hidden layers of widths 'hidden', data read as "
        "vectors) or 'cnn' (3x3 convolutions of 'channels', each followed by the activation "
        "and a 2x2 max-pool, then global average pooling; image data)")
    hidden: tuple[int, ...] = param((64, 64), doc="hidden layer widths of the MLP", ge=1)
    channels: tuple[int, ...] = param((16, 32), doc="convolution widths of the CNN", ge=1)
    epochs: int = param(10, doc="training epochs (the default fidelity)", ge=1)
    batch_size: int = param(128, doc="examples per optimisation step", ge=2)
    threads: int | Literal["auto"] = param(
        1, doc="torch threads per evaluation; results depend on it, so it is part of the "
        "protocol ('auto': the worker's share of the cores)", ge=1)


@dataclass(frozen=True)
class Outcome:
    """A training's metrics, or why it diverged."""

    metrics: dict[str, float]
    diverged: str = ""
    seconds: float = 0.0


def metric_infos() -> dict[str, MetricInfo]:
    """The ``lightning`` evaluator's classification metrics, without network statistics (the
    network is the same for every trial)."""
    from nasbench.latency import LatencyParams

    from .lightning import _metric_infos

    return {k: v for k, v in _metric_infos("classification", LatencyParams()).items()
            if k not in ("params", "flops")}


class ExpressionTrainingEvaluator(Evaluator):
    """Base of the evaluators that train a fixed network with a searched expression in it."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"cost"})
    supplies: ClassVar[tuple[str, ...]] = ()
    """The variables this evaluator gives an expression."""
    component: ClassVar[str] = ""
    """What the expression is, for messages ("activation function")."""

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self._datasets: Any = None
        self._data: TrainingData | None = None
        self._threads = 1
        self._dataset_name = ""

    def bind_plugins(self, plugins: Any) -> None:
        self._datasets = plugins.datasets

    def datasets(self) -> tuple[str, ...]:
        if self._datasets is None:
            return ()
        return tuple(r.name for r in self._datasets if r.cls.task == "classification")

    def fidelities(self) -> tuple[float, ...]:
        return ()

    def metrics(self, dataset: str) -> Mapping[str, MetricInfo]:
        return {f"{dataset}/{k}": v for k, v in metric_infos().items()}

    def _dataset_class(self, name: str) -> type[Dataset]:
        if self._datasets is None:
            raise RuntimeError(f"{type(self).__name__}.bind_plugins() must run first")
        return self._datasets.get(name, "evaluator.dataset")

    def check(self, space: SearchSpace, dataset: str, data_dir: Path | None) -> None:
        grammar = getattr(space, "grammar", None)
        if grammar is None or not hasattr(space, "function"):
            raise ConfigError(
                "space.name", f"evaluator '{self.name}' trains {self.component}s written in an "
                f"expression space, and space '{space.name}' is not one",
                "Use an expression space (e.g. 'activation', 'update_rule', 'expression').")
        extra = sorted(set(grammar.variables) - set(self.supplies))
        if extra:
            raise ConfigError(
                "space.operands", f"space '{space.name}' reads {', '.join(extra)}, and "
                f"'{self.name}' supplies only {', '.join(self.supplies)} to a {self.component}",
                "Use operands this evaluator supplies, or define the others from them "
                "under [define].")
        if dataset:
            cls = self._dataset_class(dataset)
            if cls.task != "classification":
                raise ConfigError("evaluator.dataset", f"'{dataset}' is not a classification "
                                  "dataset", f"Available: {available(self.datasets())}.")
            if self.params.network == "cnn" and cls.data_kind != "image":
                images = [d for d in self.datasets()
                          if self._dataset_class(d).data_kind == "image"]
                raise ConfigError("evaluator.network", f"a CNN reads images, and '{dataset}' "
                                  f"holds {cls.data_kind} data",
                                  f"Use network = \"mlp\", or an image dataset: "
                                  f"{available(images)}.")
            cls().check(data_dir)

    def setup(self, space: SearchSpace, context: EvaluatorContext) -> None:
        import torch

        from nasbench.training.data import load_arrays, prepare

        self.check(space, context.dataset, context.data_dir)
        p = self.params
        self._threads = context.threads if p.threads == "auto" else p.threads
        dataset = self._dataset_class(context.dataset)()
        arrays = load_arrays(dataset, context.data_dir, context.cache_dir)
        reads = "image" if p.network == "cnn" else "vector"
        self._data = prepare(dataset, arrays, p, reads=reads, root_seed=context.root_seed)
        self._dataset_name = context.dataset
        torch.set_num_threads(self._threads)

    def close(self) -> None:
        self._data = None

    # -- training -----------------------------------------------------------------------------
    def network(self, activation: Callable[[], nn.Module] | None = None) -> nn.Module:
        """The fixed network; ``activation()`` makes each hidden layer's activation (ReLU by
        default)."""
        from torch import nn

        assert self._data is not None
        make = activation or nn.ReLU
        layers: list[nn.Module] = []
        if self.params.network == "cnn":
            channels = self._data.input_shape[0]
            for c in self.params.channels:
                layers += [nn.Conv2d(channels, c, 3, padding=1), make(),
                           nn.MaxPool2d(2, ceil_mode=True)]
                channels = c
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                       nn.Linear(channels, self._data.num_classes)]
            return nn.Sequential(*layers)
        width = self._data.input_shape[0]
        for h in self.params.hidden:
            layers += [nn.Linear(width, h), make()]
            width = h
        layers.append(nn.Linear(width, self._data.num_classes))
        return nn.Sequential(*layers)

    def train(self, seed: int, epochs: int, make_network: Callable[[], nn.Module],
              make_optimizer: Callable[[Any], Any]) -> Outcome:
        """Train a network made by ``make_network`` with the optimiser ``make_optimizer``
        builds from its parameters, then measure the validation and test splits."""
        import torch
        import torch.nn.functional as F

        data = self._data
        assert data is not None
        torch.set_num_threads(self._threads)
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = make_network()
            optimizer = make_optimizer(model.parameters())
            generator = torch.Generator().manual_seed(seed)
            x_train, y_train = data.x["train"], data.y["train"]
            n, bs = len(y_train), self.params.batch_size
            n_steps = max(1, n // bs)
            train_loss = math.nan
            for epoch in range(epochs):
                model.train()
                order = torch.randperm(n, generator=generator)
                running = torch.zeros(())
                for step in range(n_steps):
                    index = order[step * bs:(step + 1) * bs]
                    loss = F.cross_entropy(model(x_train[index]), y_train[index])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    running += loss.detach()
                train_loss = running.item() / n_steps
                if not math.isfinite(train_loss):
                    return Outcome({}, f"training loss became {train_loss} in epoch "
                                   f"{epoch + 1}", time.perf_counter() - t0)
            if not all(torch.isfinite(w).all() for w in model.parameters()):
                return Outcome({}, "weights are not finite after training",
                               time.perf_counter() - t0)
            metrics = {"train_loss": train_loss}
            for split in ("valid", "test"):
                metrics[f"{split}_loss"], metrics[f"{split}_acc"] = _measure(
                    model, data.x[split], data.y[split])
        if not math.isfinite(metrics["valid_loss"]):
            return Outcome({}, f"validation loss is {metrics['valid_loss']}",
                           time.perf_counter() - t0)
        return Outcome(metrics, "", time.perf_counter() - t0)

    def qualified(self, values: Mapping[str, float]) -> dict[str, float]:
        return {f"{self._dataset_name}/{k}": float(v) for k, v in values.items()}


def _measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (%) in evaluation mode."""
    import torch
    import torch.nn.functional as F

    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), EVAL_BATCH):
            logits = model(x[i:i + EVAL_BATCH])
            target = y[i:i + EVAL_BATCH]
            loss += float(F.cross_entropy(logits, target, reduction="sum"))
            correct += int((logits.argmax(-1) == target).sum())
    n = max(1, len(y))
    return loss / n, 100.0 * correct / n
