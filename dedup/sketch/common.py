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

from dedup.groups import group_sizes, repeats
from dedup.text.hashing import salted, splitmix64
from dedup.text.shingle import ShingleBatch

DEFAULT_COMMON_FRACTION = 0.05
DEFAULT_COMMON_MIN_DOCS = 2
DEFAULT_UNKNOWN_MIN_DOCS = 4


def set_fingerprints(sets: ShingleBatch) -> np.ndarray:
    """A 64-bit fingerprint per document of its (unique) shingle set, independent of order."""
    fp = np.zeros(sets.n_docs, dtype=np.uint64)
    sizes = np.diff(sets.offsets)
    filled = sizes > 0
    if filled.any():
        with np.errstate(over="ignore"):
            sums = np.add.reduceat(splitmix64(sets.hashes), sets.offsets[:-1][filled])
        fp[filled] = sums
    return splitmix64(fp ^ sizes.astype(np.uint64))


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
