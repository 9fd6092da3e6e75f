"""Word tokens of a batch of texts as byte spans, found with numpy instead of a regex per text.

A token is a run of word bytes: ASCII letters and digits, and any non-ASCII character except
the common punctuation and spaces of U+0080-U+00BF and U+2000-U+206F (curly quotes, dashes,
no-break spaces, ellipses), so ``don’t`` and ``don't`` give the same tokens. Texts are
lower-cased first: shingles ignore case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True  # UTF-8 lead and continuation bytes: letters of other scripts


_ASCII_LOWER = np.arange(256, dtype=np.uint8)
_ASCII_LOWER[ord("A") : ord("Z") + 1] += 32


@dataclass(frozen=True)
class ByteBatch:
    """Lower-cased UTF-8 bytes of several texts joined by a NUL separator.

    ``starts[i]:ends[i]`` is text ``i``; the separator keeps tokens from crossing texts.
    """

    data: np.ndarray  # uint8
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    # True once the non-ASCII characters are lower-cased
    # (:func:`dedup.text.casefold.lower_multibyte`), where the bytes were made.
    lowered: bool = False

    def doc_of(self, positions: np.ndarray) -> np.ndarray:
        """Index of the text each byte position belongs to (``positions`` ascending)."""
        # One search per text, not one per position: positions outnumber texts a thousandfold.
        counts = np.diff(np.append(np.searchsorted(positions, self.starts), len(positions)))
        return np.repeat(np.arange(len(self.starts)), counts)


def encode_batch(
    texts: Sequence[str], *, lowercase: bool = True, fold_ascii: bool = True
) -> ByteBatch:
    """Join ``texts`` into one byte array (lower-cased, NUL-separated) with their offsets.

    ``fold_ascii=False`` leaves the case of every text as it is, for a consumer that folds
    it itself (the compiled shingler: ASCII letters as it reads the bytes, the other
    characters with :func:`dedup.text.casefold.lower_multibyte` before).
    """
    # ASCII texts are lower-cased below on the bytes (no GIL held, so worker threads run in
    # parallel); the others by Python, which knows every script's case.
    fold = lowercase and fold_ascii
    parts = [
        (t if not fold or t.isascii() else t.lower()).encode("utf-8", "replace") for t in texts
    ]
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    starts = np.zeros(len(parts), dtype=np.int64)
    if len(parts) > 1:
        starts[1:] = np.cumsum(lengths[:-1] + 1)
    data = np.frombuffer(bytearray(b"\x00").join(parts), dtype=np.uint8)  # writable
    if fold:
        data = _ASCII_LOWER[data]
    return ByteBatch(data=data, starts=starts, ends=starts + lengths)


def word_mask(data: np.ndarray) -> np.ndarray:
    """True at bytes that belong to a word; multi-byte punctuation is blanked out."""
    mask = _WORD_BYTE[data]
    n = len(data)
    if n >= 2:
        # U+0080-U+00BF: C2 80..C2 BF (no-break space, guillemets, inverted marks, symbols).
        lead = np.flatnonzero(data[:-1] == 0xC2)
        lead = lead[(data[lead + 1] >= 0x80) & (data[lead + 1] <= 0xBF)]
        mask[lead] = False
        mask[lead + 1] = False
    if n >= 3:
        # U+2000-U+206F: E2 80..81 xx (spaces, dashes, quotes, bullets, ellipsis).
        lead = np.flatnonzero(data[:-2] == 0xE2)
        lead = lead[(data[lead + 1] == 0x80) | (data[lead + 1] == 0x81)]
        mask[lead] = False
        mask[lead + 1] = False
        mask[lead + 2] = False
    return mask


def token_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end byte offsets of every word token in ``data``."""
    mask = word_mask(data)
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[0::2], edges[1::2]
