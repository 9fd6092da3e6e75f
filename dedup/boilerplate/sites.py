"""What a site repeats across its pages: blocks (exactly, and with small changes by block-level
MinHash-LSH), word n-grams and block prefixes, each counted in distinct pages of the site.

A page is added once per site (pages with the same tokens count once), and versions of one
article (near-duplicate pages, :func:`articles`) count as one page: a page crawled twice does
not turn its article into a template. ``finish`` turns the collected keys into sorted
count tables and keeps only keys seen on two pages or more, so what stays in memory after a
site is finished is its repeated text alone. Past a memory budget, pages wait on disk,
grouped by site, and sites are finished a group at a time.
"""

from __future__ import annotations

import os
import pickle
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import BinaryIO

import numpy as np

from dedup.boilerplate.pages import Page
from dedup.groups import sorted_unique
from dedup.sketch.cluster import components
from dedup.sketch.lsh import band_keys, candidate_pairs, optimal_params
from dedup.sketch.minhash import oph_signatures
from dedup.sketch.store import Budget
from dedup.sketch.verify import pair_similarity
from dedup.text.hashing import salted
from dedup.text.shingle import ShingleBatch, shingle_batch

FUZZY_THRESHOLD = 0.7  # char 5-gram Jaccard of two blocks that count as the same block
FUZZY_LSH_THRESHOLD = 0.5  # LSH casts a wider net; every pair is verified at FUZZY_THRESHOLD
FUZZY_NUM_PERM = 64
FUZZY_CHARS = 5
FUZZY_MAX_TOKENS = 80  # longer blocks are matched exactly only
ARTICLE_THRESHOLD = 0.5  # 3-gram Jaccard (template left out) of two versions of an article
ARTICLE_LSH_THRESHOLD = 0.3
ARTICLE_NUM_PERM = 64
SEED = 1
_PARTS = 64  # files the pages are spread over, by site, once the memory budget is spent


@dataclass(frozen=True)
class Counts:
    """Sorted 64-bit keys with a count each; keys not stored count ``default``."""

    keys: np.ndarray
    counts: np.ndarray

    @staticmethod
    def empty() -> Counts:
        return Counts(np.empty(0, np.uint64), np.empty(0, np.int32))

    def lookup(self, keys: np.ndarray, default: int = 0) -> np.ndarray:
        """The count of every key in ``keys``."""
        keys = np.asarray(keys, dtype=np.uint64)
        if len(self.keys) == 0:
            return np.full(keys.shape, default, dtype=np.int32)
        i = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[i] == keys, self.counts[i], default).astype(np.int32)


def page_counts(
    keys: list[np.ndarray], min_count: int = 2, article: np.ndarray | None = None
) -> Counts:
    """In how many of the pages (one key array each) every key occurs; keeps ``>= min_count``.

    With ``article`` (a label per page), pages with one label count once together.
    """
    if not keys:
        return Counts.empty()
    owner = np.repeat(np.arange(len(keys), dtype=np.int64), [len(k) for k in keys])
    if article is not None:
        owner = np.asarray(article, dtype=np.int64)[owner]
    flat = np.concatenate(keys).astype(np.uint64)
    distinct = np.unique(salted(flat, owner), return_index=True)[1]
    uniq, counts = np.unique(flat[distinct], return_counts=True)
    keep = counts >= min_count
    return Counts(uniq[keep], counts[keep].astype(np.int32))


@dataclass(frozen=True)
class SiteIndex:
    """Repetition counts of one site, in distinct pages."""

    n_pages: int
    ngrams: Counts
    blocks: Counts
    fuzzy: Counts  # pages holding a block similar to the key's block (itself included)
    prefixes: Counts

    @staticmethod
    def empty() -> SiteIndex:
        """A site of one page: nothing repeats."""
        return SiteIndex(1, Counts.empty(), Counts.empty(), Counts.empty(), Counts.empty())


@dataclass
class _Collecting:
    fingerprints: set[int] = field(default_factory=set)
    ngrams: list[np.ndarray] = field(default_factory=list)
    blocks: list[np.ndarray] = field(default_factory=list)
    prefixes: list[np.ndarray] = field(default_factory=list)
    texts: dict[int, str] = field(default_factory=dict)


@lru_cache(maxsize=4)
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    return optimal_params(threshold, num_perm)


def articles(ngrams: list[np.ndarray]) -> np.ndarray:
    """A label per page, shared by pages that are versions of one article.

    Versions of an article (a page crawled twice with different ads, an article and its
    update) repeat its text, which must not pass for the site's. Pages are linked when their
    word 3-grams, leaving out those on half the site's pages or more (the template), have
    Jaccard similarity >= ``ARTICLE_THRESHOLD``; found by MinHash-LSH and verified exactly.
    """
    n = len(ngrams)
    labels = np.arange(n)
    if n < 2:
        return labels
    common = page_counts(ngrams, min_count=max(3, int(np.ceil(0.5 * n))))
    own = [k[common.lookup(k) == 0] for k in ngrams]
    sizes = np.array([len(k) for k in own], dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    batch = ShingleBatch(np.concatenate(own).astype(np.uint64), offsets)
    sigs = oph_signatures(batch, ARTICLE_NUM_PERM, SEED)
    bands, rows = _bands(ARTICLE_LSH_THRESHOLD, ARTICLE_NUM_PERM)
    pairs = candidate_pairs(band_keys(sigs, bands, rows), sizes > 0)
    if len(pairs) == 0:
        return labels
    pairs = pairs[pair_similarity(batch, pairs).jaccard >= ARTICLE_THRESHOLD]
    return components(n, pairs)


def fuzzy_counts(
    keys: list[np.ndarray], texts: dict[int, str], article: np.ndarray | None = None
) -> Counts:
    """Pages holding each block or one similar to it (char 5-gram Jaccard >= 0.7), per key.

    Distinct blocks are sketched with one-permutation MinHash, paired by LSH and verified on
    their exact shingle sets; similar blocks form connected components, and a block counts
    the distinct pages of its component.
    """
    if len(texts) < 2:
        return Counts.empty()
    distinct = np.array(sorted(texts), dtype=np.uint64)
    batch = shingle_batch([texts[int(k)] for k in distinct], ngram=FUZZY_CHARS, kind="char")
    batch = batch.unique()
    valid = np.diff(batch.offsets) > 0
    sigs = oph_signatures(batch, FUZZY_NUM_PERM, SEED)
    bands, rows = _bands(FUZZY_LSH_THRESHOLD, FUZZY_NUM_PERM)
    pairs = candidate_pairs(band_keys(sigs, bands, rows), valid)
    if len(pairs) == 0:
        return Counts.empty()
    pairs = pairs[pair_similarity(batch, pairs).jaccard >= FUZZY_THRESHOLD]
    label = components(len(distinct), pairs)
    owner = np.repeat(np.arange(len(keys), dtype=np.int64), [len(k) for k in keys])
    if article is not None:
        owner = np.asarray(article, dtype=np.int64)[owner]
    flat = np.concatenate(keys).astype(np.uint64)
    pos = np.searchsorted(distinct, flat)
    found = (pos < len(distinct)) & (distinct[np.minimum(pos, len(distinct) - 1)] == flat)
    comp = label[pos[found]].astype(np.int64)
    page = owner[found]
    pair_code = sorted_unique(comp * len(keys) + page, in_place=True)
    per_comp = np.bincount(pair_code // len(keys), minlength=len(distinct))
    counts = per_comp[label]
    linked = np.zeros(len(distinct), dtype=bool)
    linked[pairs.ravel()] = True
    return Counts(distinct[linked], counts[linked].astype(np.int32))


@dataclass(frozen=True)
class _Entry:
    """What one page adds to its site's counts."""

    fingerprint: int
    ngrams: np.ndarray
    blocks: np.ndarray
    prefixes: np.ndarray
    texts: list[tuple[int, str]]  # (block key, normalized text) of blocks short enough to fuzz

    @staticmethod
    def of(page: Page) -> _Entry:
        keys = page.block_keys
        prefixes = page.prefix_keys.ravel()
        sizes = np.diff(page.block_tokens)
        short = np.flatnonzero((keys != 0) & (sizes <= FUZZY_MAX_TOKENS)).tolist()
        return _Entry(
            fingerprint=page.fingerprint,
            ngrams=sorted_unique(page.ngram_keys),
            blocks=sorted_unique(keys[keys != 0], in_place=True),
            prefixes=sorted_unique(prefixes[prefixes != 0], in_place=True),
            texts=[(int(keys[b]), page.normalized[b]) for b in short],
        )

    @property
    def nbytes(self) -> int:
        """About the memory the entry holds (arrays, strings and object overhead)."""
        arrays = self.ngrams.nbytes + self.blocks.nbytes + self.prefixes.nbytes
        return 400 + arrays + sum(100 + len(t) for _, t in self.texts)


def site_index(entries: list[_Entry]) -> tuple[SiteIndex, np.ndarray | None]:
    """The :class:`SiteIndex` of one site's pages, and its distinct block keys (for the corpus
    counts). A page with the same tokens as an earlier one is left out."""
    c = _Collecting()
    for e in entries:
        if e.fingerprint in c.fingerprints:
            continue
        c.fingerprints.add(e.fingerprint)
        c.ngrams.append(e.ngrams)
        c.blocks.append(e.blocks)
        c.prefixes.append(e.prefixes)
        for key, text in e.texts:
            c.texts.setdefault(key, text)
    blocks = sorted_unique(np.concatenate(c.blocks), in_place=True) if c.blocks else None
    article = articles(c.ngrams)
    n_articles = len(sorted_unique(article))
    if n_articles < 2:
        return SiteIndex.empty(), blocks
    index = SiteIndex(
        n_pages=n_articles,
        ngrams=page_counts(c.ngrams, article=article),
        blocks=page_counts(c.blocks, article=article),
        fuzzy=fuzzy_counts(c.blocks, c.texts, article),
        prefixes=page_counts(c.prefixes, article=article),
    )
    return index, blocks


class SiteCounter:
    """Collects pages site by site, then builds a :class:`SiteIndex` per site.

    What a page adds is kept in memory up to ``memory`` bytes; past that, every page goes to
    one of ``_PARTS`` files of a work directory chosen by its site, and :meth:`finish` builds
    the sites one file at a time: memory is bounded by the largest site (or a file's share of
    the corpus), not by the corpus. The counts do not depend on the budget.

    ``corpus_`` after :meth:`finish` counts, for every normalized block, the distinct sites
    that carry it (text shared by many sites: ``Skip to content``, ``Share this``).
    """

    def __init__(self, memory: int | None = None, workdir: str | os.PathLike | None = None) -> None:
        self._pages: dict[str | None, list[_Entry]] = {}
        self._budget = Budget(memory, workdir)
        self._files: list[BinaryIO] | None = None

    def add(self, site: str | None, page: Page) -> None:
        """Count ``page`` as a page of ``site`` (a second page with the same tokens is ignored)."""
        entry = _Entry.of(page)
        if self._files is not None:
            pickle.dump((site, entry), self._files[_part(site)], pickle.HIGHEST_PROTOCOL)
            return
        self._pages.setdefault(site, []).append(entry)
        if not self._budget.take(entry.nbytes):
            self._spill()

    @property
    def spilled(self) -> bool:
        return self._files is not None

    def _spill(self) -> None:
        self._files = [open(self._budget.path(f"site{p}"), "w+b") for p in range(_PARTS)]  # noqa: SIM115
        for site, entries in self._pages.items():
            for entry in entries:
                pickle.dump((site, entry), self._files[_part(site)], pickle.HIGHEST_PROTOCOL)
        self._pages = {}

    def _groups(self) -> Iterator[dict[str | None, list[_Entry]]]:
        """Pages by site, all at once (in memory) or a partition file at a time."""
        if self._files is None:
            yield self._pages
            return
        for f in self._files:
            f.seek(0)
            group: dict[str | None, list[_Entry]] = {}
            while True:
                try:
                    site, entry = pickle.load(f)
                except EOFError:
                    break
                group.setdefault(site, []).append(entry)
            yield group

    def finish(self) -> tuple[dict[str | None, SiteIndex], Counts]:
        """Count every site's repeats; return the per-site indexes and the corpus counts."""
        sites: dict[str | None, SiteIndex] = {}
        per_site_blocks: list[np.ndarray] = []
        try:
            for group in self._groups():
                for site, entries in group.items():
                    sites[site], blocks = site_index(entries)
                    if blocks is not None:
                        per_site_blocks.append(blocks)
                del group
        finally:
            self._pages = {}
            for f in self._files or []:
                f.close()
            self._files = None
            self._budget.close()
        return sites, page_counts(per_site_blocks)


def _part(site: str | None) -> int:
    """The partition file of ``site``: a stable hash (the same in every process)."""
    return 0 if site is None else zlib.crc32(site.encode("utf-8", "replace")) % _PARTS
