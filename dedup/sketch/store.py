"""Append-only stores for the per-document data of a fit, in memory up to a budget, then on disk.

A fit streams its input once. What later stages need again (each document's shingle set for
exact verification, the (site, shingle) keys for counting site-common shingles) is appended
here a batch at a time. While the shared :class:`Budget` lasts the arrays stay in memory; past
it, appends go to files in a private work directory (removed by :meth:`Budget.close`) and are
read back a block at a time, so the resident memory of a fit stays bounded whatever the
corpus size. A store's file loses its name as soon as it is made (it is read and written by
its descriptor), so a run that is killed leaves no file behind.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from dedup import compiled
from dedup.groups import ranges
from dedup.text.shingle import SetView, ShingleBatch

DEFAULT_MEMORY = "512M"  # budget of a fit's stores (near-duplicates, site boilerplate counts)
_FLUSH_BYTES = 4 << 20  # pending appends written in pieces of about this size
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_memory(value: int | float | str | None) -> int | None:
    """Bytes of a memory budget: ``1073741824``, ``"1G"``, ``"512M"``, ``"1.5GB"``; or ``None``."""
    if value is None:
        return None
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"memory budget must not be negative, got {value}")
        return int(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(value).lower())
    if not m:
        raise ValueError(f"memory budget must look like 512M or 2G, got {value!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


class Budget:
    """Bytes the stores of one fit may keep in memory; beyond, they write to a work directory.

    Stores on different worker threads share one budget: its counts are kept under a lock.
    """

    def __init__(
        self,
        limit: int | None,
        workdir: str | os.PathLike | None = None,
        release_aside: bool = False,
    ) -> None:
        self.left = float("inf") if limit is None else int(limit)
        self._parent = workdir
        self._dir: Path | None = None
        self.spilled = 0  # bytes written to disk
        self._lock = threading.Lock()
        # Closing a large work file frees its pages and blocks (0.35 s for the 4 GB of a
        # million documents): with spare cores, a thread of its own does it while the
        # caller goes on (the interpreter waits for that thread before it exits).
        self.release_aside = release_aside
        self._released: list[BinaryIO] = []

    def take(self, nbytes: int) -> bool:
        """Reserve ``nbytes`` of memory; False when the budget is spent (write to disk)."""
        with self._lock:
            if nbytes > self.left:
                self.left = 0
                return False
            self.left -= nbytes
            return True

    def give(self, nbytes: int) -> None:
        with self._lock:
            self.left += nbytes

    def wrote(self, nbytes: int) -> None:
        """Count ``nbytes`` written to the work directory."""
        with self._lock:
            self.spilled += nbytes

    def path(self, name: str) -> Path:
        """Where the store ``name`` writes; the work directory is made on first use (under
        the lock: stores on two threads may spill at once)."""
        with self._lock:
            if self._dir is None:
                # Named before it is made, so an interrupt between the two still finds it in
                # close().
                parent = Path(self._parent if self._parent is not None else tempfile.gettempdir())
                self._dir = parent / f"dedup-{os.getpid()}-{os.urandom(4).hex()}"
                self._dir.mkdir(mode=0o700)
            return self._dir / name

    def open(self, name: str) -> BinaryIO:
        """A new work file, unbuffered, for positioned reads and writes; its name is gone at
        once (on systems that allow it), so nothing is left if the process is killed."""
        path = self.path(name)
        file = open(path, "w+b", buffering=0)  # noqa: SIM115
        with contextlib.suppress(OSError):  # Windows: removed with the directory instead
            path.unlink()
        return file

    def release(self, file: BinaryIO) -> None:
        """Close a work file; with ``release_aside``, once the directory is gone (in
        :meth:`close`, on a thread of its own)."""
        if self.release_aside:
            self._released.append(file)
        else:
            file.close()

    def close(self) -> None:
        """Remove the work directory, then close the files released to it. The files have no
        names, so the directory goes at once; the directory's removal waited for their
        closing (the system frees their blocks then) when that came first."""
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        files, self._released = self._released, []
        if files:
            threading.Thread(target=_close_all, args=(files,), name="dedup-release").start()


def _close_all(files: list[BinaryIO]) -> None:
    for file in files:
        file.close()


class Spool:
    """A 1-D array of one dtype built by appends; chunks in memory, or in a file past the budget."""

    def __init__(
        self,
        budget: Budget,
        name: str,
        dtype: np.dtype | type,
        flush_bytes: int = _FLUSH_BYTES,
    ) -> None:
        self.budget = budget
        self.name = name
        self.dtype = np.dtype(dtype)
        # Appends past the budget wait in memory up to this size: many spools at once (one
        # per partition of a key space) hold that much each.
        self.flush_bytes = flush_bytes
        self.size = 0
        # (start, length, array or None): None = on disk at byte offset start * itemsize
        self._chunks: list[tuple[int, int, np.ndarray | None]] = []
        self._pending: list[np.ndarray] = []
        self._pending_size = 0
        self._file = None
        self._disk_start = 0
        self._pending_start = 0
        self._small: list[np.ndarray] = []
        self._small_size = 0
        self._small_start = 0

    def append(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype)
        n = len(values)
        if n == 0:
            return
        if self._file is None and self.budget.take(values.nbytes):
            # Small appends are gathered into larger chunks: many small arrays fragment the
            # heap, and their memory would not go back to the system when they are freed.
            self._small.append(values)
            self._small_size += values.nbytes
            if self._small_size >= self.flush_bytes:
                self._seal()
        else:
            self._seal()
            if self._file is None:
                # Unbuffered: every write and read is positioned, on the file descriptor.
                self._file = self.budget.open(self.name)
                self._disk_start = self.size
            if not self._pending:
                self._pending_start = self.size
            self._pending.append(values)
            self._pending_size += values.nbytes
        self.size += n
        if self._pending_size >= self.flush_bytes:
            self._flush()

    def _seal(self) -> None:
        if not self._small:
            return
        data = self._small[0] if len(self._small) == 1 else np.concatenate(self._small)
        self._chunks.append((self._small_start, len(data), data))
        self._small_start += len(data)
        self._small, self._small_size = [], 0

    def _flush(self) -> None:
        if not self._pending:
            return
        # Written as they are, without joining them first (at corpus scale the copy showed),
        # by positioned writes, which release the GIL.
        start = self._pending_start
        offset = (start - self._disk_start) * self.dtype.itemsize
        for arr in self._pending:
            self._write(arr, offset)
            offset += arr.nbytes
        length = sum(len(arr) for arr in self._pending)
        self.budget.wrote(length * self.dtype.itemsize)
        self._chunks.append((start, length, None))
        self._pending, self._pending_size = [], 0

    def finish(self) -> None:
        """Seal or write what is pending; call once appends are over."""
        self._seal()
        if self._file is not None:
            self._flush()

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Entries ``lo:hi`` (a copy when they come from disk). Once appends are over, worker
        threads may read at once (positioned reads)."""
        if hi <= lo:
            return np.empty(0, dtype=self.dtype)
        parts = []
        for start, length, arr in self._chunks_in(lo, hi):
            a, b = max(lo, start), min(hi, start + length)
            if arr is not None:
                parts.append(arr[a - start : b - start])
            else:
                part = np.empty(b - a, dtype=self.dtype)
                self._read_runs(part, np.array([a]), np.array([b - a]), np.zeros(1, np.int64))
                parts.append(part)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _chunks_in(self, lo: int, hi: int) -> Iterator[tuple[int, int, np.ndarray | None]]:
        starts = [c[0] for c in self._chunks]
        i = max(0, int(np.searchsorted(starts, lo, side="right")) - 1)
        while i < len(self._chunks) and self._chunks[i][0] < hi:
            yield self._chunks[i]
            i += 1

    def take_runs(self, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Entries ``s:s + c`` for every run ``(s, c)`` (ascending, not overlapping), in one array.

        Runs in memory are gathered with one index per chunk. Runs on disk are read with one
        positioned read each (neighbouring runs merged): the disk is asked for exactly those
        bytes in requests as large as the runs (a map of the file faulted its pages in one at
        a time), and no file pages stay in the process. Positioned reads share no file offset,
        so worker threads may read at once.
        """
        starts, counts, dest = _runs(starts, counts)
        out = np.empty(int(dest[-1]), dtype=self.dtype)
        if not len(out):
            return out
        memory, disk, across = self._by_chunk(starts, counts)
        size = self.dtype.itemsize
        for sel, chunk_start, arr in memory:
            if compiled.enabled():  # one copy per run, without the GIL
                at = (starts[sel] - chunk_start) * size
                compiled.copy_runs(arr, out, at, dest[sel] * size, counts[sel] * size)
                continue
            out[ranges(dest[sel], counts[sel])] = arr[
                ranges(starts[sel] - chunk_start, counts[sel])
            ]
        if len(disk):
            self._read_runs(out, starts[disk], counts[disk], dest[disk])
        for i in across.tolist():
            out[dest[i] : dest[i + 1]] = self.read(int(starts[i]), int(starts[i] + counts[i]))
        return out

    def locate_runs(
        self, starts: np.ndarray, counts: np.ndarray
    ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Where the entries ``s:s + c`` of every run ``(s, c)`` (ascending, not overlapping)
        can be read: ``(arrays, array of each run, its start in that array)``. Runs in the
        chunks in memory are not copied (copying them out was most of verification's reading
        at 100k documents, and with two threads each copy ran 40 % slower); the others are
        read into one array, by :meth:`take_runs`."""
        starts, counts, _ = _runs(starts, counts)
        part = np.zeros(len(starts), dtype=np.int64)
        at = np.zeros(len(starts), dtype=np.int64)
        arrays: list[np.ndarray] = []
        memory, disk, across = self._by_chunk(starts, counts)
        for sel, chunk_start, arr in memory:
            part[sel], at[sel] = len(arrays), starts[sel] - chunk_start
            arrays.append(arr)
        rest = np.sort(np.concatenate([disk, across]))
        if len(rest):
            part[rest] = len(arrays)
            at[rest] = _runs(starts[rest], counts[rest])[2][:-1]
            arrays.append(self.take_runs(starts[rest], counts[rest]))
        return arrays or [np.empty(0, self.dtype)], part, at  # empty runs: anywhere

    def put_runs(self, starts: np.ndarray, counts: np.ndarray, values: np.ndarray) -> None:
        """Write ``values`` over the entries ``s:s + c`` of every run ``(s, c)`` (ascending, not
        overlapping; ``values`` holds the runs one after the other), once appends are over.
        Positioned writes: worker threads may write distinct runs at once."""
        starts, counts, src = _runs(starts, counts)
        values = np.ascontiguousarray(values, dtype=self.dtype)
        if len(values) != src[-1]:
            raise ValueError("put_runs needs as many values as the runs hold")
        if not len(values):
            return
        memory, disk, across = self._by_chunk(starts, counts)
        size = self.dtype.itemsize
        for sel, chunk_start, arr in memory:
            if compiled.enabled():
                at = (starts[sel] - chunk_start) * size
                compiled.copy_runs(values, arr, src[sel] * size, at, counts[sel] * size)
                continue
            arr[ranges(starts[sel] - chunk_start, counts[sel])] = values[
                ranges(src[sel], counts[sel])
            ]
        piecewise = across  # over a chunk edge: never by appends of whole sets
        if len(disk) and compiled.enabled():  # one positioned write per run, without the GIL
            offsets = (starts[disk] - self._disk_start) * size
            at, lengths = src[disk] * size, counts[disk] * size
            compiled.write_runs(self._file.fileno(), values, at, offsets, lengths)
        else:
            piecewise = np.concatenate([disk, across])
        for i in piecewise.tolist():
            lo, hi = int(starts[i]), int(starts[i] + counts[i])
            for start, length, arr in self._chunks_in(lo, hi):
                a, b = max(lo, start), min(hi, start + length)
                part = values[src[i] + a - lo : src[i] + b - lo]
                if arr is not None:
                    arr[a - start : b - start] = part
                    continue
                self._write(part, (a - self._disk_start) * size)

    def _by_chunk(
        self, starts: np.ndarray, counts: np.ndarray
    ) -> tuple[list[tuple[np.ndarray, int, np.ndarray]], np.ndarray, np.ndarray]:
        """The runs in memory as ``(runs, chunk start, chunk)`` per chunk holding them whole,
        the runs on disk, and the runs over a chunk edge (indices into ``starts``)."""
        if not self._chunks:  # nothing appended: every run is empty
            return [], np.zeros(0, np.int64), np.zeros(0, np.int64)
        chunk_starts = np.array([c[0] for c in self._chunks], dtype=np.int64)
        on_disk = np.array([c[2] is None for c in self._chunks], dtype=bool)
        first = np.searchsorted(chunk_starts, starts, side="right") - 1
        last = np.searchsorted(chunk_starts, starts + np.maximum(counts, 1) - 1, side="right") - 1
        whole = (first == last) & (counts > 0)
        mem = np.flatnonzero(whole & ~on_disk[first])
        memory = []
        if len(mem):  # runs ascend, so each chunk's runs are one slice of ``mem``
            chunk = first[mem]
            cuts = np.flatnonzero(np.r_[True, chunk[1:] != chunk[:-1], True])
            for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
                chunk_start, _, arr = self._chunks[int(chunk[lo])]
                memory.append((mem[lo:hi], chunk_start, arr))
        disk = np.flatnonzero(whole & on_disk[first])
        return memory, disk, np.flatnonzero(~whole & (counts > 0))

    def _write(self, values: np.ndarray, offset: int) -> None:
        """Write ``values`` at byte ``offset`` of the file (positioned, whole)."""
        view = memoryview(values).cast("B")
        fd = self._file.fileno()
        done = 0
        while done < len(view):  # a write may take fewer bytes than given
            done += os.pwrite(fd, view[done:], offset + done)

    def _read_runs(
        self, out: np.ndarray, starts: np.ndarray, counts: np.ndarray, dest: np.ndarray
    ) -> None:
        """Read runs of the file into ``out`` at ``dest``, adjacent runs as one read (in the
        compiled loop, without the GIL: one read per document made threads queue for it)."""
        joined = np.r_[False, starts[1:] == starts[:-1] + counts[:-1]]
        heads = np.flatnonzero(~joined)
        size = self.dtype.itemsize
        lengths = np.add.reduceat(counts, heads) * size
        offsets = (starts[heads] - self._disk_start) * size
        at = dest[heads] * size
        fd = self._file.fileno()
        if compiled.enabled():
            try:
                compiled.read_runs(fd, out, at, offsets, lengths)
            except EOFError:
                raise OSError(f"{self._file.name}: unexpected end of the work file") from None
            return
        view = memoryview(out).cast("B")
        for lo, length, offset in zip(at.tolist(), lengths.tolist(), offsets.tolist(), strict=True):
            hi = lo + length
            while lo < hi:  # a positioned read may return fewer bytes than asked
                got = os.preadv(fd, [view[lo:hi]], offset)
                if got <= 0:
                    raise OSError(f"{self._file.name}: unexpected end of the work file")
                lo, offset = lo + got, offset + got

    def chunks(self, release: bool = False) -> Iterator[np.ndarray]:
        """All entries, chunk by chunk in order; ``release`` frees memory chunks once read."""
        for k, (start, length, arr) in enumerate(self._chunks):
            if arr is None:
                yield self.read(start, start + length)
            else:
                yield arr
                if release:
                    self._chunks[k] = (start, length, np.empty(0, self.dtype))
                    self.budget.give(arr.nbytes)

    def close(self) -> None:
        """Free the entries: the memory they held goes back to the budget."""
        held = sum(arr.nbytes for _, _, arr in self._chunks if arr is not None)
        self.budget.give(held + self._small_size)
        self._chunks, self._pending, self._small, self._small_size = [], [], [], 0
        if self._file is not None:
            self.budget.release(self._file)
            self._file = None


def _runs(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``starts`` and ``counts`` as int64, and where each run begins when they are packed one
    after the other (``len + 1`` offsets)."""
    starts = np.asarray(starts, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    packed = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=packed[1:])
    return starts, counts, packed


class GrowingRows:
    """Rows of one width appended in order into one array that grows in place.

    The rows live in a private anonymous map that doubles by ``mremap``: the pages move
    without a copy, and pages not yet written take no memory, so the peak stays about one
    array (a list of per-batch blocks joined at the end would hold every row twice).
    ``ndarray.resize`` also moved them, but zero-filled each new half first, faulting it in
    while holding the GIL the worker threads wait for.
    """

    def __init__(self, width: int, dtype: np.dtype | type) -> None:
        self.width = width
        self.dtype = np.dtype(dtype)
        self.n = 0
        self._map: mmap.mmap | bytearray | None = None
        self._rows = np.empty((0, width), dtype=self.dtype)

    def append(self, rows: np.ndarray) -> None:
        need = self.n + len(rows)
        if need > len(self._rows):
            self._grow(max(need, 2 * len(self._rows), 1024))
        self._rows[self.n : need] = rows
        self.n = need

    def finish(self) -> np.ndarray:
        """The rows appended, as one array (the object is spent)."""
        if self.n == 0:
            rows = np.empty((0, self.width), dtype=self.dtype)
        else:
            self._grow(self.n)  # gives the pages past the last row back
            rows = self._rows
        self._map, self._rows = None, np.empty((0, self.width), dtype=self.dtype)
        return rows

    def _grow(self, capacity: int) -> None:
        nbytes = capacity * self.width * self.dtype.itemsize
        # A map with an array on it cannot move: the array goes first.
        self._rows = np.empty((0, self.width), dtype=self.dtype)
        try:
            self._map.resize(nbytes)  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError, SystemError, BufferError):
            # The first map, or a system without mremap: a new map and one copy.
            new = _private_map(nbytes)
            if self._map is not None:
                count = self.n * self.width
                view = np.frombuffer(new, dtype=self.dtype, count=count)
                view[:] = np.frombuffer(self._map, dtype=self.dtype, count=count)
                del view
            self._map = new
        self._rows = np.frombuffer(self._map, dtype=self.dtype).reshape(capacity, self.width)


def _private_map(nbytes: int) -> mmap.mmap | bytearray:
    """Writable memory of ``nbytes`` whose pages are taken as they are first written."""
    if hasattr(mmap, "MAP_PRIVATE"):
        return mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE)
    return bytearray(nbytes)  # Windows: zero-filled at once


class PartitionSpools:
    """``(key, doc)`` entries by partition of a key space, appended from any number of threads.

    Each appending thread has spools of its own (keys, documents), so appends (which write to
    disk past the budget) run in parallel, none waiting for another's write. A batch goes in
    whole, its entries grouped by partition, and its count per partition is kept: a partition
    is read back as one run per batch. Its entries therefore come back in an order that
    depends on the threads: for counting, not for anything that keeps order.
    """

    def __init__(
        self, budget: Budget, name: str, n_parts: int, flush_bytes: int = _FLUSH_BYTES
    ) -> None:
        self.budget = budget
        self.name = name
        self.n_parts = n_parts
        self.flush_bytes = flush_bytes
        self._lanes: dict[int, _Lane] = {}
        self._lock = threading.Lock()
        self._runs: list[tuple[_Lane, np.ndarray, np.ndarray]] | None = None

    def append(self, keys: np.ndarray, docs: np.ndarray, counts: np.ndarray) -> None:
        """Entries grouped by partition, ``counts[p]`` of partition ``p``, in partition order."""
        with self._lock:
            lane = self._lanes.get(threading.get_ident())
            if lane is None:
                k = len(self._lanes)
                lane = _Lane(
                    Spool(self.budget, f"{self.name}{k}k", np.uint64, self.flush_bytes),
                    Spool(self.budget, f"{self.name}{k}d", np.int32, self.flush_bytes),
                )
                self._lanes[threading.get_ident()] = lane
        lane.starts.append(lane.keys.size)
        lane.counts.append(np.asarray(counts, dtype=np.int64))
        lane.keys.append(keys)
        lane.docs.append(docs)

    def sizes(self) -> np.ndarray:
        """Entries per partition, once appends are over."""
        self._finish()
        assert self._runs is not None
        out = np.zeros(self.n_parts, dtype=np.int64)
        for _, _, counts in self._runs:
            out += counts.sum(axis=0)
        return out

    def take(self, lo: int, hi: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All entries of partitions ``lo`` to ``hi - 1`` (``lo`` alone without ``hi``), once
        appends are over; partitions may be taken on different threads at once. A batch's
        entries of neighbouring partitions lie together: one run per batch whatever the span."""
        hi = lo + 1 if hi is None else hi
        self._finish()
        assert self._runs is not None
        keys = [np.empty(0, np.uint64)]
        docs = [np.empty(0, np.int32)]
        for lane, at, counts in self._runs:
            span = counts[:, lo:hi].sum(axis=1)
            keys.append(lane.keys.take_runs(at[:, lo], span))
            docs.append(lane.docs.take_runs(at[:, lo], span))
        return np.concatenate(keys), np.concatenate(docs)

    def _finish(self) -> None:
        """Seal the lanes (the first read: appends are over) and place each batch's runs."""
        with self._lock:
            if self._runs is not None:
                return
            self._runs = []
            for lane in self._lanes.values():
                lane.keys.finish()
                lane.docs.finish()
                counts = np.array(lane.counts, dtype=np.int64).reshape(-1, self.n_parts)
                at = np.cumsum(counts, axis=1) - counts  # each partition's place in a batch
                at += np.array(lane.starts, dtype=np.int64)[:, None]
                self._runs.append((lane, at, counts))

    def close(self) -> None:
        """Free the entries (memory back to the budget, files closed)."""
        for lane in self._lanes.values():
            lane.keys.close()
            lane.docs.close()
        self._lanes, self._runs = {}, None


class _Lane:
    """One appending thread's spools, and where each of its batches starts and its counts."""

    def __init__(self, keys: Spool, docs: Spool) -> None:
        self.keys, self.docs = keys, docs
        self.starts: list[int] = []
        self.counts: list[np.ndarray] = []


class SetStore:
    """Shingle sets of many documents (CSR), appended a batch of documents at a time."""

    def __init__(self, budget: Budget, name: str) -> None:
        self.values = Spool(budget, name, np.uint64)
        self._counts: list[np.ndarray] = []
        self._batch_docs: list[int] = []
        self.offsets = np.zeros(1, dtype=np.int64)

    def append(self, batch: ShingleBatch) -> None:
        self.values.append(batch.hashes)
        self._counts.append(np.diff(batch.offsets))
        self._batch_docs.append(batch.n_docs)

    def finish(self) -> None:
        self.values.finish()
        counts = np.concatenate(self._counts) if self._counts else np.zeros(0, np.int64)
        self.offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self._counts = []

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def spans(self) -> Iterator[tuple[int, int]]:
        """The documents ``lo:hi`` of each appended batch, in order."""
        lo = 0
        for n in self._batch_docs:
            yield lo, lo + n
            lo += n

    def read_docs(self, lo: int, hi: int) -> ShingleBatch:
        """The sets of documents ``lo:hi`` (after :meth:`finish`; worker threads may read at
        once)."""
        offs = self.offsets[lo : hi + 1]
        hashes = self.values.read(int(offs[0]), int(offs[-1]))
        return ShingleBatch(hashes, offs - offs[0])

    def gather(self, docs: np.ndarray) -> ShingleBatch:
        """The sets of ``docs`` (sorted, distinct document indices), in that order."""
        starts, counts = self._runs_of(docs)
        _, counts, out_offsets = _runs(starts, counts)
        return ShingleBatch(self.values.take_runs(starts, counts), out_offsets)

    def view(self, docs: np.ndarray, sizes: np.ndarray | None = None) -> SetView:
        """:meth:`gather`, read in place where the sets are in memory (see
        :meth:`Spool.locate_runs`); with ``sizes``, the first ``sizes[i]`` entries of the
        set of ``docs[i]``."""
        starts, counts = self._runs_of(docs)
        counts = counts if sizes is None else np.asarray(sizes, dtype=np.int64)
        arrays, part, at = self.values.locate_runs(starts, counts)
        return SetView(tuple(arrays), part, at, counts)

    def put(self, docs: np.ndarray, sets: ShingleBatch) -> None:
        """Write ``sets`` over the first entries of the stored sets of ``docs`` (sorted,
        distinct; each no larger than the set it overwrites), after :meth:`finish`; worker
        threads may put distinct documents."""
        starts, counts = self._runs_of(docs)
        sizes = np.diff(sets.offsets)
        if (sizes > counts).any():
            raise ValueError("put: a set is larger than the one it overwrites")
        self.values.put_runs(starts, sizes, sets.hashes)

    def _runs_of(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the stored set of each of ``docs`` starts, and its size."""
        docs = np.asarray(docs, dtype=np.int64)
        starts = self.offsets[docs]
        return starts, self.offsets[docs + 1] - starts

    def close(self) -> None:
        self.values.close()
