"""Site boilerplate: text that belongs to the site, not the article (bylines, menus, tag and
navigation footers, ``Read: <headline>`` inserts, cookie and newsletter notices).

``fit`` groups the pages by site (the site field, else the host of ``url``, else the whole
input is one site), splits them into blocks (lines; sentences for one-line pages) and counts
what each site repeats (:mod:`dedup.boilerplate.sites`): blocks on other pages, exactly or
with small changes (block-level MinHash-LSH, so ``1 hour ago`` and ``3 hours ago`` match),
their first words (``Read: ...``) and the word 3-grams they are made of. ``decide`` scores
every block of a page with the shipped classifier (:mod:`dedup.boilerplate.model`), which
weighs that repetition with the block's shape and its neighbours; a page from a site seen
once gets the classifier alone. What at least ``fraction`` of the other pages of a site with
``min_pages`` pages or more repeat goes whatever its score (:mod:`dedup.boilerplate.rules`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dedup.boilerplate.features import block_features, refine_blocks
from dedup.boilerplate.model import BoilerplateModel
from dedup.boilerplate.pages import Page, split_page
from dedup.boilerplate.rules import DEFAULT_FRACTION, DEFAULT_MIN_PAGES, KINDS, repeated_blocks
from dedup.boilerplate.sites import SiteCounter, SiteIndex
from dedup.errors import ConfigError
from dedup.io.records import (
    DEFAULT_ID_FIELD,
    DEFAULT_SITE_FIELD,
    DEFAULT_TEXT_FIELD,
    Record,
    as_records,
)
from dedup.sketch.store import DEFAULT_MEMORY, parse_memory
from dedup.steps.base import Drop, Removal, Step

REASON = "site boilerplate"
_EMPTY_SITE = SiteIndex.empty()


class SiteBoilerplate(Step):
    """Remove the blocks of a page that belong to its site rather than to its article.

    Parameters
    ----------
    model : str, path or None, default="default"
        The block classifier: ``"default"`` (shipped, trained on 2,248 pages of 1,032 sites),
        the path of a model written by ``dedup train-boilerplate``, or None for repetition
        alone (the ``fraction`` rule).
    threshold : float or None, default=None
        Least classifier score of a removed block; None takes the model's own (0.5).
    fraction : float, default=0.5
        A block found (exactly or with small changes) on at least this share of the other
        pages of its site is boilerplate whatever the classifier says; > 1 turns this off.
    min_pages : int, default=4
        The ``fraction`` rule applies to sites with at least this many distinct pages.
    memory : int, str or None, default="512M"
        Memory for the pages' keys while counting; beyond it, they wait on disk grouped by
        site and sites are counted a group at a time (memory then follows the largest site).
        None: no limit.
    workdir : path or None
        Where the work directory goes (the system's temporary directory by default).

    Attributes
    ----------
    sites_ : dict
        Per site, the repetition counts (:class:`~dedup.boilerplate.sites.SiteIndex`).
    corpus_ : Counts
        Per normalized block, the number of sites that carry it.
    model_ : BoilerplateModel or None
    spilled_ : bool
        Whether the pages' keys went over the ``memory`` budget and waited on disk.
    """

    name = "boilerplate"

    def __init__(
        self,
        *,
        model: Any = "default",
        threshold: float | None = None,
        fraction: float = DEFAULT_FRACTION,
        min_pages: int = DEFAULT_MIN_PAGES,
        memory: int | str | None = DEFAULT_MEMORY,
        workdir: str | None = None,
        text_field: str = DEFAULT_TEXT_FIELD,
        id_field: str = DEFAULT_ID_FIELD,
        site_field: str = DEFAULT_SITE_FIELD,
    ) -> None:
        self.model = model
        self.threshold = threshold
        self.fraction = fraction
        self.min_pages = min_pages
        self.memory = memory
        self.workdir = workdir
        self.text_field = text_field
        self.id_field = id_field
        self.site_field = site_field

    def _validate(self) -> None:
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"threshold must be in [0, 1], got {self.threshold}")
        if self.fraction <= 0.0:
            raise ConfigError(f"fraction must be positive, got {self.fraction}")
        if self.min_pages < 2:
            raise ConfigError(f"min_pages must be at least 2, got {self.min_pages}")
        try:
            parse_memory(self.memory)
        except ValueError as e:
            raise ConfigError(str(e)) from None

    def fit(self, docs: Any, y: None = None) -> SiteBoilerplate:
        """Count what every site of ``docs`` repeats across its pages; return ``self``."""
        self._validate()
        if self.model is None:
            self.model_ = None
        elif isinstance(self.model, BoilerplateModel):
            self.model_ = self.model
        else:
            self.model_ = BoilerplateModel.load(None if self.model == "default" else self.model)
        counter = SiteCounter(parse_memory(self.memory), self.workdir)
        records = as_records(
            docs, text_field=self.text_field, id_field=self.id_field, site_field=self.site_field
        )
        for record in records:
            counter.add(record.site, split_page(record.text))
        self.spilled_ = counter.spilled
        self.sites_, self.corpus_ = counter.finish()
        return self

    def scores(self, text: str, site: str | None = None) -> tuple[Page, np.ndarray]:
        """The blocks of ``text`` (a page of ``site``) and their classifier scores (zeros
        without a model)."""
        if not hasattr(self, "sites_"):
            raise ConfigError("SiteBoilerplate is not fitted yet; call fit(docs) first")
        index = self.sites_.get(site, _EMPTY_SITE)
        page = refine_blocks(split_page(text), index)
        if self.model_ is None:
            return page, np.zeros(page.n_blocks)
        x = block_features(page, index, self.corpus_, self.model_.lexicon)
        return page, self.model_.score(x, np.diff(page.block_tokens).astype(float))

    def decide(self, record: Record) -> Drop | list[Removal]:
        """The boilerplate blocks of ``record``, each with its evidence."""
        page, score = self.scores(record.text, record.site)
        index = self.sites_.get(record.site, _EMPTY_SITE)
        threshold = self.threshold
        if threshold is None:
            threshold = self.model_.threshold if self.model_ is not None else 1.0
        ruled, kind = repeated_blocks(page, index, fraction=self.fraction, min_pages=self.min_pages)
        scored = score >= threshold if self.model_ is not None else np.zeros_like(ruled)
        remove = ruled | scored
        keys = page.block_keys
        exact = np.maximum(index.blocks.lookup(keys, default=1) - 1, 0)
        others = np.where(keys != 0, np.maximum(index.fuzzy.lookup(keys, default=1) - 1, exact), 0)
        text = page.text
        removals = []
        blocks = page.blocks.tolist()
        for b in np.flatnonzero(remove).tolist():
            start, end = blocks[b]
            # Take the whitespace after the block (before it, for the last one) along, so no
            # blank line or double space is left behind.
            if b + 1 < len(blocks):
                end = blocks[b + 1][0]
            elif b > 0 and not remove[b - 1]:
                start = blocks[b - 1][1]
            evidence: dict[str, Any] = {
                "site_pages": int(others[b]) + 1,
                "site_size": index.n_pages,
            }
            if ruled[b]:
                evidence["repeated"] = KINDS[kind[b]]
            if self.model_ is not None:
                evidence["score"] = round(float(score[b]), 4)
            removals.append(Removal(start, end, REASON, text[start:end], evidence))
        return removals
