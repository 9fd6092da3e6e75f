"""text-dedup: its MinHash script (``text_dedup.minhash``) on a local JSONL file, as shipped.

Run in-process through its click entry point with ``--path json --data_files INPUT`` (Hugging
Face ``datasets`` builds an Arrow cache from the JSONL, in a fresh folder per run), ``--num_perm
128 --threshold 0.8 --ngram 5 --hash_func xxh3 --num_proc N``. Its own choices stay: tokens
are the pieces of the lower-cased text split at every non-word character (``\\W``), 32-bit
hashes, bands and rows from the same criterion as datasketch (9 x 13), documents of fewer than
5 tokens dropped, and every LSH bucket merged into one cluster: there is **no exact
verification** (not added, since the script builds its clusters inside one function). The
union-find it dumps with ``--debug`` gives the labels.
"""

from __future__ import annotations

import os
import pickle
import sys
import time

from _common import count_lines, finish, parse_args


def main() -> None:
    args = parse_args(__doc__.split("\n")[0])
    t0 = time.perf_counter()
    cache = args.out / "hf-cache"
    os.environ["HF_DATASETS_CACHE"] = str(cache)
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from text_dedup.minhash import main as td_main

    argv = [
        "--path",
        "json",
        "--data_files",
        str(args.input),
        "--split",
        "train",
        "--cache_dir",
        str(cache),
        "--output",
        str(args.out / "deduped"),
        "--column",
        "text",
        "--num_proc",
        str(args.workers),
        "--num_perm",
        str(args.num_perm),
        "--threshold",
        str(args.threshold),
        "--ngram",
        "5",
        "--hash_func",
        "xxh3",
        "--debug",
    ]
    td_main.main(argv, standalone_mode=False)
    with open(args.out / "deduped" / "uf.pkl", "rb") as fh:
        uf = pickle.load(fh)
    n = count_lines(args.input)
    labels = [uf.find(i) if i in uf.parent else i for i in range(n)]
    finish(args.out, labels, t0)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
