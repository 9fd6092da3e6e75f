"""Atomic JSONL writers (plain, ``.gz``, ``.zst``): write to a temp file, rename at the end.

An interrupted run leaves no partial output; an existing output is refused unless ``force``;
the input itself is never overwritten.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from dedup.errors import OutputError


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


class JsonlWriter:
    """Write one JSON object per line to ``path`` (``-`` = stdout), atomically.

    Use as a context manager: the file appears under its name only when the block ends
    without an exception.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._tmp: str | None = None
        self._fh: IO[bytes] | None = None
        self._raw: IO[bytes] | None = None
        self.count = 0

    def __enter__(self) -> JsonlWriter:
        if self.path == "-":
            self._fh = sys.stdout.buffer
            return self
        target = Path(self.path)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        self._raw = os.fdopen(fd, "wb")
        if target.suffix == ".gz":
            self._fh = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
        elif target.suffix == ".zst":
            import zstandard

            self._fh = zstandard.ZstdCompressor().stream_writer(self._raw, closefd=False)
        else:
            self._fh = self._raw
        return self

    def write(self, obj: dict[str, Any]) -> None:
        assert self._fh is not None, "JsonlWriter used outside its with-block"
        self._fh.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")
        self.count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.path == "-":
            sys.stdout.flush()
            return
        assert self._fh is not None and self._raw is not None and self._tmp is not None
        try:
            if self._fh is not self._raw:
                self._fh.close()
            self._raw.close()
            if exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)
