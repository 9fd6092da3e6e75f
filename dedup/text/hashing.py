"""Vectorized 64-bit hashing of tokens and n-grams over whole batches of documents.

No shingle string is ever built: the bytes of a batch of lower-cased documents are hashed with
a polynomial prefix sum (one numpy pass), token hashes are cut out of it, and n-gram hashes
combine neighbouring token hashes. Every hash goes through the splitmix64 finalizer so its bits
are uniform, which the multiply-shift MinHash relies on.
"""

from __future__ import annotations

import numpy as np

U64 = np.uint64
BASE = U64(0x100000001B3)  # odd, so it is invertible modulo 2**64
_BASE_INV = U64(pow(0x100000001B3, -1, 2**64))
LENGTH_MULT = U64(0xD6E8FEB86659FD93)  # folds a slice's length into its hash
# The splitmix64 finalizer's constants.
MIX_ADD = U64(0x9E3779B97F4A7C15)
MIX_MULT1 = U64(0xBF58476D1CE4E5B9)
MIX_MULT2 = U64(0x94D049BB133111EB)
# Odd multipliers that make n-gram hashes order-sensitive (from the seed-1 splitmix sequence).
NGRAM_MULT = np.array(
    [
        0x9E3779B97F4A7C15,
        0xBF58476D1CE4E5B9,
        0x94D049BB133111EB,
        0xD6E8FEB86659FD93,
        0xA0761D6478BD642F,
        0xE7037ED1A0B428DB,
        0x8EBC6AF09C88C6E3,
        0x589965CC75374CC3,
    ],
    dtype=U64,
)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """Return the splitmix64 finalizer of ``x`` (uint64 array), a bijective bit mixer.

    Computed in place on one copy with one scratch array: it runs over every shingle.
    """
    x = np.add(np.asarray(x, dtype=U64), MIX_ADD, dtype=U64)
    scratch = np.empty_like(x)
    for shift, mult in ((30, MIX_MULT1), (27, MIX_MULT2)):
        np.right_shift(x, U64(shift), out=scratch)
        np.bitwise_xor(x, scratch, out=x)
        np.multiply(x, U64(mult), out=x)
    np.right_shift(x, U64(31), out=scratch)
    np.bitwise_xor(x, scratch, out=x)
    return x


def salted(values: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """``values`` made distinct per owner: equal only for equal ``(owner, value)`` pairs.

    One 64-bit key stands for a (document, shingle) or (site, shingle) pair, so a single
    sort groups them; two different pairs meet with probability 2**-64.
    """
    owners = np.asarray(owners)
    if len(owners) == 0:
        return values.copy()
    # Owners are small dense integers (documents, sites, pairs): mix each once, then look up.
    salts = owner_salts(np.arange(int(owners.max()) + 1))
    out = salts[owners]
    out ^= values
    return out


def owner_salts(owners: np.ndarray) -> np.ndarray:
    """What :func:`salted` xors into the values of each owner (for loops that salt as they go)."""
    return splitmix64(np.asarray(owners).astype(U64))


def check_ngram(n: int) -> None:
    """Raise ``ValueError`` for an n-gram size the order-sensitive combination cannot hash."""
    if n < 1 or n > len(NGRAM_MULT):
        raise ValueError(f"n-gram size must be in 1..{len(NGRAM_MULT)}, got {n}")


_POW_CACHE: dict[int, np.ndarray] = {}
_POW_CACHE_MAX = 1 << 23  # longer tables (huge single documents) are not kept


def _powers(base: np.uint64, n: int) -> np.ndarray:
    """``base**i mod 2**64`` for i in ``range(n)`` (cached and grown by doubling)."""
    key = int(base)
    table = _POW_CACHE.get(key)
    if table is None or len(table) < n:
        size = max(n, 1 << 16, 0 if table is None else 2 * len(table))
        table = np.empty(size, dtype=U64)
        table[0] = U64(1)
        filled = 1
        with np.errstate(over="ignore"):
            while filled < size:
                take = min(filled, size - filled)
                table[filled : filled + take] = table[:take] * U64(pow(key, filled, 2**64))
                filled += take
        if size <= _POW_CACHE_MAX:
            _POW_CACHE[key] = table
    return table[:n]


class PrefixHash:
    """Polynomial prefix hash of a byte array: the hash of any slice in O(1), vectorized.

    ``slice_hash(starts, ends)`` returns the same value for equal byte strings wherever they
    stand, which is what makes token and window hashes position independent.
    """

    def __init__(self, data: np.ndarray) -> None:
        n = len(data)
        self._pow = _powers(BASE, n + 1)
        self._inv = _powers(_BASE_INV, n + 1)
        prefix = np.empty(n + 1, dtype=U64)
        prefix[0] = U64(0)
        body = prefix[1:]  # filled in place: no temporaries of 8 bytes per input byte
        with np.errstate(over="ignore"):
            np.add(data, U64(1), out=body, dtype=U64)
            np.multiply(body, self._pow[:n], out=body)
            np.cumsum(body, out=body)
        self._prefix = prefix

    def slice_hash(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Mixed 64-bit hashes of ``data[starts[i]:ends[i]]`` for every i."""
        with np.errstate(over="ignore"):
            raw = (self._prefix[ends] - self._prefix[starts]) * self._inv[starts]
            # Fold the length in so that slices of different lengths never collide trivially.
            raw = raw + (ends - starts).astype(U64) * LENGTH_MULT
        return splitmix64(raw)


def combine_ngrams(
    token_hashes: np.ndarray, doc_of_token: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hash every run of ``n`` consecutive tokens of one document into one 64-bit value.

    Documents shorter than ``n`` tokens (but not empty) give one shingle of all their tokens,
    so short texts still have a signature. Returns ``(ngram_hashes, doc_of_ngram)``.
    """
    check_ngram(n)
    m = len(token_hashes)
    if m == 0:
        return np.empty(0, dtype=U64), np.empty(0, dtype=np.int64)
    # Sum over the next n tokens whatever document they belong to: only the n-grams inside
    # one document are kept, and documents shorter than n are summed apart below.
    acc = np.multiply(token_hashes, NGRAM_MULT[0], dtype=U64)
    term = np.empty(m, dtype=U64)
    with np.errstate(over="ignore"):
        for j in range(1, min(n, m)):
            np.multiply(token_hashes[j:], NGRAM_MULT[j], out=term[: m - j])
            acc[: m - j] += term[: m - j]
    full = np.zeros(m, dtype=bool)
    if m >= n:
        np.equal(doc_of_token[n - 1 :], doc_of_token[: m - n + 1], out=full[: m - n + 1])
    # Documents shorter than n: one shingle of all their tokens, at their first token.
    first = np.ones(m, dtype=bool)
    np.not_equal(doc_of_token[1:], doc_of_token[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    lengths = np.diff(np.append(starts, m))
    short, short_len = starts[lengths < n], lengths[lengths < n]
    if len(short):
        whole = np.zeros(len(short), dtype=U64)
        with np.errstate(over="ignore"):
            for j in range(1, n):
                inside = short_len > j
                whole[inside] += token_hashes[short[inside] + j] * NGRAM_MULT[j]
            whole += token_hashes[short] * NGRAM_MULT[0]
        acc[short] = whole
        full[short] = True
    return splitmix64(acc[full]), doc_of_token[full]
