"""The command line's allocator settings: freed batch-sized arrays stay with the process."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's allocator only",
)

# Allocates, fills and frees one 16 MB array; prints how much of it the process still holds.
PROBE = """
import os, sys
import numpy as np
from dedup.allocator import keep_freed_memory
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
before = rss()
block = np.ones(16 << 20, np.uint8)
del block
print(rss() - before)
"""


def _held_after_free(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True
    )
    return int(out.stdout)


def test_freed_memory_is_kept_only_when_tuned():
    # glibc's defaults map a first block this large on its own and unmap it when freed; tuned,
    # it comes from the heap, which keeps it for the next one.
    assert _held_after_free("default") < 4 << 20
    assert _held_after_free("tuned") >= 15 << 20


def test_user_tunables_win(monkeypatch):
    from dedup.allocator import keep_freed_memory

    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")
    assert keep_freed_memory() is False
