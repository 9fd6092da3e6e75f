"""The audit record: what ``clean`` removed from every document, and how to undo it.

``dedup clean`` writes one audit line per input document, in input order:

- kept: ``{"id", "dropped": false, "removals": [{"start", "end", "reason", "text", "evidence"}]}``
  where ``start``/``end`` are character offsets into the *original* text;
- dropped: ``{"id", "dropped": true, "reason", "keeper", "similarity", "removals": [...],
  "record": <the whole input object>}``;
- a skipped input line (``--on-error skip``): ``{"skipped": true, "where", "reason"}``.

From the cleaned output and this record, :func:`restore` rebuilds the original documents
exactly (the invariant the tests check with random texts and spans).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from dedup.errors import InputError
from dedup.io.readers import open_binary
from dedup.io.records import DEFAULT_ID_FIELD, DEFAULT_TEXT_FIELD


def rebuild_text(cleaned: str, removals: Sequence[dict[str, Any]]) -> str:
    """Put the removed spans back into ``cleaned``: the original text.

    ``removals`` must not overlap (the cleaner guarantees it); their offsets refer to the
    original text, so each span goes back where it started.
    """
    pieces: list[str] = []
    pos_orig = pos_clean = 0
    for r in sorted(removals, key=lambda r: r["start"]):
        keep = r["start"] - pos_orig
        if keep < 0:
            raise ValueError(f"overlapping removals at offset {r['start']}")
        pieces.append(cleaned[pos_clean : pos_clean + keep])
        pieces.append(r["text"])
        pos_clean += keep
        pos_orig = r["end"]
    pieces.append(cleaned[pos_clean:])
    return "".join(pieces)


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Objects of a JSONL file (plain, .gz or .zst), with file:line in any error."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                yield json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InputError(f"{path}:{lineno}: not a JSON line ({exc})") from None


def restore(
    output: Iterable[dict[str, Any]],
    audit: Iterable[dict[str, Any]],
    *,
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str = DEFAULT_ID_FIELD,
) -> Iterator[dict[str, Any]]:
    """The original documents, in input order, from the cleaned ``output`` and its ``audit``."""
    kept = iter(output)
    for entry in audit:
        if entry.get("skipped"):
            continue
        if entry.get("dropped"):
            yield entry["record"]
            continue
        try:
            doc = next(kept)
        except StopIteration:
            raise InputError(f"output ends before document {entry['id']!r} of the record") from None
        found = str(doc.get(id_field, entry["id"]))
        if found != str(entry["id"]):
            raise InputError(f"output has {found!r} where the record has {entry['id']!r}")
        if entry["removals"]:
            doc = dict(doc)
            doc[text_field] = rebuild_text(doc[text_field], entry["removals"])
        yield doc
    if next(kept, None) is not None:
        raise InputError("output holds more documents than the record")
