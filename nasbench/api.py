"""The plugin contract: search spaces, strategies, evaluators and benchmark tables.

Three kinds of plugins meet only through the harness:

* a :class:`SearchSpace` says which architectures exist and how to sample, mutate, name and
  canonicalise them;
* a :class:`Strategy` proposes trials (``ask``) and learns from observations (``tell``); it sees
  the search metric and nothing else;
* an :class:`Evaluator` turns a trial into metrics and a cost.

A :class:`Benchmark` is a table of published measurements that a tabular evaluator reads; a
:class:`Dataset` is real data that a training evaluator trains networks on.

Architectures are tuples of choice indices, one per decision in the order the space declares
them. They are hashable, cheap, and the same type in every space; each space also has a public
string format (``to_string``/``from_string``) for results and users.

Records passed between plugins are frozen dataclasses. This module imports nothing heavy:
listing plugins must not pay for numpy, torch or Lightning.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nasbench.errors import ConfigError, InvalidArchitectureError
from nasbench.params import NoParams

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

Architecture = tuple[int, ...]
"""An architecture: one choice index per decision, in the order the space declares them."""

Status = Literal["ok", "failed", "diverged"]

DataKind = Literal["image", "sequence", "vector"]
"""What one example is: an image ``(C, H, W)``, a sequence ``(T, F)`` (or ``(T,)`` token ids),
or a feature vector ``(F,)``."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})

INPUT_LAYOUTS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "image": ("channels", "height", "width"),
    "sequence": ("time", "features"),
    "vector": ("features",),
})
"""Layout of one example (no batch dimension) for each :attr:`SearchSpace.data_kind`."""


def _same_kind(value: Any, default: Any) -> bool:
    """Whether a size value has its default's type (bool is not an int; an int is a float)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _resolve(space: str, defaults: Mapping[str, Any], size: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` overridden by ``size``, refusing unknown keys and values of another type."""
    known = ", ".join(defaults) or "none"
    out = dict(defaults)
    for key, value in size.items():
        if key not in defaults:
            raise ConfigError(
                f"size.{key}", f"unknown size key for space '{space}'",
                f"Known size keys: {known}.",
            )
        default = defaults[key]
        if default is not None and value is not None and not _same_kind(value, default):
            raise ConfigError(
                f"size.{key}",
                f"expected {type(default).__name__} like the default {default!r}, "
                f"got {value!r}",
            )
        out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """One categorical choice of a search space.

    Attributes:
        name: stable identifier, e.g. ``edge_2<-1``.
        choices: the labels of the options; an architecture stores the index.
        excluded: indices of choices the earlier choices rule out (a DARTS node's second
            input may not be its first); :meth:`SearchSpace.next_decision` sets them, and a
            strategy that draws decision by decision gives them no probability.
    """

    name: str
    choices: tuple[str, ...]
    excluded: tuple[int, ...] = ()

    def allowed(self) -> list[int]:
        """Indices of the choices that may be taken here."""
        if not self.excluded:
            return list(range(len(self.choices)))
        return [c for c in range(len(self.choices)) if c not in self.excluded]


@dataclass(frozen=True, slots=True)
class Trial:
    """What a strategy asks to have evaluated.

    Attributes:
        arch: the architecture.
        fidelity: the evaluator fidelity to use (e.g. epochs); ``None`` for its default.
    """

    arch: Architecture
    fidelity: float | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What a strategy learns about one of its trials.

    Attributes:
        value: the search metric, oriented so that larger is better; ``None`` when the
            evaluation failed or diverged.
        cost: the evaluation's cost in seconds (simulated or measured); 0 for a repeat.
        status: ``ok``, ``failed`` or ``diverged``.
        fidelity: the fidelity the value was measured at.
        objectives: in a study with ``[[objectives]]``, every objective's value, each oriented
            so that larger is better (``None`` when the evaluation failed); ``value`` is then
            the first objective.
    """

    value: float | None
    cost: float
    status: Status = "ok"
    fidelity: float | None = None
    objectives: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class EvalResult:
    """What an evaluator returns for one trial.

    Attributes:
        metrics: fully qualified metric name (``dataset/metric``) -> value.
        cost: seconds this evaluation costs: simulated for tables, measured for training.
        status: ``ok``, ``failed`` or ``diverged``.
        reason: why it failed or diverged (empty when ok).
        info: extra facts worth recording (parameter count, training time, thread count).
    """

    metrics: Mapping[str, float]
    cost: float = 0.0
    status: Status = "ok"
    reason: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def failure(cls, reason: str, *, cost: float = 0.0, status: Status = "failed") -> EvalResult:
        return cls(metrics=_EMPTY, cost=cost, status=status, reason=reason)


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """Describes one metric an evaluator or benchmark can report.

    Attributes:
        split: which data it was measured on; only ``train``/``valid`` metrics may drive a
            search (selection on test data is refused).
        higher_is_better: orientation; strategies always maximise, the harness flips signs.
        unit: e.g. ``%`` or ``s``.
        fidelity: the fidelity (e.g. epochs) it belongs to, when the source has several.
        doc: one line for users.
    """

    split: Literal["train", "valid", "test", "other"]
    higher_is_better: bool = True
    unit: str = ""
    fidelity: float | None = None
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Budget:
    """How much one run may spend. A run stops at the first limit it reaches.

    Attributes:
        evaluations: number of evaluations; a repeated architecture is answered from the run's
            cache and counts only when ``count_repeats`` is set.
        cost: seconds of (simulated or measured) evaluation cost.
        count_repeats: whether re-proposals of an architecture count towards ``evaluations``.
        max_proposals: hard stop on proposals, so that a strategy that only repeats itself ends.
        trial_timeout: seconds after which an evaluation is stopped and recorded failed.
        retries: further attempts of an evaluation whose process died, before it is recorded
            failed. With either set, evaluations run in a child process.
    """

    evaluations: int | None = None
    cost: float | None = None
    count_repeats: bool = False
    max_proposals: int | None = None
    trial_timeout: float | None = None
    retries: int = 0


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """What the harness tells a strategy about the run it is part of.

    Attributes:
        budget: the run's budget.
        fidelities: the evaluator's fidelities (empty when it has one).
        default_fidelity: the fidelity used when a trial names none.
        supernet: for a strategy that ``requires`` ``supernet``, its handle to a weight-sharing
            supernet of the study's space, trained on the study's data (``None`` otherwise).
    """

    budget: Budget
    fidelities: tuple[float, ...] = ()
    default_fidelity: float | None = None
    supernet: SupernetAccess | None = None
    objectives: tuple[str, ...] = ()
    """The study's objective metrics, in the order of :attr:`Observation.objectives` (empty
    in a single-objective study); a strategy with ``multi_objective = True`` searches for
    their Pareto front."""


@dataclass(frozen=True, slots=True)
class EvaluatorContext:
    """What an evaluator needs to know about the study it serves.

    Attributes:
        dataset: the evaluator's main dataset.
        search_metric: fully qualified search metric.
        report_metrics: fully qualified report metrics.
        data_dir: root of benchmark tables and datasets (config, ``$NASBENCH_DATA``), if set.
        cache_dir: a directory private to this study where the evaluator may cache work.
        threads: torch threads this evaluator may use.
        root_seed: the study's root seed; fixes what every run shares (e.g. data splits).
    """

    dataset: str
    search_metric: str
    report_metrics: tuple[str, ...]
    data_dir: Path | None = None
    cache_dir: Path | None = None
    threads: int = 1
    root_seed: int = 0

    @property
    def wanted_metrics(self) -> tuple[str, ...]:
        """Search metric then report metrics, without repeats."""
        return tuple(dict.fromkeys((self.search_metric, *self.report_metrics)))


class _Plugin(ABC):
    """Shared by every plugin kind: a registry name, a summary, typed params."""

    name: ClassVar[str]
    """Registry name, lower_snake: the word users type."""
    summary: ClassVar[str] = ""
    """One line shown by ``nasbench list``."""
    Params: ClassVar[type] = NoParams
    """Frozen dataclass of hyper-parameters built with :func:`nasbench.params.param`."""

    def __init__(self, params: Any = None) -> None:
        self.params = params if params is not None else self.Params()


class SearchSpace(_Plugin):
    """A set of architectures, with the operations strategies need.

    Capabilities a space may declare in ``capabilities``:

    * ``enumerate``: :meth:`enumerate` lists every architecture.
    * ``build``: :meth:`build` returns a trainable ``torch.nn.Module``.
    * ``supernet``: weight sharing is available: :meth:`build_supernet` returns one network
      holding every architecture's weights (a
      :class:`~nasbench.supernet.module.SupernetModule`), :meth:`relaxation_shapes` gives the
      shapes of its continuous relaxation (architecture weights, one row per edge or node
      whose entries are mixed by a softmax) and :meth:`derive` turns relaxation weights into
      an architecture.

    Networks (capability ``build``). :attr:`data_kind` says which data a space's networks
    read; :meth:`build` takes the input shape without the batch dimension (``(C, H, W)`` for
    ``image``, ``(T, F)`` for ``sequence``, ``(F,)`` for ``vector``), the number of classes, and
    size keys (channels, cells, ...) whose names and defaults :meth:`size_defaults` lists. The
    module's ``forward(x)`` returns logits of shape ``(batch, num_classes)``. Two training
    conventions of DARTS are shared by every network that supports them:

    * a space with an auxiliary head accepts the size key ``auxiliary=True``; its network then
      returns ``(logits, aux_logits)`` in training mode and ``logits`` in evaluation mode;
    * a network with drop-path exposes a float attribute ``drop_path_prob`` (0 by default),
      which the trainer sets before every epoch.

    Plugin modules import torch only inside :meth:`build`: listing plugins stays cheap.
    """

    capabilities: ClassVar[frozenset[str]] = frozenset()
    data_kind: ClassVar[str | None] = None
    """What the networks read: ``image``, ``sequence`` or ``vector``; ``None`` for a space that
    builds nothing."""

    # -- decisions ---------------------------------------------------------------------------
    def decisions(self) -> tuple[Decision, ...] | None:
        """All decisions, for spaces whose decisions do not depend on earlier choices."""
        return None

    def next_decision(self, prefix: Architecture) -> Decision | None:
        """The decision that follows ``prefix``, or ``None`` when ``prefix`` is complete.

        Spaces whose later choices depend on earlier ones (variable depth, skip anchors, a
        choice that an earlier one rules out: :attr:`Decision.excluded`) override this;
        autoregressive controllers walk it.
        """
        fixed = self.decisions()
        if fixed is None:
            raise NotImplementedError(f"{type(self).__name__} must implement next_decision")
        return fixed[len(prefix)] if len(prefix) < len(fixed) else None

    # -- sampling and neighbourhoods ----------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        """An architecture drawn uniformly from the space.

        Where decisions depend on earlier choices, the default walks :meth:`next_decision`
        and draws each decision uniformly in turn (uniform per decision, as a controller
        with constant logits samples).
        """
        fixed = self.decisions()
        while True:
            if fixed is not None:
                arch = tuple(int(rng.integers(len(d.choices))) for d in fixed)
            else:
                arch = ()
                while (d := self.next_decision(arch)) is not None:
                    if d.excluded:
                        allowed = d.allowed()
                        arch = (*arch, allowed[int(rng.integers(len(allowed)))])
                    else:
                        arch = (*arch, int(rng.integers(len(d.choices))))
            if self.is_valid(arch):
                return arch

    @abstractmethod
    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """A different architecture one mutation away from ``arch``."""

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every architecture one mutation away, in a deterministic order.

        The default changes one decision to each other choice and keeps the valid results
        (where a decision shapes the ones after it, such as a depth, changing it alone rarely
        gives a valid architecture).
        """
        fixed = self.decisions()
        out = []
        for i in range(len(arch)):
            d = fixed[i] if fixed is not None else self.next_decision(arch[:i])
            if d is None:
                break
            for c in range(len(d.choices)):
                if c != arch[i]:
                    other = (*arch[:i], c, *arch[i + 1 :])
                    if self.is_valid(other):
                        out.append(other)
        return out

    # -- validity and names ------------------------------------------------------------------
    def validate(self, arch: Architecture) -> None:
        """Raise :class:`InvalidArchitectureError` unless ``arch`` belongs to the space."""
        fixed = self.decisions()
        if fixed is None:
            self._validate_walk(arch)
            return
        if not isinstance(arch, tuple) or len(arch) != len(fixed):
            raise InvalidArchitectureError(
                f"{self.name}: expected {len(fixed)} choices, got {arch!r}"
            )
        for d, c in zip(fixed, arch, strict=True):
            if not isinstance(c, int) or not 0 <= c < len(d.choices):
                raise InvalidArchitectureError(
                    f"{self.name}: decision {d.name} has {len(d.choices)} choices, got {c!r}"
                )

    def _validate_walk(self, arch: Architecture) -> None:
        if not isinstance(arch, tuple):
            raise InvalidArchitectureError(
                f"{self.name}: expected a tuple of choices, got {arch!r}"
            )
        for i, c in enumerate(arch):
            d = self.next_decision(arch[:i])
            if d is None:
                raise InvalidArchitectureError(
                    f"{self.name}: {arch!r} has {len(arch) - i} choices too many"
                )
            if not isinstance(c, int) or not 0 <= c < len(d.choices):
                raise InvalidArchitectureError(
                    f"{self.name}: decision {d.name} has {len(d.choices)} choices, got {c!r}"
                )
            if c in d.excluded:
                raise InvalidArchitectureError(
                    f"{self.name}: decision {d.name} cannot take {d.choices[c]!r} after the "
                    "earlier choices"
                )
        missing = self.next_decision(arch)
        if missing is not None:
            raise InvalidArchitectureError(
                f"{self.name}: {arch!r} ends before decision {missing.name}"
            )

    def is_valid(self, arch: Architecture) -> bool:
        try:
            self.validate(arch)
        except InvalidArchitectureError:
            return False
        return True

    @abstractmethod
    def arch_key(self, arch: Architecture) -> str:
        """A canonical key: equal for architectures that compute the same function."""

    @abstractmethod
    def to_string(self, arch: Architecture) -> str:
        """The space's public string format."""

    @abstractmethod
    def from_string(self, text: str) -> Architecture:
        """Parse the public string format; raise :class:`InvalidArchitectureError` if wrong."""

    # -- optional capabilities ---------------------------------------------------------------
    def size(self) -> int | None:
        """Number of architectures, when finite and known."""
        fixed = self.decisions()
        if fixed is None:
            return None
        n = 1
        for d in fixed:
            n *= len(d.choices)
        return n

    def enumerate(self) -> Iterator[Architecture]:
        """Every architecture (capability ``enumerate``)."""
        raise NotImplementedError(f"space '{self.name}' cannot be enumerated")

    def build(
        self,
        arch: Architecture,
        *,
        input_shape: tuple[int, ...],
        num_classes: int,
        **size: Any,
    ) -> Any:
        """A ``torch.nn.Module`` for ``arch`` (capability ``build``).

        Args:
            arch: an architecture of this space.
            input_shape: one example's shape, without the batch dimension (see the class
                docstring for the layout of each :attr:`data_kind`).
            num_classes: width of the logits.
            **size: size keys overriding :meth:`size_defaults`; unknown keys are a
                :class:`~nasbench.errors.ConfigError`.
        """
        raise NotImplementedError(f"space '{self.name}' does not build networks")

    def size_defaults(self) -> dict[str, Any]:
        """The size keys :meth:`build` accepts, with their defaults."""
        return {}

    def build_supernet(self, *, input_shape: tuple[int, ...], num_classes: int,
                       **size: Any) -> Any:
        """The weight-sharing supernet of the space (capability ``supernet``).

        Args:
            input_shape, num_classes: as for :meth:`build`.
            **size: keys of :meth:`supernet_size_defaults`.

        Returns:
            a :class:`~nasbench.supernet.module.SupernetModule`: it runs one architecture
            (``set_path``), the continuous relaxation (``set_relaxation``), and
            ``extract(arch)`` gives the stand-alone network of :meth:`build` with the shared
            weights, computing the same function as the supernet on that path.
        """
        raise NotImplementedError(f"space '{self.name}' has no supernet")

    def supernet_size_defaults(self) -> dict[str, Any]:
        """The size keys :meth:`build_supernet` accepts, with their defaults."""
        return {}

    def resolve_supernet_size(self, size: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`supernet_size_defaults` overridden by ``size``, checked like
        :meth:`resolve_size`."""
        return _resolve(self.name, self.supernet_size_defaults(), size)

    def relaxation_shapes(self) -> tuple[tuple[int, int], ...]:
        """Shapes of the relaxation's architecture weights (capability ``supernet``): one
        matrix per group of edges, a softmax over each row."""
        raise NotImplementedError(f"space '{self.name}' has no continuous relaxation")

    def derive(self, weights: Any) -> Architecture:
        """The discrete architecture that relaxation ``weights`` (one array per shape of
        :meth:`relaxation_shapes`, rows summing to 1) stand for (capability ``supernet``)."""
        raise NotImplementedError(f"space '{self.name}' has no continuous relaxation")

    def resolve_size(self, size: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`size_defaults` overridden by ``size``, checked key by key.

        Raises:
            ConfigError: for a key the space does not know, or a value whose type differs
                from its default's (an integer is accepted where a float is expected).
        """
        return _resolve(self.name, self.size_defaults(), size)

    def check_input(self, input_shape: tuple[int, ...], num_classes: int) -> None:
        """Refuse an input shape that does not fit :attr:`data_kind`, or fewer than 1 class.

        Raises:
            ConfigError: naming the expected layout.
        """
        layout = INPUT_LAYOUTS.get(self.data_kind or "")
        dims = tuple(input_shape)
        if layout is None:
            raise ConfigError("space", f"space '{self.name}' does not build networks")
        if len(dims) != len(layout) or not all(isinstance(d, int) and d > 0 for d in dims):
            raise ConfigError(
                "input_shape",
                f"space '{self.name}' reads {self.data_kind} data shaped "
                f"({', '.join(layout)}) without the batch dimension, got {input_shape!r}",
            )
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ConfigError("num_classes", f"expected a positive integer, got {num_classes!r}")

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly description (``nasbench space NAME``)."""
        fixed = self.decisions()
        out: dict[str, Any] = {
            "name": self.name,
            "summary": self.summary,
            "capabilities": sorted(self.capabilities),
            "size": self.size(),
        }
        if "build" in self.capabilities:
            out["data_kind"] = self.data_kind
            out["network_size_defaults"] = self.size_defaults()
        if "supernet" in self.capabilities:
            out["supernet_size_defaults"] = self.supernet_size_defaults()
            out["relaxation_shapes"] = [list(s) for s in self.relaxation_shapes()]
        if fixed is not None:
            out["decisions"] = [{"name": d.name, "choices": list(d.choices)} for d in fixed]
        return out


class Strategy(_Plugin):
    """A search strategy driven by ask/tell.

    The harness calls :meth:`setup` once, then alternates :meth:`ask` and :meth:`tell` until the
    budget ends or ``ask`` returns ``None``. A strategy owns no evaluator: it sees only the
    search metric through :class:`Observation`. It draws every random number from the
    generator it was given, so that a run is replayable, and :meth:`state_dict` captures
    everything else, so that a killed run resumes exactly.
    """

    requires: ClassVar[frozenset[str]] = frozenset()
    """Space capabilities this strategy needs (checked before a study starts)."""
    requires_fidelities: ClassVar[bool] = False
    """Whether the strategy needs an evaluator with several fidelities."""
    searches: ClassVar[bool] = True
    """Whether the strategy searches for a good architecture. ``False`` for designs that
    propose a given set whatever they observe (protocol and correlation studies); the
    benchmark suite (``nasbench suite``) leaves those out."""

    space: SearchSpace
    rng: np.random.Generator
    context: StrategyContext

    def setup(
        self, space: SearchSpace, rng: np.random.Generator, context: StrategyContext
    ) -> None:
        """Bind the strategy to a space, its random stream and the run's context."""
        self.space = space
        self.rng = rng
        self.context = context

    @abstractmethod
    def ask(self) -> Trial | None:
        """The next trial to evaluate, or ``None`` when the strategy has nothing more to try."""

    @abstractmethod
    def tell(self, trial: Trial, observation: Observation) -> None:
        """The outcome of a trial returned by :meth:`ask`."""

    def recommend(self) -> Architecture | None:
        """The architecture the strategy would return now (by the search metric only).

        The harness tracks each run's incumbent (the first architecture with the best observed
        search metric); override this only when the strategy knows better (a supernet's
        argmax). A strategy that does not override it never has this default called.
        """
        return None

    checkpoints: ClassVar[bool] = True
    """Whether :meth:`state_dict` captures the strategy's state as plain data (numbers,
    strings, lists, dicts, numpy arrays). ``False`` (a library object that cannot be saved
    as plain data, such as an optuna sampler): the harness never saves its state and resumes
    a run by replaying the run's logged trials from its seed."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly, as plain data (numbers, strings, lists,
        dicts, numpy arrays, tensors); the harness saves the generator itself."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, after :meth:`setup`."""

    def diagnostics(self) -> dict[str, float]:
        """Figures about the search itself (e.g. the variance of a gradient estimator), for
        the run's summary; keys lower_snake. The harness records them as
        ``strategy.<key>`` columns of ``runs.parquet``. None by default."""
        return {}


class SupernetAccess(ABC):
    """A one-shot strategy's handle to its weight-sharing supernet.

    The harness builds one per run, from the study's space, dataset and ``[supernet]``
    protocol, and hands it over in :attr:`StrategyContext.supernet` to strategies that
    ``require`` the capability ``supernet``. It trains and measures the shared weights, and
    nothing else: a strategy never sees an evaluator. Its work is charged to the run as cost,
    in the evaluator's cost unit (:attr:`cost`): measured seconds, or training FLOPs, like an
    evaluator's training.

    Data splits (see :attr:`splits`): ``train`` (the study's training split), ``w`` and
    ``alpha`` (its two halves, for bilevel methods: weights on one, architecture on the
    other), ``valid`` (the study's validation split). Batches are tensors already shaped as
    the networks read them. Architectures are the space's; relaxation parameters are a list
    of float tensors shaped by :meth:`SearchSpace.relaxation_shapes` (the softmax over each
    row is taken here).
    """

    @property
    @abstractmethod
    def splits(self) -> Mapping[str, int]:
        """Examples per data split."""

    @property
    @abstractmethod
    def seconds(self) -> float:
        """Time spent in this handle's methods so far."""

    @property
    def cost(self) -> float:
        """What the harness charges the run for this handle's work so far, in the study's
        cost unit (:attr:`Evaluator.cost_unit`): measured :attr:`seconds` unless the handle
        counts a deterministic unit. Only differences are charged, so a restored handle may
        count from zero."""
        return self.seconds

    @abstractmethod
    def configure(self, recipe: Any, total_steps: int) -> None:
        """Set the optimiser and learning-rate schedule of the shared weights: a
        :class:`~nasbench.training.recipe.TrainingRecipe` (optimiser, learning rate, momentum,
        weight decay, schedule, clipping, label smoothing, augmentation) over
        ``total_steps`` steps. Call once, before training and before
        :meth:`load_state_dict`."""

    @abstractmethod
    def steps_per_epoch(self, split: str, batch_size: int) -> int:
        """Full minibatches of ``batch_size`` in one pass over ``split``."""

    @abstractmethod
    def batch(self, split: str, batch_size: int) -> Any:
        """The next minibatch ``(x, y)`` of ``split``: an endless stream reshuffled (from the
        run's seed) at every pass, dropping each pass's incomplete last batch."""

    @abstractmethod
    def train_step(self, batch: Any, *, arch: Architecture | None = None,
                   alpha: Any = None) -> float:
        """One optimiser step of the shared weights on ``batch``, through one architecture
        (single path) or the relaxation with parameters ``alpha``; returns the loss."""

    @abstractmethod
    def alpha_gradient(self, alpha: Any, alpha_batch: Any, *, w_batch: Any = None,
                       order: int = 1, xi: float | None = None) -> float:
        """Set ``alpha[i].grad`` to the gradient of the loss on ``alpha_batch`` (DARTS).

        ``order=1``: at the current shared weights. ``order=2``: at the weights after one
        virtual optimiser step on ``w_batch`` with step size ``xi`` (the current learning
        rate when ``None``), by the finite-difference Hessian-vector product. Returns the
        loss on ``alpha_batch``.
        """

    @abstractmethod
    def accuracy(self, archs: Sequence[Architecture], batches: Sequence[Any], *,
                 bn: str = "running") -> list[float]:
        """Accuracy (%) of each architecture on ``batches`` with the shared weights.

        ``bn`` says how batch normalisation normalises (:data:`nasbench.supernet.BnMode`):
        with the shared running statistics, with each batch's statistics, or with statistics
        re-estimated on the architecture's path; the shared statistics are left as they were.
        """

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Shared weights, optimiser and schedule state, data-stream positions."""

    @abstractmethod
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (after :meth:`configure`)."""

    def mixture_gradient(self, weights: Sequence[Any], batch: Any, *, need_grad: bool = True,
                         train: bool = False, accumulate: bool = False
                         ) -> tuple[float, list[Any] | None]:
        """The loss on ``batch`` of the relaxation run with the given mixing ``weights`` (one
        tensor per relaxation matrix, taken as they are: sampled methods pass one-hot or
        Gumbel-softmax rows), and its gradient with respect to them when ``need_grad``; with
        ``train``, the same pass also steps the shared weights; with ``accumulate``, it keeps
        their gradient for :meth:`step_weights`. Operations of weight exactly zero are not
        computed."""
        raise NotImplementedError(f"{type(self).__name__} runs no relaxation with given "
                                  "mixing weights")

    def step_weights(self) -> None:
        """Step the shared weights with the gradient :meth:`mixture_gradient` accumulated."""
        raise NotImplementedError(f"{type(self).__name__} accumulates no gradients")

    def network_cost(self, arch: Architecture, metric: str) -> float:
        """A cost of the stand-alone network of ``arch`` at the supernet's size: ``params``
        or ``flops`` (one example's multiply-accumulates)."""
        raise NotImplementedError(f"{type(self).__name__} counts no network costs")


class Evaluator(_Plugin):
    """Turns a trial into metrics and a cost.

    Capabilities an evaluator may declare in ``capabilities``:

    * ``cost``: its costs are meaningful seconds, so a study may budget by cost.
    * ``fidelities``: it evaluates at several fidelities (:meth:`fidelities`).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset()

    seeded: ClassVar[bool] = True
    """Whether results depend on the evaluation seed (``False`` for lookup tables, which
    spares the harness deriving one per trial)."""

    pure: ClassVar[bool] = False
    """Whether a trial's result depends on the trial (architecture, fidelity) and evaluation
    seed alone, cost included, as a lookup table's does: the harness may then hand out an
    evaluation it made for an equal trial instead of calling :meth:`evaluate` again. ``False``
    for anything measured (times, latencies) or trained."""

    cost_unit: ClassVar[str] = "seconds"
    """The unit of :attr:`EvalResult.cost` (``seconds`` unless the evaluator counts something
    deterministic: ``flops``, ``epochs``, ``env_steps``). A one-shot strategy's supernet
    training is charged to its run in the same unit (:attr:`SupernetAccess.cost`)."""

    def bind_plugins(self, plugins: Any) -> None:
        """Receive the loaded registries, for evaluators that read other plugins (the tabular
        evaluator looks up benchmarks). Called right after construction."""

    def datasets(self) -> tuple[str, ...]:
        """Datasets this evaluator (with its params) can evaluate on."""
        return ()

    @abstractmethod
    def metrics(self, dataset: str) -> Mapping[str, MetricInfo]:
        """Fully qualified metrics (``dataset/metric``) available when evaluating on
        ``dataset``."""

    def fidelities(self) -> tuple[float, ...]:
        """Available fidelities, ascending; empty when there is one."""
        return ()

    def check(self, space: SearchSpace, dataset: str, data_dir: Path | None) -> None:
        """Refuse, with a :class:`~nasbench.errors.ConfigError`, a space or dataset this
        evaluator cannot serve, or data files that are missing. Must be cheap."""

    @abstractmethod
    def setup(self, space: SearchSpace, context: EvaluatorContext) -> None:
        """Load what evaluation needs (tables, data). Called once per process."""

    @abstractmethod
    def evaluate(
        self, space: SearchSpace, trial: Trial, *, seed: int, fidelity: float | None = None
    ) -> EvalResult:
        """Evaluate one trial. Returns at least the context's wanted metrics when ok."""

    def close(self) -> None:
        """Release what :meth:`setup` acquired."""


class BenchmarkTable(ABC):
    """A loaded benchmark: metric columns indexed by architecture."""

    @abstractmethod
    def row(self, arch: Architecture) -> int:
        """Row index of ``arch`` (raise ``KeyError`` if the table has none)."""

    @abstractmethod
    def column(self, metric: str) -> list[float]:
        """All values of a fully qualified metric, by row."""

    @abstractmethod
    def __len__(self) -> int: ...


class Benchmark(ABC):
    """A table of published measurements over one search space.

    Benchmarks are registered like plugins and read by the ``tabular`` evaluator. A table in
    nasbench's format (shipped in ``nasbench/data``, imported, or in a data directory) is
    served by the one table-backed class, ``nasbench.evaluators.table_benchmark``; other
    benchmarks read their data from an installed package.
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    space: ClassVar[str]
    """Registry name of the search space the table indexes."""
    citation: ClassVar[str] = ""

    @abstractmethod
    def datasets(self) -> tuple[str, ...]: ...

    @abstractmethod
    def metrics(self) -> Mapping[str, MetricInfo]:
        """Per-dataset metric names (unqualified) and what they are."""

    def cost_metric(self) -> str | None:
        """Name of the metric holding each entry's training time in seconds, if any."""
        return None

    def fidelities(self) -> Mapping[float, Mapping[str, str]]:
        """Fidelity -> {generic metric name -> metric at that fidelity}, when the table has
        several training lengths."""
        return {}

    def check(self, data_dir: Path | None) -> None:
        """Raise :class:`~nasbench.errors.DataNotFoundError` when the data is not there."""

    @abstractmethod
    def load(self, data_dir: Path | None, datasets: tuple[str, ...]) -> BenchmarkTable:
        """Load the columns of ``datasets``."""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "space": self.space,
            "datasets": list(self.datasets()),
            "metrics": {k: dataclasses.asdict(v) for k, v in self.metrics().items()},
            "citation": self.citation,
        }


@dataclass(frozen=True)
class DatasetArrays:
    """A dataset as its source defines it: examples and integer labels per official split.

    Examples are NumPy arrays shaped ``(N, *input_shape)`` in their natural dtype (``uint8``
    pixels, ``float32`` signals, ``int64`` token ids); labels are ``int64`` arrays ``(N,)``, or
    ``(N, T)`` for language modelling.
    A split the source does not define is ``None``; the evaluator then carves it out of the
    training split with the study's seed (see ``docs/training.md``).

    Attributes:
        x_train, y_train: the training split.
        x_test, y_test: the official test split, or ``None``.
        x_valid, y_valid: the official validation split, or ``None``.
        num_classes: number of labels (the vocabulary size for language modelling).
    """

    x_train: Any
    y_train: Any
    x_test: Any = None
    y_test: Any = None
    x_valid: Any = None
    y_valid: Any = None
    num_classes: int = 0


class Dataset(ABC):
    """Real data that networks are trained on, read from where the user keeps it.

    Datasets are registered like plugins (``nasbench_register_datasets``) and read by training
    evaluators. Nothing is downloaded: :meth:`load` reads a local copy (a data directory, a
    system package) or regenerates the data offline, and raises
    :class:`~nasbench.errors.DataNotFoundError` saying how to provide it when it is absent.
    """

    name: ClassVar[str]
    """Registry name, lower_snake: the word users type as ``[evaluator] dataset``."""
    summary: ClassVar[str] = ""
    data_kind: ClassVar[DataKind]
    """What one example is; a network's space must read the same kind (or ``vector``, which
    any non-token dataset can be flattened to)."""
    input_shape: ClassVar[tuple[int, ...]]
    """One example's shape, without the batch dimension, as :meth:`load` returns it."""
    num_classes: ClassVar[int]
    task: ClassVar[Literal["classification", "language_model"]] = "classification"
    """``language_model``: examples are windows of token ids ``(T,)`` and their labels the next
    token at every position ``(T,)``; otherwise one integer label per example."""
    citation: ClassVar[str] = ""
    slow_to_load: ClassVar[bool] = False
    """Whether :meth:`load` is slow (the data is regenerated or parsed from text), so that
    evaluators should keep the loaded arrays in the study's cache directory."""

    def check(self, data_dir: Path | None) -> None:
        """Raise :class:`~nasbench.errors.DataNotFoundError` when the data is not there.
        Must be cheap: it runs when a study is loaded."""

    @abstractmethod
    def load(self, data_dir: Path | None) -> DatasetArrays:
        """Read the data (raise :class:`~nasbench.errors.DataNotFoundError` when absent)."""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "data_kind": self.data_kind,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "task": self.task,
            "citation": self.citation,
        }


def qualify(metric: str, dataset: str) -> str:
    """``valid_acc`` -> ``digits/valid_acc``; already qualified names pass through."""
    return metric if "/" in metric else f"{dataset}/{metric}"
