"""Shingle hashes of a batch of documents: word n-grams (default) or character n-grams.

The result is a flat uint64 array with per-document offsets (CSR layout), which is what the
MinHash sketcher and the verifier consume. Each shingle is hashed once, to 64 bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedup import compiled
from dedup.groups import ranges, repeats
from dedup.text.casefold import lower_multibyte
from dedup.text.hashing import PrefixHash, check_ngram, combine_ngrams, salted
from dedup.text.tokenize import ByteBatch, encode_batch, token_spans, word_mask

DEFAULT_NGRAM = 5
SHINGLE_KINDS = ("word", "char")


@dataclass(frozen=True)
class ShingleBatch:
    """Shingle hashes of many documents; doc ``i`` owns ``hashes[offsets[i]:offsets[i+1]]``."""

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, length n_docs + 1

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def doc(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]

    def doc_ids(self) -> np.ndarray:
        """Document index of every hash."""
        kind = np.int32 if self.n_docs < 2**31 else np.int64
        return np.repeat(np.arange(self.n_docs, dtype=kind), np.diff(self.offsets))

    def unique(self) -> ShingleBatch:
        """The same documents with each shingle once (set semantics), in first-seen order."""
        again = repeats(salted(self.hashes, self.doc_ids()))
        return self.select(~again) if again.any() else self

    def select(self, mask: np.ndarray) -> ShingleBatch:
        """The same documents with only the entries where ``mask`` is True."""
        counts = np.bincount(self.doc_ids()[mask], minlength=self.n_docs)
        return ShingleBatch(self.hashes[mask], _offsets(counts))

    def view(self) -> SetView:
        """The same sets, located in ``hashes``."""
        hashes = np.ascontiguousarray(self.hashes, dtype=np.uint64)
        zero = np.zeros(self.n_docs, dtype=np.int64)
        return SetView((hashes,), zero, self.offsets[:-1], np.diff(self.offsets))


@dataclass(frozen=True)
class SetView:
    """Shingle sets of many documents where they lie: doc ``i`` owns ``sizes[i]`` entries of
    ``parts[part[i]]`` from ``start[i]`` on. A store's sets are read in place this way (its
    chunks in memory are parts), not gathered into one array first."""

    parts: tuple[np.ndarray, ...]  # uint64, C-contiguous
    part: np.ndarray  # int64, per document
    start: np.ndarray  # int64, per document
    sizes: np.ndarray  # int64, per document

    @property
    def n_docs(self) -> int:
        return len(self.sizes)

    def addresses(self) -> np.ndarray:
        """The address of each document's first entry, valid while the view lives."""
        base = np.array([p.ctypes.data for p in self.parts] or [0], dtype=np.int64)
        return base[self.part] + self.start * np.dtype(np.uint64).itemsize

    def batch(self) -> ShingleBatch:
        """The sets gathered into one array (CSR)."""
        offsets = _offsets(self.sizes)
        hashes = np.empty(int(offsets[-1]), dtype=np.uint64)
        for k, part in enumerate(self.parts):
            docs = np.flatnonzero((self.part == k) & (self.sizes > 0))
            if len(docs):
                lengths = self.sizes[docs]
                hashes[ranges(offsets[docs], lengths)] = part[ranges(self.start[docs], lengths)]
        return ShingleBatch(hashes, offsets)


def _offsets(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def shingle_batch(
    texts: Sequence[str], *, ngram: int = DEFAULT_NGRAM, kind: str = "word"
) -> ShingleBatch:
    """Hash the shingles of ``texts``: lower-cased word ``ngram``-grams, or character ones.

    Character shingles are taken over the text with every run of non-word bytes turned into
    one space, so layout and punctuation changes do not change them.
    """
    return shingles_and_numbers(texts, ngram=ngram, kind=kind, numbers=False)[0]


def number_batch(texts: Sequence[str]) -> ShingleBatch:
    """Hashes of the tokens holding a digit (``1987``, ``3.5`` gives ``3`` and ``5``), per text,
    each once. Two reports from one template share their words but not their figures."""
    return shingles_and_numbers(texts, ngram=1, kind="word", numbers=True)[1]


def shingles_and_numbers(
    texts: Sequence[str], *, ngram: int = DEFAULT_NGRAM, kind: str = "word", numbers: bool = True
) -> tuple[ShingleBatch, ShingleBatch]:
    """Shingles (as :func:`shingle_batch`) and, in the same pass, the number tokens (unique)."""
    if kind not in SHINGLE_KINDS:
        raise ValueError(f"shingle kind must be one of {SHINGLE_KINDS}, got {kind!r}")
    batch = encode_batch(texts)
    n_docs = len(texts)
    starts, ends = token_spans(batch.data)
    token_hash = PrefixHash(batch.data).slice_hash(starts, ends)
    doc = batch.doc_of(starts)
    if kind == "word":
        hashes, doc_of = combine_ngrams(token_hash, doc, ngram)
    else:
        hashes, doc_of = _char_shingles(batch.data, batch.doc_of, ngram)
    shingles = ShingleBatch(hashes, _offsets(np.bincount(doc_of, minlength=n_docs)))
    nums = _empty(n_docs)
    if numbers and len(starts):
        # Digits are word bytes: each digit lies in the last token starting at or before it.
        digit_at = np.flatnonzero((batch.data - np.uint8(0x30)) <= np.uint8(9))
        has_digit = np.zeros(len(starts), dtype=bool)
        has_digit[np.searchsorted(starts, digit_at, side="right") - 1] = True
        counts = np.bincount(doc[has_digit], minlength=n_docs)
        nums = ShingleBatch(token_hash[has_digit], _offsets(counts)).unique()
    return shingles, nums


def shingle_sets(
    texts: Sequence[str] | ByteBatch, *, ngram: int = DEFAULT_NGRAM, kind: str = "word"
) -> tuple[ShingleBatch, ShingleBatch]:
    """Each text's distinct shingles and distinct number tokens: :func:`shingles_and_numbers`
    followed by ``unique()``, word shingles in one compiled pass (:mod:`dedup.compiled`).

    ``texts`` may come encoded already, as ``encode_batch(texts, fold_ascii=False)`` gives
    them (by :mod:`dedup.io.prefetch`); only the compiled pass takes them so.
    """
    encoded = isinstance(texts, ByteBatch)
    if kind != "word" or not compiled.enabled():
        if encoded:
            raise ValueError("encoded texts need the compiled word shingler")
        shingles, numbers = shingles_and_numbers(texts, ngram=ngram, kind=kind)
        return shingles.unique(), numbers
    check_ngram(ngram)
    batch = lower_multibyte(texts if encoded else encode_batch(texts, fold_ascii=False))
    hashes, offsets, numbers, number_offsets = compiled.word_sets(
        batch.data, batch.starts, batch.ends, ngram
    )
    return ShingleBatch(hashes, offsets), ShingleBatch(numbers, number_offsets)


def _empty(n_docs: int) -> ShingleBatch:
    return ShingleBatch(np.empty(0, dtype=np.uint64), np.zeros(n_docs + 1, np.int64))


def _char_shingles(data: np.ndarray, doc_of, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every ``k``-byte window of the space-normalized text of each document."""
    mask = word_mask(data)
    sep = data == 0
    # Collapse runs of non-word bytes to a single space; keep the NUL separators.
    keep = mask | sep
    keep[1:] |= ~mask[1:] & mask[:-1] & ~sep[1:]
    norm = np.where(mask | sep, data, np.uint8(32))[keep]
    positions = np.flatnonzero(keep)
    # No space at the edges of a text: "hello, world!" and "hello world" give the same shingles.
    space = norm == 32
    edge = np.zeros(len(norm), dtype=bool)
    edge[:-1] |= space[:-1] & (norm[1:] == 0)
    edge[1:] |= space[1:] & (norm[:-1] == 0)
    if len(norm):
        edge[0] |= space[0]
        edge[-1] |= space[-1]
    norm, positions = norm[~edge], positions[~edge]
    if len(norm) < k:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    starts = np.arange(len(norm) - k + 1)
    window_has_sep = np.convolve((norm == 0).astype(np.int8), np.ones(k, dtype=np.int8), "valid")
    starts = starts[window_has_sep == 0]
    hashes = PrefixHash(norm).slice_hash(starts, starts + k)
    return hashes, doc_of(positions[starts])
