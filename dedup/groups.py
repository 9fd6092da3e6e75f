"""Grouping equal values of large uint64 arrays by sorting (numpy's ``unique`` is slow here).

These are the primitives the sketch stages share: distinct values with their first position
and count, "is this entry a repeat of an earlier one", and "how many entries share mine".
"""

from __future__ import annotations

import numpy as np


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(order, starts, new)``: the sorting permutation, where each run of equal values
    starts in sorted order, and a flag per sorted position that opens a run."""
    n = len(values)
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    del ordered
    return order, np.flatnonzero(new), new


def sorted_unique(values: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Sorted distinct values, as ``np.unique(values)`` gives, by sorting.

    numpy 2.3+ finds them with a hash table instead, which on tens of millions of
    mostly-distinct 64-bit values is ~50x slower than a sort and needs several times the
    memory. ``in_place`` sorts ``values`` itself (no copy) when the caller no longer needs
    its order.
    """
    values = np.ravel(values)
    if in_place and values.flags.writeable:
        values.sort()
    else:
        values = np.sort(values)
    if not len(values):
        return values.copy()
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def group(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(distinct values sorted, index of each one's first occurrence, counts)``."""
    n = len(values)
    if n == 0:
        return values[:0], np.empty(0, np.int64), np.empty(0, np.int64)
    order, starts, _ = _runs(values)
    first = np.minimum.reduceat(order, starts)
    counts = np.diff(np.append(starts, n))
    return values[order[starts]], first, counts


def repeats(values: np.ndarray) -> np.ndarray:
    """True at every entry whose value already occurred at a smaller index.

    One plain sort finds the repeated values; only the entries that may hold one of them
    (a bitmap of low bits says) are grouped again with their positions (an argsort of all
    entries is several times slower than the sort).
    """
    n = len(values)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    if values.dtype.kind not in "ui":
        out[:] = True
        out[group(values)[1]] = False
        return out
    ordered = np.sort(values)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return out
    repeated = ordered[1:][same]
    del ordered, same
    repeated = repeated[np.r_[True, repeated[1:] != repeated[:-1]]]  # sorted, distinct
    # Entries that may hold a repeated value: a bitmap of the repeated values' low bits.
    bits = int(min(24, max(10, np.ceil(np.log2(16 * len(repeated))))))
    mask = values.dtype.type((1 << bits) - 1)
    bitmap = np.zeros(1 << bits, dtype=bool)
    bitmap[(repeated & mask).astype(np.intp)] = True
    cand = np.flatnonzero(bitmap[(values & mask).astype(np.intp)])
    del bitmap
    # Group the candidates by value; in each group of two or more, all but the first repeat.
    order, starts, _ = _runs(values[cand])
    pos = cand[order]
    counts = np.diff(np.append(starts, len(cand)))
    in_group = np.repeat(counts > 1, counts)
    out[pos[in_group]] = True
    out[np.minimum.reduceat(pos, starts)[counts > 1]] = False
    return out


def group_sizes(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """For every entry, how many entries (or how much weight) share its value."""
    n = len(values)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    order, starts, new = _runs(values)
    w = np.ones(n, dtype=np.int32) if weights is None else weights[order].astype(np.int32)
    sizes = np.add.reduceat(w, starts)
    del w
    run = np.cumsum(new, dtype=np.int32)
    run -= 1
    out = np.empty(n, dtype=np.int32)
    out[order] = sizes[run]
    return out


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for every ``(s, l)``, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(starts - (ends - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift
