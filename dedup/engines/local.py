"""Local engine: map a stage function over batches with a process pool, results in input order.

Order is kept (``imap``), so the output is the same for any number of workers. At most
``2 * workers`` batches are in flight, so memory stays bounded while the input streams.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def map_ordered(fn: Callable[[T], R], items: Iterable[T], workers: int = 1) -> Iterator[R]:
    """``map(fn, items)`` on ``workers`` processes, yielding results in input order."""
    if workers <= 1:
        yield from map(fn, items)
        return
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.apply_async(fn, (item,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


_CONTEXT: dict = {}


def _set_context(context: dict) -> None:
    _CONTEXT.clear()
    _CONTEXT.update(context)


def worker_context() -> dict:
    """The ``context`` of the :func:`map_with_context` call this worker serves."""
    return _CONTEXT


def map_with_context(
    fn: Callable[[T], R], items: Iterable[T], workers: int, context: dict
) -> Iterator[R]:
    """:func:`map_ordered` where ``fn`` reads large shared inputs from :func:`worker_context`.

    The context goes to each worker once (inherited when processes fork), not with every item.
    """
    if workers <= 1:
        saved = dict(_CONTEXT)
        _set_context(context)
        try:
            yield from map(fn, items)
        finally:
            _set_context(saved)
        return
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(workers, initializer=_set_context, initargs=(context,)) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.apply_async(fn, (item,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
