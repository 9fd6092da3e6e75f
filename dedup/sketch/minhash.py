"""MinHash signatures of many documents at once, as a compact ``(n_docs, num_perm)`` uint32 array.

Permutation ``k`` of a 64-bit shingle hash ``x`` is the multiply-shift hash
``(a_k * x + b_k) mod 2**64 >> 32`` (``a_k`` odd), which is 2-universal on uniform 64-bit
inputs; a signature row is the minimum over the document's shingles. All of it runs in numpy
over chunks of shingles: no Python loop per shingle, per document or per permutation.
Signatures convert to and from ``datasketch.MinHash``/``LeanMinHash``.
"""

from __future__ import annotations

import numpy as np

from dedup import compiled
from dedup.text.hashing import splitmix64
from dedup.text.shingle import ShingleBatch

DEFAULT_NUM_PERM = 128
DEFAULT_SEED = 1
EMPTY = np.uint32(0xFFFFFFFF)  # the signature value of an empty set
_CHUNK = 1 << 15  # shingles per chunk: chunk x num_perm x 8 bytes stays ~32 MB


def permutations(num_perm: int = DEFAULT_NUM_PERM, seed: int = DEFAULT_SEED) -> np.ndarray:
    """The ``(2, num_perm)`` uint64 parameters ``a`` (odd) and ``b`` of the permutations."""
    if num_perm < 1:
        raise ValueError(f"num_perm must be positive, got {num_perm}")
    rng = np.random.default_rng(seed)
    params = rng.integers(0, 2**64 - 1, size=(2, num_perm), dtype=np.uint64, endpoint=True)
    params[0] |= np.uint64(1)
    return params


def signatures(shingles: ShingleBatch, perms: np.ndarray) -> np.ndarray:
    """MinHash signature of every document of ``shingles``: ``(n_docs, num_perm)`` uint32.

    Documents without shingles get the all-``EMPTY`` row.
    """
    a, b = perms[0], perms[1]
    num_perm = perms.shape[1]
    n_docs = shingles.n_docs
    out = np.full((n_docs, num_perm), EMPTY, dtype=np.uint32)
    hashes, offsets = shingles.hashes, shingles.offsets
    total = len(hashes)
    if total == 0:
        return out
    doc = shingles.doc_ids()
    shift = np.uint64(32)
    with np.errstate(over="ignore"):
        for lo in range(0, total, _CHUNK):
            hi = min(lo + _CHUNK, total)
            vals = ((hashes[lo:hi, None] * a + b) >> shift).astype(np.uint32)
            chunk_doc = doc[lo:hi]
            # Rows where a new document starts inside this chunk.
            starts = np.flatnonzero(np.r_[True, chunk_doc[1:] != chunk_doc[:-1]])
            mins = np.minimum.reduceat(vals, starts, axis=0)
            docs = chunk_doc[starts]
            np.minimum(out[docs], mins, out=mins)
            out[docs] = mins
    empty = offsets[1:] == offsets[:-1]
    out[empty] = EMPTY
    return out


def oph_signatures(shingles: ShingleBatch, num_perm: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """One-permutation MinHash: each shingle hash goes to one of ``num_perm`` bins, min per bin.

    One pass over the shingles instead of ``num_perm`` (the classic scheme's cost), then
    empty bins are filled from the next non-empty bin to the right with a per-distance offset
    ("densification", Shrivastava & Li 2014), so every position compares like a permutation.
    The estimate of Jaccard similarity is unbiased; its variance is close to ``num_perm``
    independent permutations once a document has a few times ``num_perm`` shingles, and only
    LSH candidate selection sees it: pairs are verified on exact sets.
    """
    n_docs = shingles.n_docs
    out = np.full((n_docs, num_perm), EMPTY, dtype=np.uint32)
    if len(shingles.hashes) == 0:
        return out
    salt = np.uint64(np.random.default_rng(seed).integers(0, 2**63))
    if compiled.enabled():
        return compiled.oph_minima(shingles.hashes, shingles.offsets, salt, num_perm)  # densified
    x = splitmix64(shingles.hashes ^ salt)
    with np.errstate(over="ignore"):
        bins = ((x >> np.uint64(32)) * np.uint64(num_perm)) >> np.uint64(32)
    values = (x & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    flat = shingles.doc_ids() * num_perm + bins.astype(np.int64)
    np.minimum.at(out.ravel(), flat, values)
    return _densify(out, np.diff(shingles.offsets) > 0)


def _densify(sig: np.ndarray, filled_docs: np.ndarray) -> np.ndarray:
    """Fill each empty bin from the next non-empty one (circularly), offset by the distance."""
    empty = sig == EMPTY
    rows = np.flatnonzero(filled_docs & empty.any(axis=1))
    if len(rows) == 0:
        return sig
    num_perm = sig.shape[1]
    part = sig[rows]
    twice = np.concatenate([empty[rows], empty[rows]], axis=1)
    pos = np.where(twice, 2 * num_perm, np.arange(2 * num_perm))
    nxt = np.minimum.accumulate(pos[:, ::-1], axis=1)[:, ::-1][:, :num_perm]
    dist = (nxt - np.arange(num_perm)).astype(np.uint32)
    source = np.take_along_axis(part, nxt % num_perm, axis=1)
    with np.errstate(over="ignore"):
        filled = source + dist * np.uint32(0x9E3779B1)
    sig[rows] = np.where(empty[rows], filled, part)
    return sig


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Fraction of equal signature positions (row-wise for 2-D inputs)."""
    return np.mean(np.asarray(sig_a) == np.asarray(sig_b), axis=-1)


def to_datasketch(signature: np.ndarray, seed: int = DEFAULT_SEED, lean: bool = True):
    """Wrap one signature row as a ``datasketch.LeanMinHash`` (or ``MinHash``).

    The result compares (``jaccard``) and indexes (``MinHashLSH``) with others converted the
    same way; datasketch's own ``update`` uses other permutations, so do not mix the two.
    Needs datasketch 2.0 or later (it names the 32-bit layout ``scheme="affine32"``).
    """
    from datasketch import LeanMinHash, MinHash

    values = np.asarray(signature, dtype=np.uint32)
    # Our values are 32-bit, stored as uint32: datasketch's "affine32" layout.
    m = MinHash(num_perm=len(values), seed=seed, hashvalues=values, scheme="affine32")
    return LeanMinHash(m) if lean else m


def from_datasketch(minhash) -> np.ndarray:
    """The signature row of a ``datasketch.MinHash``/``LeanMinHash`` as uint32.

    datasketch keeps 32-bit values in a uint64 array, so this is lossless.
    """
    values = np.asarray(minhash.hashvalues)
    if values.size and int(values.max()) > 0xFFFFFFFF:
        raise ValueError("expected datasketch hash values below 2**32")
    return values.astype(np.uint32)
