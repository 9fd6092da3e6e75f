"""Floors: what every tool pays before any MinHash.

``parse``: read the file and JSON-parse every line. ``shingle``: that, plus lower-casing,
``\\w+`` tokenizing, joining the word 5-grams into strings and hashing each with xxh3-64 (no set)
(the per-shingle Python work that most tools do). No clustering: every document stays alone.
"""

from __future__ import annotations

import time

import xxhash
from _common import NGRAM, WORD, finish, parse_args, read_texts


def main() -> None:
    args = parse_args(
        __doc__.split("\n")[0], [("--mode", {"choices": ["parse", "shingle"], "default": "parse"})]
    )
    t0 = time.perf_counter()
    n = total = 0
    h = xxhash.xxh3_64_intdigest
    for text in read_texts(args.input):
        if args.mode == "shingle":
            words = WORD.findall(text.lower())
            grams = [" ".join(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)]
            total += len([h(g.encode("utf-8")) for g in grams])
        n += 1
    finish(args.out, list(range(n)), t0, shingles=total)


if __name__ == "__main__":
    main()
