"""Exact verification of candidate pairs on their shingle sets, many pairs per call.

LSH only proposes; a pair counts when its exact set overlap passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup import compiled
from dedup.groups import ranges
from dedup.sketch.common import is_member
from dedup.text.hashing import salted
from dedup.text.shingle import SetView, ShingleBatch

_PAIR_BUDGET = 1 << 22  # shingles gathered per chunk of pairs (numpy)


def intersections(
    sets: ShingleBatch | SetView, pairs: np.ndarray, need: np.ndarray | None = None
) -> np.ndarray:
    """``|A_i & A_j|`` for every pair ``(i, j)`` of documents of ``sets`` (unique per doc).

    ``need`` (per pair): the compiled loop stops counting a pair once it cannot reach it, and
    gives some count below ``need`` for such a pair (exact counts where ``need`` is omitted or
    reached, and always in numpy). Most candidates of a corpus that quotes itself share one
    paragraph: they are decided after reading part of one set.

    Pairs share documents (a bucket's first member pairs with all the others). Compiled:
    visited in order of their first member, one set fills a hash table once and the
    partners' sets are looked up in it. In numpy: each distinct document of one side is keyed
    and sorted once per chunk of pairs, and the members of the other side, keyed by their
    partner, are searched in it.
    """
    pairs = np.ascontiguousarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.int64)
    if compiled.enabled():
        order = np.argsort(pairs[:, 0], kind="stable")
        floor = np.zeros(len(pairs), np.int64) if need is None else np.asarray(need, np.int64)
        view = sets if isinstance(sets, SetView) else sets.view()
        return compiled.pair_intersections(view, pairs, order, floor)
    if isinstance(sets, SetView):
        sets = sets.batch()
    out = np.zeros(len(pairs), dtype=np.int64)
    sizes = np.diff(sets.offsets)
    cost = sizes[pairs[:, 0]] + sizes[pairs[:, 1]]
    bounds = np.searchsorted(np.cumsum(cost), np.arange(0, cost.sum() + 1, _PAIR_BUDGET)[1:])
    lo = 0
    for hi in [*bounds.tolist(), len(pairs)]:
        hi = max(hi, lo + 1)
        if lo >= len(pairs):
            break
        chunk = pairs[lo:hi]
        heads0, inv0 = np.unique(chunk[:, 0], return_inverse=True)
        heads1, inv1 = np.unique(chunk[:, 1], return_inverse=True)
        # The side with fewer distinct documents is sorted; the other side is looked up.
        heads, owner, other = (
            (heads0, inv0, chunk[:, 1])
            if len(heads0) <= len(heads1)
            else (heads1, inv1, chunk[:, 0])
        )
        lh = sizes[heads]
        table = salted(
            sets.hashes[ranges(sets.offsets[heads], lh)], np.repeat(np.arange(len(heads)), lh)
        )
        table.sort()
        lq = sizes[other]
        queries = salted(sets.hashes[ranges(sets.offsets[other], lq)], np.repeat(owner, lq))
        hit = is_member(queries, table)
        del queries, table
        out[lo:hi] = np.bincount(np.repeat(np.arange(len(chunk)), lq)[hit], minlength=len(chunk))
        lo = hi
    return out


@dataclass(frozen=True)
class PairSimilarity:
    """Exact overlap measures of verified pairs."""

    pairs: np.ndarray  # (m, 2) int64
    intersection: np.ndarray  # int64
    size_a: np.ndarray
    size_b: np.ndarray

    @property
    def jaccard(self) -> np.ndarray:
        union = self.size_a + self.size_b - self.intersection
        return np.divide(self.intersection, union, out=np.zeros(len(union)), where=union > 0)

    @property
    def containment(self) -> np.ndarray:
        """Share of the smaller set found in the larger one."""
        small = np.minimum(self.size_a, self.size_b)
        return np.divide(self.intersection, small, out=np.zeros(len(small)), where=small > 0)


def pair_similarity(
    sets: ShingleBatch | SetView, pairs: np.ndarray, need: np.ndarray | None = None
) -> PairSimilarity:
    """Exact Jaccard and containment ingredients of ``pairs`` on ``sets`` (for pairs that do
    not reach the intersection ``need``, only that they do not: see :func:`intersections`)."""
    sizes = sets.sizes if isinstance(sets, SetView) else np.diff(sets.offsets)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return PairSimilarity(
        pairs=pairs,
        intersection=intersections(sets, pairs, need),
        size_a=sizes[pairs[:, 0]],
        size_b=sizes[pairs[:, 1]],
    )
