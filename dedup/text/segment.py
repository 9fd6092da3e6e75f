"""Segment a document into blocks with character offsets: lines, paragraphs or sentences.

Every block is a ``(start, end)`` span of the original text, stripped of surrounding
whitespace, so a removal recorded on a block points into the text the user gave us. Sentence
splitting also cuts where two sentences were glued without a space (``September."Some time``,
``election.With``), the way scrapers join blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets), then either
# whitespace or, glued, an upper-case letter or an opening quote.
_SENTENCE_END = re.compile(
    r"""[.!?…]+["'”’)\]]*(?=\s+|["“‘(]?[A-Z])""",
)
_NEWLINE = re.compile(r"\n")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "gen",
        "col",
        "lt",
        "sgt",
        "rep",
        "sen",
        "gov",
        "u.s",
        "e.g",
        "i.e",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "fig",
    ]
)


@dataclass(frozen=True)
class Block:
    """A span ``text[start:end]`` of a document."""

    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start : self.end]


def _stripped(text: str, start: int, end: int) -> Block | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Block(start, end) if end > start else None


def _split_at(text: str, cuts: list[int], start: int = 0, end: int | None = None) -> list[Block]:
    end = len(text) if end is None else end
    blocks = []
    bounds = [start, *cuts, end]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        block = _stripped(text, lo, hi)
        if block is not None:
            blocks.append(block)
    return blocks


def lines(text: str) -> list[Block]:
    """Non-blank lines."""
    cuts = [m.end() for m in _NEWLINE.finditer(text)]
    return _split_at(text, cuts)


def paragraphs(text: str) -> list[Block]:
    """Runs of lines separated by blank lines."""
    cuts = [m.start() for m in _BLANK_LINE.finditer(text)]
    return _split_at(text, cuts)


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Block]:
    """Sentences of ``text[start:end]``, also cut at glued boundaries and at newlines."""
    end = len(text) if end is None else end
    cuts: list[int] = []
    for m in _SENTENCE_END.finditer(text, start, end):
        word = re.search(r"(\S+)$", text[max(start, m.start() - 12) : m.start() + 1])
        if (
            word
            and m.group(0).startswith(".")
            and word.group(1).rstrip(".").lower() in (_ABBREVIATIONS)
        ):
            continue
        cuts.append(m.end())
    cuts.extend(m.end() for m in _NEWLINE.finditer(text, start, end))
    return _split_at(text, sorted({c for c in cuts if start < c < end}), start, end)
