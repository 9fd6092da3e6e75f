"""datatrove: its four-stage MinHash pipeline with the local executor, as shipped.

Stages (``LocalPipelineExecutor``, ``--workers`` processes each, default 2): signatures
(``JsonlReader`` over ``--shards``, one task per shard file) -> buckets (one task per bucket)
-> cluster (one task, ``save_cluster_id``) -> filter (one task per shard, ``JsonlWriter`` of
the kept documents). ``MinhashConfig(n_grams=5, num_buckets=9, hashes_per_bucket=13)`` (the
bands and rows datasketch takes at 0.8 / 128, so 117 hashes), 64-bit hashes (its default).
Its own text handling stays: ``simplify_text`` (lower case, punctuation removed, numbers
normalised) and spaCy's English word tokenizer. Union-find is built in; there is **no exact
verification** (LSH bucket matches are merged as they are).
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

from _common import count_lines, finish, parse_args


def main() -> None:
    args = parse_args(
        __doc__.split("\n")[0],
        [("--shards", {"type": Path, "required": True, "help": "folder of JSONL shards"})],
    )
    t0 = time.perf_counter()
    from datasketch.lsh import _optimal_param
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    b, r = _optimal_param(args.threshold, args.num_perm, 0.5, 0.5)
    config = MinhashConfig(n_grams=5, num_buckets=b, hashes_per_bucket=r)
    shards = sorted(args.shards.glob("*.jsonl"))
    out = args.out
    workers = args.workers

    def reader() -> JsonlReader:
        return JsonlReader(str(args.shards), glob_pattern="*.jsonl", recursive=False)

    def run(pipeline: list, tasks: int, name: str) -> None:
        LocalPipelineExecutor(
            pipeline=pipeline,
            tasks=tasks,
            workers=min(workers, tasks),
            logging_dir=str(out / "logs" / name),
        ).run()

    run(
        [reader(), MinhashDedupSignature(output_folder=str(out / "sigs"), config=config)],
        len(shards),
        "signatures",
    )
    run(
        [
            MinhashDedupBuckets(
                input_folder=str(out / "sigs"), output_folder=str(out / "buckets"), config=config
            )
        ],
        b,
        "buckets",
    )
    run(
        [
            MinhashDedupCluster(
                input_folder=str(out / "buckets"),
                output_folder=str(out / "ids"),
                config=config,
                save_cluster_id=True,
            )
        ],
        1,
        "cluster",
    )
    run(
        [
            reader(),
            MinhashDedupFilter(input_folder=str(out / "ids")),
            JsonlWriter(str(out / "kept")),
        ],
        len(shards),
        "filter",
    )

    # Labels: shard k holds a contiguous slice of the input; .clusters holds (doc, cluster id).
    offsets = [0]
    for shard in shards:
        offsets.append(offsets[-1] + count_lines(shard))
    labels = list(range(offsets[-1]))
    first: dict[int, int] = {}
    members: list[tuple[int, int]] = []
    for k in range(len(shards)):
        path = out / "ids" / f"{k:06d}.clusters"
        if not path.exists():
            continue
        data = path.read_bytes()
        for doc, cid in struct.iter_unpack("<II", data):
            g = offsets[k] + doc
            members.append((g, cid))
            first[cid] = min(first.get(cid, g), g)
    for g, cid in members:
        labels[g] = first[cid]
    removed = sum(len(p.read_bytes()) // 4 for p in (out / "ids").glob("*.remove"))
    finish(
        out,
        labels,
        t0,
        removed=removed,
        bands_rows=[b, r],
        stats=json.loads((out / "logs" / "cluster" / "stats.json").read_text())[0]
        .get("stats", {})
        .get("duplicates"),
    )


if __name__ == "__main__":
    main()
