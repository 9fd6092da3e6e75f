"""Whether the compiled loops of :mod:`dedup.compiled` run, or their numpy equivalents.

Both give the same values (the tests compare them). The compiled loops are several times
faster per byte, but starting numba and loading them from its cache costs ~0.3 s per process,
which a small input does not pay back: the command line turns them off below
:data:`MIN_COMPILED_BYTES` of input, and ``DEDUP_COMPILED=0`` or ``1`` in the environment
forces either way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MIN_COMPILED_BYTES = 32 << 20  # uncompressed input below this is shingled with numpy
_COMPRESSION = {".gz": 4, ".zst": 4}  # rough expansion of compressed inputs

_enabled = os.environ.get("DEDUP_COMPILED", "1") != "0"
_without_blas = False
_MISSING = object()


def start_without_blas() -> None:
    """Let numba start without scipy's BLAS in this process (the command line asks for it).

    On its first compilation numba imports ``scipy.linalg`` (0.3-0.5 s) only to offer
    ``np.dot`` and its kin in compiled code; the loops of :mod:`dedup.compiled` use none. The
    catch is for the whole process: numba then compiles no BLAS-backed function, which is why
    a library import of ``dedup`` does not do it.
    """
    global _without_blas
    _without_blas = True


def load_numba_arrays() -> None:
    """Import numba's array functions, without BLAS if :func:`start_without_blas` asked (run
    by :mod:`dedup.compiled` on import; nothing to save when scipy.linalg is loaded already)."""
    if not _without_blas or "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    name = "scipy.linalg.cython_blas"
    saved = sys.modules.get(name, _MISSING)
    sys.modules[name] = None  # type: ignore[assignment]  # its import now fails at once
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if saved is _MISSING:
            del sys.modules[name]
        else:
            sys.modules[name] = saved


def enabled() -> bool:
    """True when the compiled loops are used."""
    return _enabled


def set_enabled(flag: bool) -> None:
    global _enabled
    _enabled = bool(flag)


@contextmanager
def compiled(flag: bool) -> Iterator[None]:
    """Use (or not) the compiled loops inside a ``with`` block."""
    before = _enabled
    set_enabled(flag)
    try:
        yield
    finally:
        set_enabled(before)


def choose_for_input(path: Path | str) -> None:
    """Turn the compiled loops off for a small input file (unless ``DEDUP_COMPILED`` says).

    Standard input and directories count as large: their size is not known up front.
    """
    if "DEDUP_COMPILED" in os.environ or str(path) == "-" or not Path(path).is_file():
        return
    size = Path(path).stat().st_size * _COMPRESSION.get(Path(path).suffix, 1)
    set_enabled(size >= MIN_COMPILED_BYTES)
