"""Clusters from verified pairs: an array union-find and the keeper rule.

Keeper rule (documented, deterministic, independent of input order except for exact ties):
the member with the most distinct content shingles (the most complete version) is kept; ties
go to the member that came first in the input.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dedup import compiled
from dedup.engines.local import map_ordered

_SPLIT_SORT = 1 << 18  # pairs ranked in ranges of similarity on the worker threads from here


class UnionFind:
    """Disjoint sets over ``0..n-1`` in an int64 array, with path halving."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return int(x)

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if ra < rb:
            ra, rb = rb, ra
        self.parent[ra] = rb  # the smaller index becomes the root
        return True

    def union_pairs(self, pairs: np.ndarray) -> None:
        for a, b in np.asarray(pairs).tolist():
            self.union(a, b)

    def labels(self) -> np.ndarray:
        """Root of every element (fully compressed)."""
        parent = self.parent
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                return parent.copy()
            parent[:] = grand


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component label (the smallest member index) of every element."""
    if compiled.enabled():
        return compiled.union_components(n, pairs)
    uf = UnionFind(n)
    uf.union_pairs(pairs)
    return uf.labels()


def component_parts(n: int, pairs: np.ndarray, parts: int) -> list[np.ndarray]:
    """The indices of ``pairs`` in at most ``parts`` ascending arrays of about equal length,
    each holding whole connected components. The pairs of one component never meet those of
    another, so each part can be clustered on its own (on a thread of its own)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if parts <= 1 or len(pairs) == 0:
        return [np.arange(len(pairs))]
    comp = components(n, pairs)[pairs[:, 0]]
    order = np.argsort(comp, kind="stable")
    run = comp[order]
    starts = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])  # each component's first pair
    want = np.arange(1, parts) * (len(pairs) / parts)
    cuts = np.unique(starts[np.minimum(np.searchsorted(starts, want), len(starts) - 1)])
    return [np.sort(part) for part in np.split(order, cuts[cuts > 0])]


def best_first(jaccard: np.ndarray, lo: np.ndarray, hi: np.ndarray, workers: int = 1) -> np.ndarray:
    """The order of the pairs, best first: ``np.lexsort((hi, lo, -jaccard))`` (ties broken by
    the pairs' content keys ``lo``, ``hi``). With ``workers`` > 1, ranges of ``jaccard`` (the
    first key, so ranges never interleave) are ranked on threads of their own: 1.6 M pairs took
    0.5 s on one thread, one core's work before the clustering could start."""
    if workers <= 1 or len(jaccard) == 0 or len(jaccard) < _SPLIT_SORT:
        return np.lexsort((hi, lo, -jaccard))
    cuts = np.unique(np.quantile(jaccard, np.arange(1, workers) / workers))
    where = np.searchsorted(cuts, jaccard, side="right")  # equal values share a range
    ranges = [np.flatnonzero(where == r) for r in range(len(cuts), -1, -1)]  # best range first

    def rank(idx: np.ndarray) -> np.ndarray:  # on the worker threads
        return idx[np.lexsort((hi[idx], lo[idx], -jaccard[idx]))]

    return np.concatenate([np.empty(0, np.int64), *map_ordered(rank, ranges, workers)])


def choose_keepers(labels: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Index of the keeper of each element's cluster: largest ``weight``, then smallest index."""
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    keepers = np.arange(n)
    if n == 0:
        return keepers
    # Only the members of clusters of two or more are sorted: the others keep themselves (at
    # a million documents, most of them; sorting all took 0.15 s, one thread's work).
    shared = np.bincount(labels, minlength=n)[labels] > 1
    members = np.flatnonzero(shared)
    lab = labels[members]
    # By cluster, then weight descending, then index ascending; the first of each cluster wins.
    order = members[np.lexsort((members, -np.asarray(weight, dtype=np.float64)[members], lab))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    keeper_of_label = np.empty(n, dtype=np.int64)
    keeper_of_label[labels[order][first]] = order[first]
    keepers[members] = keeper_of_label[lab]
    return keepers


def signature_links(
    sigs: np.ndarray, sizes: np.ndarray, *, threshold: float, containment: float
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``linked`` for :func:`guarded_components` from the signatures: a pair is linked when
    its estimated Jaccard reaches ``threshold`` or its estimated containment (of the smaller
    set in the larger, from the Jaccard estimate and the set ``sizes``) reaches
    ``containment``. Cheap for groups of any size."""
    sizes = np.asarray(sizes, dtype=np.float64)

    def linked(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        j = np.mean(sigs[x] == sigs[y], axis=1)
        small = np.maximum(np.minimum(sizes[x], sizes[y]), 1)
        c = j * (sizes[x] + sizes[y]) / ((1 + j) * small)
        return (j >= threshold) | (c >= containment)

    return linked


def guarded_components(
    n: int,
    pairs: np.ndarray,
    rank: np.ndarray,
    linked: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    min_link: float,
    member_key: np.ndarray,
    sample: int = 16,
) -> np.ndarray:
    """Components of ``pairs`` where two groups join only if they are alike as groups.

    Edges are taken in ``rank`` order (best first). When an edge would join two groups, up
    to ``sample`` members of each (those with the smallest ``member_key``, a content
    fingerprint, so the result does not depend on input order) are compared pairwise with
    ``linked``; the groups merge only when at least ``min_link`` of those pairs are linked.
    One strong edge between two articles that happen to share a section then no longer fuses
    both articles' version clusters, while chains of versions, whose neighbours are linked,
    still grow. Labels are the smallest member.
    """
    members: dict[int, list[int]] = {}  # groups of more than one document, by owner
    owner = np.arange(n, dtype=np.int64)
    for k in np.argsort(rank, kind="stable"):
        a, b = int(pairs[k, 0]), int(pairs[k, 1])
        ga, gb = int(owner[a]), int(owner[b])
        if ga == gb:
            continue
        left, right = members.get(ga, [ga])[:sample], members.get(gb, [gb])[:sample]
        if len(left) * len(right) > 1:
            xa = np.repeat(left, len(right))
            xb = np.tile(right, len(left))
            if linked(np.asarray(xa), np.asarray(xb)).mean() < min_link:
                continue
        keep, gone = (ga, gb) if ga < gb else (gb, ga)
        joined = members.get(keep, [keep]) + members.pop(gone, [gone])
        members[keep] = sorted(joined, key=lambda i: (member_key[i], i))
        owner[joined] = keep
    labels = np.arange(n, dtype=np.int64)
    for group in members.values():
        labels[group] = min(group)
    return labels
