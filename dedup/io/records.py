"""The record every stage sees, and the conversion of API inputs (strings, dicts, Series) to it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dedup.errors import InputError

DEFAULT_TEXT_FIELD = "text"
DEFAULT_ID_FIELD = "id"
DEFAULT_SITE_FIELD = "site"
URL_FIELD = "url"


@dataclass
class Record:
    """One document: its id, text, site (``None`` = the corpus's default site) and all fields."""

    id: str
    text: str
    site: str | None = None
    fields: dict[str, Any] | None = None
    source: str = field(default="", compare=False)  # "file:line" for error messages


def host_of(url: Any) -> str | None:
    """Host of a URL without ``www.``, or ``None``."""
    if not isinstance(url, str) or not url:
        return None
    host = urlsplit(url if "//" in url else "//" + url).hostname
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def record_from_dict(
    obj: dict[str, Any],
    *,
    default_id: str,
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str = DEFAULT_ID_FIELD,
    site_field: str = DEFAULT_SITE_FIELD,
    where: str = "",
) -> Record:
    """Build a record from a JSON object; the site falls back to the host of ``url``."""
    if text_field not in obj:
        found = ", ".join(sorted(map(str, obj))[:8]) or "none"
        raise InputError(f"{where}: no {text_field!r} field (fields: {found}); see --text-field")
    text = obj[text_field]
    if not isinstance(text, str):
        raise InputError(f"{where}: field {text_field!r} is {type(text).__name__}, not a string")
    raw_id = obj.get(id_field)
    doc_id = default_id if raw_id is None else str(raw_id)
    site = obj.get(site_field)
    site = str(site) if site not in (None, "") else host_of(obj.get(URL_FIELD))
    return Record(id=doc_id, text=text, site=site, fields=obj, source=where)


def as_records(
    docs: Any,
    *,
    text_field: str = DEFAULT_TEXT_FIELD,
    id_field: str = DEFAULT_ID_FIELD,
    site_field: str = DEFAULT_SITE_FIELD,
) -> Iterator[Record]:
    """Records from a list of strings, an iterable of dicts/records, or a pandas Series/DataFrame.

    Strings get their position as id (a Series its index); dicts are read like JSONL lines.
    """
    if isinstance(docs, str | bytes):
        raise TypeError("an iterable of documents is expected, got a single string")
    if hasattr(docs, "to_dict") and hasattr(docs, "columns"):  # pandas DataFrame
        docs = docs.to_dict(orient="records")
    elif hasattr(docs, "items") and hasattr(docs, "index"):  # pandas Series
        docs = ({id_field: str(k), text_field: v} for k, v in docs.items())
    for i, doc in enumerate(_iter(docs)):
        where = f"document {i}"
        if isinstance(doc, Record):
            yield doc
        elif isinstance(doc, str):
            yield Record(id=str(i), text=doc, source=where)
        elif isinstance(doc, dict):
            yield record_from_dict(
                doc,
                default_id=str(i),
                text_field=text_field,
                id_field=id_field,
                site_field=site_field,
                where=where,
            )
        else:
            raise InputError(f"{where}: expected a string or a dict, got {type(doc).__name__}")


def _iter(docs: Any) -> Iterable[Any]:
    try:
        return iter(docs)
    except TypeError:
        kind = type(docs).__name__
        raise TypeError(f"an iterable of documents is expected, got {kind}") from None


def batched(records: Iterable[Record], max_chars: int) -> Iterator[list[Record]]:
    """Consecutive groups of records holding about ``max_chars`` characters of text."""
    batch: list[Record] = []
    size = 0
    for record in records:
        batch.append(record)
        size += len(record.text) + 1
        if size >= max_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
