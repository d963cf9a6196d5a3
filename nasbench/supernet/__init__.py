"""Weight sharing: supernet modules, the handle one-shot strategies train them through, and
the supernet protocol of a study.

Importing this package is cheap; :mod:`~nasbench.supernet.handle` and
:mod:`~nasbench.supernet.module` import torch.
"""

from __future__ import annotations

from typing import Literal

BnMode = Literal["running", "batch", "reestimate"]
"""How batch normalisation normalises when an architecture is measured with shared weights:

* ``running``: with the running statistics the supernet accumulated over every path it trained;
* ``batch``: with each measured batch's own statistics (ENAS's released code measures its reward
  this way), leaving the running statistics untouched;
* ``reestimate``: with statistics re-estimated on the architecture's own path over the
  protocol's ``bn_examples`` training examples (the shared statistics are restored afterwards).
"""


class SupernetDiverged(RuntimeError):
    """The shared weights' training loss became NaN or infinite."""
