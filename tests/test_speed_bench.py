"""The speed benchmark's measuring of a process tree, checked against psutil on a real tree."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT

psutil = pytest.importorskip("psutil")
pytestmark = pytest.mark.skipif(
    not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"),
    reason="needs /proc/PID/task/TID/children (Linux)",
)

spec = importlib.util.spec_from_file_location("bench_speed", ROOT / "benchmarks" / "speed.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_speed"] = bench  # its dataclasses look their module up there
spec.loader.exec_module(bench)

# A child that holds 64 MB and starts a grandchild, then waits to be killed.
TREE = """
import subprocess, sys, time
block = bytearray(64 << 20)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture
def tree():
    child = subprocess.Popen(
        [sys.executable, "-c", TREE], stdout=subprocess.PIPE, start_new_session=True, text=True
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 10
        while len(psutil.Process(child.pid).children()) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        yield child
    finally:
        os.killpg(child.pid, 9)
        child.wait()


def test_descendants_are_the_whole_tree(tree):
    expected = {p.pid for p in psutil.Process().children(recursive=True)}
    found = bench._descendants(os.getpid())
    assert tree.pid in found
    assert set(found) == expected
    assert len(found) >= 2  # the child and its grandchild


def test_tree_rss_sums_the_descendants(tree):
    total, largest, count = bench._tree_rss(os.getpid())
    procs = psutil.Process().children(recursive=True)
    assert count == len(procs)
    assert largest >= 64 << 20  # the child's block
    by_psutil = sum(p.memory_info().rss for p in procs)
    assert abs(total - by_psutil) < 4 << 20  # read a moment apart


def test_warm_reads_files_and_folders(tmp_path):
    (tmp_path / "shards").mkdir()
    for name in ("a.jsonl", "shards/0.jsonl", "shards/1.jsonl"):
        (tmp_path / name).write_bytes(b"x" * 1000)
    bench.warm([tmp_path / "a.jsonl", tmp_path / "shards"])  # reads each file through
    with pytest.raises(FileNotFoundError):
        bench.warm([tmp_path / "missing.jsonl"])
