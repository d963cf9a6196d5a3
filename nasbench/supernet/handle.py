"""The supernet handle: what a one-shot strategy (or the ``supernet`` evaluator) trains and
measures shared weights through.

:class:`SupernetHandle` implements :class:`~nasbench.api.SupernetAccess` over a space's
supernet and a study's data. It owns the shared weights, their optimiser and schedule (a
:class:`~nasbench.training.recipe.TrainingRecipe`, built exactly as the ``lightning``
evaluator builds it), the data streams, and a clock: the time spent in its methods is what
the harness charges the run, unless the study's evaluator counts training FLOPs
(``cost_unit = "flops"``). Then the handle charges the FLOPs of the passes it runs, counted
as the ``lightning`` evaluator counts a stand-alone training: the multiply-accumulates of the
convolutions and linear layers the pass really computed (NAS-Bench-201's rules, as
:func:`nasbench.netstats.count_flops`; a relaxation's every computed operation, a single path's
own), times 3 for a pass that trains the shared weights (forward, and a backward pass of about
twice its cost), times 2 for a pass differentiated with respect to the architecture only
(forward, and a backward pass through the activations), times 1 for a pass that only
measures. Those counts depend on shapes alone, so a study budgeted in FLOPs gives the same
trials on any machine.

Determinism: weights are initialised, and every data stream shuffled, from the seed the
harness derives for the run; every operation runs with the protocol's torch thread count. The
same seed therefore gives bit-identical training on a CPU, and :meth:`state_dict` restores a
handle exactly (weights, optimiser moments, schedule position, stream positions).

DARTS's second-order architecture gradient (Liu et al., ICLR 2019, eq. 7-8) follows the
released ``architect.py``: a virtual step ``w' = w - xi (m * momentum + grad_w L_w(w, alpha)
+ weight_decay * w)`` (``m`` the optimiser's momentum buffer), the gradient of ``L_alpha(w',
alpha)``, and the Hessian-vector product by central differences at ``w +- eps v`` with ``eps =
0.01 / ||v||``. Unlike the released code, the batch-norm statistics those virtual passes would
update are restored afterwards, so that only real steps move them.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from nasbench import seeding
from nasbench.api import Architecture, Dataset, SearchSpace, SupernetAccess
from nasbench.supernet import BnMode, SupernetDiverged
from nasbench.supernet.protocol import COST_UNITS, SupernetProtocol
from nasbench.training.data import TrainingData, load_arrays, prepare
from nasbench.training.optim import cross_entropy, make_optimizer, recipe_loss

if TYPE_CHECKING:
    from nasbench.training.recipe import TrainingRecipe

Batch = tuple[torch.Tensor, torch.Tensor]
SPLITS = ("train", "w", "alpha", "valid")
"""The data a handle serves: the training split, its two halves, the validation split."""
TRAIN, DIFFERENTIATE, MEASURE = 3, 2, 1
"""Forward MACs per FLOP charged: a pass that trains the shared weights, one differentiated
with respect to the architecture only, one that only measures."""
NETWORK_COSTS = ("params", "flops")
"""Costs :meth:`SupernetHandle.network_cost` counts (a latency table would add ``latency``)."""


def supernet_data(space: SearchSpace, dataset: Dataset, protocol: SupernetProtocol, *,
                  data_dir: Path | None, cache_dir: Path | None, root_seed: int
                  ) -> TrainingData:
    """The study's splits of ``dataset`` as the space's supernet reads them (the same splits
    the training evaluators use: they depend on the root seed and the data parameters)."""
    arrays = load_arrays(dataset, data_dir, cache_dir)
    return prepare(dataset, arrays, protocol, reads=space.data_kind or "", root_seed=root_seed)


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run with ``threads`` torch threads, restoring the previous count afterwards."""
    before = torch.get_num_threads()
    if before != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if before != threads:
            torch.set_num_threads(before)


class _Stream:
    """Endless minibatch indices over ``n`` examples, reshuffled at every pass."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.generator = torch.Generator().manual_seed(seed)
        self.order: torch.Tensor | None = None
        self.position = 0

    def take(self, batch_size: int) -> torch.Tensor:
        if not 1 <= batch_size <= self.n:
            raise ValueError(f"batch size {batch_size} does not fit a split of {self.n} "
                             "examples")
        if self.order is None or self.position + batch_size > self.n:
            self.order = torch.randperm(self.n, generator=self.generator)
            self.position = 0
        index = self.order[self.position:self.position + batch_size]
        self.position += batch_size
        return index

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "order": self.order,
                "position": self.position}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.order = state["order"]
        self.position = int(state["position"])


class SupernetHandle(SupernetAccess):
    """A supernet of ``space`` trained on ``data`` (see the module docstring).

    Args:
        space: a space with the capability ``supernet``.
        data: the study's splits (:func:`supernet_data`).
        protocol: size, measurement and thread settings.
        seed: the run's seed for initial weights and data streams.
        threads: torch threads (the protocol's, with ``auto`` resolved).
        cost_unit: what :attr:`cost` counts: ``seconds`` (measured) or ``flops`` (see the
            module docstring).
    """

    def __init__(self, space: SearchSpace, data: TrainingData, protocol: SupernetProtocol, *,
                 seed: int, threads: int, cost_unit: str = "seconds") -> None:
        if cost_unit not in COST_UNITS:
            raise ValueError(f"a supernet's work is charged in {' or '.join(COST_UNITS)}, not "
                             f"{cost_unit!r}")
        self.space = space
        self.cost_unit = cost_unit
        self.protocol = protocol
        self.threads = threads
        with torch_threads(threads), torch.random.fork_rng():
            torch.manual_seed(seed)
            size = dict(protocol.size)
            if data.vocab_size is not None:
                size["language_model"] = True  # token ids in, next-token logits out
            self.supernet = space.build_supernet(
                input_shape=data.input_shape, num_classes=data.num_classes, **size)
        self.model: nn.Module = self.supernet
        self.input_shape = tuple(data.input_shape)
        self._tokens = data.vocab_size is not None  # token ids in (a language model)
        self._costs: dict[tuple[str, Architecture], float] = {}
        x, y = data.x["train"], data.y["train"]
        half = len(y) // 2
        self._data: dict[str, Batch] = {
            "train": (x, y), "w": (x[:half], y[:half]), "alpha": (x[half:], y[half:]),
            "valid": (data.x["valid"], data.y["valid"]),
        }
        self._streams = {split: _Stream(len(self._data[split][1]),
                                        seeding.int_seed(seed, "stream", split))
                         for split in SPLITS}
        bn = min(protocol.bn_examples, len(y))
        chunks = max(1, math.ceil(bn / protocol.eval_batch_size))
        self._bn_inputs = list(torch.tensor_split(x[:bn], chunks))
        self._augment_generator = torch.Generator().manual_seed(seeding.int_seed(seed, "augment"))
        self._params = [p for p in self.model.parameters() if p.requires_grad]
        self._seconds = 0.0
        self._flops = 0
        self._pass_macs = 0
        if cost_unit == "flops":
            self._count_macs()
        self._recipe: TrainingRecipe | None = None
        self._optimizer: torch.optim.Optimizer | None = None
        self._scheduler: Any = None
        self._loss: Any = None
        self._augment: Any = None

    # -- SupernetAccess ------------------------------------------------------------------------
    @property
    def splits(self) -> Mapping[str, int]:
        return {split: len(y) for split, (_, y) in self._data.items()}

    @property
    def seconds(self) -> float:
        return self._seconds

    @property
    def flops(self) -> int:
        """Training FLOPs charged so far (counted only with ``cost_unit = "flops"``)."""
        return self._flops

    @property
    def cost(self) -> float:
        return float(self._flops) if self.cost_unit == "flops" else self._seconds

    def configure(self, recipe: TrainingRecipe, total_steps: int) -> None:
        self._recipe = recipe
        self._optimizer, self._scheduler = make_optimizer(self._params, recipe, total_steps)
        self._loss = partial(recipe_loss, recipe)
        if recipe.cutout or recipe.random_crop or recipe.horizontal_flip:
            from nasbench.training.loop import batch_augmenter

            self._augment = batch_augmenter(recipe, self._augment_generator)

    def steps_per_epoch(self, split: str, batch_size: int) -> int:
        return max(1, self.splits[split] // batch_size)

    def batch(self, split: str, batch_size: int) -> Batch:
        if split not in self._data:
            raise KeyError(f"no split {split!r}; splits: {', '.join(SPLITS)}")
        index = self._streams[split].take(batch_size)
        x, y = self._data[split]
        return x[index], y[index]

    def train_step(self, batch: Batch, *, arch: Architecture | None = None,
                   alpha: Sequence[torch.Tensor] | None = None,
                   weights: Sequence[torch.Tensor] | None = None) -> float:
        optimizer = self._configured()
        with self._clock():
            x, y = batch
            if self._augment is not None:
                x = self._augment(x)
            self._route(arch, alpha, detach=True, weights=weights)
            self._mode(training=True)
            loss = self._loss(self.model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self._optimizer_step()
            self._charge(TRAIN)
            value = float(loss.detach())
        if not math.isfinite(value):
            raise SupernetDiverged(f"the shared weights' training loss became {value}")
        return value

    def mixture_gradient(self, weights: Sequence[torch.Tensor], batch: Batch, *,
                         need_grad: bool = True, train: bool = False,
                         accumulate: bool = False) -> tuple[float, list[torch.Tensor] | None]:
        """The loss on ``batch`` of the relaxation run with the mixing ``weights`` as given
        (rows need not be softmaxes; an operation whose weight is exactly zero is not
        computed, so a one-hot row runs one operation), and its gradient with respect to
        ``weights`` when ``need_grad``.

        With ``train``, the same forward and backward pass also takes one optimiser step of
        the shared weights (no augmentation): the step :meth:`train_step` would take with
        these weights on this batch, without a second pass. With ``accumulate``, the pass
        leaves the shared weights' gradient in place and :meth:`step_weights` takes the step
        later (after other evaluations at the same weights).
        """
        optimizer = self._configured()
        with self._clock():
            leaves = [w.detach().to(torch.float32).requires_grad_(need_grad) for w in weights]
            self.supernet.set_relaxation(leaves)
            self._mode(training=True)
            x, y = batch
            grads: list[torch.Tensor] | None = None
            if train or accumulate:
                loss = self._loss(self.model(x), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if need_grad:
                    grads = [torch.zeros_like(w) if w.grad is None else w.grad for w in leaves]
                if train:
                    self._optimizer_step()
                self._charge(TRAIN)
            elif need_grad:
                loss = self._loss(self.model(x), y)
                grads = _grads(loss, leaves)
                self._charge(DIFFERENTIATE)
            else:
                with torch.no_grad():
                    loss = self._loss(self.model(x), y)
                self._charge(MEASURE)
            value = float(loss.detach())
        if not math.isfinite(value):
            raise SupernetDiverged(f"the supernet's loss became {value}")
        return value, grads

    def step_weights(self) -> None:
        """The optimiser step of the shared weights with the gradient a
        :meth:`mixture_gradient` call with ``accumulate`` left."""
        self._configured()
        with self._clock():
            self._optimizer_step()

    def network_cost(self, arch: Architecture, metric: str) -> float:
        """``params`` or ``flops`` (multiply-accumulates of one example, NAS-Bench-201's
        convention) of the stand-alone network of ``arch`` at this supernet's size; cached
        per architecture. Not charged to the run: the count stands in for a table lookup."""
        from nasbench.netstats import count_flops, count_params

        if metric not in NETWORK_COSTS:
            raise ValueError(f"unknown network cost {metric!r}; available: "
                             f"{', '.join(NETWORK_COSTS)}")
        key = (metric, tuple(arch))
        if key not in self._costs:
            with torch_threads(self.threads), torch.random.fork_rng():
                network = self.supernet.network_for_cost(arch)
                if metric == "params":
                    self._costs[key] = float(count_params(network))
                else:
                    self._costs[key] = float(count_flops(
                        network, self.input_shape,
                        dtype=torch.long if self._tokens else None))
        return self._costs[key]

    def alpha_gradient(self, alpha: Sequence[torch.Tensor], alpha_batch: Batch, *,
                       w_batch: Batch | None = None, order: int = 1,
                       xi: float | None = None) -> float:
        self._configured()
        with self._clock():
            self._mode(training=True)
            if order == 1:
                loss = self._relaxed_loss(alpha, alpha_batch)
                grads = torch.autograd.grad(loss, list(alpha))
                self._charge(DIFFERENTIATE)
            elif order == 2:
                if w_batch is None:
                    raise ValueError("the second-order gradient needs w_batch")
                loss, grads = self._unrolled_gradient(alpha, alpha_batch, w_batch, xi)
            else:
                raise ValueError(f"order must be 1 or 2, got {order}")
            for a, g in zip(alpha, grads, strict=True):
                a.grad = g.detach()
        return float(loss.detach())

    def accuracy(self, archs: Sequence[Architecture], batches: Sequence[Batch], *,
                 bn: BnMode = "running") -> list[float]:
        return [acc for _, acc in self.measure(archs, batches, bn=bn)]

    def state_dict(self) -> dict[str, Any]:
        optimizer = self._configured()
        return {
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "optimizer": copy.deepcopy(optimizer.state_dict()),
            "scheduler": self._scheduler.state_dict(),
            "streams": {split: s.state_dict() for split, s in self._streams.items()},
            "augment": self._augment_generator.get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        optimizer = self._configured()
        self.model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        self._scheduler.load_state_dict(state["scheduler"])
        for split, stream in self._streams.items():
            stream.load_state_dict(state["streams"][split])
        self._augment_generator.set_state(state["augment"])

    # -- measuring -----------------------------------------------------------------------------
    def measure(self, archs: Sequence[Architecture], batches: Sequence[Batch], *,
                bn: BnMode = "running") -> list[tuple[float, float]]:
        """Mean cross-entropy and accuracy (%) of each architecture on ``batches`` with the
        shared weights (see :meth:`accuracy`), per example (per token for a language
        model)."""
        if bn not in ("running", "batch", "reestimate"):
            raise ValueError(f"bn must be running, batch or reestimate, got {bn!r}")
        out = []
        with self._clock(), torch.no_grad():
            for arch in archs:
                self.supernet.set_path(arch)
                saved = None
                if bn == "reestimate":
                    saved = self._reestimate()
                elif bn == "batch":
                    saved = _save(self._tracking_norms())
                self._mode(training=bn == "batch")
                loss = torch.zeros((), dtype=torch.float64)
                correct = 0
                count = 0
                for x, y in batches:
                    logits = self.model(x)
                    loss += cross_entropy(logits, y, reduction="sum").double()
                    correct += int((logits.argmax(-1) == y).sum())
                    count += y.numel()
                if saved is not None:
                    _restore(saved)
                self._charge(MEASURE)
                n = max(1, count)
                out.append((float(loss) / n, 100.0 * correct / n))
        return out

    def eval_batches(self, x: torch.Tensor, y: torch.Tensor) -> list[Batch]:
        """``(x, y)`` cut into measurement batches of the protocol's size."""
        size = self.protocol.eval_batch_size
        return [(x[i:i + size], y[i:i + size]) for i in range(0, len(y), size)]

    def _reestimate(self) -> list[tuple[Any, ...]]:
        """Reset the batch-norm statistics and re-estimate them on the current path (a
        cumulative average over the protocol's ``bn_examples``); returns what to restore."""
        norms = self._tracking_norms()
        if not norms and any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                             for m in self.model.modules()):
            raise ValueError("re-estimating batch-norm statistics needs batch norms that track "
                             "running statistics (supernet size track_running_stats = true)")
        saved = _save(norms)
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
        self._mode(training=True)
        for x in self._bn_inputs:
            self.model(x)
        return saved

    def _tracking_norms(self) -> list[nn.modules.batchnorm._BatchNorm]:
        return [m for m in self.model.modules()
                if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]

    # -- internals ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _clock(self) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            with torch_threads(self.threads):
                yield
        finally:
            self._seconds += time.perf_counter() - t0

    def _count_macs(self) -> None:
        """Count, from now on, the multiply-accumulates of every convolution and linear layer
        the supernet computes (NAS-Bench-201's rules, summed over the batch)."""
        from nasbench.netstats import CONVENTIONS, layer_macs

        rules = CONVENTIONS["nb201"]

        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor
                 ) -> None:
            self._pass_macs += layer_macs(module, inputs[0], output, rules)

        for module in self.model.modules():
            if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)):
                module.register_forward_hook(hook)

    def _charge(self, factor: int) -> None:
        """Charge the passes run since the last charge, ``factor`` times their forward
        multiply-accumulates (see the module docstring): those forward hooks saw, and those
        a supernet that slices shared weights counted itself
        (:attr:`~nasbench.supernet.module.SupernetModule.functional_macs`)."""
        functional = getattr(self.model, "functional_macs", 0)  # sliced layers' own count
        if functional:
            self.model.functional_macs = 0
        if self.cost_unit == "flops":
            self._flops += factor * (self._pass_macs + functional)
            self._pass_macs = 0

    def _mode(self, *, training: bool) -> None:
        """Training or evaluation mode (switching walks every module of the supernet, which
        costs milliseconds: only switch when needed)."""
        if self.model.training != training:
            self.model.train(training)

    def _configured(self) -> torch.optim.Optimizer:
        if self._optimizer is None:
            raise RuntimeError("call configure(recipe, total_steps) on the supernet handle "
                               "first")
        return self._optimizer

    def _optimizer_step(self) -> None:
        """Clip (as the recipe says), step the shared weights' optimiser and schedule."""
        assert self._optimizer is not None
        clip = self._recipe.grad_clip if self._recipe is not None else 0.0
        if clip:
            torch.nn.utils.clip_grad_norm_(self._params, clip)
        self._optimizer.step()
        self._scheduler.step()

    def _route(self, arch: Architecture | None, alpha: Sequence[torch.Tensor] | None, *,
               detach: bool, weights: Sequence[torch.Tensor] | None = None) -> None:
        if sum(x is not None for x in (arch, alpha, weights)) != 1:
            raise ValueError("give exactly one of arch (single path), alpha (relaxation) and "
                             "weights (relaxation with given mixing weights)")
        if arch is not None:
            self.supernet.set_path(arch)
            return
        if weights is not None:
            self.supernet.set_relaxation([w.detach().to(torch.float32) for w in weights])
            return
        assert alpha is not None
        weights = [torch.softmax(a.detach() if detach else a, dim=-1) for a in alpha]
        self.supernet.set_relaxation(weights)

    def _relaxed_loss(self, alpha: Sequence[torch.Tensor], batch: Batch) -> torch.Tensor:
        self._route(None, alpha, detach=False)
        x, y = batch
        return self._loss(self.model(x), y)

    def _unrolled_gradient(self, alpha: Sequence[torch.Tensor], alpha_batch: Batch,
                           w_batch: Batch, xi: float | None
                           ) -> tuple[torch.Tensor, Sequence[torch.Tensor]]:
        """DARTS's second-order gradient (see the module docstring)."""
        assert self._optimizer is not None and self._recipe is not None
        params = self._params
        recipe = self._recipe
        eta = xi if xi is not None else self._optimizer.param_groups[0]["lr"]
        buffers = [b.clone() for b in self.model.buffers()]
        original = [p.detach().clone() for p in params]

        self._route(None, alpha, detach=True)
        x, y = w_batch
        w_grads = _grads(self._loss(self.model(x), y), params)
        self._charge(TRAIN)
        with torch.no_grad():
            for p, g in zip(params, w_grads, strict=True):
                buffer = self._optimizer.state.get(p, {}).get("momentum_buffer")
                step = g + recipe.weight_decay * p
                if buffer is not None:
                    step = step + recipe.momentum * buffer
                p.sub_(eta * step)

        loss = self._relaxed_loss(alpha, alpha_batch)
        grads = _grads(loss, [*alpha, *params])
        self._charge(TRAIN)
        direct, vector = grads[:len(alpha)], grads[len(alpha):]
        norm = torch.sqrt(sum((v * v).sum() for v in vector))  # type: ignore[arg-type]
        eps = 0.01 / float(norm) if float(norm) > 0 else 0.0
        implicit = [torch.zeros_like(a) for a in alpha]
        if eps:
            for sign in (1.0, -1.0):
                with torch.no_grad():
                    for p, w, v in zip(params, original, vector, strict=True):
                        p.copy_(w + sign * eps * v)
                side = _grads(self._relaxed_loss(alpha, w_batch), list(alpha))
                self._charge(DIFFERENTIATE)
                implicit = [i + sign * s for i, s in zip(implicit, side, strict=True)]
        with torch.no_grad():
            for p, w in zip(params, original, strict=True):
                p.copy_(w)
            for b, saved in zip(self.model.buffers(), buffers, strict=True):
                b.copy_(saved)
        scale = eta / (2 * eps) if eps else 0.0
        return loss, [d - scale * i for d, i in zip(direct, implicit, strict=True)]


def _grads(loss: torch.Tensor, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """d loss / d input for each input, zeros for inputs the loss does not depend on."""
    grads = torch.autograd.grad(loss, list(inputs), allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads, strict=True)]


def _save(norms: Sequence[nn.modules.batchnorm._BatchNorm]) -> list[tuple[Any, ...]]:
    return [(m, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone(),
             m.momentum) for m in norms]


def _restore(saved: list[tuple[Any, ...]]) -> None:
    for module, mean, var, tracked, momentum in saved:
        module.running_mean.copy_(mean)
        module.running_var.copy_(var)
        module.num_batches_tracked.copy_(tracked)
        module.momentum = momentum
