"""LSH banding over signature arrays: band parameters, band keys and candidate pairs.

Candidates come from band keys grouped in arrays, not from a Python dict per band: by sorting
(numpy), or in one flat hash table per band (the compiled loop, which computes each key as it
goes and keeps no key array). Every bucket of documents with an equal key yields the pairs
(first member, other member), a star that keeps the bucket connected with ``len(bucket) - 1``
pairs instead of all ``len(bucket)**2 / 2``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dedup import compiled
from dedup.engines.local import map_ordered
from dedup.groups import sorted_unique
from dedup.text.hashing import splitmix64

FLIP_SALT = np.uint64(0x5DEECE66D)  # moves a kind of documents to buckets of their own


def _integrate(f, lo: float, hi: float, steps: int = 200) -> float:
    x = np.linspace(lo, hi, steps + 1)
    y = f(x)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


@lru_cache(maxsize=256)
def optimal_params(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimizing the weighted error.

    The same criterion as ``datasketch.MinHashLSH``: the false-positive probability mass
    below ``threshold`` and the false-negative mass above it, weighted.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"LSH threshold must be in (0, 1), got {threshold}")
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = _integrate(lambda s, b=b, r=r: 1 - (1 - s**r) ** b, 0.0, threshold)
            fn = _integrate(lambda s, b=b, r=r: (1 - s**r) ** b, threshold, 1.0)
            err = fp_weight * fp + fn_weight * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best


def band_keys(sigs: np.ndarray, bands: int, rows: int, first: int = 0, stop: int | None = None):
    """One 64-bit key per document and band: ``(n_docs, bands)`` uint64.

    ``first``/``stop`` compute only bands ``first:stop`` (the same keys as in the full array).
    """
    n, num_perm = sigs.shape
    if bands * rows > num_perm:
        raise ValueError(f"bands*rows = {bands * rows} exceeds num_perm = {num_perm}")
    stop = bands if stop is None else stop
    keys = np.zeros((n, stop - first), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            cols = sigs[:, first * rows + r : stop * rows : rows].astype(np.uint64)
            keys ^= cols
            del cols
            keys = splitmix64(keys)
        # Salt with the band number so equal values in different bands never meet.
        keys = splitmix64(keys + np.arange(first, stop, dtype=np.uint64))
    return keys


def candidate_pairs(keys: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Unique ``(i, j)`` pairs, ``i < j``, of documents that share a key in some band.

    ``valid`` (bool per document) leaves documents out, e.g. empty ones. Keys are salted by
    band (see :func:`band_keys`), so one sort over all bands groups the buckets.
    """
    n = keys.shape[0]
    return _decode(_pair_codes(keys, valid), n)


def banded_candidates(
    sigs: np.ndarray,
    bands: int,
    rows: int,
    valid: np.ndarray | None = None,
    flip: np.ndarray | None = None,
    block_bytes: int = 1 << 26,
    workers: int = 1,
) -> np.ndarray:
    """``candidate_pairs(band_keys(sigs, bands, rows), valid)``, a few bands at a time.

    Buckets never span bands, so the pairs are the same; the temporaries are bounded by
    ``block_bytes`` instead of growing with ``n_docs * bands``. ``flip`` (bool per document)
    moves those documents' keys to buckets of their own kind (they never meet the others).
    With the compiled loops, each of ``workers`` threads finds the buckets of a share of the
    bands in a hash table (no sort, no key array); the pairs are the same.
    """
    n = sigs.shape[0]
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"bands*rows = {bands * rows} exceeds num_perm = {sigs.shape[1]}")
    valid = np.ones(n, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    flip = np.zeros(n, dtype=bool) if flip is None else np.asarray(flip, dtype=bool)
    if compiled.enabled():
        sigs = np.ascontiguousarray(sigs)
        cuts = np.linspace(0, bands, min(bands, max(1, workers)) + 1).astype(int)
        spans = list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))

        def codes_of(span: tuple[int, int]) -> np.ndarray:  # sorted on the worker threads
            return sorted_unique(
                compiled.band_pair_codes(sigs, rows, *span, valid, flip, FLIP_SALT), in_place=True
            )

        parts = list(map_ordered(codes_of, spans, workers))
        return _merge_decode(parts, n, workers)
    step = max(1, min(bands, block_bytes // max(1, 32 * n)))
    codes = np.empty(0, dtype=np.int64)
    for first in range(0, bands, step):
        keys = band_keys(sigs, bands, rows, first, min(bands, first + step))
        keys[flip] ^= FLIP_SALT
        part = _pair_codes(keys, valid)
        del keys
        codes = (
            part if not len(codes) else sorted_unique(np.concatenate([codes, part]), in_place=True)
        )
    return _decode(codes, n)


def _merge_decode(parts: list[np.ndarray], n: int, workers: int) -> np.ndarray:
    """The pairs of the distinct codes of ``parts`` (each sorted and distinct), in order.

    Each thread merges one range of code values from every part and decodes it into its
    place in the result: one thread's sort and decoding of all of them took 0.6 s at 1M.
    """
    big = max(parts, key=len)
    if len(parts) == 1 or not len(big):
        return _decode(big, n)
    cuts = big[(np.arange(1, workers) * len(big)) // workers]  # equal codes: one range
    at = [np.concatenate([[0], np.searchsorted(p, cuts), [len(p)]]) for p in parts]

    def merge(r: int) -> np.ndarray:  # on the worker threads
        pieces = [p[a[r] : a[r + 1]] for p, a in zip(parts, at, strict=True)]
        return sorted_unique(np.concatenate(pieces), in_place=True)

    merged = list(map_ordered(merge, range(len(cuts) + 1), workers))
    out = np.empty((sum(len(m) for m in merged), 2), dtype=np.int64)
    starts = np.cumsum([0] + [len(m) for m in merged])

    def decode(r: int) -> None:  # on the worker threads, rows of their own
        _decode(merged[r], n, out[starts[r] : starts[r + 1]])

    for _ in map_ordered(decode, range(len(merged)), workers):
        pass
    return out


def _decode(code: np.ndarray, n: int, out: np.ndarray | None = None) -> np.ndarray:
    """Pairs ``(code // n, code % n)``, written straight into ``out`` (no temporaries: at
    corpus scale the codes run to tens of millions)."""
    if out is None:
        out = np.empty((len(code), 2), dtype=np.int64)
    np.floor_divide(code, n, out=out[:, 0])
    np.remainder(code, n, out=out[:, 1])
    return out


def _pair_codes(keys: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """Sorted distinct ``i * n + j`` of the candidate pairs of ``keys``."""
    n, bands = keys.shape
    idx = np.arange(n, dtype=np.int64)
    if valid is not None:
        idx = idx[valid]
    if len(idx) < 2:
        return np.empty(0, dtype=np.int64)
    flat_keys = keys[idx].ravel()  # document-major: equal keys keep document order
    flat_docs = np.repeat(idx, bands)
    order = np.argsort(flat_keys, kind="stable")
    k, d = flat_keys[order], flat_docs[order]
    del flat_keys, flat_docs, order
    new = np.ones(len(k), dtype=bool)
    new[1:] = k[1:] != k[:-1]
    del k
    head = np.maximum.accumulate(np.where(new, np.arange(len(new)), 0))
    first = d[head]  # the smallest document of each bucket
    members = ~new
    if not members.any():
        return np.empty(0, dtype=np.int64)
    return sorted_unique(first[members] * n + d[members], in_place=True)
