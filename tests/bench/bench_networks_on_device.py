"""Device check: every space's networks run on an accelerator and agree with the CPU.

For each space that builds networks, sampled architectures are built on the CPU, copied to
the accelerator, and compared in evaluation mode on the same input (TF32 off); a training step
runs on the accelerator with drop-path and auxiliary heads where the space has them; FLOP counts
must not depend on the device. The fast average pooling is compared with ``nn.AvgPool2d`` on
the accelerator. Prints one line per check; exits non-zero on any disagreement.

    python tests/bench/bench_networks_on_device.py            # needs CUDA
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import torch
from nasbench.spaces.ops import AvgPool3x3
from torch import nn

from nasbench.netstats import count_flops
from nasbench.registry import load_plugins

_INPUTS = {"image": (3, 16, 16), "sequence": (20, 3), "vector": (32,)}
_SIZES = {"nb201": {"C": 8, "N": 2}, "darts": {"C": 8, "layers": 5, "auxiliary": True},
          "nasbench_macro": {"C": 16, "head": 128}, "enas_rnn": {"hidden": 32}}
_TOLERANCE = 1e-4


def _relative_gap(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b.cpu()).abs().max() / a.abs().max().clamp_min(1e-12))


def check_spaces(device: torch.device) -> list[str]:
    failures = []
    plugins = load_plugins()
    for name in plugins.spaces.names():
        space = plugins.spaces.get(name)()
        if "build" not in space.capabilities:
            continue
        shape = _INPUTS[space.data_kind]
        rng = np.random.default_rng(0)
        for _ in range(2):
            arch = space.sample(rng)
            torch.manual_seed(0)
            cpu_net = space.build(arch, input_shape=shape, num_classes=10,
                                  **_SIZES.get(name, {})).eval()
            dev_net = copy.deepcopy(cpu_net).to(device)
            x = torch.randn(4, *shape)
            with torch.no_grad():
                gap = _relative_gap(cpu_net(x), dev_net(x.to(device)))
            same_flops = count_flops(cpu_net, shape) == count_flops(dev_net, shape)
            dev_net.train()
            if hasattr(dev_net, "drop_path_prob"):
                dev_net.drop_path_prob = 0.2
            outputs = dev_net(x.to(device))
            target = torch.arange(4, device=device)
            loss = sum(nn.functional.cross_entropy(out, target)
                       for out in (outputs if isinstance(outputs, tuple) else (outputs,)))
            loss.backward()
            # Operations whose output nothing reads (a dead NAS-Bench-201 node) get no gradient.
            found = [p.grad for p in dev_net.parameters() if p.grad is not None]
            grads = bool(found) and all(torch.isfinite(g).all() for g in found)
            ok = gap < _TOLERANCE and same_flops and grads and torch.isfinite(loss).item()
            print(f"{'ok ' if ok else 'BAD'} {name:15s} eval gap {gap:.1e}  flops equal "
                  f"{same_flops}  train loss {loss.item():.3f}  grads {grads}  "
                  f"{space.to_string(arch)[:60]}", flush=True)
            if not ok:
                failures.append(f"{name} {space.to_string(arch)}")
    return failures


def check_pooling(device: torch.device) -> list[str]:
    failures = []
    for shape, stride in [((8, 16, 32, 32), 1), ((8, 16, 31, 17), 2), ((2, 3, 1, 1), 1)]:
        x = torch.randn(*shape, device=device)
        ref = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)(x)
        gap = _relative_gap(ref.cpu(), AvgPool3x3(shape[1], stride).to(device)(x))
        print(f"{'ok ' if gap < _TOLERANCE else 'BAD'} AvgPool3x3 {shape} stride {stride}: "
              f"gap {gap:.1e}", flush=True)
        if gap >= _TOLERANCE:
            failures.append(f"AvgPool3x3 {shape} {stride}")
    return failures


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device")
        return 2
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    device = torch.device("cuda")
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(device)}")
    failures = check_pooling(device) + check_spaces(device)
    print("all agree" if not failures else f"{len(failures)} disagreements: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
