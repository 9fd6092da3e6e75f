"""The ``Cleaner``: fits the chosen steps on a corpus, then emits each document's cleaned text
and the record of everything it removed (dropped documents and removed spans)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dedup.errors import ConfigError
from dedup.io.records import (
    DEFAULT_ID_FIELD,
    DEFAULT_SITE_FIELD,
    DEFAULT_TEXT_FIELD,
    Record,
    as_records,
)
from dedup.steps import STEPS, Drop, Removal, Step
from dedup.steps.base import disjoint

DEFAULT_STEPS = ("passages", "boilerplate", "neardup")


@dataclass
class CleanResult:
    """What the cleaner decided for one document."""

    record: Record
    text: str | None  # cleaned text; None when the document is dropped
    drop: Drop | None = None
    removals: list[Removal] = field(default_factory=list)

    @property
    def kept(self) -> bool:
        return self.drop is None

    def output_fields(self, text_field: str = DEFAULT_TEXT_FIELD) -> dict[str, Any]:
        """The input fields with the text replaced by the cleaned text."""
        fields = dict(self.record.fields or {"id": self.record.id})
        fields[text_field] = self.text
        return fields

    def audit(self) -> dict[str, Any]:
        """The audit line of this document (see :mod:`dedup.audit`); a dropped document's
        line carries its whole input record, so it can be restored."""
        out: dict[str, Any] = {"id": self.record.id, "dropped": self.drop is not None}
        if self.drop is not None:
            out.update(
                reason=self.drop.reason, keeper=self.drop.keeper, similarity=self.drop.similarity
            )
            if self.drop.evidence:
                out["evidence"] = self.drop.evidence
        out["removals"] = [r.to_dict() for r in self.removals]
        if self.drop is not None:
            out["record"] = self.record.fields or {"id": self.record.id, "text": self.record.text}
        return out


def apply_removals(text: str, removals: Sequence[Removal]) -> str:
    """``text`` without the removed spans (overlapping spans are merged)."""
    pieces, pos = [], 0
    for r in sorted(removals, key=lambda r: (r.start, r.end)):
        if r.start > pos:
            pieces.append(text[pos : r.start])
        pos = max(pos, r.end)
    pieces.append(text[pos:])
    return "".join(pieces)


def make_steps(names: Iterable[str], params: dict[str, dict[str, Any]] | None = None) -> list[Step]:
    """Instantiate steps by registry name, with optional per-step parameters."""
    params = params or {}
    steps = []
    for name in names:
        if name not in STEPS:
            known = ", ".join(STEPS)
            raise ConfigError(f"unknown step {name!r}; known steps: {known}")
        steps.append(STEPS[name](**params.get(name, {})))
    return steps


class Cleaner:
    """Compose cleaning steps: ``Cleaner(steps=["neardup"]).fit(docs).transform(docs)``.

    ``fit`` and ``transform`` each read ``docs`` once, so a re-readable source (a list, a
    :class:`~dedup.io.readers.RecordReader`) is streamed; ``fit_transform`` keeps a one-shot
    iterator's records in memory.

    Parameters
    ----------
    steps : sequence of str or Step, default=("passages", "boilerplate", "neardup")
        Steps to run, by registry name or as configured instances.
    params : dict, optional
        Parameters per step name, for steps given by name.
    """

    def __init__(
        self,
        *,
        steps: Sequence[str | Step] = DEFAULT_STEPS,
        params: dict[str, dict[str, Any]] | None = None,
        text_field: str = DEFAULT_TEXT_FIELD,
        id_field: str = DEFAULT_ID_FIELD,
        site_field: str = DEFAULT_SITE_FIELD,
    ) -> None:
        self.steps = steps
        self.params = params
        self.text_field = text_field
        self.id_field = id_field
        self.site_field = site_field

    def _records(self, docs: Any) -> Iterator[Record]:
        return as_records(
            docs, text_field=self.text_field, id_field=self.id_field, site_field=self.site_field
        )

    def fit(self, docs: Any, y: None = None) -> Cleaner:
        """Fit every step on ``docs``; return ``self``."""
        named = [s for s in self.steps if isinstance(s, str)]
        built = iter(make_steps(named, self.params))
        self.steps_ = [next(built) if isinstance(s, str) else s for s in self.steps]
        if not self.steps_:
            raise ConfigError("no steps to run; choose at least one of: " + ", ".join(STEPS))
        if len(self.steps_) > 1 and iter(docs) is docs:
            docs = list(docs)  # every step reads the corpus: a one-shot iterator is kept
        for step in self.steps_:
            step.fit(self._records(docs))
        return self

    def transform(self, docs: Any) -> Iterator[CleanResult]:
        """Yield a :class:`CleanResult` for every document of the corpus, in input order."""
        for record in self._records(docs):
            yield self.clean_one(record)

    def clean_one(self, record: Record) -> CleanResult:
        """Decide one record of the fitted corpus: drop it, or remove spans of it."""
        removals: list[Removal] = []
        for step in self.steps_:
            decision = step.decide(record)
            if isinstance(decision, Drop):
                removals = disjoint(record.text, removals)
                return CleanResult(record=record, text=None, drop=decision, removals=removals)
            removals.extend(decision)
        removals = disjoint(record.text, removals)
        return CleanResult(
            record=record, text=apply_removals(record.text, removals), removals=removals
        )

    def fit_transform(self, docs: Any, y: None = None) -> list[CleanResult]:
        """Fit on ``docs`` and clean them; a one-shot iterator is read into memory first."""
        if iter(docs) is docs:
            docs = list(docs)
        return list(self.fit(docs).transform(docs))
