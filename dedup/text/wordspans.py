"""Word tokens of texts as *character* spans, with one 64-bit hash per token, vectorized.

The shingle stages only need hashes; a step that removes text needs to know where each token
stands in the string the user gave us. This module tokenizes like :mod:`dedup.text.tokenize`
(runs of letters and digits; punctuation, quotes and spaces separate tokens, so the glued
``September."Some`` gives ``september`` and ``some``), and also cuts where a lower-case ASCII
letter is directly followed by an upper-case one (``IraqThe`` gives ``iraq`` and ``the``), the
way scrapers glue a heading to the next block. Hashes are case-folded; offsets are character
offsets into each original text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedup.text.hashing import PrefixHash
from dedup.text.tokenize import word_mask

_UPPER = np.zeros(256, dtype=bool)
_UPPER[ord("A") : ord("Z") + 1] = True
_LOWER = np.zeros(256, dtype=bool)
_LOWER[ord("a") : ord("z") + 1] = True
_STOP = np.zeros(256, dtype=bool)  # bytes that end a sentence or a line
for _c in b".!?\n":
    _STOP[_c] = True


@dataclass(frozen=True)
class WordSpans:
    """Tokens of several texts; text ``i`` owns tokens ``offsets[i]:offsets[i + 1]``.

    ``starts``/``ends`` are character offsets into that text (``text[starts[j]:ends[j]]`` is
    token ``j``); ``hashes`` are equal for tokens equal up to case; ``numeric`` marks tokens of
    digits only. ``breaks`` holds ``n_tokens + 1`` values per text (text ``i``'s are
    ``breaks[offsets[i] + i : offsets[i + 1] + i + 1]``): True where a sentence ends or a line
    breaks before the token (``.``, ``!``, ``?``, ``…``, a newline), and at both ends.
    """

    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, length n_texts + 1
    numeric: np.ndarray  # bool: the token is all digits
    breaks: np.ndarray  # bool, per text n_tokens + 1: a sentence break before each token, at end

    @property
    def n_texts(self) -> int:
        return len(self.offsets) - 1

    def text_of(self) -> np.ndarray:
        """Index of the text every token belongs to."""
        return np.repeat(np.arange(self.n_texts), np.diff(self.offsets))

    def of(self, i: int) -> WordSpans:
        """The tokens of text ``i`` alone."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return WordSpans(
            self.starts[lo:hi],
            self.ends[lo:hi],
            self.hashes[lo:hi],
            np.array([0, hi - lo], dtype=np.int64),
            self.numeric[lo:hi],
            self.breaks[lo + i : hi + i + 1],
        )


def _encode(text: str) -> tuple[bytes, bytes]:
    """UTF-8 bytes of ``text`` and of its case-folded form, byte for byte aligned.

    ``str.lower`` is used when it keeps every character's UTF-8 length (nearly always);
    otherwise only ASCII letters are folded, so the token offsets stay valid.
    """
    raw = text.encode("utf-8", "replace")
    low = text.lower().encode("utf-8", "replace")
    if len(low) != len(raw):
        low = raw.lower()  # bytes.lower folds ASCII only
    return raw, low


def word_spans(texts: Sequence[str]) -> WordSpans:
    """Tokenize ``texts`` in one numpy pass: character spans and case-folded token hashes."""
    pairs = [_encode(t) for t in texts]
    lengths = np.fromiter((len(r) for r, _ in pairs), dtype=np.int64, count=len(pairs))
    byte_starts = np.zeros(len(pairs), dtype=np.int64)
    if len(pairs) > 1:
        byte_starts[1:] = np.cumsum(lengths[:-1] + 1)
    raw = np.frombuffer(b"\x00".join(r for r, _ in pairs), dtype=np.uint8)
    low = np.frombuffer(b"\x00".join(lo for _, lo in pairs), dtype=np.uint8)
    mask = word_mask(raw)
    padded = np.concatenate(([False], mask, [False]))
    # A token also ends where a lower-case ASCII letter meets an upper-case one ("IraqThe").
    camel = np.zeros(len(raw) + 1, dtype=bool)
    if len(raw) > 1:
        camel[1:-1] = _LOWER[raw[:-1]] & _UPPER[raw[1:]]
    begins = np.flatnonzero((padded[1:] & ~padded[:-1]) | (camel & padded[1:]))
    finishes = np.flatnonzero((~padded[1:] & padded[:-1]) | (camel & padded[:-1]))
    # Character offset of every byte position: count the bytes that start a character.
    lead = (raw & 0xC0) != 0x80
    chars = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum(lead, out=chars[1:])
    owner = np.searchsorted(byte_starts, begins, side="right") - 1
    base = chars[byte_starts]
    hashes = PrefixHash(low).slice_hash(begins, finishes) if len(begins) else np.empty(0, np.uint64)
    stop = _STOP[raw]
    if len(raw) >= 3:  # the ellipsis, U+2026: E2 80 A6
        stop[:-2] |= (raw[:-2] == 0xE2) & (raw[1:-1] == 0x80) & (raw[2:] == 0xA6)
    stops = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum(stop, out=stops[1:])
    breaks = _breaks(stops, begins, finishes, owner, byte_starts)
    digits = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum((raw >= 0x30) & (raw <= 0x39), out=digits[1:])
    counts = np.bincount(owner, minlength=len(pairs))
    offsets = np.zeros(len(pairs) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return WordSpans(
        starts=chars[begins] - base[owner],
        ends=chars[finishes] - base[owner],
        hashes=hashes,
        offsets=offsets,
        numeric=digits[finishes] - digits[begins] == finishes - begins,
        breaks=breaks,
    )


def _breaks(
    stops: np.ndarray,
    begins: np.ndarray,
    finishes: np.ndarray,
    owner: np.ndarray,
    text_starts: np.ndarray,
) -> np.ndarray:
    """Per text, a flag before every token and one at the end: a sentence break there?"""
    n_texts = len(text_starts)
    out = np.ones(len(begins) + n_texts, dtype=bool)  # text starts and ends are breaks
    if len(begins):
        slot = np.arange(len(begins)) + owner  # token j of text i sits at j + i
        first = np.r_[True, owner[1:] != owner[:-1]]
        prev_end = np.where(first, text_starts[owner], np.r_[0, finishes[:-1]])
        out[slot] = first | (stops[begins] > stops[prev_end])
    return out
