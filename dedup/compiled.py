"""The per-byte and per-shingle loops of the near-duplicate step, compiled with numba.

numpy needs a full pass over the batch for every step of word shingling (word mask, prefix
hash, token slices, each n-gram term, a sort for the per-document sets) and an unbuffered
``minimum.at`` for one-permutation MinHash; these loops do each in one pass, without the GIL,
so worker threads scale. They compute exactly what the numpy code of :mod:`dedup.text` and
:mod:`dedup.sketch.minhash` computes (the tests compare both), so no result depends on which
runs. Compiled code is cached beside this module (or in numba's user cache directory): the
first call after installing compiles it once, later processes load it.

Imported only when :mod:`dedup.jit` says so: starting numba costs ~0.3 s (see there).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dedup import jit
from dedup.text.hashing import (
    BASE,
    LENGTH_MULT,
    MIX_ADD,
    MIX_MULT1,
    MIX_MULT2,
    NGRAM_MULT,
)

jit.load_numba_arrays()
_U64 = np.uint64


@njit(inline="always")
def _mix(x):
    """splitmix64 finalizer of one value (as :func:`dedup.text.hashing.splitmix64`)."""
    x = x + MIX_ADD
    x = (x ^ (x >> _U64(30))) * MIX_MULT1
    x = (x ^ (x >> _U64(27))) * MIX_MULT2
    return x ^ (x >> _U64(31))


@njit(inline="always")
def _add_new(x, keys, stamp, mark, mask) -> bool:
    """Insert ``x`` into the open-addressing set whose live slots carry ``mark``; False if it
    was there already."""
    slot = x & mask
    while stamp[slot] == mark:
        if keys[slot] == x:
            return False
        slot = (slot + _U64(1)) & mask
    stamp[slot] = mark
    keys[slot] = x
    return True


@njit(inline="always")
def _contains(x, keys, stamp, mark, mask) -> bool:
    """Whether ``x`` is in the set whose live slots carry ``mark``."""
    slot = x & mask
    while stamp[slot] == mark:
        if keys[slot] == x:
            return True
        slot = (slot + _U64(1)) & mask
    return False


@njit(inline="always")
def _table(size):
    """An empty set of ``size`` slots (a power of two): ``(size, keys, stamp, mark)``."""
    return size, np.empty(size, np.uint64), np.zeros(size, np.int64), 0


@njit(inline="always")
def _room(n, size, keys, stamp, mark):
    """The set's table grown, if need be, so that ``n`` values fill at most half of it."""
    if 2 * n <= size:
        return size, keys, stamp, mark
    while 2 * n > size:
        size *= 2
    return _table(size)


def _byte_codes() -> np.ndarray:
    """Per byte value: the lower-cased byte plus one for word bytes, 0 for the others.

    Word bytes are those of :func:`dedup.text.tokenize.word_mask`: ASCII letters and digits
    and every byte of a multi-byte character (0xFF never occurs in UTF-8).
    """
    codes = np.zeros(256, dtype=np.uint8)
    for c in b"0123456789abcdefghijklmnopqrstuvwxyz":
        codes[c] = c + 1
    for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        codes[c] = c + 32 + 1
    codes[0x80:0xFF] = np.arange(0x81, 0x100)
    return codes


_CODES = _byte_codes()
_LEAD = 0xC2 + 1  # code of the least lead byte of the punctuation word_mask blanks


@njit(inline="always")
def _punctuation(data, i, end):
    """Length of the common punctuation or space character at ``i`` (U+0080-U+00BF,
    U+2000-U+206F: not word bytes), else 0."""
    b = data[i]
    if b == 0xC2 and i + 1 < end and 0x80 <= data[i + 1] <= 0xBF:
        return 2
    if b == 0xE2 and i + 2 < end and (data[i + 1] == 0x80 or data[i + 1] == 0x81):
        return 3
    return 0


@njit(nogil=True, cache=True)
def fold_multibyte(data, starts, ends, bmp, astral):
    """Lower-case in place the multi-byte UTF-8 characters of every text (``bmp``: lower case
    per code point below U+10000, 0xFFFFFFFF where it is not one character of the same
    length; ``astral``: True where a code point above has a lower case). True for the texts
    that hold such a character: the caller lower-cases them again with ``str.lower`` (the
    characters rewritten so far are lower case already, which it leaves as they are)."""
    special = np.zeros(len(starts), np.bool_)
    for d in range(len(starts)):
        i = starts[d]
        end = ends[d]
        while i < end:
            if i + 8 <= end:  # skip ASCII eight bytes at a time
                x = data[i] | data[i + 1] | data[i + 2] | data[i + 3]
                x |= data[i + 4] | data[i + 5] | data[i + 6] | data[i + 7]
                if x < 0x80:
                    i += 8
                    continue
            b = data[i]
            if b < 0x80:
                i += 1
                continue
            if b >= 0xF0 and i + 3 < end:
                cp = ((b & 0x07) << 18) | ((data[i + 1] & 0x3F) << 12)
                cp |= ((data[i + 2] & 0x3F) << 6) | (data[i + 3] & 0x3F)
                if cp >= 0x10000 and cp < 0x110000 and astral[cp - 0x10000]:
                    special[d] = True
                    break
                i += 4
                continue
            if b >= 0xE0 and i + 2 < end:
                size = 3
                cp = ((b & 0x0F) << 12) | ((data[i + 1] & 0x3F) << 6) | (data[i + 2] & 0x3F)
            elif b >= 0xC0 and i + 1 < end:
                size = 2
                cp = ((b & 0x1F) << 6) | (data[i + 1] & 0x3F)
            else:  # a continuation byte out of place (never made by an encoder)
                i += 1
                continue
            low = bmp[cp]
            if low == 0xFFFFFFFF:
                special[d] = True
                break
            if low != cp:
                if size == 2:
                    data[i] = 0xC0 | (low >> 6)
                    data[i + 1] = 0x80 | (low & 0x3F)
                else:
                    data[i] = 0xE0 | (low >> 12)
                    data[i + 1] = 0x80 | ((low >> 6) & 0x3F)
                    data[i + 2] = 0x80 | (low & 0x3F)
            i += size
    return special


@njit(nogil=True, cache=True)
def word_sets(data, starts, ends, ngram):
    """Distinct word ``ngram``-gram hashes and distinct number-token hashes of every text.

    ``data`` holds the texts' UTF-8 bytes (non-ASCII characters already lower-cased; ASCII
    letters are folded here), text ``i`` at ``starts[i]:ends[i]``. Returns ``(hashes, offsets,
    numbers, number_offsets)`` in CSR layout, each document's values in first-seen order: the
    result of :func:`dedup.text.shingle.shingles_and_numbers` followed by ``unique()``.
    """
    codes = _CODES
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
    size, keys, stamp, mark = _table(1024)
    o = 0
    q = 0
    for d in range(n_docs):
        # Tokens: the polynomial hash of their lower-cased bytes, as PrefixHash.slice_hash.
        m = 0
        i = starts[d]
        end = ends[d]
        while i < end:
            c = codes[data[i]]
            if c == 0:
                i += 1
                continue
            if c >= _LEAD and _punctuation(data, i, end):
                i += _punctuation(data, i, end)
                continue
            h = _U64(0)
            power = _U64(1)
            first = i
            digit = False
            while True:
                h += _U64(c) * power
                power *= BASE
                digit |= 0x31 <= c <= 0x3A
                i += 1
                if i >= end:
                    break
                c = codes[data[i]]
                if c == 0 or (c >= _LEAD and _punctuation(data, i, end)):
                    break
            tokens[m] = _mix(h + _U64(i - first) * LENGTH_MULT)
            has_digit[m] = digit
            m += 1
        size, keys, stamp, mark = _room(m, size, keys, stamp, mark)
        mask = _U64(size - 1)
        # n-grams, as combine_ngrams: a text shorter than ngram gives one of all its tokens.
        width = min(ngram, m)
        mark += 1
        for k in range(m - width + 1 if m else 0):
            acc = _U64(0)
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
    one-permutation MinHash of :func:`dedup.sketch.minhash.oph_signatures`, densified as
    :func:`dedup.sketch.minhash._densify` does (a document without shingles keeps
    ``0xFFFFFFFF`` everywhere)."""
    n_docs = len(offsets) - 1
    empty = np.uint32(0xFFFFFFFF)
    out = np.full((n_docs, num_perm), empty, np.uint32)
    bins = _U64(num_perm)
    for d in range(n_docs):
        row = out[d]
        for k in range(offsets[d], offsets[d + 1]):
            x = _mix(hashes[k] ^ salt)
            b = ((x >> _U64(32)) * bins) >> _U64(32)
            value = np.uint32(x & _U64(0xFFFFFFFF))
            if value < row[b]:
                row[b] = value
        if offsets[d + 1] == offsets[d]:
            continue
        # Each empty bin takes the next non-empty bin's value (circularly) plus an offset per
        # bin of distance; scanning the row twice from the right finds that bin for each.
        nxt = -1
        for twice in range(2 * num_perm - 1, -1, -1):
            j = twice - num_perm if twice >= num_perm else twice
            if row[j] != empty:
                nxt = twice
            elif twice < num_perm and nxt >= 0:
                source = _U64(row[nxt - num_perm if nxt >= num_perm else nxt])
                filled = source + _U64(nxt - twice) * _U64(0x9E3779B1)
                row[j] = np.uint32(filled & _U64(0xFFFFFFFF))
    return out


@njit(nogil=True, cache=True)
def mixed_sums(hashes, offsets):
    """Per document, the sum (mod 2**64) of the splitmix64 of its hashes."""
    n_docs = len(offsets) - 1
    out = np.zeros(n_docs, np.uint64)
    for d in range(n_docs):
        total = _U64(0)
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


@njit(nogil=True, cache=True)
def bucket_counts(hashes, offsets, doc_salt, shift, n_buckets):
    """How many keys ``hashes[k] ^ doc_salt[d]`` (document ``d`` owns entry ``k``) fall in each
    bucket ``key >> shift`` of the key space."""
    counts = np.zeros(n_buckets, np.int64)
    for d in range(len(offsets) - 1):
        salt = doc_salt[d]
        for k in range(offsets[d], offsets[d + 1]):
            counts[(hashes[k] ^ salt) >> shift] += 1
    return counts


@njit(nogil=True, cache=True)
def pair_intersections(hashes, offsets, pairs, order, need):
    """``|A & B|`` for every pair ``(a, b)`` of documents (rows of ``pairs``) of a batch of sets
    (distinct values per document), visited in ``order``: the set already in the table is
    kept while the next pair shares it, as pairs sorted by their first member do.

    A pair stops being counted once it can no longer reach ``need[p]`` (its count is then
    some value below ``need[p]``); ``need`` of 0 counts exactly."""
    out = np.zeros(len(pairs), np.int64)
    size, keys, stamp, mark = _table(1024)
    held = -1  # the document whose set fills the table (under the current mark)
    for i in range(len(order)):
        p = order[i]
        a = pairs[p, 0]
        b = pairs[p, 1]
        if b == held:
            a, b = b, a
        elif a != held:
            # The first member goes in the table when the next pair shares it (it is read
            # once for all of them); else the smaller set.
            shared = i + 1 < len(order) and pairs[order[i + 1], 0] == a
            if not shared and offsets[a + 1] - offsets[a] > offsets[b + 1] - offsets[b]:
                a, b = b, a
        if a != held:
            n = offsets[a + 1] - offsets[a]
            size, keys, stamp, mark = _room(n, size, keys, stamp, mark)
            mark += 1
            mask = _U64(size - 1)
            for k in range(offsets[a], offsets[a + 1]):
                _add_new(hashes[k], keys, stamp, mark, mask)
            held = a
        mask = _U64(size - 1)
        count = 0
        left = offsets[b + 1] - offsets[b]
        floor = need[p]
        for k in range(offsets[b], offsets[b + 1]):
            count += _contains(hashes[k], keys, stamp, mark, mask)
            left -= 1
            if count + left < floor:
                break
        out[p] = count
    return out


@njit(nogil=True, cache=True)
def band_pair_codes(sigs, rows, first, stop, valid, flip, flip_salt):
    """``i * n + j`` for every document ``j`` and the first document ``i < j`` of each bucket
    it shares in bands ``first:stop``: the pairs of :func:`dedup.sketch.lsh._pair_codes`
    (unsorted, with repeats), band keys as :func:`dedup.sketch.lsh.band_keys` computes them
    (``flip_salt`` xor-ed into those of ``flip`` documents), buckets found in a hash table
    per band instead of by sorting."""
    n = sigs.shape[0]
    size = 1024
    while size < 2 * n:
        size *= 2
    size, keys, stamp, mark = _table(size)
    owner = np.empty(size, np.int64)
    mask = _U64(size - 1)
    out = np.empty(max(1024, n), np.int64)
    o = 0
    for band in range(first, stop):
        mark += 1
        col = band * rows
        for d in range(n):
            if not valid[d]:
                continue
            key = _U64(0)
            for r in range(rows):
                key = _mix(key ^ _U64(sigs[d, col + r]))
            key = _mix(key + _U64(band))
            if flip[d]:
                key ^= flip_salt
            slot = key & mask
            while stamp[slot] == mark and keys[slot] != key:
                slot = (slot + _U64(1)) & mask
            if stamp[slot] != mark:
                stamp[slot] = mark
                keys[slot] = key
                owner[slot] = d
                continue
            if o == len(out):
                grown = np.empty(2 * len(out), np.int64)
                grown[:o] = out
                out = grown
            out[o] = owner[slot] * n + d
            o += 1
    return out[:o].copy()
