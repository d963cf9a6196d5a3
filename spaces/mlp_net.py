"""The multilayer perceptron of an ``mlp`` architecture."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

_MODULES: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "elu": nn.ELU, "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU, "identity": nn.Identity,
}


class Mlp(nn.Sequential):
    """Linear layers with their activations, then a linear output layer."""

    def __init__(self, layers: Sequence[tuple[int, str]], *, in_features: int,
                 num_classes: int) -> None:
        modules: list[nn.Module] = []
        width = in_features
        for out, activation in layers:
            modules += [nn.Linear(width, out), _MODULES[activation]()]
            width = out
        modules.append(nn.Linear(width, num_classes))
        super().__init__(*modules)
