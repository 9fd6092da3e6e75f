"""The per-byte and per-shingle loops of the near-duplicate step, compiled with numba.

numpy needs a full pass over the batch for every step of word shingling (word mask, prefix
hash, token slices, each n-gram term, a sort for the per-document sets) and an unbuffered
``minimum.at`` for one-permutation MinHash; these loops do each in one pass, without the GIL,
so worker threads scale. They compute exactly what the numpy code of :mod:`dedup.text` and
:mod:`dedup.sketch.minhash` computes (the tests compare both), so no result depends on which
runs. Compiled code is cached beside this module (or in numba's user cache directory): the
first call after installing compiles it once, later processes load it.

Imported only when needed: numba takes a few tenths of a second to start.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dedup.text.hashing import (
    BASE,
    LENGTH_MULT,
    MIX_ADD,
    MIX_MULT1,
    MIX_MULT2,
    NGRAM_MULT,
)

_U8 = np.uint64


@njit(inline="always")
def _mix(x):
    """splitmix64 finalizer of one value (as :func:`dedup.text.hashing.splitmix64`)."""
    x = x + MIX_ADD
    x = (x ^ (x >> _U8(30))) * MIX_MULT1
    x = (x ^ (x >> _U8(27))) * MIX_MULT2
    return x ^ (x >> _U8(31))


@njit(inline="always")
def _add_new(x, keys, stamp, mark, mask) -> bool:
    """Insert ``x`` into the open-addressing set whose live slots carry ``mark``; False if it
    was there already."""
    slot = x & mask
    while stamp[slot] == mark:
        if keys[slot] == x:
            return False
        slot = (slot + _U8(1)) & mask
    stamp[slot] = mark
    keys[slot] = x
    return True


@njit(nogil=True, cache=True)
def _word_mask(data):
    """Word bytes, as :func:`dedup.text.tokenize.word_mask` (upper-case ASCII counts too)."""
    n = len(data)
    word = np.empty(n, np.bool_)
    for i in range(n):
        b = data[i]
        word[i] = b >= 0x80 or 0x30 <= b <= 0x39 or 0x61 <= b <= 0x7A or 0x41 <= b <= 0x5A
    for i in range(n - 1):
        if data[i] == 0xC2 and 0x80 <= data[i + 1] <= 0xBF:
            word[i] = False
            word[i + 1] = False
    for i in range(n - 2):
        if data[i] == 0xE2 and (data[i + 1] == 0x80 or data[i + 1] == 0x81):
            word[i] = False
            word[i + 1] = False
            word[i + 2] = False
    return word


@njit(nogil=True, cache=True)
def word_sets(data, starts, ends, ngram):
    """Distinct word ``ngram``-gram hashes and distinct number-token hashes of every text.

    ``data`` holds the texts' UTF-8 bytes (non-ASCII text already lower-cased; ASCII letters
    are folded here), text ``i`` at ``starts[i]:ends[i]``. Returns ``(hashes, offsets,
    numbers, number_offsets)`` in CSR layout, each document's values in first-seen order: the
    result of :func:`dedup.text.shingle.shingles_and_numbers` followed by ``unique()``.
    """
    word = _word_mask(data)
    n_docs = len(starts)
    longest = 0
    for d in range(n_docs):
        longest = max(longest, ends[d] - starts[d])
    tokens = np.empty(longest // 2 + 1, np.uint64)
    has_digit = np.empty(longest // 2 + 1, np.bool_)
    room = len(data) // 2 + n_docs + 1
    out = np.empty(room, np.uint64)
    nums = np.empty(room, np.uint64)
    out_offsets = np.zeros(n_docs + 1, np.int64)
    num_offsets = np.zeros(n_docs + 1, np.int64)
    size = 1024
    keys = np.empty(size, np.uint64)
    stamp = np.zeros(size, np.int64)
    mark = 0
    o = 0
    q = 0
    for d in range(n_docs):
        # Tokens: the polynomial hash of their lower-cased bytes, as PrefixHash.slice_hash.
        m = 0
        i = starts[d]
        end = ends[d]
        while i < end:
            if not word[i]:
                i += 1
                continue
            h = _U8(0)
            power = _U8(1)
            first = i
            digit = False
            while i < end and word[i]:
                b = data[i]
                if 0x41 <= b <= 0x5A:
                    b += 32
                elif 0x30 <= b <= 0x39:
                    digit = True
                h += (_U8(b) + _U8(1)) * power
                power *= BASE
                i += 1
            tokens[m] = _mix(h + _U8(i - first) * LENGTH_MULT)
            has_digit[m] = digit
            m += 1
        if 2 * m > size:
            while 2 * m > size:
                size *= 2
            keys = np.empty(size, np.uint64)
            stamp = np.zeros(size, np.int64)
            mark = 0
        mask = _U8(size - 1)
        # n-grams, as combine_ngrams: a text shorter than ngram gives one of all its tokens.
        width = min(ngram, m)
        mark += 1
        for k in range(m - width + 1 if m else 0):
            acc = _U8(0)
            for j in range(width):
                acc += tokens[k + j] * NGRAM_MULT[j]
            x = _mix(acc)
            if _add_new(x, keys, stamp, mark, mask):
                out[o] = x
                o += 1
        out_offsets[d + 1] = o
        mark += 1
        for k in range(m):
            if has_digit[k] and _add_new(tokens[k], keys, stamp, mark, mask):
                nums[q] = tokens[k]
                q += 1
        num_offsets[d + 1] = q
    return out[:o].copy(), out_offsets, nums[:q].copy(), num_offsets


@njit(nogil=True, cache=True)
def oph_minima(hashes, offsets, salt, num_perm):
    """Per document and bin, the least 32-bit value of the shingles hashed to that bin: the
    one-permutation MinHash of :func:`dedup.sketch.minhash.oph_signatures` before
    densification (empty bins hold ``0xFFFFFFFF``)."""
    n_docs = len(offsets) - 1
    out = np.full((n_docs, num_perm), np.uint32(0xFFFFFFFF), np.uint32)
    bins = _U8(num_perm)
    for d in range(n_docs):
        row = out[d]
        for k in range(offsets[d], offsets[d + 1]):
            x = _mix(hashes[k] ^ salt)
            b = ((x >> _U8(32)) * bins) >> _U8(32)
            value = np.uint32(x & _U8(0xFFFFFFFF))
            if value < row[b]:
                row[b] = value
    return out


@njit(nogil=True, cache=True)
def mixed_sums(hashes, offsets):
    """Per document, the sum (mod 2**64) of the splitmix64 of its hashes."""
    n_docs = len(offsets) - 1
    out = np.zeros(n_docs, np.uint64)
    for d in range(n_docs):
        total = _U8(0)
        for k in range(offsets[d], offsets[d + 1]):
            total += _mix(hashes[k])
        out[d] = total
    return out


@njit(nogil=True, cache=True)
def salted_members(hashes, offsets, doc_salt, sorted_keys, bitmap, shift):
    """True for every entry whose key ``hashes[k] ^ doc_salt[d]`` is in ``sorted_keys``, and
    how many such entries each document has. ``bitmap`` marks the top bits of the sorted keys
    (``key >> shift``), so most misses cost one look-up instead of a binary search."""
    n_docs = len(offsets) - 1
    found = np.zeros(len(hashes), np.bool_)
    counts = np.zeros(n_docs, np.int64)
    n_keys = len(sorted_keys)
    for d in range(n_docs):
        salt = doc_salt[d]
        for k in range(offsets[d], offsets[d + 1]):
            key = hashes[k] ^ salt
            if not bitmap[key >> shift]:
                continue
            at = np.searchsorted(sorted_keys, key)
            if at < n_keys and sorted_keys[at] == key:
                found[k] = True
                counts[d] += 1
    return found, counts
