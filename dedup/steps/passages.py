"""Repeated passages: text a document repeats, and text several documents share.

**Inside a document** (the step's job by default). Scrapers glue a page's body on twice, paste
a paragraph again further down, or join blocks without a space (``September."Some time ago``),
often on one long line. The step works on word tokens, not lines or sentences:

1. Tokenize with character offsets (:mod:`dedup.text.wordspans`); punctuation, quotes and
   spaces only separate tokens, so glued boundaries and layout changes do not matter.
2. Hash every window of ``ngram`` consecutive tokens (one polynomial prefix hash over the token
   hashes) and find, for each window, the nearest earlier window with the same hash that it
   does not overlap (one sort). Tokens covered by such windows are repeated; each points to the
   token it repeats.
3. Cut the covered tokens into *pieces* that copy a contiguous stretch of earlier text (a piece
   sent elsewhere by a phrase the original holds twice is put back on its neighbours' line),
   and join neighbouring pieces when the gaps between them, in the copy and in the original,
   are at most ``max_gap`` tokens: that is how a lightly edited copy (words changed, dropped,
   added) stays one passage. Both ends of a passage then grow over the few edited tokens no
   window covers, along the alignment, and up to a sentence break more easily.
4. The *similarity* of a passage is the share of its tokens equal to the aligned token of the
   kept occurrence (divided by the longer of the two). A passage is removed when it has at
   least ``min_tokens`` word tokens (tokens of digits only do not count: ``1,000,000`` is not
   three words) and a similarity of at least ``threshold``; otherwise its exact pieces of
   ``min_tokens`` or more are removed alone. Phrases that recur naturally (a name, a title,
   ``US troops in Iraq``) are shorter than that.
5. The kept occurrence is never touched: when a passage points into text another passage
   removes (a third copy, a phrase repeated inside the first copy), the search is redone with
   only kept text as a source; any conflict left is settled for the longer passage.
6. Map tokens back to characters: punctuation glued to the passage goes with it, and one of
   the two whitespace runs around it, so no words are glued together and no double space is
   left.

Every step is a numpy pass over the document's tokens (sorts included), so the cost grows
with the document's length and not with the square of its sentence count.

**Across documents** (:class:`SharedPassages`, and ``cross_document=True`` on the step).
Sentences of ``min_tokens`` tokens or more are passages. Identical passages are grouped by a
hash of their token sequence; distinct ones are compared by MinHash-LSH over their word
``cross_ngram``-gram sets (:mod:`dedup.sketch`) and verified exactly (Jaccard at least
``cross_threshold``). Groups that span two documents or more are *shared passages*: reported,
and only removed (after their first occurrence in the corpus) with ``cross_document=True``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dedup.errors import ConfigError
from dedup.groups import ranges, sorted_unique
from dedup.io.records import (
    DEFAULT_ID_FIELD,
    DEFAULT_SITE_FIELD,
    DEFAULT_TEXT_FIELD,
    Record,
    as_records,
    batched,
)
from dedup.sketch.cluster import components
from dedup.sketch.lsh import band_keys, candidate_pairs, optimal_params
from dedup.sketch.minhash import oph_signatures
from dedup.sketch.verify import pair_similarity
from dedup.steps.base import Drop, Estimator, Removal, Step, disjoint
from dedup.text.hashing import PrefixHash, combine_ngrams
from dedup.text.segment import sentences
from dedup.text.shingle import ShingleBatch
from dedup.text.wordspans import WordSpans, word_spans

DEFAULT_NGRAM = 6
DEFAULT_MIN_TOKENS = 18
DEFAULT_MAX_GAP = 15
DEFAULT_THRESHOLD = 0.8
DEFAULT_CROSS_NGRAM = 3
DEFAULT_CROSS_THRESHOLD = 0.6
DEFAULT_CROSS_LSH_THRESHOLD = 0.4
DEFAULT_CROSS_NUM_PERM = 64
DEFAULT_SEED = 1
REASON = "repeated passage"
BATCH_CHARS = 1 << 22  # characters of text tokenized per batch
_OPENERS = "\"'“‘«([{"


# -- inside one document: token level ---------------------------------------------------------


@dataclass(frozen=True)
class Runs:
    """Repeated runs of one token sequence: tokens ``start[i]:end[i]`` repeat the earlier
    tokens ``kept_start[i]:kept_end[i]`` with the given ``similarity``; sorted, disjoint."""

    start: np.ndarray
    end: np.ndarray
    kept_start: np.ndarray
    kept_end: np.ndarray
    similarity: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def select(self, mask: np.ndarray) -> Runs:
        return Runs(
            self.start[mask],
            self.end[mask],
            self.kept_start[mask],
            self.kept_end[mask],
            self.similarity[mask],
        )

    def removed(self, n_tokens: int) -> np.ndarray:
        """True at every token inside a run."""
        diff = np.zeros(n_tokens + 1, dtype=np.int64)
        np.add.at(diff, self.start, 1)
        np.add.at(diff, self.end, -1)
        return np.cumsum(diff[:-1]) > 0


def _empty_runs() -> Runs:
    e = np.empty(0, dtype=np.int64)
    return Runs(e, e, e, e, np.empty(0, dtype=np.float64))


def _earlier_windows(w: np.ndarray, k: int, allowed: np.ndarray | None) -> np.ndarray:
    """For each window, the nearest earlier window with the same hash that it does not overlap
    (-1 if none). Only ``allowed`` windows may be pointed to.

    The nearest is chosen so that a third copy points to the second and the pieces of one copy
    point to one copy. In periodic text (``ha ha ha``) the nearest occurrence overlaps; the
    search steps back occurrence by occurrence (at most ``k`` steps) to one that does not.
    """
    n = len(w)
    order = np.argsort(w, kind="stable")  # equal hashes stay in text order
    sw = w[order]
    pos = np.arange(n)
    new = np.ones(n, dtype=bool)
    new[1:] = sw[1:] != sw[:-1]
    gstart = np.maximum.accumulate(np.where(new, pos, 0))
    ok = np.ones(n, dtype=bool) if allowed is None else allowed[order]
    last_ok = np.maximum.accumulate(np.where(ok, pos, -1))
    prev_sorted = np.full(n, -1, dtype=np.int64)
    prev_sorted[1:] = last_ok[:-1]
    prev_sorted[prev_sorted < gstart] = -1
    prev = np.empty(n, dtype=np.int64)  # nearest earlier allowed window, by window index
    prev[order] = np.where(prev_sorted >= 0, order[np.maximum(prev_sorted, 0)], -1)
    here = np.arange(n, dtype=np.int64)
    cand = prev
    for _ in range(k):
        back = (cand >= 0) & (here - cand < k)
        if not back.any():
            break
        cand = np.where(back, prev[np.maximum(cand, 0)], cand)
    return np.where((cand >= 0) & (here - cand >= k), cand, -1)


def _pieces(covered: np.ndarray, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the maximal stretches of covered tokens that copy a contiguous
    stretch of earlier tokens (``src`` goes up by one from token to token)."""
    m = len(covered)
    cont = np.zeros(m, dtype=bool)
    cont[1:] = covered[1:] & covered[:-1] & (src[1:] == src[:-1] + 1)
    nxt = np.zeros(m, dtype=bool)
    nxt[:-1] = cont[1:]
    return np.flatnonzero(covered & ~cont), np.flatnonzero(covered & ~nxt) + 1


def _realign(
    hashes: np.ndarray,
    covered: np.ndarray,
    src: np.ndarray,
    max_gap: int,
    allowed: np.ndarray | None,
    rounds: int = 2,
) -> np.ndarray:
    """Let a piece follow a neighbouring piece's alignment when its tokens match there too.

    A phrase the kept text holds twice ("crossed above their 200 day moving average") sends the
    copy's windows to whichever occurrence is nearest, cutting one copied passage into pieces
    that point to different places; this puts such a piece back on its neighbours' line.
    Only ``allowed`` tokens may become sources.
    """
    cov_idx = np.flatnonzero(covered)
    for _ in range(rounds):
        changed = False
        for side in (-1, 1):
            ps, pe = _pieces(covered, src)
            n = len(ps)
            if n < 2:
                return src
            delta = ps - src[ps]
            nb = np.arange(n) + side
            valid = (nb >= 0) & (nb < n)
            nb = np.clip(nb, 0, n - 1)
            gap = np.where(side < 0, ps - pe[nb], ps[nb] - pe)
            d = delta[nb]
            cand = valid & (d != delta) & (gap <= max_gap)
            if not cand.any():
                continue
            piece = np.searchsorted(ps, cov_idx, side="right") - 1
            at = cov_idx - d[piece]
            ok = (at >= 0) & (hashes[np.maximum(at, 0)] == hashes[cov_idx])
            if allowed is not None:
                ok &= allowed[np.maximum(at, 0)]
            whole = np.logical_and.reduceat(ok, np.searchsorted(cov_idx, ps))
            move = (cand & whole)[piece]
            if move.any():
                src = src.copy()
                src[cov_idx[move]] = at[move]
                changed = True
        if not changed:
            break
    return src


_SKIPS = ((0, 0), (1, 0), (0, 1), (2, 0), (0, 2))  # tokens skipped in the copy, in the original
_MIN_EXTENSION_SCORE = 2


def _extend(
    hashes: np.ndarray,
    src_ok: np.ndarray,
    breaks: np.ndarray,
    copy_at: np.ndarray,
    src_at: np.ndarray,
    copy_limit: np.ndarray,
    src_limit: np.ndarray,
    reach: int,
    *,
    step: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best extension of each passage from token ``copy_at`` (aligned with ``src_at``) going
    ``step`` (+1 right, -1 left), at most ``reach`` tokens, not past the limits (exclusive
    going right, inclusive going left).

    Tokens are compared one to one after skipping up to two tokens on one side; an extension
    scores +1 per equal token and -1 per other or skipped token, and is taken where the score is
    highest if it reaches 2, or 1 where the extension ends at a sentence break (``breaks``):
    one token equal by chance (``The``) is not taken, the first word of a sentence whose second
    word was edited is. Returns the tokens gained, the equal tokens among them and the new
    bound of the kept occurrence.
    """
    n = len(copy_at)
    m = len(hashes)
    best = np.zeros(n, dtype=np.int64)
    best_score = np.zeros(n, dtype=np.int64)
    best_hit = np.zeros(n, dtype=np.int64)
    bound = src_at + (0 if step > 0 else 1)
    if n == 0 or reach <= 0:
        return best, best_hit, bound
    t = np.arange(reach, dtype=np.int64)
    rows = np.arange(n)
    for skip_copy, skip_src in _SKIPS:
        ci = copy_at[:, None] + step * (skip_copy + t)
        si = src_at[:, None] + step * (skip_src + t)
        if step > 0:
            inside = (ci < copy_limit[:, None]) & (si < src_limit[:, None])
        else:
            inside = (ci >= copy_limit[:, None]) & (si >= src_limit[:, None])
        inside &= (ci >= 0) & (ci < m) & (si >= 0) & (si < m)
        inside = np.logical_and.accumulate(inside, axis=1)
        cc, sc = np.clip(ci, 0, m - 1), np.clip(si, 0, m - 1)
        equal = inside & (hashes[cc] == hashes[sc]) & src_ok[sc]
        score = np.cumsum(np.where(equal, 1, -1), axis=1) - max(skip_copy, skip_src)
        # A sentence break where the extension would stop: before it going left, after it
        # going right.
        at_break = breaks[np.clip(ci + (1 if step > 0 else 0), 0, m)]
        need = np.where(at_break, 1, _MIN_EXTENSION_SCORE)
        score = np.where(inside & (score >= need), score, np.iinfo(np.int64).min // 2)
        j = reach - 1 - np.argmax(score[:, ::-1], axis=1)  # the longest of the best
        top = score[rows, j]
        better = top > best_score
        best = np.where(better, skip_copy + j + 1, best)
        best_score = np.where(better, top, best_score)
        best_hit = np.where(better, np.cumsum(equal, axis=1)[rows, j], best_hit)
        reached = si[rows, j] + (1 if step > 0 else 0)
        bound = np.where(better, reached, bound)
    return best, best_hit, bound


def _runs_once(
    hashes: np.ndarray,
    words: np.ndarray,
    breaks: np.ndarray,
    *,
    ngram: int,
    max_gap: int,
    min_tokens: int,
    threshold: float,
    allowed: np.ndarray | None,
) -> Runs:
    """One search for repeated runs (steps 2-4 of the module docstring); only ``allowed``
    tokens (all when ``None``) may be the kept occurrence of a run."""
    m, k = len(hashes), ngram
    if m < 2 * k or m < min_tokens:
        return _empty_runs()
    n = m - k + 1
    idx = np.arange(n, dtype=np.int64)
    windows = PrefixHash(hashes).slice_hash(idx, idx + k)
    allowed_w = None
    if allowed is not None:
        bad = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(~allowed, out=bad[1:])
        allowed_w = bad[idx + k] == bad[idx]
    src_w = _earlier_windows(windows, k, allowed_w)
    rep = src_w >= 0
    if not rep.any():
        return _empty_runs()

    # Each token follows the last repeated window that covers it.
    tok = np.arange(m, dtype=np.int64)
    last = np.maximum.accumulate(np.where(rep, idx, -1))[np.minimum(tok, n - 1)]
    covered = (last >= 0) & (last + k > tok)
    src = tok.copy()
    cov_last = last[covered]
    src[covered] = tok[covered] - (cov_last - src_w[cov_last])

    src = _realign(hashes, covered, src, max_gap, allowed)
    ps, pe = _pieces(covered, src)
    qs, qe = src[ps], src[pe - 1] + 1

    # Join neighbouring pieces across small edits: passages.
    gap_copy = ps[1:] - pe[:-1]
    gap_kept = qs[1:] - qe[:-1]
    join = (gap_copy <= max_gap) & (np.abs(gap_kept) <= max_gap)
    if allowed is not None:  # a passage's kept text may not hold text removed before
        barred = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(~allowed, out=barred[1:])
        join &= barred[np.maximum(qs[1:], qe[:-1])] == barred[qe[:-1]]
    first_piece = np.flatnonzero(np.r_[True, ~join])
    last_piece = np.r_[first_piece[1:] - 1, len(ps) - 1]
    gs, ge = ps[first_piece], pe[last_piece]
    ks = np.minimum.reduceat(qs, first_piece)
    ke = np.maximum.reduceat(qe, first_piece)

    # Similarity: tokens equal to their aligned kept token (aligned by the piece on the left
    # or on the right, which is how substitutions, insertions and deletions line up).
    delta = ps - qs
    left = np.searchsorted(ps, tok, side="right") - 1
    right = np.minimum(np.searchsorted(ps, tok, side="left"), len(ps) - 1)
    matched = covered.copy()
    for piece in (left, right):
        at = tok - delta[np.maximum(piece, 0)]
        ok = (piece >= 0) & (at >= 0)
        matched |= ok & (hashes[np.where(ok, at, 0)] == hashes)
    cum = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(matched, out=cum[1:])

    # Edits near a copy's ends leave a few tokens no window covers: extend both ends along
    # the alignment of the piece there (after a skipped token or two: an indel).
    reach = max_gap + ngram
    src_ok = allowed if allowed is not None else np.ones(m, dtype=bool)
    prev = np.r_[0, ge[:-1]]

    def grow_left(floor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _extend(
            hashes,
            src_ok,
            breaks,
            gs - 1,
            qs[first_piece] - 1,
            floor,
            np.zeros_like(gs),
            reach,
            step=-1,
        )

    grow, hit_left, src_start = grow_left(prev)

    # A copy that follows its original matches a word or two more, the original running on
    # into the copy ("... to power." + "The decision ..." + "The end."). Unless the text is
    # periodic (then many tokens do), tokens that repeat the passage itself are cut off.
    group_of = np.maximum(np.searchsorted(gs, tok, side="right") - 1, 0)
    start = (gs - grow)[group_of]
    spill = covered & (tok >= gs[group_of]) & (tok < ge[group_of]) & (src >= start)
    spilled = np.bincount(group_of[spill], minlength=len(gs))
    first_spill = np.full(len(gs), m, dtype=np.int64)
    np.minimum.at(first_spill, group_of[spill], tok[spill])
    trimmed = (spilled > 0) & (spilled < ngram)
    ge = np.where(trimmed, first_spill, ge)
    ke = np.where(trimmed & covered[ge - 1], np.minimum(ke, src[ge - 1] + 1), ke)
    # The kept occurrence ends before the copy starts (unless the text is periodic).
    redo = gs - grow < np.minimum(ke, gs)
    if redo.any():
        again = grow_left(np.maximum(prev, np.minimum(ke, gs)))
        grow, hit_left, src_start = (
            np.where(redo, b, a) for a, b in zip((grow, hit_left, src_start), again, strict=True)
        )
    start = gs - grow
    ks = np.minimum(ks, src_start)

    counted = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(words, out=counted[1:])
    core = counted[ge] - counted[gs]
    same = cum[ge] - cum[gs] + hit_left
    nxt = np.r_[start[1:], m]
    grow, hit_right, src_end = _extend(
        hashes, src_ok, breaks, ge, qe[last_piece], nxt, np.minimum(start, nxt), reach, step=1
    )
    end = ge + grow
    same += hit_right
    ke = np.maximum(ke, src_end)
    gs, ge = start, end
    length = ge - gs
    sim = same / np.maximum(length, ke - ks)
    ke = np.minimum(ke, gs)  # periodic text ("ha ha ha ..."): the first period is kept
    good = (core >= min_tokens) & (sim >= threshold)
    runs = Runs(gs[good], ge[good], ks[good], ke[good], sim[good])

    # Passages too unlike their original still lose their long exact pieces.
    group_of_piece = np.cumsum(np.r_[True, ~join]) - 1
    alone = ~good[group_of_piece] & (counted[pe] - counted[ps] >= min_tokens)
    if alone.any():
        pieces = Runs(
            ps[alone],
            pe[alone],
            qs[alone],
            np.minimum(qe[alone], ps[alone]),
            np.ones(int(alone.sum())),
        )
        order = np.argsort(np.r_[runs.start, pieces.start], kind="stable")
        runs = Runs(
            *(np.r_[a, b][order] for a, b in zip(_fields(runs), _fields(pieces), strict=True))
        )
    return runs


def _fields(runs: Runs) -> tuple[np.ndarray, ...]:
    return (runs.start, runs.end, runs.kept_start, runs.kept_end, runs.similarity)


def _violations(runs: Runs, n_tokens: int) -> np.ndarray:
    """True for runs whose kept occurrence overlaps a removed run."""
    if len(runs) == 0:
        return np.zeros(0, dtype=bool)
    cum = np.zeros(n_tokens + 1, dtype=np.int64)
    np.cumsum(runs.removed(n_tokens), out=cum[1:])
    return cum[runs.kept_end] > cum[runs.kept_start]


def repeated_runs(
    hashes: np.ndarray,
    *,
    ngram: int = DEFAULT_NGRAM,
    max_gap: int = DEFAULT_MAX_GAP,
    min_tokens: int = DEFAULT_MIN_TOKENS,
    threshold: float = DEFAULT_THRESHOLD,
    words: np.ndarray | None = None,
    breaks: np.ndarray | None = None,
) -> Runs:
    """Runs of a token-hash sequence that repeat earlier tokens (see the module docstring).

    ``words`` marks the tokens that count towards ``min_tokens`` (default: all); the step
    leaves out tokens of digits only, so that ``1,000,000`` is not three tokens of a passage.
    ``breaks`` (``n + 1`` values) marks a sentence break before each token and at the end
    (default: none but the two ends); passages grow to a break more easily (see ``_extend``).

    The kept occurrence of every run is left whole: when a passage would point into text
    another run removes, the search is redone with only the text kept by the first search as a
    source; conflicts left after that are settled in favour of the longer run.
    """
    hashes = np.asarray(hashes, dtype=np.uint64)
    params = {"ngram": ngram, "max_gap": max_gap, "min_tokens": min_tokens, "threshold": threshold}
    m = len(hashes)
    words = np.ones(m, dtype=bool) if words is None else np.asarray(words, dtype=bool)
    if breaks is None:
        breaks = np.zeros(m + 1, dtype=bool)
        breaks[[0, m]] = True
    runs = _runs_once(hashes, words, breaks, allowed=None, **params)
    bad = _violations(runs, m)
    if bad.any():
        runs = _runs_once(hashes, words, breaks, allowed=~runs.removed(m), **params)
        if _violations(runs, m).any():
            runs = _resolve(runs, m)
    return runs


def _resolve(runs: Runs, n_tokens: int) -> Runs:
    """Keep the longest runs first, skipping any run that would remove text another kept run
    keeps, or keep text another kept run removes. Rarely needed (see :func:`repeated_runs`)."""
    removed = np.zeros(n_tokens, dtype=bool)
    kept = np.zeros(n_tokens, dtype=bool)
    take = np.zeros(len(runs), dtype=bool)
    for i in np.lexsort((runs.start, runs.start - runs.end)).tolist():
        a, b = int(runs.start[i]), int(runs.end[i])
        ka, kb = int(runs.kept_start[i]), int(runs.kept_end[i])
        if kept[a:b].any() or removed[ka:kb].any():
            continue
        take[i] = True
        removed[a:b] = True
        kept[ka:kb] = True
    return runs.select(take)


# -- inside one document: characters ----------------------------------------------------------


def _char_bounds(text: str, spans: WordSpans, a: int, b: int) -> tuple[int, int]:
    """Character span of tokens ``a:b``, with the punctuation and whitespace that go with it.

    Punctuation between the passage and a space goes with the passage (``"In``, ``country.``);
    punctuation glued between two words (``September."Some``) stays with the earlier text,
    except the end of a removed passage glued to the next word (``country.More``). Of the two
    whitespace runs around a passage, one goes with it, so ``A. B. C.`` minus ``B.`` is
    ``A. C.``; a newline is kept rather than a space.
    """
    starts, ends = spans.starts, spans.ends
    m = len(starts)
    cs, ce = int(starts[a]), int(ends[b - 1])
    prev_end = int(ends[a - 1]) if a > 0 else 0
    next_start = int(starts[b]) if b < m else len(text)
    left = text[prev_end:cs]
    cut = max((i for i, c in enumerate(left) if c.isspace()), default=-1)
    if cut >= 0:
        cs = prev_end + cut + 1
    elif a == 0:
        cs = 0
    right = text[ce:next_start]
    cut = next((i for i, c in enumerate(right) if c.isspace()), -1)
    if cut >= 0:
        ce += cut
    elif b == m:
        ce = len(text)
    else:
        ce += len(right.rstrip(_OPENERS))
    return _with_space(text, cs, ce)


def _removals(text: str, spans: WordSpans, runs: Runs, evidence: dict[str, Any]) -> list[Removal]:
    out: list[Removal] = []
    pos = 0
    for a, b, ka, kb, sim in zip(*(f.tolist() for f in _fields(runs)), strict=True):
        cs, ce = _char_bounds(text, spans, a, b)
        cs = max(cs, pos)  # neighbouring passages may both claim the space between them
        if cs >= ce:
            continue
        out.append(
            Removal(
                start=cs,
                end=ce,
                reason=REASON,
                text=text[cs:ce],
                evidence={
                    **evidence,
                    "kept_start": int(spans.starts[ka]),
                    "kept_end": int(spans.ends[kb - 1]),
                    "similarity": round(float(sim), 4),
                },
            )
        )
        pos = ce
    return out


def find_repeats(
    text: str,
    *,
    ngram: int = DEFAULT_NGRAM,
    min_tokens: int = DEFAULT_MIN_TOKENS,
    max_gap: int = DEFAULT_MAX_GAP,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Removal]:
    """The passages of ``text`` that repeat earlier text of it, as removals (first kept).

    Each removal's ``evidence`` holds the character span of the occurrence that is kept
    (``kept_start``, ``kept_end``) and the ``similarity`` of the two.

    Examples
    --------
    >>> body = "The troops are to be withdrawn by the end of September, officials said today."
    >>> text = body + " Iraq voted on it." + body
    >>> [(r.start, r.text) for r in find_repeats(text, min_tokens=10)]
    [(95, 'The troops are to be withdrawn by the end of September, officials said today.')]
    """
    spans = word_spans([text])
    runs = repeated_runs(
        spans.hashes,
        ngram=ngram,
        max_gap=max_gap,
        min_tokens=min_tokens,
        threshold=threshold,
        words=~spans.numeric,
        breaks=spans.breaks,
    )
    return _removals(text, spans, runs, {})


# -- across documents -------------------------------------------------------------------------


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)


def _subset(batch: ShingleBatch, rows: np.ndarray) -> ShingleBatch:
    """The documents ``rows`` of ``batch``, in that order."""
    sizes = np.diff(batch.offsets)[rows]
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return ShingleBatch(batch.hashes[ranges(batch.offsets[rows], sizes)], offsets)


@dataclass(frozen=True)
class _PassageBatch:
    doc: np.ndarray  # index of the document, within the batch
    start: np.ndarray  # character span of the passage in its document
    end: np.ndarray
    fingerprint: np.ndarray  # hash of the passage's token sequence
    shingles: ShingleBatch  # unique word n-grams of every passage


def _passages(texts: list[str], *, min_tokens: int, ngram: int) -> _PassageBatch:
    """Sentences of at least ``min_tokens`` tokens of ``texts``, hashed for comparison."""
    spans = word_spans(texts)
    doc, start, end, tok_a, tok_b = [], [], [], [], []
    for i, text in enumerate(texts):
        lo, hi = int(spans.offsets[i]), int(spans.offsets[i + 1])
        if hi - lo < min_tokens:
            continue
        blocks = sentences(text)
        bounds = np.array([(b.start, b.end) for b in blocks], dtype=np.int64).reshape(-1, 2)
        a = np.searchsorted(spans.starts[lo:hi], bounds[:, 0]) + lo
        b = np.searchsorted(spans.starts[lo:hi], bounds[:, 1]) + lo
        keep = b - a >= min_tokens
        doc.append(np.full(int(keep.sum()), i, dtype=np.int64))
        start.append(bounds[keep, 0])
        end.append(bounds[keep, 1])
        tok_a.append(a[keep])
        tok_b.append(b[keep])
    doc_, start_, end_, a_, b_ = (_cat(x) for x in (doc, start, end, tok_a, tok_b))
    lengths = b_ - a_
    tokens = ranges(a_, lengths)
    owner = np.repeat(np.arange(len(a_), dtype=np.int64), lengths)
    hashes, of = combine_ngrams(spans.hashes[tokens], owner, ngram)
    offsets = np.zeros(len(a_) + 1, dtype=np.int64)
    np.cumsum(np.bincount(of, minlength=len(a_)), out=offsets[1:])
    if len(spans.hashes):
        fingerprint = PrefixHash(spans.hashes).slice_hash(a_, b_)
    else:
        fingerprint = np.empty(0, dtype=np.uint64)
    return _PassageBatch(doc_, start_, end_, fingerprint, ShingleBatch(hashes, offsets).unique())


class SharedPassages(Estimator):
    """Find passages (sentences) that occur in more than one document of a corpus.

    Identical passages (the same words, whatever the case, spacing and punctuation) are grouped
    by a hash; the others are compared by MinHash-LSH on their word ``ngram``-gram sets and
    verified exactly. A group is *shared* when its passages stand in two documents or more;
    its first occurrence is the earliest in input order.

    Parameters
    ----------
    min_tokens : int, default=18
        Shortest passage, in word tokens; shorter sentences are not compared.
    ngram : int, default=3
        Shingle size, in words, of the passage comparison (sentences are short).
    threshold : float, default=0.6
        Least exact Jaccard similarity of two passages' shingle sets.
    lsh_threshold : float, default=0.4
        Jaccard level the LSH bands are tuned for (below ``threshold``, so few pairs are lost).
    num_perm : int, default=64
        MinHash permutations (only band keys are kept: memory per passage is small).
    seed : int, default=1

    Attributes
    ----------
    ids_ : list of str
        Document ids, in input order.
    doc_, start_, end_ : ndarray of int
        Document index and character span of every passage compared.
    group_ : ndarray of int
        Per passage, the index of the first passage of its group, or -1 when the passage is
        not shared with another document.
    similarity_ : ndarray of float
        Per passage, the Jaccard similarity to the first passage of its group.
    """

    def __init__(
        self,
        *,
        min_tokens: int = DEFAULT_MIN_TOKENS,
        ngram: int = DEFAULT_CROSS_NGRAM,
        threshold: float = DEFAULT_CROSS_THRESHOLD,
        lsh_threshold: float = DEFAULT_CROSS_LSH_THRESHOLD,
        num_perm: int = DEFAULT_CROSS_NUM_PERM,
        seed: int = DEFAULT_SEED,
        text_field: str = DEFAULT_TEXT_FIELD,
        id_field: str = DEFAULT_ID_FIELD,
        site_field: str = DEFAULT_SITE_FIELD,
    ) -> None:
        self.min_tokens = min_tokens
        self.ngram = ngram
        self.threshold = threshold
        self.lsh_threshold = lsh_threshold
        self.num_perm = num_perm
        self.seed = seed
        self.text_field = text_field
        self.id_field = id_field
        self.site_field = site_field

    def _validate(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"threshold must be in (0, 1], got {self.threshold}")
        if not 0.0 < self.lsh_threshold < 1.0:
            raise ConfigError(f"lsh_threshold must be in (0, 1), got {self.lsh_threshold}")
        if not 1 <= self.ngram <= 8:
            raise ConfigError(f"ngram must be in 1..8 words, got {self.ngram}")
        if self.min_tokens < 1:
            raise ConfigError(f"min_tokens must be at least 1, got {self.min_tokens}")
        if self.num_perm < 2:
            raise ConfigError(f"num_perm must be at least 2, got {self.num_perm}")

    def fit(self, docs: Any, y: None = None) -> SharedPassages:
        """Cut ``docs`` into passages, index them and group the shared ones; return ``self``."""
        self._validate()
        records = as_records(
            docs, text_field=self.text_field, id_field=self.id_field, site_field=self.site_field
        )
        ids: list[str] = []
        parts: list[_PassageBatch] = []
        for batch in batched(records, BATCH_CHARS):
            first = len(ids)
            ids.extend(r.id for r in batch)
            part = _passages([r.text for r in batch], min_tokens=self.min_tokens, ngram=self.ngram)
            parts.append(
                _PassageBatch(
                    part.doc + first, part.start, part.end, part.fingerprint, part.shingles
                )
            )
        self.ids_ = ids
        self._index = {doc_id: i for i, doc_id in enumerate(ids)}
        self.doc_ = _cat([p.doc for p in parts])
        self.start_ = _cat([p.start for p in parts])
        self.end_ = _cat([p.end for p in parts])
        fingerprint = _cat([p.fingerprint for p in parts]).astype(np.uint64)
        counts = np.concatenate([[0], *(np.diff(p.shingles.offsets) for p in parts)])
        sets = ShingleBatch(
            np.concatenate([np.empty(0, np.uint64), *(p.shingles.hashes for p in parts)]),
            np.cumsum(counts),
        )
        self._group(fingerprint, sets)
        return self

    def _group(self, fingerprint: np.ndarray, sets: ShingleBatch) -> None:
        n = len(fingerprint)
        self.group_ = np.full(n, -1, dtype=np.int64)
        self.similarity_ = np.zeros(n)
        if n == 0:
            return
        # Identical passages: one representative (the first) per token sequence.
        order = np.argsort(fingerprint, kind="stable")
        new = np.r_[True, fingerprint[order][1:] != fingerprint[order][:-1]]
        first_of_sorted = order[np.maximum.accumulate(np.where(new, np.arange(n), 0))]
        rep = np.empty(n, dtype=np.int64)
        rep[order] = first_of_sorted
        reps = sorted_unique(rep)  # ascending: input order
        rep_row = np.searchsorted(reps, rep)
        rep_sets = _subset(sets, reps)
        # Similar passages: MinHash-LSH over the representatives, verified exactly.
        bands, rows = optimal_params(self.lsh_threshold, self.num_perm)
        keys = np.empty((len(reps), bands), dtype=np.uint64)
        step = 1 << 14
        for lo in range(0, len(reps), step):
            hi = min(lo + step, len(reps))
            part = _subset(rep_sets, np.arange(lo, hi))
            keys[lo:hi] = band_keys(oph_signatures(part, self.num_perm, self.seed), bands, rows)
        cands = candidate_pairs(keys, valid=np.diff(rep_sets.offsets) > 0)
        cands = cands[self.doc_[reps[cands[:, 0]]] != self.doc_[reps[cands[:, 1]]]]
        jac = pair_similarity(rep_sets, cands).jaccard
        label = components(len(reps), cands[jac >= self.threshold])  # smallest member row
        group = reps[label[rep_row]]  # first passage of the group, in input order
        # Shared: the group's passages stand in more than one document.
        key = np.unique(np.stack([group, self.doc_], axis=1), axis=0)
        docs_per_group = np.bincount(key[:, 0], minlength=n)
        shared = docs_per_group[group] >= 2
        self.group_[shared] = group[shared]
        sim = np.ones(n)
        idx = np.flatnonzero(shared & (rep_row != label[rep_row]))
        if len(idx):
            pairs = np.stack([rep_row[idx], label[rep_row[idx]]], axis=1)
            sim[idx] = pair_similarity(rep_sets, pairs).jaccard
        self.similarity_ = np.where(shared, sim, 0.0)

    def groups(self) -> Iterator[list[dict[str, Any]]]:
        """Every shared group as a list of occurrences ``{"id", "start", "end",
        "similarity"}``, the first occurrence first; groups in order of first occurrence."""
        shared = np.flatnonzero(self.group_ >= 0)
        if len(shared) == 0:
            return
        order = shared[np.lexsort((shared, self.group_[shared]))]
        bounds = np.flatnonzero(np.r_[True, np.diff(self.group_[order]) != 0, True])
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            yield [
                {
                    "id": self.ids_[self.doc_[p]],
                    "start": int(self.start_[p]),
                    "end": int(self.end_[p]),
                    "similarity": round(float(self.similarity_[p]), 4),
                }
                for p in order[lo:hi].tolist()
            ]

    def rows(self, docs: Any = None) -> Iterator[dict[str, Any]]:
        """One report row per shared group, in order of first occurrence.

        ``{"passage": n, "documents": k, "occurrences": [...], "text": ...}``: ``n`` numbers
        the groups from 0, ``k`` counts the distinct documents, ``occurrences`` is as in
        :meth:`groups`. ``text`` (the first occurrence's text) is filled when ``docs``, the
        fitted corpus read again, is given.
        """
        groups = list(self.groups())
        texts: dict[int, str] = {}
        if docs is not None:
            wanted: dict[int, list[tuple[int, int, int]]] = {}
            for n, occurrences in enumerate(groups):
                first = occurrences[0]
                wanted.setdefault(self._index[first["id"]], []).append(
                    (n, first["start"], first["end"])
                )
            records = as_records(
                docs,
                text_field=self.text_field,
                id_field=self.id_field,
                site_field=self.site_field,
            )
            for i, record in enumerate(records):
                for n, start, end in wanted.get(i, ()):
                    texts[n] = record.text[start:end]
        for n, occurrences in enumerate(groups):
            row: dict[str, Any] = {
                "passage": n,
                "documents": len({o["id"] for o in occurrences}),
                "occurrences": occurrences,
            }
            if docs is not None:
                row["text"] = texts.get(n, "")
            yield row

    def later_occurrences(self, doc_id: str) -> list[tuple[int, int, dict[str, Any]]]:
        """Spans of document ``doc_id`` whose group's first occurrence is in an earlier
        document, each with the evidence of that first occurrence."""
        i = self._index.get(doc_id)
        if i is None:
            return []
        lo, hi = np.searchsorted(self.doc_, [i, i + 1])
        out = []
        for p in range(int(lo), int(hi)):
            g = int(self.group_[p])
            if g < 0 or self.doc_[g] >= i:
                continue
            evidence = {
                "kept_id": self.ids_[self.doc_[g]],
                "kept_start": int(self.start_[g]),
                "kept_end": int(self.end_[g]),
                "similarity": round(float(self.similarity_[p]), 4),
            }
            out.append((int(self.start_[p]), int(self.end_[p]), evidence))
        return out


# -- the step ---------------------------------------------------------------------------------


def _with_space(text: str, cs: int, ce: int) -> tuple[int, int]:
    """Widen ``text[cs:ce]`` by one of the whitespace runs around it (see :func:`_char_bounds`)."""
    after = ce
    while after < len(text) and text[after].isspace():
        after += 1
    before = cs
    while before > 0 and text[before - 1].isspace():
        before -= 1
    if before < cs and after > ce:
        if after == len(text) or ("\n" in text[ce:after] and "\n" not in text[before:cs]):
            return before, ce
        return cs, after
    if cs == 0:
        return cs, after
    if after == len(text):
        return before, ce
    return cs, ce


class RepeatedPassages(Step):
    """Remove passages a document repeats; optionally, passages of earlier documents too.

    Parameters
    ----------
    ngram : int, default=6
        Window size, in word tokens, of the repeat search: shorter finds more of an edited
        copy, longer is less often fooled by recurring phrases.
    min_tokens : int, default=18
        Shortest passage removed, in word tokens (tokens of digits only do not count);
        phrases that recur naturally are shorter. Chosen on the benchmark
        (``benchmarks/passages.py``): below it, natural repeats of documents nobody copied
        start to go; above it, short copied sentences stay.
    max_gap : int, default=15
        Longest edit (in tokens, in the copy and in the kept text) bridged inside a passage.
    threshold : float, default=0.8
        Least similarity of a passage to its kept occurrence: the share of its tokens equal to
        the aligned kept token (a copy 90 % the same scores about 0.9).
    cross_document : bool, default=False
        Also remove sentences shared with an earlier document of the corpus (see
        :class:`SharedPassages`); their evidence names the document kept (``kept_id``).
    cross_ngram, cross_threshold, cross_lsh_threshold, num_perm, seed
        Parameters of the cross-document search (:class:`SharedPassages`).

    Attributes
    ----------
    shared_ : SharedPassages or None
        The fitted cross-document index (``cross_document=True`` only).

    Examples
    --------
    >>> step = RepeatedPassages(min_tokens=10).fit([])
    >>> body = "The troops are to be withdrawn by the end of September, officials said today."
    >>> [r.text for r in step.decide(Record(id="a", text=body + body))]
    ['The troops are to be withdrawn by the end of September, officials said today.']
    """

    name = "passages"

    def __init__(
        self,
        *,
        ngram: int = DEFAULT_NGRAM,
        min_tokens: int = DEFAULT_MIN_TOKENS,
        max_gap: int = DEFAULT_MAX_GAP,
        threshold: float = DEFAULT_THRESHOLD,
        cross_document: bool = False,
        cross_ngram: int = DEFAULT_CROSS_NGRAM,
        cross_threshold: float = DEFAULT_CROSS_THRESHOLD,
        cross_lsh_threshold: float = DEFAULT_CROSS_LSH_THRESHOLD,
        num_perm: int = DEFAULT_CROSS_NUM_PERM,
        seed: int = DEFAULT_SEED,
        text_field: str = DEFAULT_TEXT_FIELD,
        id_field: str = DEFAULT_ID_FIELD,
        site_field: str = DEFAULT_SITE_FIELD,
    ) -> None:
        self.ngram = ngram
        self.min_tokens = min_tokens
        self.max_gap = max_gap
        self.threshold = threshold
        self.cross_document = cross_document
        self.cross_ngram = cross_ngram
        self.cross_threshold = cross_threshold
        self.cross_lsh_threshold = cross_lsh_threshold
        self.num_perm = num_perm
        self.seed = seed
        self.text_field = text_field
        self.id_field = id_field
        self.site_field = site_field

    def _validate(self) -> None:
        if self.ngram < 1:
            raise ConfigError(f"ngram must be at least 1 token, got {self.ngram}")
        if self.min_tokens < self.ngram:
            raise ConfigError(
                f"min_tokens must be at least ngram ({self.ngram}), got {self.min_tokens}"
            )
        if self.max_gap < 0:
            raise ConfigError(f"max_gap must not be negative, got {self.max_gap}")
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"threshold must be in (0, 1], got {self.threshold}")

    def fit(self, docs: Any, y: None = None) -> RepeatedPassages:
        """Validate the parameters; with ``cross_document``, index ``docs``. Return ``self``."""
        self._validate()
        self.shared_: SharedPassages | None = None
        if self.cross_document:
            self.shared_ = SharedPassages(
                min_tokens=self.min_tokens,
                ngram=self.cross_ngram,
                threshold=self.cross_threshold,
                lsh_threshold=self.cross_lsh_threshold,
                num_perm=self.num_perm,
                seed=self.seed,
                text_field=self.text_field,
                id_field=self.id_field,
                site_field=self.site_field,
            ).fit(docs)
        return self

    def find(self, text: str) -> list[Removal]:
        """The repeated passages inside ``text`` (no cross-document search)."""
        return find_repeats(
            text,
            ngram=self.ngram,
            min_tokens=self.min_tokens,
            max_gap=self.max_gap,
            threshold=self.threshold,
        )

    def decide(self, record: Record) -> Drop | list[Removal]:
        """Removals of ``record``: its own repeats, and with ``cross_document`` the sentences
        whose first occurrence is in an earlier document. Sorted and disjoint."""
        if not hasattr(self, "shared_"):
            raise ConfigError("RepeatedPassages is not fitted yet; call fit(docs) first")
        removals = self.find(record.text)
        if self.shared_ is not None:
            text = record.text
            for start, end, evidence in self.shared_.later_occurrences(record.id):
                cs, ce = _with_space(text, start, end)
                removals.append(Removal(cs, ce, REASON, text[cs:ce], evidence))
            removals = disjoint(text, removals)
        return removals
