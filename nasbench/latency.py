"""Inference latency of a network on this machine, as a metric of the evaluators that build one.

Every evaluator that builds networks (``lightning``, ``supernet``, ``zero_cost``) mixes
:class:`LatencyParams` into its parameters and, when ``latency = true``, measures the network
it built: the median wall time of ``latency_runs`` forward passes in evaluation mode without
gradients, after ``latency_warmup`` passes, at batch 1 (``latency_ms``) and at
``latency_batch`` (``latency_ms_b<batch>``), with the evaluator's fixed torch thread count
(recorded in the trial's ``info`` with the CPU capability torch used). The manifest describes
the machine (:func:`nasbench.hardware.describe_machine`).

Latency is a property of the network, measured on no data split, so it is reported as a
validation-side metric (split ``valid``, lower is better): a study may search on it, declare it
as an objective or put it in a scalarised reward (MnasNet), as it may any validation metric;
selection never touches a test split through it. Timings depend on what else runs on the
machine: on a shared machine they are upper bounds. They are also the only metrics that differ
between two evaluations of the same architecture and seed, which is why measuring is switched
on per study (``latency = true``) rather than by default; ``predicted_latency_ms`` from a lookup
table is deterministic.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nasbench.api import MetricInfo
from nasbench.params import param

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class LatencyParams:
    """How an evaluator measures the inference latency of the networks it builds."""

    latency: bool = param(False, doc="measure inference latency_ms (batch 1) and "
                          "latency_ms_b<latency_batch> of every network built (off by default: "
                          "a timing is the one metric that differs between repeats)")
    latency_batch: int = param(8, doc="the second batch size latency is measured at", ge=1)
    latency_runs: int = param(5, doc="timed forward passes; the median is reported", ge=1)
    latency_warmup: int = param(1, doc="untimed forward passes before timing", ge=0)
    latency_table: str | None = param(
        None, doc="a per-operation latency table (JSON of 'nasbench latency build'); adds "
        "predicted_latency_ms, the table's prediction for each architecture")


LATENCY_FIELDS = ("latency", "latency_batch", "latency_runs", "latency_warmup", "latency_table")
"""The fields of :class:`LatencyParams`: they change what is measured, never what is trained."""


def latency_metric_infos(params: LatencyParams) -> dict[str, MetricInfo]:
    """The latency metrics ``params`` asks for, unqualified by dataset."""
    out: dict[str, MetricInfo] = {}
    if params.latency:
        out["latency_ms"] = MetricInfo(
            "valid", higher_is_better=False, unit="ms",
            doc="median inference time of one example on this machine (batch 1)")
        if params.latency_batch != 1:
            out[f"latency_ms_b{params.latency_batch}"] = MetricInfo(
                "valid", higher_is_better=False, unit="ms",
                doc=f"median inference time of a batch of {params.latency_batch} on this "
                "machine")
    if params.latency_table is not None:
        out["predicted_latency_ms"] = MetricInfo(
            "valid", higher_is_better=False, unit="ms",
            doc="inference time predicted by the per-operation latency table")
    return out


def time_forward(module: nn.Module, example: torch.Tensor, *, runs: int, warmup: int) -> float:
    """Median milliseconds of ``runs`` forward passes of ``module`` on ``example``.

    The module runs in evaluation mode without gradients and is put back in the mode it was
    in. On a GPU each pass is timed to its completion (the device is synchronised before and
    after). The caller fixes the thread count.
    """
    import torch

    sync = torch.cuda.synchronize if example.is_cuda else (lambda: None)
    was_training = module.training
    module.eval()
    times = []
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                module(example)
            for _ in range(runs):
                sync()
                t0 = time.perf_counter()
                module(example)
                sync()
                times.append(time.perf_counter() - t0)
    finally:
        module.train(was_training)
    return 1000.0 * statistics.median(times)


def example_input(input_shape: tuple[int, ...], batch: int, *, device: Any = None,
                  tokens: bool = False) -> torch.Tensor:
    """A batch of ``batch`` examples of ``input_shape``: random values, or token ids 0."""
    import torch

    shape = (batch, *input_shape)
    if tokens:
        return torch.zeros(shape, dtype=torch.long, device=device)
    return torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(device)


def latency_metrics(network: nn.Module, input_shape: tuple[int, ...], params: LatencyParams,
                    *, tokens: bool = False) -> tuple[dict[str, float], dict[str, Any]]:
    """The latency metrics of ``network`` asked for by ``params``, and what the trial's
    ``info`` should record about how they were measured.

    Args:
        network: the built network, on the device it is measured on.
        input_shape: one example's shape, without the batch dimension.
        params: the evaluator's latency parameters.
        tokens: the network reads token ids (a language model), not real values.
    """
    import torch

    if not params.latency:
        return {}, {}
    device = next((t.device for t in (*network.parameters(), *network.buffers())), None)
    values: dict[str, float] = {}
    for batch in dict.fromkeys((1, params.latency_batch)):
        example = example_input(input_shape, batch, device=device, tokens=tokens)
        ms = time_forward(network, example, runs=params.latency_runs,
                          warmup=params.latency_warmup)
        values["latency_ms" if batch == 1 else f"latency_ms_b{batch}"] = ms
    info = {"latency_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    return values, info


class LatencyMeter:
    """Measures (and, with a lookup table, predicts) the latency of one study's networks.

    Built once per evaluator set-up: it loads the lookup table ``params.latency_table`` and
    checks that it was built for the study's space.

    Raises:
        ConfigError: when the table cannot be read or belongs to another space.
    """

    def __init__(self, params: LatencyParams, space_name: str) -> None:
        from nasbench.latency_table import LatencyTable

        self.params = params
        self.table: LatencyTable | None = None
        if params.latency_table is not None:
            self.table = LatencyTable.load(params.latency_table, key="evaluator.latency_table")
            self.table.check_space(space_name, key="evaluator.latency_table")

    def measure(self, network: nn.Module | None, arch: tuple[int, ...],
                input_shape: tuple[int, ...], *, tokens: bool = False
                ) -> tuple[dict[str, float], dict[str, Any]]:
        """Metrics and info of one architecture (``network`` may be ``None`` when only the
        table's prediction is asked for)."""
        values: dict[str, float] = {}
        info: dict[str, Any] = {}
        if self.params.latency and network is not None:
            t0 = time.perf_counter()
            values, info = latency_metrics(network, input_shape, self.params, tokens=tokens)
            info["latency_seconds"] = time.perf_counter() - t0
        if self.table is not None:
            values["predicted_latency_ms"] = self.table.predict(arch)
        return values, info
