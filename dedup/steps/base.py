"""What every cleaning step is: a scikit-learn style estimator that fits on records and then
decides, per record, to drop it or which character spans to remove."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dedup.io.records import Record


class Estimator:
    """scikit-learn's parameter protocol (``get_params``, ``set_params``, ``repr``), so that
    ``sklearn.base.clone`` and grid searches accept the steps, without importing scikit-learn
    (a second of start-up) in every command line run.

    Parameters are the keyword arguments of ``__init__``, stored under their own names.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The ``__init__`` parameters and their values."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Estimator:
        """Set ``__init__`` parameters by name; return ``self``."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid: {', '.join(sorted(valid))}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if value != signature.parameters[name].default
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


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


class Step(Estimator, ABC):
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
