"""The training protocol: optimiser, schedule, and the training tricks as switches.

Yang, Esperança & Carlucci ("NAS evaluation is frustratingly hard", ICLR 2020) showed that the
training protocol moves the accuracy of architectures more than the search strategy does:
cutout, drop-path, an auxiliary head, longer training and wider networks each add more than
most strategies gain over random sampling. Each trick is therefore an explicit switch here,
off by default, recorded with the study's configuration, so that two studies compare only when
their protocols are the same. Defaults follow NAS-Bench-201's protocol (Dong & Yang, ICLR
2020): SGD with Nesterov momentum 0.9, learning rate 0.1 annealed to 0 by a cosine, weight
decay 5e-4; DARTS's values for the tricks are given in each switch's description.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nasbench.params import param


@dataclass(frozen=True)
class TrainingRecipe:
    """How one network is trained."""

    epochs: int = param(10, doc="training epochs (the default fidelity); 'longer training'",
                        ge=1)
    batch_size: int = param(64, doc="examples per optimisation step", ge=2)
    optimizer: Literal["sgd", "adam", "adamw"] = param(
        "sgd", doc="optimiser", published="NAS-Bench-201 and DARTS: SGD")
    lr: float = param(0.1, doc="initial learning rate", gt=0,
                      published="NAS-Bench-201: 0.1; DARTS: 0.025")
    momentum: float = param(0.9, doc="SGD momentum (Adam's beta1 for adam/adamw)", ge=0, lt=1)
    nesterov: bool = param(True, doc="Nesterov momentum (SGD only)",
                           published="NAS-Bench-201: true; DARTS: false")
    weight_decay: float = param(5e-4, doc="L2 weight decay", ge=0,
                                published="NAS-Bench-201: 5e-4; DARTS: 3e-4")
    schedule: Literal["cosine", "constant"] = param(
        "cosine", doc="learning-rate schedule, stepped after every batch")
    lr_min: float = param(0.0, doc="final learning rate of the cosine schedule", ge=0)
    grad_clip: float = param(0.0, doc="clip the gradient norm to this (0: off; DARTS: 5)",
                             ge=0)
    label_smoothing: float = param(0.0, doc="label smoothing of the cross-entropy (0: off)",
                                   ge=0, lt=1)
    cutout: int = param(0, doc="cutout: zero a random square of this side in each training "
                        "image (0: off; DARTS: 16 on CIFAR-10)", ge=0)
    drop_path_prob: float = param(
        0.0, doc="drop-path probability, raised linearly from 0 over the epochs (0: off; "
        "DARTS: 0.2); needs a space whose networks support drop-path", ge=0, lt=1)
    auxiliary_weight: float = param(
        0.0, doc="weight of the auxiliary head's loss (0: no auxiliary head; DARTS: 0.4); "
        "needs a space with an auxiliary head", ge=0)
    random_crop: int = param(0, doc="pad training images by this many pixels and crop back "
                             "at a random offset (0: off; 4 on CIFAR-10)", ge=0)
    horizontal_flip: bool = param(False, doc="flip training images left-right at random "
                                  "(on for natural images, off for digits)")
