"""Exact verification of candidate pairs on their shingle sets, many pairs per call.

LSH only proposes; a pair counts when its exact set overlap passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup.text.shingle import ShingleBatch


def intersections(sets: ShingleBatch, pairs: np.ndarray) -> np.ndarray:
    """``|A_i & A_j|`` for every pair ``(i, j)`` of documents of ``sets`` (unique per doc).

    Pairs share documents (a bucket's first member pairs with all the others): visited in
    order of their first member, one set fills a hash table once and the partners' sets are
    looked up in it (a compiled loop, :func:`dedup.compiled.pair_intersections`).
    """
    from dedup.compiled import pair_intersections

    pairs = np.ascontiguousarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(pairs[:, 0], kind="stable")
    return pair_intersections(sets.hashes, sets.offsets, pairs, order)


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


def pair_similarity(sets: ShingleBatch, pairs: np.ndarray) -> PairSimilarity:
    """Exact Jaccard and containment ingredients of ``pairs`` on ``sets``."""
    sizes = np.diff(sets.offsets)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return PairSimilarity(
        pairs=pairs,
        intersection=intersections(sets, pairs),
        size_a=sizes[pairs[:, 0]],
        size_b=sizes[pairs[:, 1]],
    )
