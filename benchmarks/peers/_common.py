"""Shared pieces of the peer adapters: reading, shingles, exact verification, union-find.

Every adapter is a script run in its own process by ``benchmarks/speed.py``::

    python peers/<tool>.py INPUT.jsonl OUTDIR [--threshold 0.8] [--num-perm 128] [--workers N]

It reads ``{"id", "text"}`` JSONL, finds near-duplicate clusters, writes ``OUTDIR/labels.bin``
(one int64 per document: the input index of the document its cluster keeps, the first member)
and prints one JSON line of notes on stdout. Shingles are the ones ``dedup`` uses: lower-cased
``\\w+`` words, 5-grams joined by a space (a document with fewer than 5 words is one shingle
of all its words; one without words has none and stays alone).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path

WORD = re.compile(r"\w+")
NGRAM = 5


def parse_args(description: str, extra: Iterable[tuple[str, dict]] = ()) -> argparse.Namespace:
    """The adapters' common command line."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("input", type=Path, help="JSONL with id and text")
    ap.add_argument("out", type=Path, help="folder for labels.bin and scratch files")
    ap.add_argument("--threshold", type=float, default=0.8, help="Jaccard threshold")
    ap.add_argument("--num-perm", type=int, default=128, help="MinHash permutations")
    ap.add_argument("--workers", type=int, default=1, help="processes, where the tool has them")
    for flag, kwargs in extra:
        ap.add_argument(flag, **kwargs)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def read_texts(path: Path) -> Iterator[str]:
    """The ``text`` of every line of a JSONL file, in order."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)["text"]


def count_lines(path: Path) -> int:
    """Number of lines of a file."""
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


def shingles(text: str) -> list[str]:
    """Distinct lower-cased word 5-grams of ``text`` (see the module docstring)."""
    words = WORD.findall(text.lower())
    if len(words) < NGRAM:
        return [" ".join(words)] if words else []
    return list({" ".join(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)})


class UnionFind:
    """Union-find over document indices; the root of a set is its smallest member."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra

    def labels(self) -> list[int]:
        return [self.find(i) for i in range(len(self.parent))]


def verify(path: Path, pairs: Iterable[tuple[int, int]], threshold: float) -> list[tuple[int, int]]:
    """Keep the candidate pairs whose exact shingle Jaccard is at least ``threshold``.

    A second pass over the file rebuilds the shingle sets of the documents that occur in a
    pair only, so memory grows with the candidates, not with the corpus.
    """
    pairs = list(pairs)
    need = {d for p in pairs for d in p}
    sets: dict[int, set[str]] = {}
    for i, text in enumerate(read_texts(path)):
        if i in need:
            sets[i] = set(shingles(text))
    kept = []
    for a, b in pairs:
        sa, sb = sets[a], sets[b]
        union = len(sa | sb)
        if union and len(sa & sb) / union >= threshold:
            kept.append((a, b))
    return kept


def cluster(n: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """Connected components of ``pairs``: the keeper (smallest index) of every document."""
    uf = UnionFind(n)
    for a, b in pairs:
        uf.union(a, b)
    return uf.labels()


def finish(out: Path, labels: list[int], t0: float, **notes: object) -> None:
    """Write ``labels.bin`` and print the adapter's notes as one JSON line."""
    with open(out / "labels.bin", "wb") as fh:
        array("q", labels).tofile(fh)
    notes["inner_s"] = round(time.perf_counter() - t0, 3)
    print(json.dumps(notes))
    sys.stdout.flush()


def lsh_pipeline(
    args: argparse.Namespace,
    candidates: Iterable[tuple[int, list[int]]],
    t0: float,
    **notes: object,
) -> None:
    """Verify the ``(doc, candidate docs)`` stream exactly, cluster, and finish."""
    pairs: list[tuple[int, int]] = []
    n = 0
    for i, cands in candidates:
        n = i + 1
        pairs.extend((int(c), i) for c in cands if int(c) != i)
    kept = verify(args.input, pairs, args.threshold)
    finish(args.out, cluster(n, kept), t0, candidates=len(pairs), verified=len(kept), **notes)
