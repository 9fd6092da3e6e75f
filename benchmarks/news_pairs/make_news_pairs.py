"""Build `news_pairs`, a labelled near-duplicate benchmark for news, from Reuters-21578.

Reuters-21578 may be used "for research purposes only", so this script generates the benchmark
locally into a git-ignored folder; only the code and the documentation are versioned.

Steps (all random choices come from one seeded ``random.Random``, so a seed gives one output):

1. Candidate pool: NORM stories. Earnings tables ("Shr ... vs ...", "Net ... vs ...") are the
   templated pool; other stories with at least 80 words are the story pool.
2. Natural near-duplicates (re-sends, corrections) are removed from both pools: MinHash-LSH
   candidates (datasketch, 128 permutations, threshold 0.2) get an exact check on their word
   5-gram sets; pairs with Jaccard >= 0.5, or with containment (shared 5-grams / the smaller
   set) >= 0.6, are joined into groups, and only the story with the lowest NEWID of each group
   is kept. An exact all-pairs check of the final selection backs the LSH step up. This keeps
   the gold labels clean.
3. Base stories (default 1,500): first whole same-day, same-topic bundles (2-4 stories sharing
   the ``date`` day and a ``topics`` entry) until about 45 % of the base stories are covered,
   then random stories. Same-day same-topic stories are hard negatives.
4. About half of the base stories get 1-3 edited copies, one edit type per copy (``byline``,
   ``footer``, ``correction``, ``truncation``, ``insertion``, ``combined``); a base story and
   its copies form one gold group, other base stories are singleton groups.
5. Templated briefs (default 300): earnings tables of different companies, unedited, each its
   own group: hard negatives that differ mostly in their figures.
6. An edited copy that meets the natural-duplicate rule with a document of another group is
   dropped.

Outputs in ``--out``: ``news_pairs.jsonl`` (``id``, ``text``, ``site``, ``group``, ``kind``),
``manifest.jsonl`` (provenance of every document: source story, edits, date, topics, donor),
``stats.json`` and ``README.md`` (the statistics, also printed to stdout).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

SCRIPT_DIR = Path(__file__).resolve().parent
DEFAULT_DATA = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "raw_news" / "reuters21578.jsonl"
)
DEFAULT_OUT = SCRIPT_DIR / "data"

NGRAM = 5
MIN_WORDS = 80
MAX_TEMPLATE_WORDS = 150
NATURAL_DUP_JACCARD = 0.5
NATURAL_DUP_CONTAINMENT = 0.6
LSH_THRESHOLD = 0.2
NUM_PERM = 128
SIBLING_TARGET = 0.45
COPY_FRACTION = 0.5
EDIT_TYPES = ("byline", "footer", "correction", "truncation", "insertion")
COPY_KINDS = (*EDIT_TYPES, "combined")
# Order in which the two edits of a `combined` copy are applied.
COMBINED_ORDER = ("correction", "truncation", "insertion", "byline", "footer")

# Fictional names for bylines and footers.
# fmt: off
REPORTERS = (
    "Anna Keller", "David Moreno", "Sarah Lindqvist", "James Okafor", "Maria Castellano",
    "Peter Haldane", "Yuki Tanaka", "Thomas Brenner", "Claire Dubois", "Rajiv Menon",
    "Helen Fairweather", "Marco Rinaldi", "Susan Whitfield", "Paul Ferreira", "Ingrid Nilsen",
    "Robert Ashdown", "Lucia Ortega", "Michael Stroud", "Karen Holloway", "Daniel Osei",
)
EDITORS = (
    "Jonathan Pryce", "Margaret Lowell", "Simon Carraway", "Elaine Marsh", "Victor Hale",
    "Ruth Ellison", "Gordon Pike", "Alison Tate",
)
# fmt: on
BYLINES = ("By {name}, Reuters staff", "By {name}", "By {name}, Reuters correspondent")
COPYRIGHT_LINES = (
    "Copyright Reuters Ltd 1987. All rights reserved.",
    "(c) Reuters Limited 1987. Republication or redistribution of Reuters content is "
    "prohibited without the prior written consent of Reuters.",
    "For reprints and permissions contact the Reuters news desk in London.",
    "Copyright 1987 Reuters. For subscription enquiries contact your local Reuters office.",
)
FOOTER_CREDITS = (
    "(Reporting by {reporters}; Editing by {editor})",
    "(Reporting by {reporters}; additional reporting by {extra}; Editing by {editor})",
    "(Writing by {reporters}; Editing by {editor})",
)

TOKEN_RE = re.compile(r"\w+")
WORD_RE = re.compile(r"\S+")
# "NEW YORK, March 3 - ", "AMSTERDAM, 2 March - ", "ROME, March 13, Reuter - " ...
DATELINE_RE = re.compile(
    r"(?P<city>[^\n]{1,60}?),?\s+"
    r"(?:(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})|(?P<day2>\d{1,2})\s+(?P<mon2>[A-Za-z]{3,9}))"
    r"(?P<tail>(?:,\s*Reuter)?,?\s*-\s?)"
)
SHR_LINE_RE = re.compile(r"^\s*(?:oper\s+)?shr\b.*\bvs\b", re.IGNORECASE | re.MULTILINE)
NET_LINE_RE = re.compile(r"^\s*(?:oper\s+)?net\b.*\bvs\b", re.IGNORECASE | re.MULTILINE)
FIGURE_RE = re.compile(r"\d[\d,.]*\d|\d")
NAME_RE = re.compile(r"\b[A-Z][a-z]{3,}\b")
# Titles of earnings tables end with period words; what precedes them names the company.
COMPANY_CUT_RE = re.compile(
    r"\s*<|\s+(?:1ST|2ND|3RD|4TH|FIRST|SECOND|THIRD|FOURTH|YEAR|QTR|QUARTER|NET|LOSS|PROFIT|"
    r"OPER|SHR|EARNINGS|RESULTS|SIX|NINE|MTHS|FISCAL|INTERIM|HALF|FINAL|FY)\b"
)
# fmt: off
ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "st", "inc", "corp", "co", "ltd", "jr", "sr", "no", "gen", "gov",
    "sen", "rep", "vs", "etc", "bros", "dept", "fig", "cos", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# Capitalized words that are not names (the `correction` edit changes names).
COMMON_CAPITALIZED = frozenset({
    "The", "This", "That", "These", "Those", "There", "They", "Their", "When", "Where", "Which",
    "While", "With", "From", "Under", "After", "Before", "About", "Also", "Some", "Most", "Many",
    "Other", "Such", "Last", "Next", "Since", "Reuter", "Reuters", "January", "February",
    "March", "April", "June", "July", "August", "September", "October", "November", "December",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
})
# fmt: on


# ---------------------------------------------------------------------------------------------
# Text helpers


def tokens(text: str) -> list[str]:
    """Lower-cased ``\\w+`` tokens of ``text``."""
    return TOKEN_RE.findall(text.lower())


def shingles(text: str, n: int = NGRAM) -> frozenset[str]:
    """Set of word ``n``-grams (lower-cased ``\\w+`` tokens); a shorter text is one shingle."""
    toks = tokens(text)
    if not toks:
        return frozenset()
    if len(toks) < n:
        return frozenset([" ".join(toks)])
    return frozenset(" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1))


def is_natural_dup(inter: int, size_a: int, size_b: int) -> bool:
    """The natural near-duplicate rule, from the shared and the own shingle counts.

    Jaccard >= 0.5, or containment (shared / smaller set) >= 0.6: the second part catches
    shortened or rewritten re-sends (a correction that kept only the first paragraphs, an
    update that reordered them) whose Jaccard stays below 0.5.
    """
    if inter == 0:
        return False
    union = size_a + size_b - inter
    return (
        inter / union >= NATURAL_DUP_JACCARD
        or inter / min(size_a, size_b) >= NATURAL_DUP_CONTAINMENT
    )


def split_title(text: str) -> tuple[str, str]:
    """``(title line, rest)`` of a Reuters text."""
    title, _, rest = text.partition("\n")
    return title, rest


def day_of(date: str) -> str:
    """The day part (``26-FEB-1987``) of a Reuters ``date`` field."""
    return date.split()[0] if date else ""


def is_abbreviation(word: str) -> bool:
    """True for words like ``U.S.``, ``Inc.`` or ``J.`` whose final dot ends no sentence."""
    core = word.rstrip(".").strip("\"'(").lower()
    return core in ABBREVIATIONS or bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", core))


def is_sentence_end(words: list[str], i: int) -> bool:
    """Whether whitespace word ``i`` closes a sentence."""
    word = words[i]
    if not re.search(r"[.!?][\"')]*$", word) or is_abbreviation(word):
        return False
    return i + 1 == len(words) or bool(re.match(r"[\"'(]?[A-Z]", words[i + 1]))


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (whitespace normalized), with a few abbreviations handled."""
    words = text.split()
    sentences: list[str] = []
    start = 0
    for i in range(len(words)):
        if is_sentence_end(words, i):
            sentences.append(" ".join(words[start : i + 1]))
            start = i + 1
    if start < len(words):
        sentences.append(" ".join(words[start:]))
    return sentences


def body_of(text: str) -> str:
    """The story body: title, dateline and the trailing ``Reuter`` signature removed."""
    _, rest = split_title(text)
    m = DATELINE_RE.match(rest)
    if m:
        rest = rest[m.end() :]
    return re.sub(r"\s*reuter\s*$", "", rest, flags=re.IGNORECASE)


def is_templated(rec: dict[str, Any]) -> bool:
    """Whether a story is an earnings table: ``Shr ... vs ...`` and ``Net ... vs ...`` lines."""
    _, rest = split_title(rec["text"])
    m = DATELINE_RE.match(rest)
    if m:  # the first table line follows the dateline
        rest = rest[m.end() :]
    return bool(SHR_LINE_RE.search(rest) and NET_LINE_RE.search(rest))


def company_of(title: str) -> str:
    """Company part of an earnings title (``COBANCO INC <CBCO> YEAR NET`` -> ``COBANCO INC``)."""
    return COMPANY_CUT_RE.split(title, maxsplit=1)[0].strip().upper()


# ---------------------------------------------------------------------------------------------
# Edits: each returns the edited text and a note, or None when it does not apply to the story.


@dataclass
class EditContext:
    """What the edits need besides the text: the seeded RNG and the donor stories."""

    rng: random.Random
    donors: list[dict[str, Any]]
    source: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)


def edit_byline(text: str, ctx: EditContext) -> str | None:
    """Add a byline under the title and move the dateline's day (optionally Reuters style)."""
    rng = ctx.rng
    title, rest = split_title(text)
    m = DATELINE_RE.match(rest)
    if not m:
        return None
    day = int(m["day"] or m["day2"])
    options = [d for d in (day - 1, day + 1, day + 2) if 1 <= d <= 28] or [day - 1]
    new_day = rng.choice(options)
    month = m["mon"] or m["mon2"]
    tail = " (Reuters) - " if rng.random() < 0.5 else " - "
    dateline = f"{m['city']}, {month} {new_day}{tail}"
    byline = rng.choice(BYLINES).format(name=rng.choice(REPORTERS))
    ctx.notes["byline"] = byline
    return f"{title}\n{byline}\n{dateline}{rest[m.end() :]}"


def edit_footer(text: str, ctx: EditContext) -> str | None:
    """Append a credits line and a copyright/contact line."""
    rng = ctx.rng
    people = rng.sample(REPORTERS, 3)
    reporters = " and ".join(people[: rng.randint(1, 2)])
    credits = rng.choice(FOOTER_CREDITS).format(
        reporters=reporters, extra=people[2], editor=rng.choice(EDITORS)
    )
    return f"{text.rstrip()}\n{credits}\n{rng.choice(COPYRIGHT_LINES)}"


def _change_figure(word: str, rng: random.Random) -> str:
    positions = [i for i, c in enumerate(word) if c.isdigit()]
    i = rng.choice(positions)
    lowest = 1 if i == 0 and len(positions) > 1 else 0
    digit = rng.choice([str(d) for d in range(lowest, 10) if str(d) != word[i]])
    return word[:i] + digit + word[i + 1 :]


def _change_name(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word))
    pool = "aeiou" if word[i] in "aeiou" else "bcdfghklmnprstvwz"
    letter = rng.choice([c for c in pool if c != word[i]])
    return word[:i] + letter + word[i + 1 :]


def edit_correction(text: str, ctx: EditContext) -> str | None:
    """Re-send as a correction: ``CORRECTED - `` title prefix and 1-3 figures or names changed."""
    rng = ctx.rng
    title, rest = split_title(text)
    m = DATELINE_RE.match(rest)
    start = m.end() if m else 0
    figures = [x.span() for x in FIGURE_RE.finditer(rest, start)]
    names = [
        x.span()
        for x in NAME_RE.finditer(rest, start)
        if x.group() not in COMMON_CAPITALIZED and not rest[: x.start()].rstrip().endswith(".")
    ]
    wanted = rng.randint(1, 3)
    chosen: list[tuple[int, int, str]] = []
    taken: set[tuple[int, int]] = set()
    for _ in range(wanted):
        use_figure = bool(figures) and (not names or rng.random() < 0.6)
        pool = [s for s in (figures if use_figure else names) if s not in taken]
        if not pool:
            continue
        span = rng.choice(pool)
        taken.add(span)
        chosen.append((*span, "figure" if use_figure else "name"))
    if not chosen:
        return None
    changes = []
    for s, e, what in sorted(chosen, reverse=True):
        old = rest[s:e]
        new = _change_figure(old, rng) if what == "figure" else _change_name(old, rng)
        rest = rest[:s] + new + rest[e:]
        changes.append(f"{old} -> {new}")
    ctx.notes["changes"] = changes[::-1]
    return f"CORRECTED - {title}\n{rest}"


def edit_truncation(text: str, ctx: EditContext) -> str | None:
    """Keep the first 60-85 % of the words, cut at the sentence end nearest the drawn share."""
    words = list(WORD_RE.finditer(text))
    n = len(words)
    if n < 20:
        return None
    share = ctx.rng.uniform(0.60, 0.85)
    plain = [w.group() for w in words]
    ends = [
        i + 1 for i in range(n - 1) if 0.60 * n <= i + 1 <= 0.85 * n and is_sentence_end(plain, i)
    ]
    cut = min(ends, key=lambda k: (abs(k - share * n), k)) if ends else round(share * n)
    ctx.notes["kept_words"] = f"{cut}/{n}"
    return text[: words[cut - 1].end()]


def _unrelated(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        day_of(a["date"]) != day_of(b["date"])
        and not set(a["topics"]) & set(b["topics"])
        and not set(a["places"]) & set(b["places"])
    )


def edit_insertion(text: str, ctx: EditContext) -> str | None:
    """Insert a 2-3 sentence paragraph of an unrelated story (not in the benchmark) mid-text.

    The paragraph has at most half as many words as the story, so the story stays the bulk of
    the copy.
    """
    rng = ctx.rng
    max_words = max(25, len(WORD_RE.findall(text)) // 2)
    # Insertion point: a paragraph start (Reuters indents paragraphs) in the middle half.
    breaks = [m.start() for m in re.finditer(r"\n(?=    \S)", text)]
    middle = [p for p in breaks if 0.25 * len(text) <= p <= 0.75 * len(text)]
    if not middle:
        return None
    pos = rng.choice(middle)
    for _ in range(200):
        donor = rng.choice(ctx.donors)
        if not _unrelated(ctx.source, donor):
            continue
        sents = split_sentences(body_of(donor["text"]))
        k = rng.randint(2, 3)
        runs = [
            i
            for i in range(len(sents) - k + 1)
            if all(6 <= len(s.split()) <= 45 for s in sents[i : i + k])
            and sum(len(s.split()) for s in sents[i : i + k]) <= max_words
        ]
        if not runs:
            continue
        i = rng.choice(runs)
        passage = textwrap.fill(
            " ".join(sents[i : i + k]), width=64, initial_indent="    ", subsequent_indent=""
        )
        ctx.notes["donor"] = donor["id"]
        return f"{text[:pos]}\n{passage}{text[pos:]}"
    return None


EDITS: dict[str, Callable[[str, EditContext], str | None]] = {
    "byline": edit_byline,
    "footer": edit_footer,
    "correction": edit_correction,
    "truncation": edit_truncation,
    "insertion": edit_insertion,
}


def make_copy(kind: str, text: str, ctx: EditContext) -> tuple[str, list[str]] | None:
    """Apply edit ``kind`` (or two edits for ``combined``); None if it does not apply."""
    if kind != "combined":
        out = EDITS[kind](text, ctx)
        return None if out is None or out == text else (out, [kind])
    pairs = list(combinations(EDIT_TYPES, 2))
    ctx.rng.shuffle(pairs)
    for pair in pairs:
        ordered = sorted(pair, key=COMBINED_ORDER.index)
        ctx.notes.clear()
        out: str | None = text
        for name in ordered:
            out = EDITS[name](out, ctx) if out is not None else None
        if out is not None and out != text:
            return out, ordered
    return None


# ---------------------------------------------------------------------------------------------
# Natural near-duplicates


class UnionFind:
    """Disjoint sets over hashable keys."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, x: Any) -> Any:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: Any, b: Any) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def drop_natural_duplicates(
    recs: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Keep the lowest-NEWID story of every natural near-duplicate group (LSH + exact check)."""
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    sketches: dict[int, MinHash] = {}
    for rec in recs:
        m = MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch([s.encode("utf-8") for s in shingles(rec["text"])])
        sketches[rec["newid"]] = m
        lsh.insert(rec["newid"], m)
    by_id = {rec["newid"]: rec for rec in recs}
    cache: dict[int, frozenset[str]] = {}

    def sh(newid: int) -> frozenset[str]:
        if newid not in cache:
            cache[newid] = shingles(by_id[newid]["text"])
        return cache[newid]

    uf = UnionFind()
    candidates = confirmed = 0
    for newid in sorted(sketches):
        for other in sorted(lsh.query(sketches[newid])):
            if other <= newid:
                continue
            candidates += 1
            a, b = sh(newid), sh(other)
            if is_natural_dup(len(a & b), len(a), len(b)):
                confirmed += 1
                uf.union(newid, other)
    members: dict[int, list[int]] = defaultdict(list)
    for newid in uf.parent:
        members[uf.find(newid)].append(newid)
    dropped = {n for root, group in members.items() for n in group if n != root}
    kept = [rec for rec in recs if rec["newid"] not in dropped]
    stats = {
        "pool": len(recs),
        "lsh_candidate_pairs": candidates,
        "natural_dup_pairs": confirmed,
        "groups": sum(1 for g in members.values() if len(g) > 1),
        "dropped": len(dropped),
    }
    return kept, stats


# ---------------------------------------------------------------------------------------------
# Selection


def select_base(pool: list[dict[str, Any]], n: int, rng: random.Random) -> list[dict[str, Any]]:
    """``n`` base stories: same-day same-topic bundles first (~45 %), then random stories."""
    buckets: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in pool:
        for topic in set(rec["topics"]):
            buckets[(day_of(rec["date"]), topic)].append(rec)
    keys = sorted(k for k, v in buckets.items() if len(v) >= 2)
    rng.shuffle(keys)
    chosen: dict[int, dict[str, Any]] = {}
    target = round(SIBLING_TARGET * n)
    for key in keys:
        if len(chosen) >= target:
            break
        members = buckets[key]
        present = sum(1 for r in members if r["newid"] in chosen)
        avail = [r for r in members if r["newid"] not in chosen]
        take = rng.sample(avail, min(rng.randint(2, 4), len(avail), target - len(chosen) + 1))
        if present + len(take) < 2:
            continue
        for rec in take:
            chosen[rec["newid"]] = rec
    rest = [r for r in pool if r["newid"] not in chosen]
    rng.shuffle(rest)
    for rec in rest[: max(0, n - len(chosen))]:
        chosen[rec["newid"]] = rec
    return sorted(chosen.values(), key=lambda r: r["newid"])


def select_templated(
    pool: list[dict[str, Any]], n: int, rng: random.Random
) -> list[dict[str, Any]]:
    """``n`` earnings tables, at most one per company."""
    order = sorted(pool, key=lambda r: r["newid"])
    rng.shuffle(order)
    seen: set[str] = set()
    out = []
    for rec in order:
        company = company_of(rec["title"])
        if company in seen:
            continue
        seen.add(company)
        out.append(rec)
        if len(out) == n:
            break
    return sorted(out, key=lambda r: r["newid"])


def same_day_topic_pairs(docs: list[dict[str, Any]]) -> set[tuple[int, int]]:
    """Index pairs of documents that share the ``date`` day and a topic."""
    buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, d in enumerate(docs):
        for topic in set(d["topics"]):
            buckets[(day_of(d["date"]), topic)].append(i)
    return {pair for members in buckets.values() for pair in combinations(sorted(members), 2)}


# ---------------------------------------------------------------------------------------------
# Statistics


def summarize(values: Iterable[float]) -> dict[str, Any]:
    """Count, median, p10, p90, min and max of ``values`` (rounded to 3 decimals)."""
    arr = np.asarray(list(values), dtype=float)
    if len(arr) == 0:
        return {"pairs": 0}
    p10, med, p90 = np.percentile(arr, [10, 50, 90])
    return {
        "pairs": int(len(arr)),
        "median": round(float(med), 3),
        "p10": round(float(p10), 3),
        "p90": round(float(p90), 3),
        "min": round(float(arr.min()), 3),
        "max": round(float(arr.max()), 3),
    }


def shared_pairs(sets: list[frozenset[str]]) -> dict[tuple[int, int], int]:
    """Number of shared shingles of every document pair that shares at least one."""
    postings: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for g in s:
            postings[g].append(i)
    counts: Counter[tuple[int, int]] = Counter()
    for docs in postings.values():
        if len(docs) > 1:
            counts.update(combinations(docs, 2))
    return dict(counts)


def pair_jaccard(sets: list[frozenset[str]], i: int, j: int, inter: int) -> float:
    return inter / (len(sets[i]) + len(sets[j]) - inter)


# ---------------------------------------------------------------------------------------------
# Main


@dataclass
class Doc:
    """One benchmark document before ids are assigned."""

    text: str
    kind: str
    source: dict[str, Any]
    edits: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def edited(self) -> bool:
        return self.kind not in ("original", "templated_brief")


def natural_dup_pairs(texts: list[str]) -> list[tuple[int, int]]:
    """Exact check of all pairs of ``texts`` (inverted index) against the natural-dup rule."""
    sets = [shingles(t) for t in texts]
    return sorted(
        (i, j)
        for (i, j), inter in shared_pairs(sets).items()
        if is_natural_dup(inter, len(sets[i]), len(sets[j]))
    )


def build(args: argparse.Namespace) -> tuple[list[dict], list[dict], dict[str, Any]]:
    """Build the documents, the manifest rows and the statistics."""
    with open(args.data, encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    norm = [r for r in records if r["text_type"] == "NORM" and r["text"].strip()]
    templ_all = [r for r in norm if is_templated(r)]
    templ_ids = {r["newid"] for r in templ_all}
    templ_pool = [r for r in templ_all if len(tokens(r["text"])) <= MAX_TEMPLATE_WORDS]
    story_pool = [
        r for r in norm if r["newid"] not in templ_ids and len(tokens(r["text"])) >= MIN_WORDS
    ]
    pool_sizes = {"stories": len(story_pool), "templated": len(templ_pool)}
    kept, natural = drop_natural_duplicates(
        sorted(templ_pool + story_pool, key=lambda r: r["newid"])
    )
    kept_ids = {r["newid"] for r in kept}

    # Select; an exact all-pairs check of the selection catches what LSH missed (a pair with
    # high containment but a low Jaccard): the later story leaves the pool and selection reruns.
    excluded: set[int] = set()
    while True:
        stories = [r for r in story_pool if r["newid"] in kept_ids - excluded]
        templs = [r for r in templ_pool if r["newid"] in kept_ids - excluded]
        base = select_base(stories, args.n_stories, random.Random(f"base-{args.seed}"))
        templated = select_templated(templs, args.n_templated, random.Random(f"tpl-{args.seed}"))
        chosen = base + templated
        clashes = natural_dup_pairs([r["text"] for r in chosen])
        if not clashes:
            break
        excluded.update(max(chosen[i]["newid"], chosen[j]["newid"]) for i, j in clashes)
    natural["dropped_after_exact_check"] = len(excluded)
    base_ids = {r["newid"] for r in base}
    donors = [r for r in stories if r["newid"] not in base_ids]

    rng = random.Random(f"edits-{args.seed}")
    groups: list[list[Doc]] = []
    with_copies = {r["newid"] for r in rng.sample(base, round(COPY_FRACTION * len(base)))}
    for rec in base:
        group = [Doc(rec["text"], "original", rec)]
        if rec["newid"] in with_copies:
            wanted = rng.randint(1, 3)
            kinds = list(COPY_KINDS)
            rng.shuffle(kinds)
            for kind in kinds:
                if len(group) > wanted:
                    break
                ctx = EditContext(rng, donors, rec)
                made = make_copy(kind, rec["text"], ctx)
                if made is not None and all(made[0] != d.text for d in group):
                    group.append(Doc(made[0], kind, rec, made[1], dict(ctx.notes)))
        groups.append(group)
    for rec in templated:
        groups.append([Doc(rec["text"], "templated_brief", rec)])

    # Drop edited copies that come as close to another group as a natural duplicate would
    # (originals and templated briefs passed this check above).
    dropped_copies = 0
    while True:
        flat = [(g, d) for g, group in enumerate(groups) for d in group]
        sets = [shingles(d.text) for _, d in flat]
        bad: set[int] = set()
        for (i, j), inter in shared_pairs(sets).items():
            if flat[i][0] != flat[j][0] and is_natural_dup(inter, len(sets[i]), len(sets[j])):
                bad.update(k for k in (i, j) if flat[k][1].edited)
        if not bad:
            break
        dropped_copies += len(bad)
        drop = {id(flat[k][1]) for k in bad}
        groups = [[d for d in group if id(d) not in drop] for group in groups]

    # Shuffle the documents and give them opaque ids; number groups by first appearance.
    order = list(range(len(flat)))
    rng.shuffle(order)
    doc_ids = {k: f"news-{rank:05d}" for rank, k in enumerate(order)}
    group_ids: dict[int, str] = {}
    for k in order:
        group_ids.setdefault(flat[k][0], f"g{len(group_ids):05d}")
    rows, manifest = [], []
    for k in order:
        g, d = flat[k]
        rows.append(
            {
                "id": doc_ids[k],
                "text": d.text,
                "site": "reuters",
                "group": group_ids[g],
                "kind": d.kind,
            }
        )
        manifest.append(
            {
                "id": doc_ids[k],
                "group": group_ids[g],
                "kind": d.kind,
                "edits": d.edits,
                "source_id": d.source["id"],
                "title": d.source["title"],
                "date": d.source["date"],
                "topics": d.source["topics"],
                "places": d.source["places"],
                "notes": d.notes,
            }
        )

    stats = statistics(flat, sets, groups, args, natural, len(records), pool_sizes, dropped_copies)
    return rows, manifest, stats


def statistics(
    flat: list[tuple[int, Doc]],
    sets: list[frozenset[str]],
    groups: list[list[Doc]],
    args: argparse.Namespace,
    natural: dict[str, int],
    n_records: int,
    pool_sizes: dict[str, int],
    dropped_copies: int,
) -> dict[str, Any]:
    """Counts and exact Jaccard distributions of the final benchmark."""
    index = {id(d): k for k, (_, d) in enumerate(flat)}
    shared = shared_pairs(sets)

    def jac(i: int, j: int) -> float:
        key = (i, j) if i < j else (j, i)
        return pair_jaccard(sets, i, j, shared[key]) if key in shared else 0.0

    positives: dict[str, list[float]] = defaultdict(list)
    combined_parts: Counter[str] = Counter()
    for group in groups:
        orig = index[id(group[0])]
        for d in group[1:]:
            positives[d.kind].append(jac(orig, index[id(d)]))
            if d.kind == "combined":
                combined_parts["+".join(d.edits)] += 1
        for a, b in combinations(group[1:], 2):
            positives["copy_copy"].append(jac(index[id(a)], index[id(b)]))

    originals = [k for k, (_, d) in enumerate(flat) if d.kind == "original"]
    templ = [k for k, (_, d) in enumerate(flat) if d.kind == "templated_brief"]
    sdt_local = same_day_topic_pairs([flat[k][1].source for k in originals])
    hard: dict[str, list[tuple[int, int]]] = {
        "same_day_topic": [(originals[a], originals[b]) for a, b in sorted(sdt_local)],
        "templated_brief": list(combinations(templ, 2)),
    }
    with_sibling = {k for pair in hard["same_day_topic"] for k in pair}
    hard_stats = {}
    for kind, pairs in hard.items():
        touching = [p for p in pairs if (min(p), max(p)) in shared]
        hard_stats[kind] = {
            "pairs": len(pairs),
            "sharing_a_5gram": len(touching),
            "jaccard_of_sharing": summarize(jac(*p) for p in touching),
        }
    cross = [
        (pair_jaccard(sets, i, j, inter), inter / max(1, min(len(sets[i]), len(sets[j]))))
        for (i, j), inter in shared.items()
        if flat[i][0] != flat[j][0]
    ]
    sizes = [len(g) for g in groups]
    kinds = Counter(d.kind for _, d in flat)
    return {
        "seed": args.seed,
        "source_records": n_records,
        "story_pool": pool_sizes["stories"],
        "templated_pool": pool_sizes["templated"],
        "natural_duplicates": natural,
        "documents": len(flat),
        "groups": len(groups),
        "singleton_groups": sum(1 for s in sizes if s == 1),
        "groups_with_copies": sum(1 for s in sizes if s > 1),
        "largest_group": max(sizes),
        "documents_by_kind": dict(sorted(kinds.items())),
        "base_stories": len(originals),
        "base_with_same_day_topic_sibling": len(with_sibling),
        "templated_briefs": len(templ),
        "copies_dropped_for_cross_group_overlap": dropped_copies,
        "gold_same_group_pairs": sum(s * (s - 1) // 2 for s in sizes),
        "positive_pairs_by_type": {k: len(v) for k, v in sorted(positives.items())},
        "combined_edits": dict(sorted(combined_parts.items())),
        "positive_jaccard": {
            k: summarize(positives[k]) for k in (*COPY_KINDS, "copy_copy") if k in positives
        },
        "hard_negatives": hard_stats,
        "cross_group": {
            "pairs_sharing_a_5gram": len(cross),
            "max_jaccard": round(max((j for j, _ in cross), default=0.0), 3),
            "max_containment": round(max((c for _, c in cross), default=0.0), 3),
            "pairs_jaccard_ge_0.3": sum(1 for j, _ in cross if j >= 0.3),
        },
    }


def _row(name: str, s: dict[str, Any]) -> str:
    if not s.get("pairs"):
        return f"| {name} | 0 | | | | | |"
    cells = [s["pairs"], s["median"], s["p10"], s["p90"], s["min"], s["max"]]
    return f"| {name} | " + " | ".join(f"{c}" for c in cells) + " |"


def render(stats: dict[str, Any]) -> str:
    """The statistics as Markdown."""
    nat = stats["natural_duplicates"]
    base = stats["base_stories"]
    sib = stats["base_with_same_day_topic_sibling"]
    lines = [
        "# news_pairs statistics",
        "",
        f"Seed {stats['seed']}; source: Reuters-21578 ({stats['source_records']} records).",
        "",
        f"- Candidate pool: {stats['story_pool']} NORM stories with >= {MIN_WORDS} words and "
        f"{stats['templated_pool']} earnings tables of <= {MAX_TEMPLATE_WORDS} words.",
        f"- Natural near-duplicates (exact 5-gram Jaccard >= {NATURAL_DUP_JACCARD} or "
        f"containment >= {NATURAL_DUP_CONTAINMENT}, checked on "
        f"{nat['lsh_candidate_pairs']} MinHash-LSH candidate pairs): "
        f"{nat['natural_dup_pairs']} pairs in {nat['groups']} groups, {nat['dropped']} "
        f"stories dropped; {nat['dropped_after_exact_check']} more dropped by the exact "
        "all-pairs check of the selection.",
        f"- Documents: {stats['documents']}; groups: {stats['groups']} "
        f"({stats['groups_with_copies']} with copies, {stats['singleton_groups']} singletons, "
        f"largest {stats['largest_group']}).",
        "- Documents by kind: "
        + ", ".join(f"{k} {v}" for k, v in stats["documents_by_kind"].items())
        + ".",
        f"- Base stories: {base}, of which {sib} ({100 * sib / max(base, 1):.1f} %) have a "
        "same-day same-topic sibling; templated briefs: "
        f"{stats['templated_briefs']}.",
        f"- Gold same-group pairs: {stats['gold_same_group_pairs']} ("
        + ", ".join(f"{k} {v}" for k, v in stats["positive_pairs_by_type"].items())
        + ").",
        "- Combined edits: "
        + ", ".join(f"{k} {v}" for k, v in stats["combined_edits"].items())
        + ".",
        "- Edited copies dropped because they met the natural-duplicate rule with another "
        "group: "
        f"{stats['copies_dropped_for_cross_group_overlap']}.",
        "",
        "Exact Jaccard of word 5-gram sets (lower-cased `\\w+` tokens).",
        "",
        "Positive pairs (original vs. copy, by edit type; copy_copy: two copies of one story):",
        "",
        "| type | pairs | median | p10 | p90 | min | max |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [_row(k, v) for k, v in stats["positive_jaccard"].items()]
    lines += [
        "",
        "Hard-negative pairs that share at least one 5-gram:",
        "",
        "| type | pairs sharing / all | median | p10 | p90 | min | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, h in stats["hard_negatives"].items():
        s = h["jaccard_of_sharing"]
        row = _row(kind, s).split(" | ")
        row[1] = f"{h['sharing_a_5gram']} / {h['pairs']}"
        lines.append(" | ".join(row))
    cg = stats["cross_group"]
    lines += [
        "",
        f"All cross-group document pairs sharing a 5-gram: {cg['pairs_sharing_a_5gram']}; "
        f"max Jaccard {cg['max_jaccard']}, max containment {cg['max_containment']}; pairs with "
        f"Jaccard >= 0.3: {cg['pairs_jaccard_ge_0.3']}.",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="reuters21578.jsonl")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-stories", type=int, default=1500, help="base stories")
    p.add_argument("--n-templated", type=int, default=300, help="templated earnings briefs")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.data.is_file():
        print(f"error: Reuters-21578 data file not found: {args.data}", file=sys.stderr)
        return 2
    rows, manifest, stats = build(args)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, items in (("news_pairs.jsonl", rows), ("manifest.jsonl", manifest)):
        with open(args.out / name, "w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
    (args.out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    report = render(stats)
    (args.out / "README.md").write_text(report, encoding="utf-8")
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
