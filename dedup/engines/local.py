"""Local engine: map a stage function over batches on a pool of threads, results in input order.

The stage functions spend their time in numpy and in compiled loops, which release the GIL,
so threads run them in parallel without copying batches or results between processes (with
two cores, shipping a batch's shingles back from a worker process cost as much as computing
them). Order is kept, so the output is the same for any number of workers; at most
``ahead * workers`` batches are in flight, so memory stays bounded while the input streams.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def map_ordered(
    fn: Callable[[T], R], items: Iterable[T], workers: int = 1, ahead: int = 2
) -> Iterator[R]:
    """``map(fn, items)`` on ``workers`` threads, yielding results in input order, with at
    most ``ahead`` batches per worker in flight (more lets the workers go on while the
    consumer is held up, at the cost of their results' memory)."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="dedup") as pool:
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= ahead * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # the consumer stopped early, or a batch failed
                future.cancel()
