"""MinHash signatures of many documents at once, as a compact ``(n_docs, num_perm)`` uint32 array.

Permutation ``k`` of a 64-bit shingle hash ``x`` is the multiply-shift hash
``(a_k * x + b_k) mod 2**64 >> 32`` (``a_k`` odd), which is 2-universal on uniform 64-bit
inputs; a signature row is the minimum over the document's shingles. All of it runs in numpy
over chunks of shingles: no Python loop per shingle, per document or per permutation.
Signatures convert to and from ``datasketch.MinHash``/``LeanMinHash``.
"""

from __future__ import annotations

import numpy as np

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
