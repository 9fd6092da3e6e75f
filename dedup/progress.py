"""Progress on stderr for long runs: documents done and documents per second.

Shown only when stderr is a terminal and the user did not ask for ``--quiet``; a pipe or a
CI log gets nothing but the final summary.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress_enabled(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def track(
    items: Iterable[T], label: str, *, enabled: bool, total: int | None = None
) -> Iterator[T]:
    """Yield ``items``, showing a rich progress bar with a rate while ``enabled``."""
    if not enabled:
        yield from items
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total, rate="")
        for i, item in enumerate(items, start=1):
            yield item
            if i % 256 == 0:
                speed = bar.tasks[0].speed or 0.0
                bar.update(task, completed=i, rate=f"{speed:,.0f} docs/s")
        bar.update(task, completed=total or 0)


class Tracked:
    """A re-readable source whose every pass shows progress: steps that each read the
    corpus once (``Cleaner.fit``) stream it again rather than keep it in memory."""

    def __init__(self, items: Iterable[T], label: str, *, enabled: bool) -> None:
        self.items = items
        self.label = label
        self.enabled = enabled
        self.passes = 0

    def __iter__(self) -> Iterator[T]:
        self.passes += 1
        label = self.label if self.passes == 1 else f"{self.label} (pass {self.passes})"
        return track(self.items, label, enabled=self.enabled)
