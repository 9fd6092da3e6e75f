"""Read, parse and encode the input in a second process while this one shingles.

Parsing JSON and encoding each text hold the GIL, so with threads alone they stay on one
core whatever the number of workers. With two or more workers, a forked child runs the
reader (the same :class:`~dedup.io.readers.RecordReader`, so the same checks, line numbers,
skips and batches) and encodes each batch (non-ASCII characters lower-cased). Its bytes go
into a ring of memory shared by both processes; a message on a pipe names the batch's ids,
sites and place in the ring. The batch's array is that place of the ring, not a copy: the
space goes back to the child once the last array on it is gone, so memory stays bounded
while the child works ahead. Through the pipe itself, the bytes cost a kernel copy on each
side and the two processes contended for the pipe's lock (a tenth of the run's CPU at
corpus scale); copying them out of the ring cost a tenth of the second core's time.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from dedup.errors import DedupError
from dedup.io.readers import RecordReader
from dedup.io.records import batched
from dedup.text.casefold import lower_multibyte
from dedup.text.tokenize import ByteBatch, encode_batch

_AHEAD = 64  # batches received ahead of the shingling workers (the ring bounds them too)
_RING_BYTES = 64 << 20  # memory shared by the two processes for the batches' bytes
# How long the child waits for ring space before it sends a batch on the pipe instead: a
# consumer that keeps its batches (a list of them) holds the ring, and then it waits no more.
_RING_WAIT = 2.0
_PIPE_BYTES = 4 << 20  # asked of the pipe for a batch too large for the ring (a huge text)


def can_prefetch(docs: Any) -> bool:
    """True for a reader of a path (not standard input) where a child can be forked."""
    return (
        isinstance(docs, RecordReader)
        and docs.path != "-"
        and sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
    )


class Prefetch:
    """Iterate ``(ids, sites, encoded texts)`` of the batches of ``reader``, from a forked child.

    Use as a context manager: leaving it (also by an error or an interrupt) stops the child.
    The reader's ``stats`` are those of the child once the input is exhausted.
    """

    def __init__(self, reader: RecordReader, max_chars: int) -> None:
        self.reader = reader
        self.max_chars = max_chars
        self._queue: queue.Queue = queue.Queue(_AHEAD)
        self._stop = threading.Event()

    def __enter__(self) -> Prefetch:
        self.reader.check()
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        _widen(receive)
        # The space of the ring this process has let go of goes back to the child this way.
        freed_in, freed_out = ctx.Pipe(duplex=False)
        self._ring = mmap.mmap(-1, _RING_BYTES)  # anonymous, shared with the forked child
        self._address = ctypes.addressof(ctypes.c_char.from_buffer(self._ring))
        self._held: deque[list] = deque()  # [head, done] of each batch in the ring, in order
        # Batches are let go on any thread, and again inside (a collection while handing back).
        self._lock = threading.RLock()
        self._closed = False
        for stream in (sys.stdout, sys.stderr):  # the child must not write our buffers again
            stream.flush()
        self._process = ctx.Process(
            target=_produce,
            args=(send, freed_in, self._ring, self.reader, self.max_chars),
            daemon=True,
        )
        self._process.start()
        send.close()
        freed_in.close()
        self._conn = receive
        self._freed = freed_out
        self._thread = threading.Thread(target=self._receive, name="dedup-prefetch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        with self._lock:  # arrays let go from now on free nothing
            self._closed = True
            self._freed.close()
        self._conn.close()
        while self._thread.is_alive():  # unblock a receiver waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                self._thread.join(0.01)
        self._ring = None  # unmapped once the last array on it is gone

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._conn.recv()
                if message[0] == "batch":
                    ids, sites, starts, ends, place = message[1]
                    size = int(ends[-1]) if len(ends) else 0
                    if place is None:  # not in the ring: the bytes follow on the pipe
                        data = np.empty(size, dtype=np.uint8)
                        _read_into(self._conn.fileno(), data)
                    else:
                        data = self._in_ring(*place, size)
                    message = ("batch", (ids, sites, starts, ends, data))
            except (EOFError, OSError):
                message = ("lost", None)
            self._queue.put(message)
            if message[0] != "batch":
                return

    def _in_ring(self, offset: int, head: int, size: int) -> np.ndarray:
        """The array of a batch's bytes at ``offset`` of the ring (the child freed up to
        ``head`` once they are let go)."""
        entry = [head, False]
        with self._lock:
            self._held.append(entry)
        return np.asarray(_Slot(self, entry, self._address + offset, size))

    def _let_go(self, entry: list) -> None:
        """A batch's arrays are gone: hand back the ring up to the oldest batch still held."""
        with self._lock:
            entry[1] = True
            head = None
            while self._held and self._held[0][1]:
                head = self._held.popleft()[0]
            if head is not None and not self._closed:
                _hand_back(self._freed, head)

    def __iter__(self) -> Iterator[tuple[list[str], list[str | None], ByteBatch]]:
        while True:
            kind, payload = self._queue.get()
            if kind == "batch":
                ids, sites, starts, ends, data = payload
                yield ids, sites, ByteBatch(data, starts, ends, lowered=True)
            elif kind == "done":
                self.reader.stats = payload
                return
            elif kind == "error":
                raise payload
            else:
                self._process.join()
                raise DedupError(
                    f"{self.reader.path}: the reading process ended unexpectedly "
                    f"(exit code {self._process.exitcode})"
                )


def _produce(
    conn: Connection, freed: Connection, ring: mmap.mmap, reader: RecordReader, max_chars: int
) -> None:
    """The child: read, batch and encode as the in-process path would, and send it all."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    space = _Ring(ring, freed)
    try:
        for chunk in batched(reader, max_chars):
            # Non-ASCII characters are lower-cased here, while the bytes are in this core's
            # cache: a first pass over them on a shingling thread read them from memory.
            text = lower_multibyte(encode_batch([r.text for r in chunk], fold_ascii=False))
            ids, sites = [r.id for r in chunk], [r.site for r in chunk]
            place = space.put(text.data)
            conn.send(("batch", (ids, sites, text.starts, text.ends, place)))
            if place is None:
                _write_all(conn.fileno(), text.data)
        conn.send(("done", reader.stats))
    except DedupError as exc:
        conn.send(("error", exc))
    except Exception as exc:  # a bug: say what it was in the parent
        conn.send(("error", RuntimeError(f"reading failed: {type(exc).__name__}: {exc}")))
    finally:
        conn.close()


class _Slot:
    """The owner of a batch's bytes in the ring: the arrays on them keep it, and the parent's
    ring gets the space back when the last of them is gone."""

    __slots__ = ("__array_interface__", "_entry", "_owner", "_ring")

    def __init__(self, owner: Prefetch, entry: list, address: int, size: int) -> None:
        self.__array_interface__ = {
            "data": (address, False),
            "shape": (size,),
            "typestr": "|u1",
            "version": 3,
        }
        self._owner, self._entry = owner, entry
        self._ring = owner._ring  # mapped while an array is on it

    def __del__(self) -> None:
        self._owner._let_go(self._entry)


class _Ring:
    """The child's side of the shared ring: where the next batch's bytes go, once the parent
    has let go of enough of those before them (it sends back how far it has freed)."""

    def __init__(self, ring: mmap.mmap, freed: Connection) -> None:
        self.data = np.frombuffer(ring, dtype=np.uint8)
        self.freed = freed
        self.head = 0  # bytes placed so far (the gaps left at the end of the ring included)
        self.tail = 0  # bytes the parent has freed so far
        self.wait = _RING_WAIT  # 0 once a wait ran out: the parent keeps its batches

    def put(self, data: np.ndarray) -> tuple[int, int] | None:
        """Copy ``data`` into the ring: ``(offset, head)`` (the parent frees up to ``head``),
        or None for data that goes on the pipe: larger than a quarter of the ring, or no
        space freed in time."""
        size, n = len(self.data), len(data)
        if n > size // 4:
            return None
        offset = self.head % size
        if offset + n > size:  # not across the end: the rest of the ring is left out
            self.head += size - offset
            offset = 0
        while self.freed.poll():  # take what was freed meanwhile, so the pipe never fills
            self.tail = max(self.tail, self.freed.recv())
        while self.head + n - self.tail > size:  # wait for the parent to free enough
            if not self.freed.poll(self.wait):
                self.wait = 0
                return None
            self.tail = max(self.tail, self.freed.recv())
        self.data[offset : offset + n] = data
        self.head += n
        return offset, self.head


def _hand_back(freed: Connection, head: int) -> None:
    """Tell the child the ring is free up to ``head``; after its last batch it may be gone."""
    with contextlib.suppress(BrokenPipeError):
        freed.send(head)


def _write_all(fd: int, data: np.ndarray) -> None:
    """Write the bytes of ``data`` whole (their length is in the message before them)."""
    view = memoryview(data).cast("B")
    while len(view):
        view = view[os.write(fd, view) :]


def _read_into(fd: int, out: np.ndarray) -> None:
    """Fill ``out`` from ``fd`` with one copy and without the GIL. ``recv_bytes_into`` read
    chunks into new bytes objects, gathered them in a ``BytesIO`` and copied that out: three
    copies of every input byte, two of them holding the GIL."""
    view = memoryview(out).cast("B")
    while len(view):
        n = os.readv(fd, [view])
        if n == 0:
            raise EOFError
        view = view[n:]


def _widen(conn: Connection) -> None:
    """Let the pipe hold a whole batch: through the default 64 KB, a batch took a dozen
    reads, and between two of them the receiving thread waited for the GIL."""
    try:
        import fcntl  # Unix only

        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, min(limit, _PIPE_BYTES))
    except (ImportError, OSError, ValueError, AttributeError):  # not Linux or not allowed
        pass
