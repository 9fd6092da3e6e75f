"""The boilerplate benchmark's scoring, checked on hand-computed examples."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_bp", ROOT / "benchmarks" / "boilerplate.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_page_counts_use_word_multisets():
    # pred words: the, cat, the, sat, menu; gold: the, cat, sat, on, the, mat
    assert bench.page_counts("The cat - the SAT! menu", "the cat sat on the mat") == (4, 1, 2)


def test_micro_pools_and_macro_averages():
    counts = [(4, 1, 2), (0, 0, 3)]  # the second page kept nothing
    s = bench.scores(counts)
    assert s["P"] == pytest.approx(4 / 5)
    assert s["R"] == pytest.approx(4 / 9)
    assert s["F1"] == pytest.approx(2 * (4 / 5) * (4 / 9) / (4 / 5 + 4 / 9))
    assert s["macro_P"] == pytest.approx((4 / 5 + 0) / 2)
    assert s["macro_R"] == pytest.approx((4 / 6 + 0) / 2)


def test_lines_become_escaped_paragraphs():
    assert bench.as_paragraphs("a < b\nc") == "<html><body><p>a &lt; b</p><p>c</p></body></html>"
