"""Per-operation latency lookup tables: a network's latency as a sum over its operations.

ProxylessNAS (Cai et al., ICLR 2019) and FBNet (Wu et al., CVPR 2019) predict a network's
latency on a device from a table of each candidate operation's latency, measured once per
device: the latency of a network is the sum of its operations' entries plus a fixed cost
(stem, reductions, head). A :class:`LatencyTable` is that table for one space, one network size,
one input shape and one batch size, stored as JSON with the machine it was measured on
(:func:`nasbench.hardware.describe_machine`) and the settings of the measurement.

Layout: ``costs[kind][edge][op]`` in milliseconds, the summed cost over every cell of ``kind``
in the network of choosing ``op`` on ``edge``. NAS-Bench-201 has one cell kind and six edges
(every edge carries the same cost: the cells of the three stages summed); DARTS has two kinds
(normal, reduce) and 14 edges each (node ``k`` reads any of the ``k + 2`` earlier states; an
edge from a cell input in a reduction cell has stride 2). :meth:`LatencyTable.edge_costs`
exposes the array for differentiable expected-latency terms: ``fixed_ms + sum(p * costs)`` over
a relaxation's probabilities ``p`` of the same shape is ProxylessNAS's expected latency.

The fixed cost is the median, over a few sampled architectures, of measured latency minus the
summed operation costs, so it also absorbs the additions and concatenations of the cells.
Build a table with ``nasbench latency build SPACE --out FILE``; ``nasbench latency check FILE``
compares its predictions with measurements.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench.errors import ConfigError, UserError

if TYPE_CHECKING:
    import numpy as np

    from nasbench.api import SearchSpace

FORMAT = "nasbench-latency-table/1"
SPACES = ("nb201", "darts")
"""Spaces a table can be built for."""


@dataclass
class LatencyTable:
    """A per-operation latency table of one space (see the module docstring).

    Attributes:
        space: registry name of the space.
        size: the network size keys it was measured at (the space's defaults filled in).
        input_shape: one example's shape.
        num_classes: width of the classifier.
        batch: batch size of every measurement.
        kinds: names of the cell kinds (first axis of ``costs``).
        edges: names of the edges (second axis).
        ops: names of the operations (third axis).
        costs: milliseconds, ``[kind][edge][op]``.
        fixed_ms: the cost of everything that is not a choice.
        machine: where it was measured.
        settings: threads, runs, warm-up, reference architectures.
    """

    space: str
    size: dict[str, Any]
    input_shape: tuple[int, ...]
    num_classes: int
    batch: int
    kinds: list[str]
    edges: list[str]
    ops: list[str]
    costs: list[list[list[float]]]
    fixed_ms: float
    machine: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    # -- predicting ---------------------------------------------------------------------------
    def chosen(self, arch: Sequence[int]) -> list[tuple[int, int, int]]:
        """The ``(kind, edge, op)`` entries an architecture of the space chooses."""
        return _CHOICES[self.space](arch)

    def predict(self, arch: Sequence[int]) -> float:
        """Predicted latency of ``arch``'s network in milliseconds."""
        return self.fixed_ms + sum(self.costs[k][e][o] for k, e, o in self.chosen(arch))

    def edge_costs(self) -> np.ndarray:
        """The costs as an array of shape ``(kinds, edges, ops)``, in milliseconds.

        For an expected-latency term: ``fixed_ms + (probs * costs).sum()`` where ``probs``
        holds each edge's operation probabilities (DARTS: only the edges a node keeps count,
        so weight each edge by the probability that it is kept as well).
        """
        import numpy as np

        return np.asarray(self.costs, dtype=np.float64)

    # -- storing ------------------------------------------------------------------------------
    def check_space(self, space: str, *, key: str) -> None:
        """Refuse a table built for another space."""
        if space != self.space:
            raise ConfigError(key, f"is a latency table of space '{self.space}', and the "
                              f"study searches '{space}'",
                              f"Build one with: nasbench latency build {space} --out FILE")

    def save(self, path: str | Path) -> None:
        data = {"format": FORMAT, **asdict(self)}
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path, *, key: str = "latency_table") -> LatencyTable:
        """Read a table.

        Raises:
            ConfigError: when the file is missing or is not a latency table.
        """
        fix = "Build one with: nasbench latency build SPACE --out FILE"
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(key, f"cannot read {str(path)!r}: {err.strerror}", fix) from None
        except json.JSONDecodeError as err:
            raise ConfigError(key, f"{str(path)!r} is not JSON ({err})", fix) from None
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise ConfigError(key, f"{str(path)!r} is not a latency table ({FORMAT})", fix)
        if data.get("space") not in _CHOICES:
            raise ConfigError(key, f"{str(path)!r} is for space {data.get('space')!r}, which "
                              f"has no table support", f"Spaces: {', '.join(SPACES)}.")
        data["input_shape"] = tuple(data["input_shape"])
        return cls(**data)


# -- which entries an architecture chooses -------------------------------------------------------
def _nb201_choices(arch: Sequence[int]) -> list[tuple[int, int, int]]:
    return [(0, e, int(op)) for e, op in enumerate(arch)]


def _darts_choices(arch: Sequence[int]) -> list[tuple[int, int, int]]:
    from nasbench.spaces.darts import _PER_CELL, _PER_NODE, CELLS, EDGE_OFFSETS, STEPS

    out = []
    for kind in range(len(CELLS)):
        for step in range(STEPS):
            k = kind * _PER_CELL + step * _PER_NODE
            for j in (k, k + 2):
                out.append((kind, EDGE_OFFSETS[step] + int(arch[j]), int(arch[j + 1])))
    return out


_CHOICES: dict[str, Callable[[Sequence[int]], list[tuple[int, int, int]]]] = {
    "nb201": _nb201_choices, "darts": _darts_choices,
}


# -- measuring ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Timer:
    batch: int
    runs: int
    warmup: int
    cache: dict[tuple[Any, ...], float] = field(default_factory=dict)

    def op(self, key: tuple[Any, ...], make: Callable[[], Any], shape: tuple[int, ...]) -> float:
        """Median ms of the module ``make()`` on a ``(batch, *shape)`` input, cached by key."""
        if key not in self.cache:
            from nasbench.latency import example_input, time_forward

            self.cache[key] = time_forward(make(), example_input(shape, self.batch),
                                           runs=self.runs, warmup=self.warmup)
        return self.cache[key]


def _nb201_costs(space: SearchSpace, dims: dict[str, Any], shape: tuple[int, ...],
                 timer: _Timer) -> tuple[list[str], list[str], list[list[list[float]]]]:
    from nasbench.spaces.nb201 import EDGES, OPS
    from nasbench.spaces.nb201_net import edge_op

    per_op = [0.0] * len(OPS)
    height, width = shape[1], shape[2]
    for stage in range(3):
        channels = dims["C"] * 2 ** stage
        if stage:
            height, width = math.ceil(height / 2), math.ceil(width / 2)
        for o, op in enumerate(OPS):
            if op != "none":
                ms = timer.op((op, channels, height, width), lambda op=op, c=channels:
                              edge_op(op, c), (channels, height, width))
                per_op[o] += dims["N"] * ms
    edges = [f"{i}->{j}" for i, j in EDGES]
    return ["cell"], edges, [[list(per_op) for _ in edges]]


def _darts_costs(space: SearchSpace, dims: dict[str, Any], shape: tuple[int, ...],
                 timer: _Timer) -> tuple[list[str], list[str], list[list[list[float]]]]:
    from nasbench.spaces.darts import CELLS, EDGE_OFFSETS, STEPS
    from nasbench.spaces.darts_net import darts_op

    ops = list(space.ops)
    edges = [f"node{step + 2}<-{src}" for step in range(STEPS) for src in range(step + 2)]
    costs = [[[0.0] * len(ops) for _ in edges] for _ in CELLS]
    layers, channels, spatial = dims["layers"], dims["C"], shape[1]
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        before = spatial
        if reduction:
            channels *= 2
            spatial = math.ceil(spatial / 2)
        kind = 1 if reduction else 0
        for step in range(STEPS):
            for src in range(step + 2):
                stride = 2 if reduction and src < 2 else 1
                size = before if stride == 2 else spatial
                for o, op in enumerate(ops):
                    ms = timer.op((op, channels, size, stride),
                                  lambda op=op, c=channels, s=stride: darts_op(op, c, s),
                                  (channels, size, size))
                    costs[kind][EDGE_OFFSETS[step] + src][o] += ms
    return list(CELLS), edges, costs


_COSTS = {"nb201": _nb201_costs, "darts": _darts_costs}


def build_table(space: SearchSpace, *, size: dict[str, Any] | None = None,
                input_shape: tuple[int, ...] = (3, 32, 32), num_classes: int = 10,
                batch: int = 1, runs: int = 20, warmup: int = 3, references: int = 5,
                threads: int = 1, seed: int = 0) -> LatencyTable:
    """Measure a latency table of ``space`` on this machine.

    Args:
        space: an ``nb201`` or ``darts`` space.
        size: network size keys (the space's defaults fill in the rest).
        input_shape: one example's shape, e.g. CIFAR's ``(3, 32, 32)``.
        num_classes: classifier width.
        batch: batch size of every measurement.
        runs: timed passes per operation and per reference network (median).
        warmup: untimed passes before timing.
        references: sampled architectures whose measured latency fixes the fixed cost.
        threads: torch threads during measurement (recorded).
        seed: of the reference architectures.

    Raises:
        UserError: for a space without table support.
    """
    import numpy as np
    import torch

    from nasbench.hardware import describe_machine

    if space.name not in _COSTS:
        raise UserError(f"no latency table for space '{space.name}'; spaces with one: "
                        f"{', '.join(SPACES)}")
    dims = space.resolve_size(dict(size or {}))
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    try:
        timer = _Timer(batch, runs, warmup)
        kinds, edges, costs = _COSTS[space.name](space, dims, input_shape, timer)
        table = LatencyTable(space.name, dict(dims), tuple(input_shape), num_classes, batch,
                             kinds, edges, [str(o) for o in _ops(space)], costs, 0.0)
        rng = np.random.default_rng(seed)
        residuals, archs = [], []
        for _ in range(references):
            arch = space.sample(rng)
            measured = measure_network(space, arch, table, runs=runs, warmup=warmup)
            residuals.append(measured - table.predict(arch))
            archs.append(space.to_string(arch))
        table.fixed_ms = float(np.median(residuals))
        table.machine = describe_machine()
        table.settings = {"threads": threads, "runs": runs, "warmup": warmup,
                          "statistic": "median", "references": archs,
                          "seconds": round(time.perf_counter() - t0, 2)}
    finally:
        torch.set_num_threads(before)
    return table


def _ops(space: SearchSpace) -> tuple[str, ...]:
    if space.name == "nb201":
        from nasbench.spaces.nb201 import OPS

        return OPS
    return tuple(space.ops)


def measure_network(space: SearchSpace, arch: Sequence[int], table: LatencyTable, *,
                    runs: int, warmup: int) -> float:
    """Measured median latency (ms) of ``arch``'s network at the table's size and batch."""
    import torch

    from nasbench.latency import example_input, time_forward

    with torch.random.fork_rng():
        torch.manual_seed(0)
        network = space.build(tuple(arch), input_shape=table.input_shape,
                              num_classes=table.num_classes, **table.size)
    return time_forward(network, example_input(table.input_shape, table.batch), runs=runs,
                        warmup=warmup)


def compare(space: SearchSpace, table: LatencyTable, *, samples: int, runs: int, warmup: int,
            seed: int = 1, threads: int = 1) -> dict[str, Any]:
    """Predicted against measured latency of ``samples`` sampled architectures.

    Returns:
        ``spearman``, ``kendall``, ``mean_relative_error`` (mean of |pred - meas| / meas),
        ``mean_measured_ms``, ``mean_predicted_ms`` and the pairs themselves.
    """
    import numpy as np
    import torch
    from scipy import stats

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        rng = np.random.default_rng(seed)
        archs = [space.sample(rng) for _ in range(samples)]
        measured = np.array([measure_network(space, a, table, runs=runs, warmup=warmup)
                             for a in archs])
    finally:
        torch.set_num_threads(before)
    predicted = np.array([table.predict(a) for a in archs])
    return {
        "samples": samples,
        "spearman": float(stats.spearmanr(predicted, measured).statistic),
        "kendall": float(stats.kendalltau(predicted, measured).statistic),
        "mean_relative_error": float(np.mean(np.abs(predicted - measured) / measured)),
        "mean_measured_ms": float(measured.mean()),
        "mean_predicted_ms": float(predicted.mean()),
        "pairs": [[float(p), float(m)] for p, m in zip(predicted, measured, strict=True)],
    }
