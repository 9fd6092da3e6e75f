"""rensa (Rust): ``RMinHash`` + ``RMinHashLSH``, then exact verification and union-find.

One ``RMinHash(num_perm, seed=42)`` per document, updated with its shingle strings; each
document is queried against ``RMinHashLSH``, then inserted. rensa needs ``num_perm`` to be a
multiple of the band count, so the bands are the divisor of ``num_perm`` with datasketch's
smallest weighted error (8 bands x 16 rows at 0.8 / 128; datasketch itself takes 9 x 13).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from _common import lsh_pipeline, parse_args, read_texts, shingles
from datasketch.lsh import _false_negative_probability, _false_positive_probability
from rensa import RMinHash, RMinHashLSH


def divisor_bands(threshold: float, num_perm: int) -> int:
    """The band count dividing ``num_perm`` that datasketch's criterion likes best."""

    def err(b: int) -> float:
        r = num_perm // b
        return 0.5 * _false_positive_probability(threshold, b, r) + 0.5 * (
            _false_negative_probability(threshold, b, r)
        )

    return min((b for b in range(2, num_perm + 1) if num_perm % b == 0), key=err)


def main() -> None:
    args = parse_args(__doc__.split("\n")[0])
    t0 = time.perf_counter()
    bands = divisor_bands(args.threshold, args.num_perm)
    lsh = RMinHashLSH(threshold=args.threshold, num_perm=args.num_perm, num_bands=bands)

    def candidates() -> Iterator[tuple[int, list[int]]]:
        for i, text in enumerate(read_texts(args.input)):
            sh = shingles(text)
            if not sh:
                yield i, []
                continue
            m = RMinHash(num_perm=args.num_perm, seed=42)
            m.update(sh)
            yield i, lsh.query(m)
            lsh.insert(i, m)

    lsh_pipeline(args, candidates(), t0, bands_rows=[bands, args.num_perm // bands])


if __name__ == "__main__":
    main()
