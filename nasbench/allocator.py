"""The C allocator's thresholds for processes that train networks.

glibc's ``malloc`` serves a request above its mmap threshold (128 KiB at first) with a fresh
``mmap``, unmapped again when freed, and gives memory back to the system whenever more than
its trim threshold lies free at the top of the heap. A training loop allocates and frees the
same tensors of a few hundred kilobytes to a few megabytes at every step, so each step faults
every page of them in again from the kernel. glibc raises the mmap threshold by itself as
mmapped blocks are freed (up to 32 MiB, and the trim threshold to twice that) unless a
threshold was set explicitly, and a Dask nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in every
worker it starts (distributed's default), which keeps the mmap threshold at 128 KiB for the
worker's life: a worker then spends more time in the kernel than computing.

:func:`tune_for_training` sets both thresholds where glibc's adaptation ends (mmap 32 MiB,
trim 64 MiB), once per process, before a study's first training. Where ``mallopt`` is not
available (another C library, another system) it does nothing. Results do not depend on it:
torch aligns every tensor's memory to 64 bytes whatever the allocator's thresholds, so
kernels see the same alignment.

``python tests/bench/bench_allocator.py`` measures the difference.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameters (malloc.h)."""

MMAP_THRESHOLD = 32 * 1024 * 1024
"""Requests below this come from the heap (glibc's largest adaptive mmap threshold)."""
TRIM_THRESHOLD = 64 * 1024 * 1024
"""Free memory kept at the top of the heap before it is given back (twice the above, as
glibc's adaptation sets it)."""

_tuned: bool | None = None


def tune_for_training() -> bool:
    """Set the allocator's thresholds for training (see the module docstring); whether they
    are set. Idempotent; does nothing where glibc's ``mallopt`` is missing."""
    global _tuned
    if _tuned is None:
        _tuned = _mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and \
            _mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return _tuned


def _mallopt(param: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(param, value))
