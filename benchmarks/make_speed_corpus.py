"""Make the speed benchmark's corpora from real text found on the machine.

Usage: python benchmarks/make_speed_corpus.py [--sizes 10k,20k,100k,1m] [--seed 1]
       [--cache benchmarks/.cache/speed] [--force]

How a corpus is made (deterministic for one seed and one set of installed packages):

1. **Text pool.** Every regular file under ``/usr/share/doc`` (plain text, ``.gz`` changelogs
   and copyright files decompressed, HTML with its tags stripped) and every English manual page
   under ``/usr/share/man/man[1-8]`` (roff requests and escapes stripped, the words kept) is read
   in sorted path order; files that are not UTF-8 text are skipped. Each file is cut into
   paragraphs at blank lines (longer paragraphs into pieces of at most ~1,200 characters at line
   ends); paragraphs with fewer than 8 words are dropped, and so is every paragraph whose
   lower-cased words repeat an earlier paragraph's (licence texts and changelog lines recur in
   hundreds of packages).
2. **Documents.** A document's target length is drawn from a log-normal distribution (median
   2,800 characters, sigma 0.6, so about 3.5 KB on average, clipped to 200..30,000). It is
   filled with runs of consecutive pool paragraphs (one run of 600..2,000 characters from a
   random place in the pool, then another, ...), so each document reads like a few passages of
   manuals and changelogs, and two documents share almost no 5-gram by chance.
3. **Planted near-duplicates.** Each document after the first is, with probability 0.05, a
   lightly edited copy of a uniformly drawn earlier original instead: a fraction r ~ U(0, 3 %)
   of its words is substituted, deleted or doubled, and with probability 0.3 each a header
   paragraph is put in front and the last paragraph is dropped or a footer paragraph appended.
   The copy's exact word 5-gram Jaccard to its original is recorded (most land between 0.6 and
   1.0, so a threshold of 0.8 has work on both sides of it).

The documents of a size are the first documents of one seeded stream, so the 10k corpus is a
prefix of the 20k, 100k and 1m corpora. Each corpus is ``docs-<size>.jsonl`` with
``{"id", "text"}`` per line, beside ``docs-<size>.meta.json`` (counts, the pool's fingerprint,
and the planted pairs ``[copy, original, jaccard]``).
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import hashlib
import html
import json
import os
import random
import re
import sys
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / "benchmarks" / ".cache" / "speed"
DOC_ROOT = Path("/usr/share/doc")
MAN_ROOT = Path("/usr/share/man")
MAN_SECTIONS = tuple(f"man{i}" for i in range(1, 9))

SEED = 1
DUP_RATE = 0.05
MEDIAN_CHARS = 2800
SIGMA = 0.6
MIN_CHARS, MAX_CHARS = 200, 30_000
RUN_CHARS = (600, 2000)
MAX_PARA_CHARS = 1200
MIN_PARA_WORDS = 8
MAX_FILE_BYTES = 20_000_000

_WORD = re.compile(r"\w+")
_BLANK = re.compile(r"\n[ \t]*\n+")
_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
_ROFF_FONT = re.compile(r"\\f(\(..|\[[^\]]*\]|.)")
_ROFF_SIZE = re.compile(r"\\s[+-]?\d+")
_ROFF_NAMED = re.compile(r"\\(\(..|\[[^\]]*\]|\*(\(..|\[[^\]]*\]|.)|[nk](\(..|\[[^\]]*\]|.))")
_ROFF_CHARS = {
    "(em": "--",
    "(en": "-",
    "(aq": "'",
    "(lq": '"',
    "(rq": '"',
    "(oq": "'",
    "(cq": "'",
    "(bu": "*",
    "(co": "(c)",
    "(dq": '"',
    "(hy": "-",
    "(mi": "-",
    "(pl": "+",
    "(ti": "~",
    "(ha": "^",
    "(rs": "\\",
    "(fo": "<<",
    "(fc": ">>",
    "[em]": "--",
    "[aq]": "'",
}
_PARA_BREAK = {"PP", "LP", "P", "SH", "SS", "TP", "IP", "HP", "sp", "Sh", "Ss", "Pp", "RS", "RE"}
_TEXT_MACROS = {
    "B",
    "I",
    "BR",
    "RB",
    "IR",
    "RI",
    "BI",
    "IB",
    "SM",
    "SB",
    "SH",
    "SS",
    "TP",
    "IP",
    "Nm",
    "Nd",
    "Ar",
    "Fl",
    "Op",
    "Xr",
    "Sh",
    "Ss",
    "Em",
    "Dq",
    "Pa",
    "Cm",
    "Ql",
    "Sq",
    "It",
    "Li",
}


def parse_size(text: str) -> int:
    """``10k`` -> 10_000, ``1m`` -> 1_000_000, ``2500`` -> 2500."""
    t = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def size_name(n: int) -> str:
    """Inverse of :func:`parse_size` for round sizes (10_000 -> ``10k``)."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def corpus_path(cache: Path, n: int) -> Path:
    """Where the corpus of ``n`` documents lives in ``cache``."""
    return cache / f"docs-{size_name(n)}.jsonl"


# --------------------------------------------------------------------------- text pool


def _roff_to_text(src: str) -> str:
    """Strip roff requests and escapes from a manual page, keeping the words."""
    out: list[str] = []
    skip_until: str | None = None
    for line in src.splitlines():
        if skip_until is not None:
            if line.startswith(skip_until):
                skip_until = None
            continue
        if line.startswith((".", "'")):
            parts = line[1:].strip().split(None, 1)
            name = parts[0] if parts else ""
            if name in ("de", "ig", "am"):
                skip_until = ".."
                continue
            if name in _PARA_BREAK:
                out.append("")
            if name in _TEXT_MACROS and len(parts) > 1:
                line = parts[1].replace('"', "")
            else:
                continue
        if line.startswith('.\\"') or line.startswith('\\"'):
            continue
        line = line.split('\\"', 1)[0]
        line = _ROFF_FONT.sub("", line)
        line = _ROFF_SIZE.sub("", line)
        line = _ROFF_NAMED.sub(lambda m: _ROFF_CHARS.get(m.group(1), ""), line)
        line = (
            line.replace("\\-", "-")
            .replace("\\e", "\\")
            .replace("\\&", "")
            .replace("\\ ", " ")
            .replace("\\/", "")
            .replace("\\,", "")
            .replace("\\|", "")
            .replace("\\^", "")
            .replace("\\c", "")
            .replace("\\%", "")
        )
        out.append(line)
    return "\n".join(out)


def _read(path: Path) -> str | None:
    """The text of one source file, or None when it is not UTF-8 text."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    if b"\0" in raw[:8192]:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    name = path.name.removesuffix(".gz")
    if MAN_ROOT in path.parents:
        return _roff_to_text(text)
    if name.endswith((".html", ".htm", ".xhtml")):
        return html.unescape(_TAG.sub(" ", text))
    return text


def _paragraphs(text: str) -> Iterator[str]:
    """Paragraphs of ``text``: blank-line separated, long ones cut at line ends."""
    for para in _BLANK.split(text.replace("\r\n", "\n")):
        lines = [ln.rstrip() for ln in para.strip("\n").split("\n") if ln.strip()]
        piece: list[str] = []
        size = 0
        for ln in lines:
            if piece and size + len(ln) > MAX_PARA_CHARS:
                yield "\n".join(piece)
                piece, size = [], 0
            piece.append(ln[: MAX_PARA_CHARS * 2])
            size += len(ln) + 1
        if piece:
            yield "\n".join(piece)


def source_files(doc_root: Path = DOC_ROOT, man_root: Path = MAN_ROOT) -> list[Path]:
    """Regular files (no symlinks) under the doc tree and the English manual sections."""
    roots = [doc_root] + [man_root / s for s in MAN_SECTIONS]
    files: list[Path] = []
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                p = Path(dirpath) / fn
                if not p.is_symlink() and p.is_file():
                    files.append(p)
    return files


@dataclass
class Pool:
    """Unique paragraphs of the machine's documentation, in source order."""

    paragraphs: list[str]
    n_files: int
    n_files_used: int
    fingerprint: str

    @property
    def n_chars(self) -> int:
        return sum(len(p) for p in self.paragraphs)


def build_pool(files: list[Path] | None = None) -> Pool:
    """Read the sources and keep each distinct paragraph of 8+ words once."""
    files = source_files() if files is None else files
    seen: set[bytes] = set()
    paras: list[str] = []
    used = 0
    digest = hashlib.blake2b(digest_size=16)
    for path in files:
        text = _read(path)
        if not text:
            continue
        before = len(paras)
        for para in _paragraphs(text):
            words = _WORD.findall(para.lower())
            if len(words) < MIN_PARA_WORDS:
                continue
            key = hashlib.blake2b(" ".join(words).encode(), digest_size=8).digest()
            if key in seen:
                continue
            seen.add(key)
            paras.append(para)
            digest.update(key)
        used += len(paras) > before
    if not paras:
        raise SystemExit("no text found under /usr/share/doc or /usr/share/man")
    return Pool(paras, len(files), used, digest.hexdigest())


# --------------------------------------------------------------------------- documents


def shingles(text: str, n: int = 5) -> set[str]:
    """Lower-cased word n-grams (the shingles every tool in the benchmark uses)."""
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def jaccard(a: str, b: str) -> float:
    """Exact word 5-gram Jaccard of two texts."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


class DocStream:
    """The seeded document stream: originals made of pool runs, and edited copies."""

    def __init__(self, pool: Pool, seed: int = SEED) -> None:
        self.pool = pool.paragraphs
        self.rng = random.Random(seed)
        # Recipes of the originals (runs of paragraphs), kept compactly to rebuild copies.
        self.run_start = array("l")
        self.run_len = array("l")
        self.doc_runs = array("l", [0])
        self.orig_ids = array("l")

    def _original(self) -> str:
        rng, pool = self.rng, self.pool
        target = min(MAX_CHARS, max(MIN_CHARS, int(rng.lognormvariate(0, SIGMA) * MEDIAN_CHARS)))
        parts: list[str] = []
        size = 0
        while size < target:
            start = rng.randrange(len(pool))
            budget = min(target - size, rng.randint(*RUN_CHARS))
            k, got = 0, 0
            while start + k < len(pool) and (got < budget or k == 0):
                got += len(pool[start + k]) + 2
                k += 1
            parts.extend(pool[start : start + k])
            self.run_start.append(start)
            self.run_len.append(k)
            size += got
        self.doc_runs.append(len(self.run_start))
        return "\n\n".join(parts)

    def rebuild(self, orig: int) -> str:
        """The text of the ``orig``-th original document."""
        lo, hi = self.doc_runs[orig], self.doc_runs[orig + 1]
        parts: list[str] = []
        # orig_ids is increasing, so the k-th original has recipe k.
        for r in range(lo, hi):
            s = self.run_start[r]
            parts.extend(self.pool[s : s + self.run_len[r]])
        return "\n\n".join(parts)

    def _edit(self, text: str) -> str:
        rng, pool = self.rng, self.pool
        paras = text.split("\n\n")
        if rng.random() < 0.3:
            paras.insert(0, pool[rng.randrange(len(pool))].split("\n")[0])
        if rng.random() < 0.3:
            if len(paras) > 2 and rng.random() < 0.5:
                paras.pop()
            else:
                paras.append(pool[rng.randrange(len(pool))])
        # Even items are words, odd items the whitespace between them (kept as it is).
        tokens = re.split(r"(\s+)", "\n\n".join(paras))
        rate = rng.uniform(0.0, 0.03)
        for k in range(0, len(tokens), 2):
            tok = tokens[k]
            if not tok or rng.random() >= rate:
                continue
            action = rng.random()
            if action < 0.5:  # substitute with a word from elsewhere in the pool
                donor = _WORD.findall(pool[rng.randrange(len(pool))])
                tokens[k] = rng.choice(donor) if donor else tok
            elif action < 0.8:  # delete, with the whitespace after it
                tokens[k] = ""
                if k + 1 < len(tokens):
                    tokens[k + 1] = ""
            else:  # double
                tokens[k] = tok + " " + tok
        return "".join(tokens)

    def generate(self, n: int) -> Iterator[tuple[str, str, tuple[int, float] | None]]:
        """Yield ``(id, text, planted)`` for the first ``n`` documents of the stream.

        ``planted`` is ``(index of the original, exact Jaccard)`` for an edited copy.
        """
        for i in range(n):
            doc_id = f"doc-{i:07d}"
            if i > 0 and self.orig_ids and self.rng.random() < DUP_RATE:
                o = self.orig_ids[self.rng.randrange(len(self.orig_ids))]
                src = self.rebuild(bisect.bisect_left(self.orig_ids, o))
                text = self._edit(src)
                yield doc_id, text, (o, round(jaccard(src, text), 4))
            else:
                self.orig_ids.append(i)
                yield doc_id, self._original(), None


def write_corpus(pool: Pool, n: int, path: Path, seed: int = SEED) -> dict:
    """Write the first ``n`` documents of the stream to ``path`` (atomically) and its meta."""
    t0 = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    planted: list[list] = []
    n_bytes = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for doc_id, text, plant in DocStream(pool, seed).generate(n):
            line = json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n"
            n_bytes += len(line.encode("utf-8"))
            fh.write(line)
            if plant is not None:
                planted.append([doc_id, f"doc-{plant[0]:07d}", plant[1]])
    os.replace(tmp, path)
    js = [p[2] for p in planted]
    meta = {
        "n_docs": n,
        "bytes": n_bytes,
        "seed": seed,
        "seconds": round(time.perf_counter() - t0, 1),
        "pool": {
            "paragraphs": len(pool.paragraphs),
            "chars": pool.n_chars,
            "files_read": pool.n_files,
            "files_used": pool.n_files_used,
            "fingerprint": pool.fingerprint,
        },
        "planted_pairs": len(planted),
        "planted_at_or_above_0.8": sum(j >= 0.8 for j in js),
        "planted": planted,
    }
    path.with_suffix(".meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return meta


def ensure_corpora(
    sizes: list[int], cache: Path = DEFAULT_CACHE, seed: int = SEED, force: bool = False
) -> dict[int, Path]:
    """Make the corpora that are missing (the pool is read once, only if needed)."""
    paths = {n: corpus_path(cache, n) for n in sizes}
    todo = [n for n, p in paths.items() if force or not p.with_suffix(".meta.json").exists()]
    if todo:
        t0 = time.perf_counter()
        pool = build_pool()
        print(
            f"text pool: {len(pool.paragraphs):,} paragraphs, {pool.n_chars / 1e6:.0f} M chars "
            f"from {pool.n_files_used:,} of {pool.n_files:,} files "
            f"({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
        for n in todo:
            meta = write_corpus(pool, n, paths[n], seed)
            print(
                f"{paths[n].name}: {n:,} docs, {meta['bytes'] / 1e6:.0f} MB, "
                f"{meta['planted_pairs']:,} planted copies, {meta['seconds']:.0f} s",
                file=sys.stderr,
            )
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10k,20k,100k", help="comma-separated sizes (10k, 1m)")
    ap.add_argument("--seed", type=int, default=SEED, help="seed of the document stream")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="output folder")
    ap.add_argument("--force", action="store_true", help="remake corpora that exist")
    args = ap.parse_args(argv)
    ensure_corpora(
        [parse_size(s) for s in args.sizes.split(",")], args.cache, args.seed, args.force
    )


if __name__ == "__main__":
    main()
