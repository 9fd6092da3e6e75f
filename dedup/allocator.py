"""Settings of the C allocator for a ``dedup`` run: keep freed memory for the next batch.

Every batch of a fit allocates and frees arrays of a few megabytes. With glibc's defaults,
memory freed on the worker threads' arenas goes back to the system at once and the next
batch takes it again, page by page, each page zeroed by the kernel. At a million documents
on two workers that was a sixth to a quarter of the run's system time (0.3-1 s of its wall
time); on one worker, less. Arrays up to ``MMAP_THRESHOLD`` now come from the arenas, which
keep up to ``TRIM_THRESHOLD`` of free memory each.

Only the command line calls :func:`keep_freed_memory`: the allocator is the process's, and a
program that imports ``dedup`` keeps its own settings.
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 << 20  # glibc's largest; bigger arrays still get pages of their own
TRIM_THRESHOLD = 128 << 20  # free memory an arena keeps
_M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Set the thresholds on glibc (True when set); elsewhere, or when the user has set the
    allocator's tunables in the environment, change nothing."""
    if not sys.platform.startswith("linux") or "malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    if any(name.startswith("MALLOC_") for name in os.environ):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 -- glibc only (musl has no such thresholds)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
