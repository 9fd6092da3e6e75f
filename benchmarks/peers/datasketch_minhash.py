"""datasketch: MinHash + MinHashLSH, then exact verification and union-find (which it lacks).

Modes: ``update`` (``MinHash.update`` once per shingle), ``batch`` (``update_batch`` once per
document), ``bulk`` (the ``MinHash.generator`` bulk API, which copies one initialised MinHash
per document and calls ``update_batch``). Each document is queried against the index, then
inserted (``MinHashLSH`` with the threshold's optimal bands and rows: 9 x 13 at 0.8 / 128).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator

from _common import lsh_pipeline, parse_args, read_texts, shingles
from datasketch import MinHash, MinHashLSH


def main() -> None:
    args = parse_args(
        __doc__.split("\n")[0],
        [("--mode", {"choices": ["update", "batch", "bulk"], "default": "batch"})],
    )
    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)

    def encoded() -> Iterator[list[bytes]]:
        for text in read_texts(args.input):
            yield [s.encode("utf-8") for s in shingles(text)]

    def minhashes() -> Iterator[tuple[MinHash, bool]]:
        if args.mode == "bulk":
            flags: deque[bool] = deque()

            def recorded() -> Iterator[list[bytes]]:
                for sh in encoded():
                    flags.append(bool(sh))
                    yield sh

            for m in MinHash.generator(recorded(), num_perm=args.num_perm):
                yield m, flags.popleft()
            return
        for sh in encoded():
            m = MinHash(num_perm=args.num_perm)
            if args.mode == "update":
                for s in sh:
                    m.update(s)
            else:
                m.update_batch(sh)
            yield m, bool(sh)

    def candidates() -> Iterator[tuple[int, list[int]]]:
        for i, (m, nonempty) in enumerate(minhashes()):
            if not nonempty:
                yield i, []
                continue
            yield i, lsh.query(m)
            lsh.insert(i, m, check_duplication=False)

    lsh_pipeline(args, candidates(), t0, bands_rows=list((lsh.b, lsh.r)))


if __name__ == "__main__":
    main()
