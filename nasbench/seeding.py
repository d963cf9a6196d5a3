"""Seeds: one root seed per study, an independent stream per axis.

Every random stream of a study is a :class:`numpy.random.SeedSequence` with the study's root
seed as entropy and a spawn key made of the axis and the names along it (strategy label,
repetition seed, ...). Names are hashed with BLAKE2, not Python's salted ``hash``, so the
streams are the same in every process and on every machine, and adding a strategy to a study
never changes another strategy's numbers.

Axes used by the harness:

* ``("strategy", label, seed)``: the generator handed to a strategy;
* ``("evaluator", seed, arch_key)``: the seed of one evaluation, shared by every strategy of
  the same repetition, so that two strategies that find the same architecture see the same
  result (paired comparisons);
* ``("baseline", seed)``: the uniformly sampled architecture of the random-sampling baseline;
* ``("final", seed, arch_key, repeat)``: a final re-evaluation.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=65536)
def _word(part: str | int) -> int:
    if isinstance(part, int) and not isinstance(part, bool) and part >= 0:
        return part
    digest = hashlib.blake2b(repr(part).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def seed_sequence(root: int, *path: str | int) -> np.random.SeedSequence:
    """The stream at ``path`` under the study's ``root`` seed."""
    return np.random.SeedSequence(entropy=root, spawn_key=tuple(_word(p) for p in path))


def generator(root: int, *path: str | int) -> np.random.Generator:
    """A PCG64 generator on the stream at ``path``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(root, *path)))


def int_seed(root: int, *path: str | int) -> int:
    """A 31-bit integer seed on the stream at ``path`` (for torch, optuna and the like)."""
    return int(seed_sequence(root, *path).generate_state(1, np.uint32)[0] >> 1)
