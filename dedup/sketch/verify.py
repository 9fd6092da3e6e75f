"""Exact verification of candidate pairs on their shingle sets, vectorized over many pairs.

LSH only proposes; a pair counts when its exact set overlap passes. Intersections of many
pairs are counted at once by sorting the concatenated members of each pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup.text.hashing import salted
from dedup.text.shingle import ShingleBatch

_PAIR_BUDGET = 1 << 22  # shingles gathered per chunk of pairs


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for every ``(s, l)``, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(starts - (ends - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


def intersections(sets: ShingleBatch, pairs: np.ndarray) -> np.ndarray:
    """``|A_i & A_j|`` for every pair ``(i, j)`` of documents of ``sets`` (unique per doc)."""
    out = np.zeros(len(pairs), dtype=np.int64)
    if len(pairs) == 0:
        return out
    sizes = np.diff(sets.offsets)
    cost = sizes[pairs[:, 0]] + sizes[pairs[:, 1]]
    bounds = np.searchsorted(np.cumsum(cost), np.arange(0, cost.sum() + 1, _PAIR_BUDGET)[1:])
    lo = 0
    for hi in [*bounds.tolist(), len(pairs)]:
        hi = max(hi, lo + 1)
        if lo >= len(pairs):
            break
        chunk = pairs[lo:hi]
        a, b = chunk[:, 0], chunk[:, 1]
        la, lb = sizes[a], sizes[b]
        values = np.concatenate(
            [sets.hashes[_ranges(sets.offsets[a], la)], sets.hashes[_ranges(sets.offsets[b], lb)]]
        )
        owner = np.concatenate(
            [np.repeat(np.arange(len(chunk)), la), np.repeat(np.arange(len(chunk)), lb)]
        )
        keys = salted(values, owner)  # equal only for the same value within the same pair
        order = np.argsort(keys)
        k, o = keys[order], owner[order]
        dup = k[1:] == k[:-1]
        out[lo:hi] = np.bincount(o[1:][dup], minlength=len(chunk))
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
