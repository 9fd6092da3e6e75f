"""Shingles a site repeats on many of its pages (menus, footers, templates), found by counting.

Near-duplicate detection must not count them: two different articles of one site share their
menus and footers, and at a low similarity threshold those alone would link them.

A shingle is *common* in a site when at least ``max(min_docs, fraction * n)`` of the site's
``n`` distinct pages carry it. ``min_docs`` is 2 by default: on a small site, text that two pages
share cannot be told from template text (sidebars of pages crawled the same day are shared by a
handful of pages), so only near-identical pages are found there, by the strict rule on whole
pages; on a site of 100 pages, text on up to 4 of them still counts as content. Documents with
no site form one group of unknown make-up, where the floor is ``unknown_min_docs`` (4). Identical
shingle sets count once, so a page crawled twenty times does not make its text a template.
"""

from __future__ import annotations

import numpy as np

from dedup import compiled
from dedup.groups import group, group_sizes, repeats
from dedup.text.hashing import owner_salts, salted, splitmix64
from dedup.text.shingle import ShingleBatch

DEFAULT_COMMON_FRACTION = 0.05
DEFAULT_COMMON_MIN_DOCS = 2
DEFAULT_UNKNOWN_MIN_DOCS = 4


def set_fingerprints(sets: ShingleBatch) -> np.ndarray:
    """A 64-bit fingerprint per document of its (unique) shingle set, independent of order."""
    sizes = np.diff(sets.offsets)
    if compiled.enabled():
        sums = compiled.mixed_sums(sets.hashes, sets.offsets)
    else:
        sums = np.zeros(sets.n_docs, dtype=np.uint64)
        filled = sizes > 0
        if filled.any():
            with np.errstate(over="ignore"):
                sums[filled] = np.add.reduceat(splitmix64(sets.hashes), sets.offsets[:-1][filled])
    return splitmix64(sums ^ sizes.astype(np.uint64))


def common_mask(
    sets: ShingleBatch,
    site: np.ndarray,
    *,
    fraction: float = DEFAULT_COMMON_FRACTION,
    min_docs: int = DEFAULT_COMMON_MIN_DOCS,
    unknown_site: int | None = None,
    unknown_min_docs: int = DEFAULT_UNKNOWN_MIN_DOCS,
) -> np.ndarray:
    """True for every entry of ``sets.hashes`` that is common in its document's site.

    ``sets`` must hold unique shingles per document; ``site`` is an integer site code per doc.
    Documents of ``unknown_site`` (no site or URL given) form one group whose pages may come
    from many sites, so there only text on ``max(unknown_min_docs, fraction * n)`` counts.
    """
    doc = sets.doc_ids()
    site = np.asarray(site, dtype=np.int32)
    n_sites = int(site.max(initial=-1)) + 1
    # Count each distinct shingle set once per site.
    distinct = ~repeats(salted(set_fingerprints(sets), site))
    n_distinct = np.bincount(site[distinct], minlength=n_sites)
    floor = np.full(n_sites, min_docs)
    if unknown_site is not None and unknown_site < n_sites:
        floor[unknown_site] = unknown_min_docs
    limit = np.maximum(floor, np.ceil(fraction * n_distinct)).astype(np.int64)

    entry_site = site[doc]
    code = salted(sets.hashes, entry_site)  # one key per (site, shingle)
    count = group_sizes(code, weights=distinct[doc])
    return count >= limit[entry_site]


def distinct_sets(fingerprints: np.ndarray, site: np.ndarray) -> np.ndarray:
    """True for the first document of every distinct (site, shingle set)."""
    return ~repeats(salted(np.asarray(fingerprints, dtype=np.uint64), np.asarray(site)))


def site_limits(
    site: np.ndarray,
    distinct: np.ndarray,
    *,
    fraction: float = DEFAULT_COMMON_FRACTION,
    min_docs: int = DEFAULT_COMMON_MIN_DOCS,
    unknown_site: int | None = None,
    unknown_min_docs: int = DEFAULT_UNKNOWN_MIN_DOCS,
) -> np.ndarray:
    """Per site, the least number of distinct pages that makes a shingle common (as
    :func:`common_mask`)."""
    site = np.asarray(site, dtype=np.int64)
    n_sites = int(site.max(initial=-1)) + 1
    return limits_of(
        np.bincount(site[distinct], minlength=n_sites),
        fraction=fraction,
        min_docs=min_docs,
        unknown_site=unknown_site,
        unknown_min_docs=unknown_min_docs,
    )


def limits_of(
    n_pages: np.ndarray,
    *,
    fraction: float = DEFAULT_COMMON_FRACTION,
    min_docs: int = DEFAULT_COMMON_MIN_DOCS,
    unknown_site: int | None = None,
    unknown_min_docs: int = DEFAULT_UNKNOWN_MIN_DOCS,
) -> np.ndarray:
    """The limits of :func:`site_limits` from each site's number of distinct pages."""
    floor = np.full(len(n_pages), min_docs)
    if unknown_site is not None and unknown_site < len(n_pages):
        floor[unknown_site] = unknown_min_docs
    return np.maximum(floor, np.ceil(fraction * n_pages)).astype(np.int64)


def common_keys(
    keys: np.ndarray, docs: np.ndarray, site: np.ndarray, distinct: np.ndarray, limit: np.ndarray
) -> np.ndarray:
    """The sorted distinct ``(site, shingle)`` keys (``salted(shingle, site)``) that are common.

    ``keys``/``docs`` are entries (one per shingle of a document's set) of any subset of key
    values, complete for those values: counting can go a partition of the key space at a time.
    """
    keep = distinct[docs]
    keys, docs = keys[keep], docs[keep]
    if len(keys) == 0:
        return np.empty(0, dtype=np.uint64)
    if len(limit) and np.all(limit == limit[0]):  # one limit: whose key it is does not matter
        ordered = np.sort(keys)
        new = np.empty(len(ordered), dtype=bool)
        new[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, len(ordered)))
        return ordered[starts[counts >= limit[0]]]
    values, first, counts = group(keys)
    return values[counts >= limit[site[docs[first]]]]


_CACHED_KEYS = 1 << 15  # sorted keys (256 KB) that random probes find in the cache


def is_member(keys: np.ndarray, sorted_keys: np.ndarray, prefilter: bool = True) -> np.ndarray:
    """True where ``keys`` occur in ``sorted_keys`` (sorted, distinct).

    With ``prefilter``, a bitmap of the keys' top bits settles most misses at once and only
    the rest are searched (worth it when most keys are missing).
    """
    out = np.zeros(len(keys), dtype=bool)
    if len(sorted_keys) == 0 or len(keys) == 0:
        return out
    maybe = _maybe_members(keys, sorted_keys) if prefilter else np.arange(len(keys))
    if len(maybe) > 4096 and len(sorted_keys) > _CACHED_KEYS:
        # Sorted probes walk a large table in order: several times faster than random ones
        # (a table that stays in the cache is not worth the sort).
        maybe = maybe[np.argsort(keys[maybe])]
    probe = keys[maybe]
    idx = np.searchsorted(sorted_keys, probe)
    idx[idx == len(sorted_keys)] = 0
    out[maybe] = sorted_keys[idx] == probe
    return out


def _maybe_members(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    bitmap, shift = _top_bits(sorted_keys)
    return np.flatnonzero(bitmap[keys >> shift])


def _top_bits(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.uint64]:
    """A bitmap of the keys' top bits (about 16 slots per key) and the shift that gives them."""
    bits = int(min(24, max(12, np.ceil(np.log2(16 * max(len(sorted_keys), 1))))))
    shift = np.uint64(64 - bits)
    bitmap = np.zeros(1 << bits, dtype=bool)
    bitmap[sorted_keys >> shift] = True
    return bitmap, shift


class SiteKeys:
    """Sorted distinct ``(site, shingle)`` keys (``salted(shingle, site)``), probed by whole
    batches of sets: the prefilter bitmap is built once, the probing is compiled."""

    def __init__(self, sorted_keys: np.ndarray) -> None:
        self.keys = np.ascontiguousarray(sorted_keys, dtype=np.uint64)
        self._bitmap, self._shift = _top_bits(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def members(self, sets: ShingleBatch, site: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """True for the entries of ``sets`` (``site``: per document) whose key is here, and
        how many each document has; ``is_member(salted(...), keys)`` without the key array."""
        if not compiled.enabled():
            keys, doc = site_keys(sets, site)
            found = is_member(keys, self.keys)
            return found, np.bincount(doc[found], minlength=sets.n_docs).astype(np.int64)
        salts = owner_salts(site)
        return compiled.salted_members(
            sets.hashes, sets.offsets, salts, self.keys, self._bitmap, self._shift
        )


def site_keys(sets: ShingleBatch, site: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One key per (site, shingle) entry of ``sets`` (``site``: per document), and the
    document of each entry."""
    doc = sets.doc_ids()
    return salted(sets.hashes, np.asarray(site)[doc]), doc
