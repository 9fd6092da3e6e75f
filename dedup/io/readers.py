"""Streaming readers: JSONL (plain, ``.gz``, ``.zst``), ``.txt`` files, directories of them, stdin.

Every problem is reported as one line naming the file and line; with ``on_error="skip"`` the
offending line is skipped and listed in :class:`ReadStats` instead, never dropped silently.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from dedup.errors import InputError
from dedup.io.records import (
    DEFAULT_ID_FIELD,
    DEFAULT_SITE_FIELD,
    DEFAULT_TEXT_FIELD,
    Record,
    record_from_dict,
)

ON_ERROR = ("raise", "skip")
DEFAULT_MAX_CHARS = 16_000_000  # longer "documents" are dumps, not pages: refused, not hashed
TEXT_SUFFIXES = (".txt",)
_BAD = object()  # a line that is not JSON (already reported)
_READ_BUFFER = 1 << 20  # bytes read at once: JSONL lines of a few KB take one read, not several


def _maybe_big_int(value: object) -> bool:
    return type(value) is float and abs(value) >= 2.0**63


@dataclass
class ReadStats:
    """What a reader saw: documents read and lines skipped (with where and why)."""

    documents: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading bytes, decompressing ``.gz``/``.zst`` by extension."""
    if path.suffix == ".gz":
        return io.BufferedReader(gzip.open(path, "rb"), buffer_size=_READ_BUFFER)
    if path.suffix == ".zst":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # noqa: SIM115
        return io.BufferedReader(raw, buffer_size=_READ_BUFFER)
    return open(path, "rb", buffering=_READ_BUFFER)


def require_pyarrow():
    """pyarrow (with its parquet module), or an error that says how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("Parquet needs pyarrow: pip install 'dedup[parquet]'") from None
    return pyarrow


def is_text_path(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES


class RecordReader:
    """Read records from a path (file, directory, Parquet or ``-``), checking ids are unique.

    Parameters mirror the CLI options; ``stats`` collects counts and skips. Documents longer
    than ``max_chars`` are refused (or skipped) with their file and line.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        text_field: str = DEFAULT_TEXT_FIELD,
        id_field: str = DEFAULT_ID_FIELD,
        site_field: str = DEFAULT_SITE_FIELD,
        on_error: str = "raise",
        max_chars: int | None = DEFAULT_MAX_CHARS,
    ) -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        self.path = str(path)
        self.text_field = text_field
        self.id_field = id_field
        self.site_field = site_field
        self.on_error = on_error
        self.max_chars = max_chars
        self.stats = ReadStats()

    def check(self) -> None:
        """Fail early, before any work, when the input does not exist."""
        if self.path != "-" and not Path(self.path).exists():
            raise InputError(f"{self.path}: no such file or directory")

    def __iter__(self) -> Iterator[Record]:
        self.check()
        self.stats = ReadStats()
        seen: set[str] = set()
        for record in self._records():
            if record.id in seen:
                self._problem(record.source, f"duplicate id {record.id!r}")
                continue
            seen.add(record.id)
            self.stats.documents += 1
            yield record

    def _problem(self, where: str, message: str) -> None:
        if self.on_error == "raise":
            raise InputError(f"{where}: {message}")
        self.stats.skipped.append({"where": where, "reason": message})

    def _records(self) -> Iterator[Record]:
        if self.path == "-":
            yield from self._jsonl(sys.stdin.buffer, "<stdin>")
            return
        path = Path(self.path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and is_text_path(p))
            for file in files:
                yield from self._text_file(file, file.relative_to(path).as_posix())
        elif is_text_path(path):
            yield from self._text_file(path, path.name)
        elif path.suffix == ".parquet":
            yield from self._parquet(path)
        else:
            try:
                with open_binary(path) as fh:
                    yield from self._jsonl(fh, str(path))
            except OSError as exc:  # e.g. a corrupt gzip stream
                raise InputError(f"{path}: cannot read: {exc}") from None

    def _parquet(self, path: Path) -> Iterator[Record]:
        pq = require_pyarrow().parquet
        try:
            table = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own error types for bad files
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
        row = 0
        for batch in table.iter_batches(batch_size=1024):
            for obj in batch.to_pylist():
                row += 1
                try:
                    yield self._checked(
                        record_from_dict(
                            obj,
                            default_id=str(row),
                            text_field=self.text_field,
                            id_field=self.id_field,
                            site_field=self.site_field,
                            where=f"{path}:row {row}",
                        )
                    )
                except InputError as exc:
                    self._problem(f"{path}:row {row}", str(exc).split(": ", 1)[1])

    def _checked(self, record: Record) -> Record:
        if self.max_chars and len(record.text) > self.max_chars:
            raise InputError(
                f"{record.source}: document of {len(record.text):,} characters is longer than "
                f"the limit of {self.max_chars:,} (--max-chars)"
            )
        return record

    def _text_file(self, path: Path, doc_id: str) -> Iterator[Record]:
        where = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{where}: cannot read: {exc.strerror}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self._problem(f"{where}:{line}", f"not valid UTF-8 (byte {exc.start})")
            return
        try:
            yield self._checked(
                Record(id=doc_id, text=text, fields={"id": doc_id, "text": text}, source=where)
            )
        except InputError as exc:
            self._problem(where, str(exc).split(": ", 1)[1])

    def _slow_json(self, raw: bytes, where: str) -> object:
        """Parse a line the fast parser refused with the standard one: it accepts what JSON
        in Python does (lone surrogates, NaN, huge integers) and says precisely what is wrong
        with the rest (reported; ``_BAD`` returned)."""
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            self._problem(where, f"not valid UTF-8 (column {exc.start + 1})")
            return _BAD
        try:
            return json.loads(line)
        except json.JSONDecodeError as exc:
            self._problem(where, f"malformed JSON: {exc.msg} (column {exc.colno})")
        except RecursionError:
            self._problem(where, "malformed JSON: nested too deeply")
        return _BAD

    def _jsonl(self, fh: IO[bytes], name: str) -> Iterator[Record]:
        stream = io.BufferedReader(fh, _READ_BUFFER) if not hasattr(fh, "peek") else fh
        for lineno, raw in enumerate(stream, start=1):
            where = f"{name}:{lineno}"
            if raw.isspace() or not raw:
                continue
            try:
                obj = orjson.loads(raw)  # the fast path; problems are explained by the slow one
                if isinstance(obj, dict) and any(map(_maybe_big_int, obj.values())):
                    obj = json.loads(raw)  # orjson reads integers past 64 bits as floats
            except orjson.JSONDecodeError:
                obj = self._slow_json(raw, where)
                if obj is _BAD:
                    continue
            if not isinstance(obj, dict):
                self._problem(where, f"expected a JSON object, got {type(obj).__name__}")
                continue
            try:
                yield self._checked(
                    record_from_dict(
                        obj,
                        default_id=str(lineno),
                        text_field=self.text_field,
                        id_field=self.id_field,
                        site_field=self.site_field,
                        where=where,
                    )
                )
            except InputError as exc:
                self._problem(where, str(exc).split(": ", 1)[1])
