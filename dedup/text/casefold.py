"""Lower-case the non-ASCII characters of encoded texts on their UTF-8 bytes, as ``str.lower``.

``str.lower`` on a text with any non-ASCII character costs about 5 ns per character and
holds the GIL: on web text (a quarter of the pages, a third of the bytes) it was the largest
part of reading the input. Almost every character's lower case is one character of the
same UTF-8 length, so a table lets a compiled loop rewrite the bytes in place, without the
GIL. The few others (``İ`` becomes two characters, ``Σ`` depends on its neighbours, the
Kelvin sign shrinks to ``k``) send their text to ``str.lower``: the bytes are always exactly
``text.lower().encode()``'s.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from dedup import compiled
from dedup.text.tokenize import ByteBatch, encode_batch

_SPECIAL = np.uint32(0xFFFFFFFF)  # in the table: this character's text goes to str.lower
_FINAL_SIGMA = 0x03A3  # lower-cases to σ or ς depending on the letters around it


@lru_cache(maxsize=1)
def lower_tables() -> tuple[np.ndarray, np.ndarray]:
    """``(bmp, astral)``: for each code point below U+10000 its lower case (``_SPECIAL`` when
    that is not one character of the same UTF-8 length); for each code point above, True
    when it has a different lower case (those texts go to ``str.lower``)."""
    bmp = np.arange(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        c = chr(cp)
        low = c.lower()
        if low == c:
            continue
        same = len(low) == 1 and len(low.encode("utf-8", "surrogatepass")) == len(
            c.encode("utf-8", "surrogatepass")
        )
        bmp[cp] = ord(low) if same and cp != _FINAL_SIGMA else _SPECIAL
    points = np.arange(0x10000, 0x110000, dtype=np.uint32)
    chars = points.tobytes().decode("utf-32-le")  # every astral character, in one string
    lowered = chars.lower()
    if len(lowered) == len(chars):
        astral = np.frombuffer(lowered.encode("utf-32-le"), np.uint32) != points
    else:  # a future Unicode expands one: every cased astral text goes to str.lower
        astral = np.array([chr(cp).lower() != chr(cp) for cp in points.tolist()])
    return bmp, astral


def lower_multibyte(batch: ByteBatch) -> ByteBatch:
    """``batch`` with the non-ASCII characters of every text lower-cased (in place where the
    bytes keep their length; ASCII letters are left to the consumer). A batch ``lowered``
    already is returned as it is."""
    if batch.lowered:
        return batch
    bmp, astral = lower_tables()
    data = batch.data if batch.data.flags.writeable else batch.data.copy()
    special = compiled.fold_multibyte(data, batch.starts, batch.ends, bmp, astral)
    if not special.any():
        return ByteBatch(data, batch.starts, batch.ends, lowered=True)
    texts = []
    for i, (lo, hi) in enumerate(zip(batch.starts.tolist(), batch.ends.tolist(), strict=True)):
        text = data[lo:hi].tobytes().decode("utf-8")
        texts.append(text.lower() if special[i] else text)
    return replace(encode_batch(texts, fold_ascii=False), lowered=True)
