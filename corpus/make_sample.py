"""Build the bundled sample corpus ``corpus/sample.jsonl`` from the shared evaluation data.

The sample exercises the three detections of ``dedup``:

* the two seed pages (a page whose body was scraped twice, and a page with inserted
  ``Read: <headline>`` lines), for repeated passages and site boilerplate;
* six Wikipedia article-version clusters from the near-duplicate development set
  (``neardup/dev.jsonl``, CC BY-SA 3.0), for near-duplicate documents;
* twelve web pages of four sites from the permissively licensed sources of the
  boilerplate development set (``boilerplate/dev.jsonl``: ``aeb``, MIT, and
  ``readability``, Apache-2.0), with their gold main text, for site boilerplate.

Everything chosen is hard-coded below, so rerunning the script gives the same file, byte
for byte. The data directory defaults to ``../shared/data`` next to the repository root
(``Path(__file__).resolve().parents[2] / "shared" / "data"``); ``--data`` overrides it.

Usage::

    python corpus/make_sample.py [--data DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_OUT = Path(__file__).resolve().parent / "sample.jsonl"
MAX_BYTES = 2_000_000

# id -> (file in seeds/, site). Seed 000 is a digitaljournal.com page (its byline and its
# "More about ... Latest News Top News" footer are that site's template). Seed 002 does not
# name its site anywhere in its text, so it gets a "<source>:<name>" site, the convention
# the boilerplate data uses when nothing better is known.
SEEDS: dict[str, tuple[str, str]] = {
    "seed-000": ("000_dba9b26182dbf429.txt", "digitaljournal.com"),
    "seed-002": ("002_483283c1a0e3604c.txt", "seeds:002"),
}
SEED_SOURCE = "seeds"

# Gold cluster id -> (article title, number of versions). Every version of each article
# is taken. The comments say how the versions differ:
NEARDUP_CLUSTERS: dict[str, tuple[str, int]] = {
    # very similar versions (several exact copies among them)
    "wvc-150a21b792": ("Hannibal", 7),
    # very similar: light copy-editing of a poem article
    "wvc-7b1e271a47": ("Haddocks' Eyes", 4),
    # growing: small edits, then the last version doubles in length
    "wvc-41f14fa4a5": ("Harrison Narcotics Tax Act", 7),
    # growing and partly rewritten
    "wvc-b41f2e41a2": ("Herbert A. Simon", 4),
    # rewritten: the first version shares almost nothing with the later ones
    "wvc-df8a8788a0": ("Hydroxy group", 4),
    # a talk page: a discussion that grows by appending
    "wvc-bca58ca8e2": ("Talk:Harmonica", 4),
}

# Boilerplate pages, by site. In the aeb and readability sources no site has more than three
# pages; these are the four sites that have three.
BOILERPLATE_PAGES: dict[str, tuple[str, ...]] = {
    "bbc.co.uk": ("readability:bbc-1", "aeb:70cb2d5bca75ab5a", "aeb:c7e39ac49fa1235f"),
    "yahoo.com": ("readability:yahoo-1", "readability:yahoo-2", "readability:yahoo-3"),
    "businessinsider.com": (
        "readability:msn",
        "aeb:f81c6c05d9cbc933",
        "aeb:fde930b01859de83",
    ),
    "wikipedia.org": (
        "readability:wikipedia",
        "readability:wikipedia-2",
        "readability:wikipedia-3",
    ),
}
BOILERPLATE_SOURCES = frozenset({"aeb", "readability"})
BOILERPLATE_FIELDS = ("id", "url", "site", "source", "text", "gold")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSONL file, naming the file and line on bad input."""
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{lineno}: not valid JSON ({e.msg})") from None


def seed_records(data_dir: Path) -> list[dict[str, Any]]:
    """The two seed documents, with their text exactly as in the seed files."""
    records = []
    for doc_id, (name, site) in SEEDS.items():
        text = (data_dir / "seeds" / name).read_text(encoding="utf-8")
        records.append(
            {"id": doc_id, "text": text, "site": site, "url": None, "source": SEED_SOURCE}
        )
    return records


def neardup_records(data_dir: Path) -> list[dict[str, Any]]:
    """All versions of the chosen articles, in the order of ``dev.jsonl`` (hash order).

    The gold ``cluster`` is kept as ``gold_cluster``; ``url``, ``title`` and ``version``
    (0 = oldest) come from ``dev.meta.jsonl``.
    """
    meta = {
        m["id"]: m
        for m in read_jsonl(data_dir / "neardup" / "dev.meta.jsonl")
        if m["cluster"] in NEARDUP_CLUSTERS
    }
    records = []
    for doc in read_jsonl(data_dir / "neardup" / "dev.jsonl"):
        if doc["cluster"] not in NEARDUP_CLUSTERS:
            continue
        m = meta[doc["id"]]
        title, _ = NEARDUP_CLUSTERS[doc["cluster"]]
        if m["title"] != title or m["cluster"] != doc["cluster"]:
            raise SystemExit(f"{doc['id']}: expected a version of {title!r}, got {m['title']!r}")
        records.append(
            {
                "id": doc["id"],
                "text": doc["text"],
                "site": doc["site"],
                "url": m["url"],
                "source": doc["source"],
                "gold_cluster": doc["cluster"],
                "title": m["title"],
                "version": m["version"],
            }
        )
    for cluster, (title, size) in NEARDUP_CLUSTERS.items():
        found = sum(r["gold_cluster"] == cluster for r in records)
        if found != size:
            raise SystemExit(f"cluster {cluster} ({title}): expected {size} versions, got {found}")
    return records


def boilerplate_records(data_dir: Path) -> list[dict[str, Any]]:
    """The chosen pages with their gold main text, in the order of ``dev.jsonl``."""
    site_of = {page: site for site, pages in BOILERPLATE_PAGES.items() for page in pages}
    records = []
    for page in read_jsonl(data_dir / "boilerplate" / "dev.jsonl"):
        if page["id"] not in site_of:
            continue
        if page["source"] not in BOILERPLATE_SOURCES or page["site"] != site_of[page["id"]]:
            raise SystemExit(
                f"{page['id']}: expected site {site_of[page['id']]!r} from one of "
                f"{sorted(BOILERPLATE_SOURCES)}, got {page['site']!r} from {page['source']!r}"
            )
        records.append({key: page[key] for key in BOILERPLATE_FIELDS})
    missing = sorted(set(site_of) - {r["id"] for r in records})
    if missing:
        raise SystemExit(f"pages not found in boilerplate/dev.jsonl: {', '.join(missing)}")
    return records


def build(data_dir: Path) -> list[dict[str, Any]]:
    """All sample records: seeds, then Wikipedia versions, then boilerplate pages."""
    records = seed_records(data_dir) + neardup_records(data_dir) + boilerplate_records(data_dir)
    ids = [r["id"] for r in records]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate ids in the sample")
    return records


def encode(records: Iterable[dict[str, Any]]) -> bytes:
    """JSONL bytes: one object per line, UTF-8, keys in insertion order."""
    lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return "".join(lines).encode("utf-8")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Build the sample and report its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="shared data dir")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSONL file")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"data directory not found: {args.data}")
    records = build(args.data)
    data = encode(records)
    if len(data) >= MAX_BYTES:
        raise SystemExit(f"sample is {len(data):,} bytes; the limit is {MAX_BYTES:,}")
    write_atomic(args.out, data)
    counts = {
        "seeds": sum(r["source"] == SEED_SOURCE for r in records),
        "neardup": sum("gold_cluster" in r for r in records),
        "boilerplate": sum("gold" in r for r in records),
    }
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(f"{args.out.name}: {len(records)} documents ({summary}), {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
