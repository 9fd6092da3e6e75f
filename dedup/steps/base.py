"""What every cleaning step is: a scikit-learn style estimator that fits on records and then
decides, per record, to drop it or which character spans to remove."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sklearn.base import BaseEstimator

from dedup.io.records import Record


@dataclass(frozen=True)
class Removal:
    """A removed span of a document's original text, and why."""

    start: int
    end: int
    reason: str
    text: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "reason": self.reason,
            "text": self.text,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Drop:
    """A whole document dropped in favour of another (its keeper)."""

    reason: str
    keeper: str
    similarity: float
    evidence: dict[str, Any] = field(default_factory=dict)


class Step(BaseEstimator, ABC):
    """A cleaning step. ``fit`` learns from the corpus; ``decide`` judges one record.

    ``decide`` returns a :class:`Drop`, a list of :class:`Removal` spans (possibly empty), and
    must not change the record. Parameters live in ``__init__`` (keyword-only, stored as is),
    learned state in attributes ending in ``_``.
    """

    name: ClassVar[str]

    @abstractmethod
    def fit(self, docs: Any, y: None = None) -> Step:
        """Learn from ``docs`` (strings, dicts or records); return ``self``."""

    @abstractmethod
    def decide(self, record: Record) -> Drop | list[Removal]:
        """Judge one record of the corpus the step was fitted on."""


def disjoint(text: str, removals: Iterable[Removal]) -> list[Removal]:
    """Removals sorted by start, each clipped to begin where the previous one ended.

    Two steps may cut overlapping spans; the record must hold disjoint spans so that the
    original text can be rebuilt from the cleaned text and the record.
    """
    out: list[Removal] = []
    pos = 0
    for r in sorted(removals, key=lambda r: (r.start, -r.end)):
        start = max(r.start, pos)
        if start >= r.end:
            continue
        if start != r.start:
            r = Removal(start, r.end, r.reason, text[start : r.end], r.evidence)
        out.append(r)
        pos = r.end
    return out
