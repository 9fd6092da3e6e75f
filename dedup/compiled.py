"""The per-byte and per-shingle loops of the near-duplicate step, compiled from C.

numpy needs a full pass over the batch for every step of word shingling (word mask, prefix
hash, token slices, each n-gram term, a sort for the per-document sets) and an unbuffered
``minimum.at`` for one-permutation MinHash; the loops of ``_loops.c`` do each in one pass.
They are a plain shared library built when the package is installed (a C compiler is all it
takes) and called through ctypes, which releases the GIL, so worker threads scale; loading
it costs about a millisecond. The loops compute exactly what the numpy code of
:mod:`dedup.text` and :mod:`dedup.sketch` computes (the tests compare both), so no result
depends on which runs. Where the library was not built (no compiler at install), or with
``DEDUP_COMPILED=0`` in the environment, the numpy code runs.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from dedup.text.hashing import BASE, LENGTH_MULT, MIX_ADD, MIX_MULT1, MIX_MULT2, NGRAM_MULT
from dedup.text.tokenize import _ASCII_LOWER, _WORD_BYTE

if TYPE_CHECKING:
    from dedup.text.shingle import SetView

_enabled = os.environ.get("DEDUP_COMPILED", "1") != "0"
_NOT_LOADED = object()
_LIB: object = _NOT_LOADED
_LOAD_LOCK = threading.Lock()
# band_pair_codes: documents per group of band keys whose buckets are found in one table,
# and the memory of the keys computed in one pass over the signatures.
BAND_GROUP_DOCS = 4096
BAND_KEY_BYTES = 64 << 20
# guarded_components: pairs judged ahead on the threads before they are taken in order (more
# pairs, fewer waits; but more verdicts are out of date when taken).
JUDGE_WINDOW = 8192

_P = ctypes.c_void_p
_I = ctypes.c_int64
_U = ctypes.c_uint64
_SIGNATURES = {  # name: (restype, argtypes)
    "dedup_init": (ctypes.c_int, [_P, _I, _P]),
    "fold_multibyte": (None, [_P, _P, _P, _I, _P, _P, _P]),
    "word_sets": (ctypes.c_int, [_P, _P, _P, _I, _I, _P, _P, _P, _P]),
    "oph_minima": (None, [_P, _P, _I, _U, _I, _P]),
    "mixed_sums": (None, [_P, _P, _I, _P]),
    "salted_members": (None, [_P, _P, _I, _P, _P, _I, _P, _U, _P, _P]),
    "pair_equal_slots": (None, [_P, _I, _P, _I, _P]),
    "bucket_counts": (None, [_P, _P, _I, _P, _U, _P]),
    "drop_marked": (None, [_P, _P, _I, _P, _P, _P, _P]),
    "heavy_keys": (_I, [_P, _P, _I, _P, _P, _U, _U, _I, _P, _P, _P, _P, _P]),
    "pair_intersections": (ctypes.c_int, [_P, _P, _P, _P, _I, _P, _P]),
    "band_pair_codes": (ctypes.c_int, [_P, _I, _I, _I, _I, _I, _P, _P, _U, _I, _I, _P, _P]),
    "read_runs": (ctypes.c_int, [ctypes.c_int, _P, _P, _P, _P, _I]),
    "copy_runs": (None, [_P, _P, _P, _P, _P, _I]),
    "write_runs": (ctypes.c_int, [ctypes.c_int, _P, _P, _P, _P, _I]),
    "union_components": (None, [_I, _P, _I, _P]),
    "guard_new": (
        _P,
        [_I, _I, _P, _I, _P, ctypes.c_double, ctypes.c_double, ctypes.c_double, _P, _I, _P],
    ),
    "guard_judge": (None, [_P, _P, _P, _I, _I, _I, _I, _P, _P]),
    "guard_take": (ctypes.c_int, [_P, _P, _P, _I, _I, _P, _P]),
    "guard_free": (None, [_P]),
    "dedup_free": (None, [_P]),
}


def available() -> bool:
    """True when the compiled library was built at install."""
    return _library() is not None


def enabled() -> bool:
    """True when the compiled loops are used (built, and not switched off)."""
    return _enabled and available()


def set_enabled(flag: bool) -> None:
    global _enabled
    _enabled = bool(flag)


@contextmanager
def switched(flag: bool) -> Iterator[None]:
    """Use (or not) the compiled loops inside a ``with`` block."""
    before = _enabled
    set_enabled(flag)
    try:
        yield
    finally:
        set_enabled(before)


def _library() -> ctypes.CDLL | None:
    """The loaded library (None where it was not built), loaded once, whatever the threads."""
    global _LIB
    if _LIB is _NOT_LOADED:
        with _LOAD_LOCK:
            if _LIB is _NOT_LOADED:
                _LIB = _load()
    return _LIB  # type: ignore[return-value]


def _load() -> ctypes.CDLL | None:
    spec = importlib.util.find_spec("dedup._loops")  # finds the file, does not import it
    if spec is None or spec.origin is None:
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
    except (OSError, AttributeError):  # not loadable here, or left by an older build
        return None
    consts = np.array([BASE, LENGTH_MULT, MIX_ADD, MIX_MULT1, MIX_MULT2, *NGRAM_MULT], np.uint64)
    codes = _byte_codes()
    if lib.dedup_init(_ptr(consts), len(NGRAM_MULT), _ptr(codes)) != 0:
        raise RuntimeError("dedup's compiled loops refused their constants")
    return lib


def _byte_codes() -> np.ndarray:
    """Per byte value: the lower-cased byte plus one for the word bytes of
    :func:`dedup.text.tokenize.word_mask`, 0 for the others (0xFF, never in UTF-8, wraps to 0)."""
    return np.where(_WORD_BYTE, _ASCII_LOWER + np.uint8(1), np.uint8(0)).astype(np.uint8)


def _ptr(a: np.ndarray) -> int:
    return a.ctypes.data


def _c(a: np.ndarray, dtype: type) -> np.ndarray:
    """``a`` as a C-contiguous array of ``dtype`` (no copy when it is one already)."""
    return np.ascontiguousarray(a, dtype=dtype)


def _check(status: int) -> None:
    if status != 0:
        raise MemoryError("dedup's compiled loops could not allocate their scratch memory")


def fold_multibyte(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, bmp: np.ndarray, astral: np.ndarray
) -> np.ndarray:
    """Lower-case in place the multi-byte UTF-8 characters of every text of ``data`` (uint8,
    text ``i`` at ``starts[i]:ends[i]``) by the tables of :func:`dedup.text.casefold.lower_tables`.
    True for the texts that hold a character the tables cannot rewrite: the caller lower-cases
    them again with ``str.lower`` (the characters rewritten so far are lower case already)."""
    if data.dtype != np.uint8 or not data.flags.c_contiguous or not data.flags.writeable:
        raise ValueError("fold_multibyte rewrites a writeable, contiguous uint8 array")
    starts, ends = _c(starts, np.int64), _c(ends, np.int64)
    bmp, astral = _c(bmp, np.uint32), _c(astral, np.bool_)
    special = np.zeros(len(starts), np.bool_)
    _library().fold_multibyte(
        _ptr(data), _ptr(starts), _ptr(ends), len(starts), _ptr(bmp), _ptr(astral), _ptr(special)
    )
    return special


def word_sets(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, ngram: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct word ``ngram``-gram hashes and distinct number-token hashes of every text.

    ``data`` holds the texts' UTF-8 bytes (non-ASCII characters already lower-cased; ASCII
    letters are folded here), text ``i`` at ``starts[i]:ends[i]``. Returns ``(hashes, offsets,
    numbers, number_offsets)`` in CSR layout, each document's values in first-seen order: the
    result of :func:`dedup.text.shingle.shingles_and_numbers` followed by ``unique()``.
    """
    data, starts, ends = _c(data, np.uint8), _c(starts, np.int64), _c(ends, np.int64)
    n = len(starts)
    room = len(data) // 2 + n + 1  # a word takes a byte and a separator
    out, nums = np.empty(room, np.uint64), np.empty(room, np.uint64)
    out_offsets, num_offsets = np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64)
    _check(
        _library().word_sets(
            _ptr(data), _ptr(starts), _ptr(ends), n, int(ngram),
            _ptr(out), _ptr(out_offsets), _ptr(nums), _ptr(num_offsets),
        )
    )  # fmt: skip
    return out[: out_offsets[-1]].copy(), out_offsets, nums[: num_offsets[-1]].copy(), num_offsets


def oph_minima(hashes: np.ndarray, offsets: np.ndarray, salt: int, num_perm: int) -> np.ndarray:
    """Per document and bin, the least 32-bit value of the shingles hashed to that bin: the
    one-permutation MinHash of :func:`dedup.sketch.minhash.oph_signatures`, densified as
    :func:`dedup.sketch.minhash._densify` does (a document without shingles keeps
    ``0xFFFFFFFF`` everywhere)."""
    hashes, offsets = _c(hashes, np.uint64), _c(offsets, np.int64)
    n = len(offsets) - 1
    out = np.full((n, num_perm), 0xFFFFFFFF, np.uint32)
    _library().oph_minima(_ptr(hashes), _ptr(offsets), n, int(salt), int(num_perm), _ptr(out))
    return out


def mixed_sums(hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per document, the sum (mod 2**64) of the splitmix64 of its hashes."""
    hashes, offsets = _c(hashes, np.uint64), _c(offsets, np.int64)
    out = np.zeros(len(offsets) - 1, np.uint64)
    _library().mixed_sums(_ptr(hashes), _ptr(offsets), len(out), _ptr(out))
    return out


def salted_members(
    hashes: np.ndarray,
    offsets: np.ndarray,
    doc_salt: np.ndarray,
    sorted_keys: np.ndarray,
    bitmap: np.ndarray,
    shift: int,
) -> tuple[np.ndarray, np.ndarray]:
    """True for every entry whose key ``hashes[k] ^ doc_salt[d]`` is in ``sorted_keys``, and
    how many such entries each document has. ``bitmap`` marks the top bits of the sorted
    keys (``key >> shift``), so most misses cost one look-up instead of a binary search."""
    hashes, offsets = _c(hashes, np.uint64), _c(offsets, np.int64)
    doc_salt, sorted_keys = _c(doc_salt, np.uint64), _c(sorted_keys, np.uint64)
    bitmap = _c(bitmap, np.bool_)
    found = np.zeros(len(hashes), np.bool_)
    counts = np.zeros(len(offsets) - 1, np.int64)
    _library().salted_members(
        _ptr(hashes), _ptr(offsets), len(counts), _ptr(doc_salt), _ptr(sorted_keys),
        len(sorted_keys), _ptr(bitmap), int(shift), _ptr(found), _ptr(counts),
    )  # fmt: skip
    return found, counts


def pair_equal_slots(sigs: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """How many slots the signatures of each pair agree in:
    ``count_nonzero(sigs[a] == sigs[b], axis=1)`` without copying the rows."""
    sigs, pairs = _c(sigs, np.uint32), _c(pairs, np.int64).reshape(-1, 2)
    n, num_perm = sigs.shape
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n):
        raise ValueError("pair_equal_slots: a pair names no signature")
    out = np.empty(len(pairs), np.int32)
    _library().pair_equal_slots(_ptr(sigs), num_perm, _ptr(pairs), len(pairs), _ptr(out))
    return out


def drop_marked(
    hashes: np.ndarray, offsets: np.ndarray, marked: np.ndarray, mode: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The entries of every document (CSR ``hashes``, ``offsets``) without those ``marked`` in
    the documents whose ``mode`` is True: ``select(~(marked & repeat(mode, sizes)))``."""
    hashes, offsets = _c(hashes, np.uint64), _c(offsets, np.int64)
    marked, mode = _c(marked, np.bool_), _c(mode, np.bool_)
    n = len(offsets) - 1
    if len(marked) != len(hashes) or len(mode) != n:
        raise ValueError("drop_marked needs a mark per entry and a mode per document")
    out = np.empty(len(hashes), np.uint64)  # the pages past what is kept are never touched
    out_offsets = np.zeros(n + 1, np.int64)
    _library().drop_marked(
        _ptr(hashes), _ptr(offsets), n, _ptr(marked), _ptr(mode), _ptr(out), _ptr(out_offsets)
    )
    return out[: out_offsets[-1]], out_offsets


def bucket_counts(
    hashes: np.ndarray, offsets: np.ndarray, doc_salt: np.ndarray, shift: int, n_buckets: int
) -> np.ndarray:
    """How many keys ``hashes[k] ^ doc_salt[d]`` (document ``d`` owns entry ``k``) fall in each
    bucket ``key >> shift`` of the key space (``n_buckets`` of them)."""
    if n_buckets << int(shift) != 1 << 64:
        raise ValueError("bucket_counts needs n_buckets == 2 ** (64 - shift)")
    hashes, offsets, doc_salt = (
        _c(hashes, np.uint64),
        _c(offsets, np.int64),
        _c(doc_salt, np.uint64),
    )
    counts = np.zeros(n_buckets, np.int64)
    _library().bucket_counts(
        _ptr(hashes), _ptr(offsets), len(offsets) - 1, _ptr(doc_salt), int(shift), _ptr(counts)
    )
    return counts


def heavy_keys(
    hashes: np.ndarray,
    offsets: np.ndarray,
    doc_salt: np.ndarray,
    heavy: np.ndarray,
    shift: int,
    part_shift: int,
    doc_base: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The keys ``hashes[k] ^ doc_salt[d]`` whose bucket ``key >> shift`` is ``heavy``, with
    their documents (``doc_base + d``, int32), grouped by partition ``key >> part_shift`` in
    entry order, and the number of keys of each partition."""
    if len(heavy) << int(shift) != 1 << 64:
        raise ValueError("heavy_keys needs a flag per bucket: len(heavy) == 2 ** (64 - shift)")
    hashes, offsets = _c(hashes, np.uint64), _c(offsets, np.int64)
    doc_salt, heavy = _c(doc_salt, np.uint64), _c(heavy, np.bool_)
    n = len(offsets) - 1
    counts = np.zeros(1 << (64 - int(part_shift)), np.int64)
    # Room for every entry: the pages of the few written are all that take memory.
    tmp_keys, tmp_docs = np.empty(len(hashes), np.uint64), np.empty(len(hashes), np.int32)
    keys, docs = np.empty(len(hashes), np.uint64), np.empty(len(hashes), np.int32)
    m = _library().heavy_keys(
        _ptr(hashes), _ptr(offsets), n, _ptr(doc_salt), _ptr(heavy), int(shift),
        int(part_shift), doc_base, _ptr(counts), _ptr(tmp_keys), _ptr(tmp_docs),
        _ptr(keys), _ptr(docs),
    )  # fmt: skip
    if m < 0:
        raise MemoryError("heavy_keys: out of memory")
    return keys[:m].copy(), docs[:m].copy(), counts


def pair_intersections(
    sets: SetView, pairs: np.ndarray, order: np.ndarray, need: np.ndarray
) -> np.ndarray:
    """``|A & B|`` for every pair ``(a, b)`` of documents (rows of ``pairs``) of ``sets``
    (distinct values per document, read where they lie), visited in ``order``: the set
    already in the table is kept while the next pair shares it, as pairs sorted by their
    first member do.

    A pair stops being counted once it can no longer reach ``need[p]`` (its count is then
    some value below ``need[p]``); ``need`` of 0 counts exactly."""
    if any(p.dtype != np.uint64 or not p.flags.c_contiguous for p in sets.parts):
        raise ValueError("pair_intersections reads sets in contiguous uint64 arrays")
    sizes, start = _c(sets.sizes, np.int64), _c(sets.start, np.int64)
    ends = [len(p) for p in sets.parts] or [0]
    if len(sizes) and ((start < 0) | (start + sizes > np.asarray(ends)[sets.part])).any():
        raise ValueError("pair_intersections: a set falls outside its array")
    pairs, order, need = _c(pairs, np.int64).reshape(-1, 2), _c(order, np.int64), _c(need, np.int64)
    if len(order) != len(pairs) or len(need) != len(pairs):
        raise ValueError("pair_intersections needs one order entry and one need per pair")
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= len(sizes)):
        raise ValueError("pair_intersections: a pair names no set")
    addrs = sets.addresses()
    out = np.zeros(len(pairs), np.int64)
    _check(
        _library().pair_intersections(
            _ptr(addrs), _ptr(sizes), _ptr(pairs), _ptr(order), len(pairs), _ptr(need),
            _ptr(out),
        )
    )  # fmt: skip
    return out


def band_pair_codes(
    sigs: np.ndarray,
    rows: int,
    first: int,
    stop: int,
    valid: np.ndarray,
    flip: np.ndarray,
    flip_salt: int,
) -> np.ndarray:
    """``i * n + j`` for every document ``j`` and the first document ``i < j`` of each bucket
    it shares in bands ``first:stop``: the pairs of :func:`dedup.sketch.lsh._pair_codes`
    (unsorted, with repeats), band keys as :func:`dedup.sketch.lsh.band_keys` computes them
    (``flip_salt`` xor-ed into those of ``flip`` documents), buckets found in hash tables
    instead of by sorting: the keys of as many bands as ``BAND_KEY_BYTES`` holds are computed
    in one pass over the rows, and a band's keys are grouped by their top bits into groups of
    about ``BAND_GROUP_DOCS`` documents, whose tables stay in the core's cache."""
    sigs = _c(sigs, np.uint32)
    n, num_perm = sigs.shape
    if stop * rows > num_perm:
        raise ValueError(f"bands up to {stop} of {rows} rows exceed {num_perm} permutations")
    valid, flip = _c(valid, np.bool_), _c(flip, np.bool_)
    codes, count = ctypes.c_void_p(), ctypes.c_int64()
    group_bits = _group_bits(int(valid.sum()))
    pass_bands = max(1, BAND_KEY_BYTES // (8 * max(n, 1)))
    lib = _library()
    _check(
        lib.band_pair_codes(
            _ptr(sigs), n, num_perm, int(rows), int(first), int(stop), _ptr(valid), _ptr(flip),
            int(flip_salt), group_bits, pass_bands, ctypes.byref(codes), ctypes.byref(count),
        )
    )  # fmt: skip
    try:
        if count.value == 0:
            return np.empty(0, np.int64)
        view = (ctypes.c_int64 * count.value).from_address(codes.value)
        return np.frombuffer(view, np.int64).copy()
    finally:
        lib.dedup_free(codes)


def _group_bits(n: int) -> int:
    """Top bits of the band keys that split ``n`` documents into groups of at most about
    ``BAND_GROUP_DOCS`` (the table of one such group is a few hundred KB)."""
    bits = 0
    while bits < 16 and n > BAND_GROUP_DOCS << bits:
        bits += 1
    return bits


def copy_runs(
    src: np.ndarray, out: np.ndarray, src_at: np.ndarray, dest: np.ndarray, lengths: np.ndarray
) -> None:
    """Copy runs of the bytes of ``src`` into those of ``out``: run ``i`` is ``lengths[i]``
    bytes from byte ``src_at[i]`` to byte ``dest[i]``, without the GIL for the whole loop."""
    if not (src.flags.c_contiguous and out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("copy_runs reads a contiguous array into a writeable, contiguous one")
    src_at, dest, lengths = _c(src_at, np.int64), _c(dest, np.int64), _c(lengths, np.int64)
    if len(lengths) and (
        lengths.min() < 0
        or src_at.min() < 0
        or dest.min() < 0
        or (src_at + lengths).max() > src.nbytes
        or (dest + lengths).max() > out.nbytes
    ):
        raise ValueError("copy_runs: a run falls outside its array")
    _library().copy_runs(
        _ptr(src), _ptr(out), _ptr(src_at), _ptr(dest), _ptr(lengths), len(lengths)
    )


def read_runs(
    fd: int, out: np.ndarray, dest: np.ndarray, offsets: np.ndarray, lengths: np.ndarray
) -> None:
    """Read runs of the open file ``fd`` into the bytes of ``out``: run ``i`` is ``lengths[i]``
    bytes at file offset ``offsets[i]``, to byte ``dest[i]`` of ``out``, with positioned reads
    (worker threads may read one file at once) and without the GIL for the whole loop."""
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("read_runs writes into a writeable, contiguous array")
    dest, offsets, lengths = _c(dest, np.int64), _c(offsets, np.int64), _c(lengths, np.int64)
    if len(lengths) and (dest.min() < 0 or (dest + lengths).max() > out.nbytes):
        raise ValueError("read_runs: a run falls outside the output array")
    status = _library().read_runs(
        fd, _ptr(out), _ptr(dest), _ptr(offsets), _ptr(lengths), len(lengths)
    )
    if status == -1:
        raise EOFError("unexpected end of the file")
    if status:
        raise OSError(status, os.strerror(status))


def write_runs(
    fd: int, src: np.ndarray, src_at: np.ndarray, offsets: np.ndarray, lengths: np.ndarray
) -> None:
    """Write runs of the bytes of ``src`` to the open file ``fd``: run ``i`` is ``lengths[i]``
    bytes from byte ``src_at[i]``, to file offset ``offsets[i]``, with positioned writes
    (worker threads may write distinct runs of one file at once) and without the GIL."""
    if not src.flags.c_contiguous:
        raise ValueError("write_runs reads a contiguous array")
    src_at, offsets, lengths = _c(src_at, np.int64), _c(offsets, np.int64), _c(lengths, np.int64)
    if len(lengths) and (
        lengths.min() < 0 or src_at.min() < 0 or (src_at + lengths).max() > src.nbytes
    ):
        raise ValueError("write_runs: a run falls outside the array")
    status = _library().write_runs(
        fd, _ptr(src), _ptr(src_at), _ptr(offsets), _ptr(lengths), len(lengths)
    )
    if status:
        raise OSError(status, os.strerror(status))


def union_components(n: int, pairs: np.ndarray) -> np.ndarray:
    """:func:`dedup.sketch.cluster.components` in one compiled loop (the smallest member
    labels each component)."""
    pairs = _c(pairs, np.int64).reshape(-1, 2)
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n):
        raise ValueError("union_components: a pair names no element")
    labels = np.empty(n, np.int64)
    _library().union_components(n, _ptr(pairs), len(pairs), _ptr(labels))
    return labels


def guarded_components(
    pairs: np.ndarray,
    order: np.ndarray,
    sigs: np.ndarray,
    sizes: np.ndarray,
    *,
    threshold: float,
    containment: float,
    min_link: float,
    member_key: np.ndarray,
    sample: int = 16,
    workers: int = 1,
    window: int | None = None,
) -> np.ndarray:
    """:func:`dedup.sketch.cluster.guarded_components` with the pairs taken in ``order`` and
    :func:`dedup.sketch.cluster.signature_links` for ``linked``, in compiled loops.

    With ``workers`` > 1, the groups of the next ``window`` pairs are judged on that many
    threads from the groups as they are, then the pairs are taken in order on this one: a
    verdict stands where neither group has changed its sample since (the others are judged
    again), so the labels are those of one thread. Judging reads the samples' signatures from
    anywhere in the array: three quarters of the loop at a million documents. ``window``:
    :data:`JUDGE_WINDOW` pairs unless given.
    """
    window = window or JUDGE_WINDOW
    n = len(sigs)
    pairs, order = _c(pairs, np.int64).reshape(-1, 2), _c(order, np.int64)
    sigs, sizes = _c(sigs, np.uint32), _c(sizes, np.float64)
    member_key = _c(member_key, np.uint64)
    if len(sizes) != n or len(member_key) != n or len(order) != len(pairs):
        raise ValueError("guarded_components: one size and key per document, one rank per pair")
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n):
        raise ValueError("guarded_components: a pair names no document")
    lib = _library()
    labels = np.empty(n, np.int64)
    state = lib.guard_new(
        n, len(order), _ptr(sigs), sigs.shape[1] if sigs.ndim == 2 else 0, _ptr(sizes),
        float(threshold), float(containment), float(min_link), _ptr(member_key), int(sample),
        _ptr(labels),
    )  # fmt: skip
    if not state:
        raise MemoryError("guarded_components: out of memory")
    try:
        if workers <= 1 or len(order) <= window:
            status = lib.guard_take(state, _ptr(pairs), _ptr(order), 0, len(order), None, None)
        else:
            status = _judged_ahead(state, pairs, order, workers, window)
    finally:
        lib.guard_free(state)
    if status:
        raise MemoryError("guarded_components: out of memory")
    return labels


def _judged_ahead(
    state: int, pairs: np.ndarray, order: np.ndarray, workers: int, window: int
) -> int:
    """Take the pairs a window at a time, each judged first on ``workers`` threads (this one
    and helpers): blocks of pairs in turn, so each thread gets its share of the costly ones."""
    lib = _library()
    verdict = np.empty(window, np.int8)
    seen = np.empty(2 * window, np.int64)
    args = (state, _ptr(pairs), _ptr(order))

    def judge(k0: int, k1: int, first: int) -> None:
        lib.guard_judge(*args, k0, k1, first, workers, _ptr(verdict), _ptr(seen))

    with ThreadPoolExecutor(workers - 1, thread_name_prefix="dedup-judge") as pool:
        for k0 in range(0, len(order), window):
            k1 = min(k0 + window, len(order))
            helpers = [pool.submit(judge, k0, k1, first) for first in range(1, workers)]
            judge(k0, k1, 0)
            for helper in helpers:
                helper.result()
            status = lib.guard_take(*args, k0, k1, _ptr(verdict), _ptr(seen))
            if status:
                return status
    return 0
