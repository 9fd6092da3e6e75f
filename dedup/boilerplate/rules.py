"""The repetition rule: what most of a site's pages repeat is the site's, whatever the
classifier says.

A block of a site with ``min_pages`` distinct pages or more is boilerplate when at least
``fraction`` of the site's other pages carry

- the block itself, exactly or with small changes (``block``);
- nearly all its words, as word 3-grams (``ngrams``: a byline glued into a one-line page);
- its head: its first one to three words followed by punctuation (``template``: ``Read:
  <headline>``, ``Photo: <credit>``, ``Posted by <name> |``), or its first two or three words
  on nearly all of them (``More about <tags>``), the variable part differing on every page.

On the development set the rule adds +0.2 to +0.3 F1 on sites with five pages or more on top
of the classifier and does not change the rest (``benchmarks/boilerplate.py``).
"""

from __future__ import annotations

import numpy as np

from dedup.boilerplate.features import ngram_cover
from dedup.boilerplate.pages import PREFIXES, Page
from dedup.boilerplate.sites import SiteIndex

DEFAULT_FRACTION = 0.5
DEFAULT_MIN_PAGES = 4
NGRAM_SHARE = 0.8  # share of a block's tokens the site's repeated 3-grams must cover
TEMPLATE_MAX_TOKENS = 25  # templates are headline-like: short, no sentence ending
TEMPLATE_SHARE = 0.9  # an unmarked head of 2-3 words must start a block on this share
KINDS = ("", "block", "ngrams", "template")


def head_marks(page: Page) -> np.ndarray:
    """``(n_blocks, len(PREFIXES))``: the block's first k words are followed by punctuation."""
    out = np.zeros((page.n_blocks, len(PREFIXES)), dtype=bool)
    o, ends, text = page.block_tokens, page.tok_end.tolist(), page.text
    for b in range(page.n_blocks):
        n = o[b + 1] - o[b]
        for j, k in enumerate(PREFIXES):
            if n > k:
                after = text[ends[o[b] + k - 1] : ends[o[b] + k - 1] + 1]
                out[b, j] = bool(after) and not after.isalnum() and after not in " \t,.'’-"
    return out


def _headline_like(page: Page, sizes: np.ndarray) -> np.ndarray:
    """Short blocks that do not end a sentence: a dateline paragraph (``New Delhi: The ...``)
    shares its head with other pages but is article text."""
    text = page.text
    last = [text[e - 1] for e in page.blocks[:, 1].tolist()]
    ends = np.array([c in ".!?" for c in last], dtype=bool)
    return (sizes <= TEMPLATE_MAX_TOKENS) & ~ends


def repeated_blocks(
    page: Page,
    site: SiteIndex,
    *,
    fraction: float = DEFAULT_FRACTION,
    min_pages: int = DEFAULT_MIN_PAGES,
) -> tuple[np.ndarray, np.ndarray]:
    """Per block, the rule's verdict (bool) and its kind (an index into ``KINDS``, 0: none)."""
    kind = np.zeros(page.n_blocks, dtype=np.int8)
    if site.n_pages < min_pages or page.n_blocks == 0:
        return kind > 0, kind
    need = fraction * (site.n_pages - 1)
    keys = page.block_keys
    exact = np.maximum(site.blocks.lookup(keys, default=1) - 1, 0)
    others = np.where(keys != 0, np.maximum(site.fuzzy.lookup(keys, default=1) - 1, exact), 0)
    covered = (ngram_cover(page, site) >= need).astype(float)
    sizes = np.diff(page.block_tokens)
    share = np.bincount(page.tok_block, weights=covered, minlength=page.n_blocks)
    share = share / np.maximum(sizes, 1)
    heads = np.maximum(site.prefixes.lookup(page.prefix_keys, default=1) - 1, 0)
    marked = (heads >= need) & head_marks(page)
    # Without punctuation, a head of two or three words on nearly every page ("More about").
    constant = heads[:, 1:] >= max(need, TEMPLATE_SHARE * (site.n_pages - 1))
    template = (marked.any(axis=1) | constant.any(axis=1)) & _headline_like(page, sizes)
    kind[template] = 3
    kind[(share >= NGRAM_SHARE) & (sizes >= 3)] = 2
    kind[(keys != 0) & (others >= need)] = 1
    return kind > 0, kind
