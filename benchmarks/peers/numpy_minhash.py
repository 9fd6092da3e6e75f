"""Plain numpy MinHash: xxh3-64 of each shingle string, 128 multiply-shift permutations.

The baseline a user writes in an afternoon: shingle strings hashed one by one in Python,
then ``min((a * h + b) >> 32)`` over the permutations in numpy per document; bands (9 x 13 at
0.8 / 128, as datasketch) as dict keys, query-then-insert, exact verification, union-find.
``--workers N`` signs batches of lines in N processes (the index stays in the parent).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from multiprocessing import Pool

import numpy as np
import xxhash
from _common import lsh_pipeline, parse_args, shingles
from datasketch.lsh import _optimal_param

BATCH = 500
_rng = np.random.default_rng(1)
A = (_rng.integers(0, 2**63, 128, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
B = _rng.integers(0, 2**63, 128, dtype=np.uint64)


def sign(lines: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Signatures ``(len(lines), 128)`` uint32 and a non-empty flag per line."""
    h = xxhash.xxh3_64_intdigest
    sigs = np.full((len(lines), len(A)), np.iinfo(np.uint32).max, dtype=np.uint32)
    nonempty = np.zeros(len(lines), dtype=bool)
    for k, line in enumerate(lines):
        sh = shingles(json.loads(line)["text"])
        if not sh:
            continue
        hv = np.fromiter((h(s.encode("utf-8")) for s in sh), dtype=np.uint64, count=len(sh))
        with np.errstate(over="ignore"):
            sigs[k] = ((hv[:, None] * A + B) >> np.uint64(32)).min(axis=0)
        nonempty[k] = True
    return sigs, nonempty


def batches(path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8") as fh:
        batch: list[str] = []
        for line in fh:
            batch.append(line)
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def main() -> None:
    args = parse_args(__doc__.split("\n")[0])
    if args.num_perm != len(A):
        raise SystemExit("numpy_minhash is written for 128 permutations")
    t0 = time.perf_counter()
    b, r = _optimal_param(args.threshold, args.num_perm, 0.5, 0.5)
    tables: list[dict[bytes, list[int]]] = [{} for _ in range(b)]
    pool = Pool(args.workers) if args.workers > 1 else None
    signed = pool.imap(sign, batches(args.input)) if pool else map(sign, batches(args.input))

    def candidates() -> Iterator[tuple[int, list[int]]]:
        i = 0
        for sigs, nonempty in signed:
            for sig, ok in zip(sigs, nonempty, strict=True):
                if not ok:
                    yield i, []
                    i += 1
                    continue
                cands: set[int] = set()
                for band, table in enumerate(tables):
                    key = sig[band * r : (band + 1) * r].tobytes()
                    bucket = table.get(key)
                    if bucket is None:
                        table[key] = [i]
                    else:
                        cands.update(bucket)
                        bucket.append(i)
                yield i, list(cands)
                i += 1

    lsh_pipeline(args, candidates(), t0, bands_rows=[b, r])
    if pool:
        pool.close()
        pool.join()


if __name__ == "__main__":
    main()
