"""Grouping equal values of large uint64 arrays by sorting (numpy's ``unique`` is slow here).

These are the primitives the sketch stages share: distinct values with their first position
and count, and "is this entry a repeat of an earlier one".
"""

from __future__ import annotations

import numpy as np


def group(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(distinct values sorted, index of each one's first occurrence, counts)``."""
    n = len(values)
    if n == 0:
        return values[:0], np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    first = np.minimum.reduceat(order, starts)
    counts = np.diff(np.append(starts, n))
    return ordered[starts], first, counts


def repeats(values: np.ndarray) -> np.ndarray:
    """True at every entry whose value already occurred at a smaller index."""
    n = len(values)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    _, first, _ = group(values)
    out[:] = True
    out[first] = False
    return out


def group_sizes(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """For every entry, how many entries (or how much weight) share its value."""
    n = len(values)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    w = np.ones(n, dtype=np.int64) if weights is None else weights[order].astype(np.int64)
    sizes = np.add.reduceat(w, starts)
    out = np.empty(n, dtype=np.int64)
    out[order] = sizes[np.cumsum(new) - 1]
    return out
