"""The shipped NAS-Bench-201 table's parameter and FLOP columns: counted from the networks."""

from __future__ import annotations

import numpy as np
from nasbench.spaces.nb201 import Nb201Space

from nasbench.data import read_frame
from nasbench.netstats import count_flops, count_params


def test_params_and_flops_are_the_counts_of_the_built_networks() -> None:
    space = Nb201Space()
    frame = read_frame("nb201").set_index("arch")
    rng = np.random.default_rng(7)
    for dataset, shape, classes in (("cifar10", (3, 32, 32), 10),
                                    ("imagenet16_120", (3, 16, 16), 120)):
        arch = space.sample(rng)
        network = space.build(arch, input_shape=shape, num_classes=classes)
        row = frame.loc[space.to_string(arch)]
        assert row[f"{dataset}/params"] == count_params(network) / 1e6
        assert row[f"{dataset}/flops"] == count_flops(network, shape) / 1e6
    # NAS-Bench-201's largest CIFAR-10 network, all 3x3 convolutions: 1.531546 M parameters.
    assert frame["cifar10/params"].max() == 1.531546
    assert frame["cifar10/params"].idxmax() == space.to_string((3,) * 6)
