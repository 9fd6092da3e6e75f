"""A page as the boilerplate stages see it: blocks (lines, or sentences of a one-line page)
and word tokens with character offsets, digits folded so ``1 hour ago`` matches ``3 hours``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import xxhash

from dedup.groups import sorted_unique
from dedup.text.hashing import combine_ngrams
from dedup.text.segment import lines, sentences
from dedup.text.wordspans import word_spans

NGRAM = 3  # word n-grams counted across a site's pages
PREFIXES = (1, 2, 3)  # block prefixes (in tokens) counted across a site's pages
_NUMBER_HASH = np.uint64(0x9E3779B97F4A7C15)
ONE_LINE_MAX_LINES = 2  # pages with this many lines or fewer are split into sentences


@cache
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (imported on first use: it takes a second)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _hash(s: str) -> int:
    return xxhash.xxh3_64_intdigest(s.encode("utf-8", "surrogatepass"))


@dataclass
class Page:
    """Blocks and tokens of one page; every span is a character span of ``text``."""

    text: str
    blocks: np.ndarray  # (n_blocks, 2) int64 start, end
    tok_start: np.ndarray  # int64
    tok_end: np.ndarray  # int64
    tok_hash: np.ndarray  # uint64, case-folded, every number the same
    tok_block: np.ndarray  # int64 block of every token (-1: none)
    one_line: bool

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    @cached_property
    def words(self) -> list[str]:
        """Case-folded tokens, numbers as ``0``."""
        text = self.text
        return [
            "0" if text[s:e].isdigit() else text[s:e].lower()
            for s, e in zip(self.tok_start.tolist(), self.tok_end.tolist(), strict=True)
        ]

    @cached_property
    def block_tokens(self) -> np.ndarray:
        """``(n_blocks + 1)`` offsets: block ``b`` owns tokens ``[o[b], o[b + 1])``."""
        counts = np.bincount(self.tok_block[self.tok_block >= 0], minlength=self.n_blocks)
        out = np.zeros(self.n_blocks + 1, dtype=np.int64)
        np.cumsum(counts, out=out[1:])
        return out

    @cached_property
    def normalized(self) -> list[str]:
        """Each block as its folded tokens joined by spaces (empty for a block of symbols)."""
        words, o = self.words, self.block_tokens
        return [" ".join(words[o[b] : o[b + 1]]) for b in range(self.n_blocks)]

    @cached_property
    def block_keys(self) -> np.ndarray:
        """A 64-bit key per block of its normalized text (0 for a block without words)."""
        return np.array([_hash(s) if s else 0 for s in self.normalized], dtype=np.uint64).reshape(
            -1
        )

    @cached_property
    def prefix_keys(self) -> np.ndarray:
        """``(n_blocks, len(PREFIXES))`` keys of each block's first k tokens and the character
        after them when it is punctuation (``read:``); 0 when the block has k tokens or fewer."""
        words, o, text = self.words, self.block_tokens, self.text
        out = np.zeros((self.n_blocks, len(PREFIXES)), dtype=np.uint64)
        ends = self.tok_end.tolist()
        for b in range(self.n_blocks):
            n = o[b + 1] - o[b]
            for j, k in enumerate(PREFIXES):
                if n <= k:  # a block of exactly k tokens is counted as a whole block
                    continue
                head = " ".join(words[o[b] : o[b] + k])
                after = text[ends[o[b] + k - 1] : ends[o[b] + k - 1] + 1]
                mark = after if after and not after.isalnum() and not after.isspace() else ""
                out[b, j] = _hash(f"{k}\x00{head}{mark}")
        return out

    @cached_property
    def ngram_keys(self) -> np.ndarray:
        """Key of the word n-gram starting at every token (the last n-1 share the last key)."""
        m = len(self.tok_hash)
        if m == 0:
            return np.empty(0, dtype=np.uint64)
        grams, _ = combine_ngrams(self.tok_hash, np.zeros(m, dtype=np.int64), NGRAM)
        out = np.empty(m, dtype=np.uint64)
        out[: len(grams)] = grams
        out[len(grams) :] = grams[-1]
        return out

    @cached_property
    def fingerprint(self) -> int:
        """Equal for pages with the same tokens: a page crawled twice counts once."""
        return _hash(" ".join(self.words))


def split_page(text: str) -> Page:
    """Blocks and tokens of ``text``: its lines, or its sentences when it has one or two."""
    found = lines(text)
    one_line = len(found) <= ONE_LINE_MAX_LINES
    if one_line:
        found = [s for line in found for s in sentences(text, line.start, line.end)]
    blocks = np.array([(b.start, b.end) for b in found], dtype=np.int64).reshape(-1, 2)
    spans = word_spans([text])
    hashes = np.where(spans.numeric, _NUMBER_HASH, spans.hashes)
    tok_block = np.searchsorted(blocks[:, 0], spans.starts, side="right") - 1
    inside = (tok_block >= 0) & (spans.ends <= blocks[np.maximum(tok_block, 0), 1])
    tok_block = np.where(inside, tok_block, -1)
    keep = tok_block >= 0
    return Page(
        text=text,
        blocks=blocks,
        tok_start=spans.starts[keep],
        tok_end=spans.ends[keep],
        tok_hash=hashes[keep],
        tok_block=tok_block[keep],
        one_line=one_line,
    )


def resplit(page: Page, cuts: np.ndarray) -> Page:
    """The same page with blocks also cut before the tokens at indices ``cuts``."""
    if len(cuts) == 0:
        return page
    starts = sorted_unique(np.concatenate([page.blocks[:, 0], page.tok_start[cuts]]), in_place=True)
    ends = page.blocks[np.searchsorted(page.blocks[:, 0], starts, side="right") - 1, 1]
    ends[:-1] = np.minimum(ends[:-1], starts[1:])
    text = page.text
    for i in range(len(ends)):
        while ends[i] > starts[i] and text[ends[i] - 1].isspace():
            ends[i] -= 1
    blocks = np.stack([starts, ends], axis=1)
    tok_block = np.searchsorted(starts, page.tok_start, side="right") - 1
    return Page(
        text=text,
        blocks=blocks,
        tok_start=page.tok_start,
        tok_end=page.tok_end,
        tok_hash=page.tok_hash,
        tok_block=tok_block,
        one_line=page.one_line,
    )
