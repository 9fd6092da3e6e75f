"""Features of every block of a page, for the boilerplate classifier.

The block's own shape (length, stop-word, punctuation, digit and capital ratios, sentence
ending, words learned to mark boilerplate), where it stands (index from the top and the
bottom, how much article-like text lies before and after it), what the site repeats (the
block on other pages exactly or with small changes, its first words, the word 3-grams it is
made of, and how many other sites carry it), how much of it the page's first line (the
document title) holds, how many blocks of the same page open with the same words, and
whether a comment section's head stands above it. The same for the two blocks before and
after, and averages over a window. A second pass adds the neighbours' predicted scores.
"""

from __future__ import annotations

import re

import numpy as np

from dedup.boilerplate.pages import NGRAM, PREFIXES, Page, resplit, stop_words
from dedup.boilerplate.sites import Counts, SiteIndex

_MARKS = frozenset("|»›•→©®·►▶◄«‹")
_ENDS = frozenset(".!?\"'”’)…:")
NEIGHBOURS = (-2, -1, 1, 2)
WINDOW = 5
CONTEXT_WINDOWS = (3, 10)
COPY_HEAD = 6  # words that open a block, compared with the other blocks of its page
# A short block that opens a comment section (English). It counts once some article-like
# text lies above it: a "Comments" link in the menu at the top is no such head. A bare
# "Discussion", "Responses" or "Reactions" is as often a section of the article itself.
_COMMENTS_HEAD = re.compile(
    r"^\W*(\d+\s+(comments?|responses?|replies|reactions)\b|(responses?|replies)\s*\(\d+\)"
    r"|comments?\b|leave a (comment|reply)|post a comment|add (a|your) comment|reader comments"
    r"|your comments|join the discussion|have your say)",
    re.IGNORECASE,
)
_COMMENTS_HEAD_CHARS = 40
_COMMENTS_HEAD_AFTER = 50  # words of article-like blocks above the head

OWN = [
    "log_tokens",
    "log_chars",
    "stop_ratio",
    "punct_ratio",
    "digit_ratio",
    "capital_ratio",
    "mean_word_len",
    "ends_sentence",
    "has_marks",
    "lex_mean",
    "lex_min",
    "lex_max",
    "lex_known",
]
REPEAT = [
    "exact_frac",
    "fuzzy_frac",
    "ngram_cover_mean",
    "ngram_cover_any",
    *(f"prefix{k}_frac" for k in PREFIXES),
    "log_exact_other",
    "log_corpus_sites",
]
PLACE = [
    "rel_index",
    "log_index",
    "log_from_end",
    "chars_before",
    "dense_before",
    "dense_after",
]
ANCHOR = [
    "repeated_above",
    "repeated_below",
    "log_since_repeated",
    "log_until_repeated",
    "in_main",
    "log_before_main",
    "log_after_main",
]
TITLE = ["title_cover", "title_run"]
COPIES = ["log_copies_before", "log_copies_after"]
COMMENTS = ["below_comments_head", "log_since_comments_head"]
PAGE = ["log_blocks", "log_page_tokens", "one_line", "log_site_pages"]
NEIGHBOUR_OF = [
    "log_tokens",
    "stop_ratio",
    "ends_sentence",
    "lex_mean",
    "exact_frac",
    "ngram_cover_mean",
    "title_run",
]
WINDOW_OF = ["log_tokens", "stop_ratio", "ngram_cover_mean", "lex_mean"]

BASE = OWN + REPEAT + PLACE + ANCHOR + TITLE + COPIES + COMMENTS + PAGE
NAMES = (
    BASE
    + [f"{n}@{d:+d}" for d in NEIGHBOURS for n in NEIGHBOUR_OF]
    + [f"{n}@window" for n in WINDOW_OF]
)
CONTEXT_NAMES = (
    ["score"]
    + [f"score@{d:+d}" for d in NEIGHBOURS]
    + [f"score@±{w}" for w in CONTEXT_WINDOWS]
    + ["score_before", "score_after"]
)


_ASCII_ALNUM = np.zeros(128, dtype=bool)
for _c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
    _ASCII_ALNUM[ord(_c)] = True
_MARK_CODES = np.array(sorted(ord(c) for c in _MARKS), dtype=np.uint32)
_END_CODES = np.array(sorted(ord(c) for c in _ENDS), dtype=np.uint32)


def _per_block(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over ``[starts[b], ends[b])`` for every block."""
    c = np.zeros(len(values) + 1)
    np.cumsum(values, out=c[1:])
    return c[ends] - c[starts]


def _own(page: Page, lexicon: dict[str, float]) -> np.ndarray:
    """The block's own shape: one row per block, columns ``OWN``."""
    text = page.text
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ascii_ = cp < 128
    space = np.isin(cp, (9, 10, 11, 12, 13, 32, 0xA0)) | ((cp >= 0x2000) & (cp <= 0x200B))
    punct_zone = ((cp >= 0x80) & (cp <= 0xBF)) | ((cp >= 0x2000) & (cp <= 0x2BFF))
    alnum = np.where(ascii_, _ASCII_ALNUM[cp & 127], ~punct_zone & ~space)
    digit = (cp >= 48) & (cp <= 57)
    start, end = page.blocks[:, 0], page.blocks[:, 1]
    n_chars = np.maximum(end - start, 1).astype(float)
    punct = n_chars - _per_block(alnum, start, end) - _per_block(space, start, end)
    digits = _per_block(digit, start, end)
    marks = _per_block(np.isin(cp, _MARK_CODES), start, end)
    ends_sentence = np.isin(cp[np.maximum(end - 1, 0)], _END_CODES)

    nb = page.n_blocks
    block = page.tok_block
    n_tok = np.bincount(block, minlength=nb).astype(float)
    some = np.maximum(n_tok, 1)
    words = page.words
    stop_set = stop_words()
    stop = np.fromiter((w in stop_set for w in words), dtype=bool, count=len(words))
    first = cp[page.tok_start] if len(page.tok_start) else np.zeros(0, np.uint32)
    capital = (first >= 65) & (first <= 90)
    lengths = (page.tok_end - page.tok_start).astype(float)
    lex = np.fromiter((lexicon.get(w, np.nan) for w in words), dtype=float, count=len(words))
    known = ~np.isnan(lex)
    n_known = np.bincount(block, weights=known, minlength=nb)
    lex_sum = np.bincount(block, weights=np.where(known, lex, 0.0), minlength=nb)
    lex_min = np.zeros(nb)
    lex_max = np.zeros(nb)
    if known.any():
        kb = block[known]
        lo = np.full(nb, np.inf)
        hi = np.full(nb, -np.inf)
        np.minimum.at(lo, kb, lex[known])
        np.maximum.at(hi, kb, lex[known])
        has = n_known > 0
        lex_min[has], lex_max[has] = lo[has], hi[has]
    return np.column_stack(
        [
            np.log1p(n_tok),
            np.log1p(n_chars),
            np.bincount(block, weights=stop, minlength=nb) / some,
            punct / n_chars,
            digits / n_chars,
            np.bincount(block, weights=capital, minlength=nb) / some,
            np.bincount(block, weights=lengths, minlength=nb) / some,
            ends_sentence.astype(float),
            (marks > 0).astype(float),
            lex_sum / np.maximum(n_known, 1),
            lex_min,
            lex_max,
            n_known / some,
        ]
    )


def ngram_cover(page: Page, site: SiteIndex) -> np.ndarray:
    """Per token, the most other pages of the site that repeat a word 3-gram holding it."""
    m = len(page.tok_hash)
    if m == 0 or site.n_pages < 2:
        return np.zeros(m, dtype=np.int64)
    other = np.maximum(site.ngrams.lookup(page.ngram_keys, default=1) - 1, 0).astype(np.int64)
    cover = other.copy()
    for j in range(1, NGRAM):  # the n-grams starting up to n-1 tokens earlier also hold it
        cover[j:] = np.maximum(cover[j:], other[:-j])
    return cover


def _repeat(page: Page, site: SiteIndex, corpus: Counts) -> np.ndarray:
    """What the site (and the corpus) repeats of every block: columns ``REPEAT``."""
    others = max(site.n_pages - 1, 0)
    denom = max(others, 1)
    keys = page.block_keys
    has = keys != 0
    exact = np.where(has, np.maximum(site.blocks.lookup(keys, default=1) - 1, 0), 0)
    fuzzy = np.maximum(site.fuzzy.lookup(keys, default=1) - 1, exact)
    fuzzy = np.where(has, fuzzy, 0)
    cover = ngram_cover(page, site) / denom
    o = page.block_tokens
    sizes = np.diff(o)
    block_of = page.tok_block
    sums = np.bincount(block_of, weights=cover, minlength=page.n_blocks)
    anys = np.bincount(block_of, weights=(cover > 0).astype(float), minlength=page.n_blocks)
    with np.errstate(invalid="ignore", divide="ignore"):
        cover_mean = np.where(sizes > 0, sums / np.maximum(sizes, 1), 0.0)
        cover_any = np.where(sizes > 0, anys / np.maximum(sizes, 1), 0.0)
    prefix = np.maximum(site.prefixes.lookup(page.prefix_keys, default=1) - 1, 0).astype(float)
    # A block no longer than the prefix is its own prefix.
    prefix = np.where(page.prefix_keys != 0, prefix, exact[:, None])
    sites = np.where(has, np.maximum(corpus.lookup(keys, default=1) - 1, 0), 0)
    return np.column_stack(
        [
            exact / denom,
            fuzzy / denom,
            cover_mean,
            cover_any,
            prefix / denom,
            np.log1p(exact),
            np.log1p(sites),
        ]
    )


def _dense_tokens(own: np.ndarray) -> np.ndarray:
    """Tokens of every article-like block (10+ tokens, a quarter of them stop words), else 0."""
    tokens = np.expm1(own[:, OWN.index("log_tokens")])
    return tokens * ((tokens >= 10) & (own[:, OWN.index("stop_ratio")] >= 0.25))


def _place(page: Page, own: np.ndarray) -> np.ndarray:
    """Where every block stands in the page: columns ``PLACE``."""
    nb = page.n_blocks
    idx = np.arange(nb, dtype=float)
    chars = (page.blocks[:, 1] - page.blocks[:, 0]).astype(float)
    before = np.cumsum(chars) - chars
    dense = _dense_tokens(own)
    total = max(dense.sum(), 1.0)
    dense_before = (np.cumsum(dense) - dense) / total
    dense_after = (dense.sum() - np.cumsum(dense)) / total
    return np.column_stack(
        [
            idx / max(nb - 1, 1),
            np.log1p(idx),
            np.log1p(nb - 1 - idx),
            before / max(chars.sum(), 1.0),
            dense_before,
            dense_after,
        ]
    )


def _anchors(own: np.ndarray, repeat: np.ndarray, n_pages: int) -> np.ndarray:
    """Where every block stands between the blocks most of the site's pages repeat (menus,
    section heads, footers): their share above and below, and the distance to the nearest."""
    nb = len(repeat)
    anchor = repeat[:, REPEAT.index("fuzzy_frac")] >= 0.5 if n_pages >= 3 else np.zeros(nb, bool)
    tokens = np.expm1(own[:, OWN.index("log_tokens")])
    dense = (_dense_tokens(own) > 0) & ~anchor
    gain = np.where(dense, tokens, -(tokens + 1) * np.where(anchor, 2.0, 1.0))
    total = max(int(anchor.sum()), 1)
    above = np.cumsum(anchor) - anchor
    below = anchor.sum() - np.cumsum(anchor)
    idx = np.arange(nb)
    last = np.maximum.accumulate(np.where(anchor, idx, -1))
    prev = np.r_[-1, last[:-1]]
    nxt_rev = np.minimum.accumulate(np.where(anchor, idx, nb)[::-1])[::-1]
    nxt = np.r_[nxt_rev[1:], nb]
    lo, hi = _main_span(gain)
    return np.column_stack(
        [
            above / total,
            below / total,
            np.where(prev >= 0, np.log1p(idx - prev), -1.0),
            np.where(nxt < nb, np.log1p(nxt - idx), -1.0),
            ((idx >= lo) & (idx <= hi)).astype(float),
            np.log1p(np.maximum(lo - idx, 0)),
            np.log1p(np.maximum(idx - hi, 0)),
        ]
    )


def _title(page: Page) -> np.ndarray:
    """How much of every block the page's first line holds (columns ``TITLE``): scraped pages
    open with the document title (``Consumer lending soars | Business | guardian.co.uk``),
    and the article's headline repeats it where related headlines do not. The share of the
    block's tokens found there, and 1 when the block is a run of its tokens; -1 for the first
    block itself and for pages split into sentences."""
    nb = page.n_blocks
    out = np.full((nb, 2), -1.0)
    if page.one_line or nb < 2:
        return out
    o, h = page.block_tokens, page.tok_hash
    first = h[o[0] : o[1]]
    block = page.tok_block[o[1] :]
    sizes = np.diff(o)[1:]
    found = np.bincount(block - 1, weights=np.isin(h[o[1] :], first), minlength=nb - 1)
    out[1:, 0] = np.where(sizes > 0, found / np.maximum(sizes, 1), 0.0)
    out[1:, 1] = 0.0
    head = first.tolist()
    for b in np.flatnonzero((out[:, 0] == 1.0) & (np.diff(o) <= len(head))).tolist():
        run, k = h[o[b] : o[b + 1]].tolist(), int(o[b + 1] - o[b])
        out[b, 1] = float(any(head[j : j + k] == run for j in range(len(head) - k + 1)))
    return out


def _copies(page: Page, head: int = COPY_HEAD) -> np.ndarray:
    """How many blocks before and after this one in the same page open with the same words
    (columns ``COPIES``): teaser lists repeat a related article's lead two or three times, and
    a body scraped twice repeats its paragraphs."""
    words, o = page.words, page.block_tokens
    keys = [" ".join(words[o[b] : min(o[b] + head, o[b + 1])]) for b in range(page.n_blocks)]
    seen: dict[str, int] = {}
    before = np.zeros(page.n_blocks)
    for b, k in enumerate(keys):
        if k:
            before[b] = seen.get(k, 0)
            seen[k] = seen.get(k, 0) + 1
    after = np.array([seen.get(k, 0) - 1 - before[b] if k else 0 for b, k in enumerate(keys)])
    return np.column_stack([np.log1p(before), np.log1p(after)])


def _comments(page: Page, own: np.ndarray) -> np.ndarray:
    """Whether a comment section's head (``12 Comments``, ``Leave a reply``) stands above the
    block, below some of the page's article-like text, and how many blocks up (columns
    ``COMMENTS``): readers' comments read like article text line by line."""
    dense = _dense_tokens(own)
    below = np.cumsum(dense) - dense >= _COMMENTS_HEAD_AFTER
    text = page.text
    head = np.array(
        [
            e - s <= _COMMENTS_HEAD_CHARS and _COMMENTS_HEAD.match(text[s:e]) is not None
            for s, e in page.blocks.tolist()
        ],
        dtype=bool,
    )
    idx = np.arange(page.n_blocks)
    last = np.maximum.accumulate(np.where(head & below, idx, -1))
    prev = np.r_[-1, last[:-1]]
    return np.column_stack(
        [(prev >= 0).astype(float), np.where(prev >= 0, np.log1p(idx - prev), -1.0)]
    )


def _main_span(gain: np.ndarray) -> tuple[int, int]:
    """The run of blocks with the largest total ``gain`` (Kadane): the page's main text,
    the way body-text extraction takes the span richest in text and poorest in the rest."""
    best, best_lo, best_hi = -np.inf, 0, -1
    run, run_lo = 0.0, 0
    for i, g in enumerate(gain.tolist()):
        if run <= 0:
            run, run_lo = g, i
        else:
            run += g
        if run > best:
            best, best_lo, best_hi = run, run_lo, i
    return best_lo, best_hi


def _shifted(values: np.ndarray, d: int, fill: float = -1.0) -> np.ndarray:
    """``values`` of the block ``d`` places away (``fill`` past the page's ends)."""
    out = np.full_like(values, fill)
    if d < 0 and len(values) > -d:
        out[-d:] = values[:d]
    elif d > 0 and len(values) > d:
        out[:-d] = values[d:]
    return out


def _window_mean(values: np.ndarray, w: int) -> np.ndarray:
    """Mean of ``values`` over the blocks within ``w`` places (the page's ends cut it)."""
    n = len(values)
    c = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
    lo = np.maximum(np.arange(n) - w, 0)
    hi = np.minimum(np.arange(n) + w + 1, n)
    span = (hi - lo).reshape(-1, *([1] * (values.ndim - 1)))
    return (c[hi] - c[lo]) / span


def block_features(
    page: Page, site: SiteIndex, corpus: Counts, lexicon: dict[str, float]
) -> np.ndarray:
    """``(n_blocks, len(NAMES))`` float32 features of every block of ``page``."""
    if page.n_blocks == 0:
        return np.zeros((0, len(NAMES)), dtype=np.float32)
    own = _own(page, lexicon)
    repeat = _repeat(page, site, corpus)
    base = np.column_stack(
        [
            own,
            repeat,
            _place(page, own),
            _anchors(own, repeat, site.n_pages),
            _title(page),
            _copies(page),
            _comments(page, own),
            np.tile(
                [
                    np.log1p(page.n_blocks),
                    np.log1p(len(page.tok_hash)),
                    float(page.one_line),
                    np.log1p(max(site.n_pages - 1, 0)),
                ],
                (page.n_blocks, 1),
            ),
        ]
    )
    cols = [base]
    picked = base[:, [BASE.index(n) for n in NEIGHBOUR_OF]]
    for d in NEIGHBOURS:
        cols.append(_shifted(picked, d))
    cols.append(_window_mean(base[:, [BASE.index(n) for n in WINDOW_OF]], WINDOW))
    return np.column_stack(cols).astype(np.float32)


def context_features(score: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Second-pass features from the first pass's scores of a page's blocks (``CONTEXT_NAMES``).

    ``weight`` (tokens per block) weighs the before/after shares of boilerplate.
    """
    n = len(score)
    if n == 0:
        return np.zeros((0, len(CONTEXT_NAMES)), dtype=np.float32)
    cols = [score]
    cols += [_shifted(score, d) for d in NEIGHBOURS]
    cols += [_window_mean(score, w) for w in CONTEXT_WINDOWS]
    mass = score * weight
    total = max(float(weight.sum()), 1.0)
    cols.append((np.cumsum(mass) - mass) / total)
    cols.append((mass.sum() - np.cumsum(mass)) / total)
    return np.column_stack(cols).astype(np.float32)


def refine_blocks(page: Page, site: SiteIndex, min_run: int = 3) -> Page:
    """Cut a one-line page's sentences where the site's repeated text starts or stops.

    A scraped one-line page glues a byline to the first sentence (``... in Politics The US
    ...``): tokens covered by word 3-grams other pages repeat are cut from the rest of their
    sentence when both sides have ``min_run`` tokens or more.
    """
    if not page.one_line or site.n_pages < 3 or len(page.tok_hash) == 0:
        return page
    covered = ngram_cover(page, site) >= max(1, 0.5 * (site.n_pages - 1))
    o = page.block_tokens
    cuts = []
    for b in range(page.n_blocks):
        lo, hi = int(o[b]), int(o[b + 1])
        _close_gaps(covered[lo:hi], min_run)
        flips = np.flatnonzero(covered[lo + 1 : hi] != covered[lo : hi - 1]) + lo + 1
        last = lo
        for f in flips.tolist():
            if f - last >= min_run and hi - f >= min_run:
                cuts.append(f)
                last = f
    return resplit(page, np.array(cuts, dtype=np.int64))


def _close_gaps(covered: np.ndarray, min_run: int) -> None:
    """Mark covered, in place, the runs of fewer than ``min_run`` uncovered tokens that lie
    between covered ones (``3 hours ago`` inside a byline the other pages word ``1 hour``)."""
    idx = np.flatnonzero(covered)
    if len(idx) < 2:
        return
    gaps = np.flatnonzero((np.diff(idx) > 1) & (np.diff(idx) <= min_run))
    for g in gaps.tolist():
        covered[idx[g] + 1 : idx[g + 1]] = True
