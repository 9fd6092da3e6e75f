"""Atomic writers, JSONL (plain, ``.gz``, ``.zst``) and Parquet: write to a temp file, rename
at the end.

An interrupted run leaves no partial output; an existing output is refused unless ``force``;
the input itself is never overwritten.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

import orjson

from dedup.errors import OutputError


def _dumps(obj: Any, newline: bool = False) -> bytes:
    """``obj`` as compact JSON, non-ASCII characters as they are (``newline``: with one)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE if newline else None)
    except (orjson.JSONEncodeError, TypeError):  # integers past 64 bits, non-string keys
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return (text + "\n" if newline else text).encode("utf-8")


def encode_values(values: Sequence[Any]) -> list[bytes]:
    """Each value JSON-encoded as :func:`_dumps` encodes it, for
    :meth:`JsonlWriter.write_columns`.

    Floats take one ``orjson`` call for all (numbers hold no comma); strings go through the
    standard library's C string encoder, which writes what ``orjson`` writes (tested): each
    ``orjson.dumps`` result keeps a few KB of buffer, a million of them 4 GB.
    """
    if values and all(type(v) is float for v in values):
        return orjson.dumps(list(values))[1:-1].split(b",")
    out = []
    for v in values:
        try:
            out.append(encode_basestring(v).encode("utf-8") if type(v) is str else _dumps(v))
        except UnicodeEncodeError:  # a lone surrogate: as the row writer fails on it
            out.append(_dumps(v))
    return out


def check_output(path: str | Path, *, force: bool, inputs: tuple[str | Path, ...] = ()) -> None:
    """Refuse an output path that exists (without ``force``) or that is one of the inputs."""
    if str(path) == "-":
        return
    out = Path(path)
    for src in inputs:
        if str(src) != "-" and Path(src).exists() and out.exists() and out.samefile(src):
            raise OutputError(f"{out}: is the input; choose another output path")
        if str(src) != "-" and out.resolve() == Path(src).resolve():
            raise OutputError(f"{out}: is the input; choose another output path")
    if out.exists() and not force:
        raise OutputError(f"{out}: already exists; use --force to overwrite it")
    if out.exists() and out.is_dir():
        raise OutputError(f"{out}: is a directory")
    if not out.parent.exists():
        raise OutputError(f"{out.parent}: no such directory")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _AtomicFile:
    """A temp file beside ``path`` that replaces ``path`` only when closed without error."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        target = Path(self.path)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        self.raw = os.fdopen(fd, "wb")

    def finish(self, ok: bool) -> None:
        try:
            self.raw.close()
            if ok:
                os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp makes 0600; use the usual mode
                os.replace(self.tmp, self.path)
        finally:
            if os.path.exists(self.tmp):
                os.unlink(self.tmp)


class JsonlWriter:
    """Write one JSON object per line to ``path`` (``-`` = stdout), atomically.

    Use as a context manager: the file appears under its name only when the block ends
    without an exception.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._file: _AtomicFile | None = None
        self._fh: IO[bytes] | None = None
        self.count = 0

    def __enter__(self) -> JsonlWriter:
        if self.path == "-":
            self._fh = sys.stdout.buffer
            return self
        self._file = _AtomicFile(self.path)
        suffix = Path(self.path).suffix
        if suffix == ".gz":
            self._fh = gzip.GzipFile(fileobj=self._file.raw, mode="wb", mtime=0)
        elif suffix == ".zst":
            import zstandard

            self._fh = zstandard.ZstdCompressor().stream_writer(self._file.raw, closefd=False)
        else:
            self._fh = self._file.raw
        return self

    def write(self, obj: dict[str, Any]) -> None:
        assert self._fh is not None, "JsonlWriter used outside its with-block"
        self._fh.write(_dumps(obj, newline=True))
        self.count += 1

    def write_columns(self, columns: dict[str, Sequence[bytes]], block: int = 8192) -> None:
        """One line per row of ``columns`` (key: the row values, JSON-encoded by
        :func:`encode_values`), the bytes :meth:`write` gives for the same rows. A value is
        encoded once however many rows repeat it, and no row is built as a dict."""
        assert self._fh is not None, "JsonlWriter used outside its with-block"
        keys = list(columns)
        n = len(columns[keys[0]]) if keys else 0
        if any(len(v) != n for v in columns.values()):
            raise ValueError("write_columns needs columns of one length")
        line = b"{" + b",".join(_dumps(k).replace(b"%", b"%%") + b":%b" for k in keys) + b"}\n"
        for lo in range(0, n, block):
            rows = zip(*(columns[k][lo : lo + block] for k in keys), strict=True)
            self._fh.write(b"".join(line % row for row in rows))
        self.count += n

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._file is None:
            sys.stdout.flush()
            return
        assert self._fh is not None
        if self._fh is not self._file.raw:
            self._fh.close()
        self._file.finish(exc_type is None)


class ParquetWriter:
    """Write rows to a Parquet file, atomically, in row groups of ``batch_rows``.

    The schema is taken from the first rows; all rows must share it (as rows of one corpus do).
    """

    def __init__(self, path: str | Path, batch_rows: int = 2048) -> None:
        self.path = str(path)
        self.batch_rows = batch_rows
        self.count = 0
        self._rows: list[dict[str, Any]] = []
        self._writer = None
        self._file: _AtomicFile | None = None

    def __enter__(self) -> ParquetWriter:
        from dedup.io.readers import require_pyarrow

        self._pa = require_pyarrow()
        self._file = _AtomicFile(self.path)
        return self

    def write(self, obj: dict[str, Any]) -> None:
        self._rows.append(obj)
        self.count += 1
        if len(self._rows) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        pa = self._pa
        schema = None if self._writer is None else self._writer.schema
        try:
            table = pa.Table.from_pylist(self._rows, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise OutputError(f"{self.path}: rows do not fit one Parquet schema ({exc})") from None
        if self._writer is None:
            assert self._file is not None
            self._writer = pa.parquet.ParquetWriter(self._file.raw, table.schema)
        self._writer.write_table(table)
        self._rows = []

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._file is not None
        try:
            if exc_type is None:
                self._flush()
                if self._writer is None:  # no rows at all: an empty file with no columns
                    pa = self._pa
                    self._writer = pa.parquet.ParquetWriter(self._file.raw, pa.schema([]))
            if self._writer is not None:
                self._writer.close()
        finally:
            self._file.finish(exc_type is None)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temp file renamed at the end."""
    file = _AtomicFile(path)
    ok = False
    try:
        file.raw.write(text.encode("utf-8"))
        ok = True
    finally:
        file.finish(ok)


def open_writer(path: str | Path) -> JsonlWriter | ParquetWriter:
    """A writer for ``path``, chosen by its extension (``.parquet`` or JSONL)."""
    return ParquetWriter(path) if str(path).endswith(".parquet") else JsonlWriter(path)
