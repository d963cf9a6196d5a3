"""Training networks of a search space on real data: what training evaluators share.

* :mod:`nasbench.training.data`: fixed splits, subsets, resizing and normalisation, turning a
  registered :class:`~nasbench.api.Dataset` into tensors held in memory;
* :mod:`nasbench.training.recipe`: the training protocol (optimiser, schedule, and the training
  tricks of Yang et al., 2020, as switches);
* :mod:`nasbench.training.augment`: batch-wise data augmentation (crop, flip, cutout);
* :mod:`nasbench.training.module`: the network with its loss and optimiser as a
  ``LightningModule``;
* :mod:`nasbench.training.loop`: the lean training loop that drives it.

Importing this package is cheap; torch and Lightning are imported by the modules that use them.
"""
