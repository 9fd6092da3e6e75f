"""Speed and memory benchmark: ``dedup clusters`` beside its peers, in one run, at corpus scale.

Usage::

    python benchmarks/speed.py [--sizes reuters,10k,20k,100k] [--repeats N] [--only a,b]
                               [--skip a,b] [--out benchmarks/results]

Every tool runs in its own process on the same JSONL corpus (lower-cased word 5-grams where
the tool lets us choose, 128 permutations, threshold 0.8): ``dedup clusters`` (one worker, two
workers, and once at its defaults), datasketch (``update`` per shingle, ``update_batch`` per
document, the bulk generator), rensa, a plain numpy MinHash, text-dedup's MinHash script,
datatrove's MinHash pipeline, and two floors (read + JSON parse; + tokenize, 5-gram strings
and one xxh3 hash each). The adapters are ``benchmarks/peers/*.py``; they add exact
verification and union-find where the tool lacks them (datasketch, rensa, numpy), while
text-dedup and datatrove run as shipped.

For each run the harness measures wall time, CPU time (user + system of the whole process
tree: it is a child subreaper, so the tree's processes are all reaped into
``RUSAGE_CHILDREN``) and peak RSS of the tree (the RSS of the process and all its
descendants, summed, polled every 50 ms: shared pages of forked workers count once per
process). Each run's input is read once before it starts (untimed), so that every run finds
it in the page cache. Each (tool, corpus) is run ``--repeats`` times, interleaved, and the
median is reported; a tool whose first run takes longer than ``--single-run-above`` seconds
runs once. Clusters are checked against the near-duplicates planted in the corpus (see
``make_speed_corpus.py``) so a fast tool that does less work shows it.

Peers live in their own virtual environment (``benchmarks/.venv-peers``, made with pinned
versions when missing) because their pins clash with each other and with the project's.
Results: ``benchmarks/results/speed.md``, ``speed.json`` and ``speed.png``; a run updates the
corpora it ran and keeps the others from earlier runs (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_speed_corpus import (  # noqa: E402
    DEFAULT_CACHE,
    ensure_corpora,
    parse_size,
    size_name,
)

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "benchmarks" / "peers"
DEFAULT_VENV = ROOT / "benchmarks" / ".venv-peers"
DEFAULT_OUT = ROOT / "benchmarks" / "results"
REUTERS = ROOT.parent / "shared" / "data" / "raw_news" / "reuters21578.jsonl"
THRESHOLD = 0.8
NUM_PERM = 128
POLL_S = 0.05
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
WARM_CHUNK = 16 << 20  # bytes per read when warming a run's input
MIB = 1024 * 1024

# Versions the peers' environment is made with (pip resolves their other dependencies).
# datatrove needs xxhash < 4 and, for its MinHash stages, spaCy (English word tokenizer),
# orjson (JsonlReader) and tokenizers (imported by its dedup package).
PEER_PACKAGES = [
    "datasketch==2.0.0",
    "rensa==0.5.0",
    "text-dedup==0.4.0",
    "datatrove==0.10.1",
    "spacy==3.8.18",
    "orjson",
    "tokenizers",
    "xxhash<4",
    "numpy",
    "psutil",
]
PEER_DISTS = ["datasketch", "rensa", "text-dedup", "datatrove", "spacy", "xxhash", "numpy"]


# --------------------------------------------------------------------------- tools


@dataclass(frozen=True)
class Tool:
    """One row of the table: how to run a tool and what to say about it."""

    key: str
    label: str
    env: str  # "peers" or "project"
    args: tuple[str, ...]
    workers: int = 1
    max_docs: int | None = None  # skipped above this size unless --no-limits
    clusters: bool = True  # False for the floors
    note: str = ""


TOOLS: list[Tool] = [
    Tool(
        "floor-parse",
        "floor: read + JSON parse",
        "peers",
        ("floor.py", "--mode", "parse"),
        clusters=False,
        note="reads the file and json.loads every line",
    ),
    Tool(
        "floor-shingle",
        "floor: + tokenize, 5-gram strings, xxh3 each",
        "peers",
        ("floor.py", "--mode", "shingle"),
        clusters=False,
        note="lower, \\w+ tokens, ' '.join of each 5-gram, xxh3_64 of each; no MinHash",
    ),
    Tool(
        "datasketch-update",
        "datasketch MinHash.update per shingle",
        "peers",
        ("datasketch_minhash.py", "--mode", "update"),
        max_docs=100_000,
        note="MinHashLSH 9x13, query then insert; + exact verification, union-find",
    ),
    Tool(
        "datasketch-batch",
        "datasketch update_batch per document",
        "peers",
        ("datasketch_minhash.py", "--mode", "batch"),
        note="MinHashLSH 9x13, query then insert; + exact verification, union-find",
    ),
    Tool(
        "datasketch-bulk",
        "datasketch MinHash.generator (bulk)",
        "peers",
        ("datasketch_minhash.py", "--mode", "bulk"),
        note="MinHashLSH 9x13, query then insert; + exact verification, union-find",
    ),
    Tool(
        "rensa",
        "rensa RMinHash + RMinHashLSH",
        "peers",
        ("rensa_minhash.py",),
        note="RMinHashLSH 8x16 (bands must divide 128); + exact verification, union-find",
    ),
    Tool(
        "numpy",
        "numpy multiply-shift over xxh3",
        "peers",
        ("numpy_minhash.py",),
        note="bands 9x13 in dicts; + exact verification, union-find",
    ),
    Tool(
        "numpy-w2",
        "numpy multiply-shift over xxh3",
        "peers",
        ("numpy_minhash.py",),
        workers=2,
        note="signatures in 2 processes",
    ),
    Tool(
        "text-dedup",
        "text-dedup minhash script",
        "peers",
        ("text_dedup_minhash.py",),
        workers=2,
        note="as shipped: num_proc 2, xxh3, \\W-split tokens, no verification",
    ),
    Tool(
        "datatrove",
        "datatrove MinHash pipeline (4 stages)",
        "peers",
        ("datatrove_minhash.py",),
        workers=2,
        max_docs=100_000,
        note="as shipped: local executor, 2 shards, 9 buckets x 13, no verification",
    ),
    Tool(
        "dedup-w1",
        "dedup clusters --threshold 0.8",
        "project",
        ("--threshold", "0.8"),
        note="exact verification, union-find built in; containment rule at its default",
    ),
    Tool(
        "dedup-w2", "dedup clusters --threshold 0.8", "project", ("--threshold", "0.8"), workers=2
    ),
    Tool(
        "dedup-w1-jaccard",
        "dedup clusters --threshold 0.8 --containment 2",
        "project",
        ("--threshold", "0.8", "--containment", "2"),
        note="containment rule off: the peers' criterion (Jaccard only)",
    ),
    Tool(
        "dedup-w2-jaccard",
        "dedup clusters --threshold 0.8 --containment 2",
        "project",
        ("--threshold", "0.8", "--containment", "2"),
        workers=2,
    ),
    Tool(
        "dedup-defaults",
        "dedup clusters (defaults)",
        "project",
        (),
        workers=0,
        note="threshold 0.2, containment 0.7, all cores",
    ),
]
TOOL_BY_KEY = {t.key: t for t in TOOLS}
REFS = ("datasketch-batch", "rensa")


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    """One measured run."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    max_proc_rss_mb: float
    processes: int
    rc: int
    other_cores: float = 0.0  # mean cores used by processes outside the run, while it ran
    error: str = ""
    notes: dict = field(default_factory=dict)


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has been busy since boot (``/proc/stat``), or 0."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _become_subreaper() -> bool:
    """Make orphaned descendants our children, so their CPU time reaches RUSAGE_CHILDREN."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _descendants(me: int) -> list[int] | None:
    """The pids of all descendants of ``me``, from each task's ``children`` file in /proc
    (None where the system has none). psutil finds them by reading every process of the
    machine: 20 times a second, that took a share of a core from the run it measured."""
    if not os.path.exists(f"/proc/{me}/task/{me}/children"):
        return None
    found: list[int] = []
    todo = [me]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue  # gone meanwhile
        except OSError:
            return None
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except FileNotFoundError:
                continue
            except OSError:
                return None
            found += kids
            todo += kids
    return found


def _rss_of(pid: int) -> int | None:
    """Resident bytes of ``pid`` (``/proc/PID/statm``), None once it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return None


def _tree_rss(me: int) -> tuple[int, int, int]:
    """(sum of RSS, largest RSS, number of processes) of all descendants of ``me``."""
    pids = _descendants(me)
    if pids is None:
        import psutil

        try:
            procs = psutil.Process(me).children(recursive=True)
        except psutil.Error:
            return 0, 0, 0
        rss_of = {}
        for p in procs:
            with contextlib.suppress(psutil.Error):
                rss_of[p.pid] = p.memory_info().rss
    else:
        rss_of = {pid: _rss_of(pid) for pid in pids}
    sizes = [r for r in rss_of.values() if r is not None]
    return sum(sizes), max(sizes, default=0), len(sizes)


def warm(paths: list[Path]) -> None:
    """Read ``paths`` (files, or every file of a folder) once, so that a run starts with its
    input in the page cache: this machine's cache gives back pages unused for half a minute,
    so some runs would otherwise read part of their input from disk and some not."""
    for path in paths:
        for file in sorted(path.iterdir()) if path.is_dir() else [path]:
            with open(file, "rb", buffering=0) as fh:
                while fh.read(WARM_CHUNK):
                    pass


def measure(cmd: list[str], env: dict[str, str], log: Path, timeout: float, rss_limit: int) -> Run:
    """Run ``cmd`` and measure its whole process tree (see the module docstring)."""
    me = os.getpid()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = largest = nprocs = 0
    error = ""
    busy0 = _busy_cpu_s()
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=ROOT
        )
        rc: int | None = None
        wall = busy = 0.0
        while True:
            try:
                pid, status, _ = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break  # the whole tree is gone and reaped
            if pid == proc.pid:
                rc = os.waitstatus_to_exitcode(status)
                wall = time.perf_counter() - t0
                busy = _busy_cpu_s() - busy0
                proc.returncode = rc
            if pid:
                continue
            total, big, n = _tree_rss(me)
            peak, largest, nprocs = max(peak, total), max(largest, big), max(nprocs, n)
            elapsed = time.perf_counter() - t0
            if rc is None and (elapsed > timeout or total > rss_limit):
                error = (
                    f"killed after {elapsed:.0f} s (timeout {timeout:.0f} s)"
                    if elapsed > timeout
                    else f"killed at {total / MIB:,.0f} MB RSS (limit {rss_limit / MIB:,.0f})"
                )
                _kill_tree(proc.pid)
            elif rc is not None and elapsed - wall > 30:
                _kill_tree(None)  # leftovers of a finished tool
            time.sleep(POLL_S)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = log.read_text(errors="replace")
    notes: dict = {}
    for line in reversed(text.splitlines()):
        if line.startswith("{") and line.endswith("}"):
            try:
                notes = json.loads(line)
            except json.JSONDecodeError:
                continue
            break
    if rc not in (0, None) and not error:
        tail = [ln for ln in text.splitlines() if ln.strip()][-1:] or [""]
        error = f"exit {rc}: {tail[0][:200]}"
    return Run(
        round(wall, 3),
        round(cpu, 3),
        round(peak / MIB, 1),
        round(largest / MIB, 1),
        nprocs,
        rc if rc is not None else -1,
        round(max(0.0, busy - cpu) / wall, 2) if wall and busy else 0.0,
        error,
        notes,
    )


def _kill_tree(pgid: int | None) -> None:
    """Kill the process group we started, or every remaining descendant of ours."""
    import psutil

    if pgid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    for p in psutil.Process(os.getpid()).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            p.kill()


# --------------------------------------------------------------------------- environment


def peers_python(venv: Path, install: bool) -> tuple[Path | None, str]:
    """The peers' interpreter, made (with ``PEER_PACKAGES``) when missing."""
    py = venv / "bin" / "python"
    if py.exists():
        return py, ""
    if not install:
        return None, f"no peers environment at {venv.relative_to(ROOT)} (--no-install)"
    print(f"making {venv.relative_to(ROOT)} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(py), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=False)
    if subprocess.run(pip + PEER_PACKAGES, check=False).returncode != 0:
        failed = [p for p in PEER_PACKAGES if subprocess.run(pip + [p]).returncode != 0]
        return py, f"could not install: {', '.join(failed)}" if failed else ""
    return py, ""


def versions(py: Path | None) -> dict[str, str]:
    """Installed versions of the peers and of the project."""
    out: dict[str, str] = {}
    if py is not None:
        code = (
            "import importlib.metadata as m, json\n"
            f"names = {PEER_DISTS!r}\n"
            "v = {}\n"
            "for n in names:\n"
            "    try: v[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: v[n] = 'missing'\n"
            "print(json.dumps(v))"
        )
        res = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
        if res.returncode == 0:
            out.update(json.loads(res.stdout))
    try:
        import importlib.metadata as md

        out["dedup"] = md.version("dedup")
    except Exception:  # noqa: BLE001 - the project may be run from a source tree
        out["dedup"] = "unknown"
    return out


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 1024**3, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


# --------------------------------------------------------------------------- corpora


@dataclass
class Corpus:
    """A benchmark corpus: its file, datatrove shards and planted pairs (if any)."""

    name: str
    path: Path
    n_docs: int
    bytes: int
    made: str
    planted: list[list] = field(default_factory=list)

    def shards(self, cache: Path, k: int = 2) -> Path:
        """The corpus cut into ``k`` contiguous JSONL shards (for datatrove), cached."""
        folder = cache / f"{self.path.stem}.shards"
        done = folder / ".done"
        stamp = f"{self.path.stat().st_size} {self.path.stat().st_mtime_ns}"
        if done.exists() and done.read_text() == stamp:
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        per = -(-self.n_docs // k)
        with open(self.path, "rb") as src:
            for s in range(k):
                with open(folder / f"{s:05d}.jsonl", "wb") as dst:
                    for _ in range(per):
                        line = src.readline()
                        if not line:
                            break
                        dst.write(line)
        done.write_text(stamp)
        return folder


def load_corpus(name: str, cache: Path) -> Corpus | None:
    """``reuters`` or a size such as ``20k`` (made when missing)."""
    if name == "reuters":
        if not REUTERS.exists():
            print(f"skipping reuters: {REUTERS} not found", file=sys.stderr)
            return None
        with open(REUTERS, "rb") as fh:
            n = sum(1 for _ in fh)
        return Corpus(
            "reuters",
            REUTERS,
            n,
            REUTERS.stat().st_size,
            "Reuters-21578 (../shared/data/raw_news), as it is",
        )
    n = parse_size(name)
    path = ensure_corpora([n], cache)[n]
    meta = json.loads(path.with_suffix(".meta.json").read_text())
    return Corpus(
        size_name(n),
        path,
        n,
        meta["bytes"],
        "machine docs and man pages, planted edited copies (make_speed_corpus.py)",
        meta["planted"],
    )


# --------------------------------------------------------------------------- labels


def read_labels(tool: Tool, out: Path, corpus: Corpus) -> np.ndarray | None:
    """Keeper index per document, from an adapter's labels.bin or dedup's clusters JSONL."""
    if tool.env == "peers":
        f = out / "labels.bin"
        return np.fromfile(f, dtype=np.int64) if f.exists() else None
    f = out / "clusters.jsonl"
    if not f.exists():
        return None
    index: dict[str, int] = {}
    keeper: list[str] = []
    with open(f, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            rec = json.loads(line)
            index[str(rec["id"])] = i
            keeper.append(str(rec["cluster"]))
    return np.array([index[k] for k in keeper], dtype=np.int64)


def quality(labels: np.ndarray, corpus: Corpus, ids: list[str] | None) -> dict[str, object]:
    """Documents dropped, and agreement with the planted copies (by exact Jaccard)."""
    n = len(labels)
    q: dict[str, object] = {
        "docs": int(n),
        "dropped": int(np.sum(labels != np.arange(n))),
    }
    if corpus.planted and ids is not None:
        pos = {d: i for i, d in enumerate(ids)}
        hi = [labels[pos[a]] == labels[pos[b]] for a, b, j in corpus.planted if j >= THRESHOLD]
        lo = [labels[pos[a]] == labels[pos[b]] for a, b, j in corpus.planted if j < THRESHOLD]
        q["planted_recall_ge_0.8"] = round(float(np.mean(hi)), 3) if hi else None
        q["planted_merged_lt_0.8"] = round(float(np.mean(lo)), 3) if lo else None
    return q


def corpus_ids(corpus: Corpus) -> list[str]:
    with open(corpus.path, encoding="utf-8") as fh:
        return [json.loads(line)["id"] for line in fh]


# --------------------------------------------------------------------------- running


def command(tool: Tool, corpus: Corpus, out: Path, py: Path | None, cache: Path) -> list[str]:
    """The command line of one run."""
    if tool.env == "project":
        exe = Path(sys.executable).with_name("dedup")
        base = [str(exe)] if exe.exists() else [sys.executable, "-m", "dedup.cli"]
        cmd = base + [
            "clusters",
            str(corpus.path),
            "-o",
            str(out / "clusters.jsonl"),
            "--force",
            *tool.args,
        ]
        if tool.workers:
            cmd += ["--workers", str(tool.workers)]
        return cmd
    assert py is not None, "peers environment missing"
    cmd = [
        str(py),
        str(PEERS / tool.args[0]),
        str(corpus.path),
        str(out),
        *tool.args[1:],
        "--threshold",
        str(THRESHOLD),
        "--num-perm",
        str(NUM_PERM),
        "--workers",
        str(tool.workers),
    ]
    if tool.key == "datatrove":
        cmd += ["--shards", str(corpus.shards(cache, k=2))]
    return cmd


def byte_compile() -> None:
    """Byte-compile the ``dedup`` package the timed runs import, as ``pip install`` does: from
    a source checkout (an editable install) with ``PYTHONDONTWRITEBYTECODE`` set, every run
    would compile its modules again (~0.1 s), which no installed tool pays."""
    spec = importlib.util.find_spec("dedup")
    if spec is not None and spec.origin is not None:
        folder = str(Path(spec.origin).parent)
        subprocess.run([sys.executable, "-m", "compileall", "-q", folder], check=True)


def run_corpus(
    corpus: Corpus,
    tools: list[Tool],
    args: argparse.Namespace,
    py: Path | None,
    peer_error: str,
) -> dict:
    """Measure every tool on one corpus; return the corpus's result record."""
    repeats = args.repeats or (3 if corpus.n_docs <= 100_000 else 1)
    runs: dict[str, list[Run]] = {t.key: [] for t in tools}
    skipped: dict[str, str] = {}
    quality_of: dict[str, dict] = {}
    ids = corpus_ids(corpus) if corpus.planted else None
    env = dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        TQDM_DISABLE="1",
        HF_DATASETS_OFFLINE="1",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    for t in tools:
        if t.max_docs is not None and corpus.n_docs > t.max_docs and not args.no_limits:
            skipped[t.key] = f"skipped above {t.max_docs:,} documents (too slow; --no-limits)"
        elif t.env == "peers" and (py is None or peer_error):
            skipped[t.key] = peer_error or "no peers environment"
    load = os.getloadavg()[0]
    # What the runs read: warmed before each one (see warm()).
    inputs = {str(corpus.path)}
    if "datatrove" in {t.key for t in tools} and "datatrove" not in skipped:
        inputs.add(str(corpus.shards(args.cache, k=2)))
    for rep in range(repeats):
        for t in tools:
            if t.key in skipped:
                continue
            done = runs[t.key]
            if rep > 0 and (not done or done[0].error or done[0].wall_s > args.single_run_above):
                continue
            scratch = Path(tempfile.mkdtemp(prefix=f"{t.key}-", dir=args.cache))
            try:
                cmd = command(t, corpus, scratch, py, args.cache)
                warm([Path(a) for a in cmd if a in inputs])
                r = measure(
                    cmd,
                    env,
                    scratch.parent / f"{t.key}.log",
                    args.timeout,
                    int(args.rss_limit_gb * 1024**3),
                )
                if rep == 0 and not r.error:
                    labels = read_labels(t, scratch, corpus)
                    if labels is not None and t.clusters:
                        quality_of[t.key] = quality(labels, corpus, ids)
                    elif labels is None:
                        r.error = "no output"
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            done.append(r)
            status = r.error or (
                f"{r.wall_s:.1f} s, {r.cpu_s:.1f} CPU s, {r.peak_rss_mb:,.0f} MB, "
                f"other load {r.other_cores:.2f} cores"
            )
            print(f"[{corpus.name} {rep + 1}/{repeats}] {t.key}: {status}", file=sys.stderr)
    rows = {}
    for t in tools:
        if t.key in skipped:
            rows[t.key] = {"skipped": skipped[t.key]}
            continue
        good = [r for r in runs[t.key] if not r.error]
        if not good:
            err = runs[t.key][0].error if runs[t.key] else "not run"
            rows[t.key] = {"error": err}
            continue
        med = {
            k: statistics.median(getattr(r, k) for r in good)
            for k in ("wall_s", "cpu_s", "peak_rss_mb", "max_proc_rss_mb", "other_cores")
        }
        rows[t.key] = {
            **{k: round(v, 3) for k, v in med.items()},
            "docs_per_s": round(corpus.n_docs / med["wall_s"], 1),
            "runs": len(good),
            "walls": [r.wall_s for r in good],
            "processes": max(r.processes for r in good),
            "notes": good[0].notes,
            **({"quality": quality_of[t.key]} if t.key in quality_of else {}),
        }
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    for row in rows.values():
        row["date"] = date
    add_ratios(rows)
    shingles = rows.get("floor-shingle", {}).get("notes", {}).get("shingles")
    return {
        "corpus": corpus.name,
        "n_docs": corpus.n_docs,
        "bytes": corpus.bytes,
        "word_5grams": shingles,
        "made": corpus.made,
        "planted_pairs": len(corpus.planted),
        "planted_ge_0.8": sum(1 for p in corpus.planted if p[2] >= THRESHOLD),
        "repeats": repeats,
        "load_avg_1min_at_start": round(load, 2),
        "date": date,
        "tools": rows,
    }


def add_ratios(rows: dict[str, dict]) -> None:
    """Throughput ratios to the reference tools, from the same run where there is one.

    A row whose run did not include a reference gets the ratio to the stored reference of an
    earlier run, flagged with ``ratio_refs_from``.
    """
    for ref in REFS:
        ref_row = rows.get(ref, {})
        if "wall_s" not in ref_row:
            continue
        for row in rows.values():
            if "wall_s" not in row or (f"x_{ref}" in row and row.get("date") != ref_row["date"]):
                continue
            row[f"x_{ref}"] = round(ref_row["wall_s"] / row["wall_s"], 2)
            if row.get("date") != ref_row.get("date"):
                row["ratio_refs_from"] = ref_row.get("date")
            else:
                row.pop("ratio_refs_from", None)


def same_corpus(res: dict, earlier: dict) -> bool:
    """True when an earlier run timed the same corpus file (the made corpora depend on the
    text found on the machine, so another machine may make other ones under the same name)."""
    keys = ("n_docs", "bytes", "planted_pairs")
    return all(res.get(k) == earlier.get(k) for k in keys)


def merge_earlier(res: dict, earlier: dict) -> None:
    """Keep the rows of tools this run left out; ratios of new rows may use earlier refs.
    Rows of another build of the corpus are dropped, not kept beside this run's."""
    if not same_corpus(res, earlier):
        print(
            f"{res['corpus']}: the earlier results timed another build of this corpus "
            f"({earlier.get('bytes')} bytes, now {res.get('bytes')}); their rows are dropped",
            file=sys.stderr,
        )
        return
    rows = {**{k: v for k, v in earlier["tools"].items() if k not in res["tools"]}}
    rows.update(res["tools"])
    res["tools"] = {t.key: rows[t.key] for t in TOOLS if t.key in rows}
    if any(v.get("date") != res["date"] for v in res["tools"].values()):
        res["mixed_runs"] = True
    add_ratios(res["tools"])


# --------------------------------------------------------------------------- reporting


def _fmt(v: object, spec: str = ",.1f") -> str:
    return "" if v is None else format(v, spec) if isinstance(v, (int, float)) else str(v)


def targets(results: dict[str, dict]) -> list[str]:
    """The issue's targets, checked against the recorded runs."""
    lines = []
    for name, res in results.items():
        rows = res["tools"]
        for label, one, two in (
            ("Jaccard only (the peers' criterion)", "dedup-w1-jaccard", "dedup-w2-jaccard"),
            ("containment rule on", "dedup-w1", "dedup-w2"),
        ):
            w1, w2 = rows.get(one, {}), rows.get(two, {})
            bits = []
            if "x_rensa" in w1:
                bits.append(f"1 worker vs rensa {w1['x_rensa']:.2f}x (target >= 2)")
            if "x_datasketch-batch" in w1:
                bits.append(
                    f"vs datasketch update_batch {w1['x_datasketch-batch']:.2f}x (target >= 10)"
                )
            if "wall_s" in w1 and "wall_s" in w2:
                bits.append(f"2 workers vs 1 {w1['wall_s'] / w2['wall_s']:.2f}x (target >= 1.7)")
            if bits:
                lines.append(f"- **{name}**, {label}: " + "; ".join(bits))
    key = "dedup-w1-jaccard"
    big = results.get("1m", {}).get("tools", {}).get(key, {})
    mid = results.get("100k", {}).get("tools", {}).get(key, {})
    if "peak_rss_mb" in big:
        lines.append(
            f"- peak RSS at 1m, 1 worker: {big['peak_rss_mb']:,.0f} MB (target <= 2,048 MB)"
        )
        if "peak_rss_mb" in mid:
            per_doc = (big["peak_rss_mb"] - mid["peak_rss_mb"]) * MIB / 900_000
            lines.append(
                f"- RSS growth 100k -> 1m: {per_doc:,.0f} bytes per document, "
                f"{per_doc - NUM_PERM * 4:,.0f} beyond the 512-byte signature "
                "(target <= 600)"
            )
    return lines


def write_md(data: dict, path: Path) -> None:
    """``speed.md``: how it was run, one table per corpus, the targets."""
    results = data["results"]
    v = data["versions"]
    m = data["machine"]
    out = [
        "# Speed and memory: `dedup clusters` beside its peers",
        "",
        f"Written by `python benchmarks/speed.py` (last run {data['date']}). Machine: "
        f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}. "
        "Versions: " + ", ".join(f"{k} {val}" for k, val in sorted(v.items())) + ".",
        "",
        "## How it is measured",
        "",
        "- Every tool runs in its own process on the same JSONL file: lower-cased word 5-grams "
        "(where the tool lets us choose), 128 permutations, Jaccard threshold 0.8. One process "
        "unless the workers column says otherwise. Before each run its input is read once, "
        "untimed, so every run starts with it in the page cache (this machine gives back "
        "cached pages unused for ~30 s, so runs read a varying part of it from disk otherwise).",
        "- **wall s**: start of the process to its exit, interpreter start-up and imports "
        "included (the tool as a user runs it; `dedup`'s compiled loops are a C library built "
        "when it is installed). **CPU s**: user + system time of the whole "
        "process tree. **peak RSS MB**: the largest sum of the RSS of the process and all its "
        "descendants, polled every 50 ms (forked workers' shared pages count once per "
        "process). Median of the runs column; ratios are throughput ratios to "
        "datasketch `update_batch` and to rensa **from the same run** (higher is faster).",
        "- **dropped**: documents not kept (cluster members other than the keeper). "
        "**recall J>=0.8**: share of the planted edited copies with exact 5-gram Jaccard >= 0.8 "
        "to their original that land in their original's cluster; **merged J<0.8**: share of "
        "the planted copies below 0.8 that are merged anyway (LSH without verification, or "
        "`dedup`'s containment rule). Tools without verification are marked in the notes.",
        "- Other work may run on the same 2-core machine. **other load**: cores used by "
        "processes outside the measured tree while it ran (machine busy time from `/proc/stat` "
        "less the tree's CPU time, over the wall time; the harness's own polling is ~0.005). "
        "Above ~0.3 the wall times of that row are inflated; compare tools within one table.",
        "",
        "## Corpora",
        "",
        "- **10k, 20k, 100k, 1m**: made by `benchmarks/make_speed_corpus.py` (seed 1) from real "
        "text on the machine: `/usr/share/doc` (plain text, `.gz` changelogs and copyright "
        "files, HTML without tags) and the English manual pages (`/usr/share/man/man1..8`, "
        "roff stripped), cut into paragraphs, each distinct paragraph of 8+ words kept once. "
        "A document is a few runs of consecutive paragraphs from random places, ~3.5 KB on "
        "average (log-normal lengths); 5 % of documents are lightly edited copies of an "
        "earlier one (words substituted, deleted or doubled at a rate up to 3 %, sometimes a "
        "header or footer paragraph added or the last paragraph dropped), with their exact "
        "Jaccard recorded. Smaller corpora are prefixes of larger ones. The pool holds "
        "~160 M characters (on the machine of the recorded runs), so at 1m each paragraph "
        "recurs in ~20 documents (as quotes do).",
        "- **reuters**: Reuters-21578 as converted in `../shared/data/raw_news` (21,578 "
        "newswire stories, short; natural re-sends and corrections, no planted pairs).",
        "",
    ]
    order = sorted(results.values(), key=lambda r: (r["corpus"] == "reuters", r["n_docs"]))
    for res in order:
        grams = res.get("word_5grams")
        out += [
            f"## {res['corpus']}: {res['n_docs']:,} documents, {res['bytes'] / 1e6:,.0f} MB"
            + (f", {grams / 1e6:,.1f} M word 5-grams" if grams else ""),
            "",
            f"Run {res['date']}"
            + (
                " (some rows from earlier runs, dated in their notes)"
                if res.get("mixed_runs")
                else ""
            )
            + f", median of {res['repeats']} (load average "
            f"{res['load_avg_1min_at_start']} at start). "
            + (
                f"Planted copies: {res['planted_pairs']:,}, of which "
                f"{res['planted_ge_0.8']:,} at Jaccard >= 0.8."
                if res["planted_pairs"]
                else ""
            ),
            "",
            "| tool | workers | wall s | CPU s | peak RSS MB | docs/s | x ds update_batch "
            "| x rensa | runs | other load | dropped | recall J>=0.8 | merged J<0.8 | notes |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for key, row in res["tools"].items():
            tool = TOOL_BY_KEY.get(key)
            label = tool.label if tool else key
            workers = (tool.workers or "all") if tool else ""
            if "wall_s" not in row:
                why = row.get("skipped") or row.get("error", "")
                out.append(f"| {label} | {workers} | | | | | | | | | | | | {why} |")
                continue
            q = row.get("quality", {})
            dagger = " †" if row.get("ratio_refs_from") else ""
            note = tool.note if tool else ""
            if row.get("date") and row["date"] != res["date"]:
                note = f"(run {row['date']}) {note}"
            out.append(
                f"| {label} | {workers} | {row['wall_s']:,.1f} | {row['cpu_s']:,.1f} "
                f"| {row['peak_rss_mb']:,.0f} | {row['docs_per_s']:,.0f} "
                f"| {_fmt(row.get('x_datasketch-batch'), '.2f')}{dagger} "
                f"| {_fmt(row.get('x_rensa'), '.2f')}{dagger} | {row['runs']} "
                f"| {_fmt(row.get('other_cores'), '.2f')} "
                f"| {_fmt(q.get('dropped'), ',')} | {_fmt(q.get('planted_recall_ge_0.8'), '.3f')} "
                f"| {_fmt(q.get('planted_merged_lt_0.8'), '.3f')} | {note} |"
            )
        if any(r.get("ratio_refs_from") for r in res["tools"].values()):
            out += ["", "† ratio to the reference tools of an earlier run (not run this time)."]
        out.append("")
    tl = targets(results)
    if tl:
        out += ["## Targets (issue: speed and memory at corpus scale)", "", *tl, ""]
    out += [
        "## Tools and settings",
        "",
        "- Adapters: `benchmarks/peers/*.py` (one per tool, run with the peers' environment "
        "`benchmarks/.venv-peers`). datasketch, rensa and numpy: each document is queried "
        "against the LSH index, then inserted; candidate pairs are verified exactly on their "
        "shingle sets (a second pass over the file for the documents in a pair), then "
        "union-find. LSH bands x rows: datasketch's optimum for 0.8 / 128 (9 x 13) where the "
        "tool allows it; rensa needs a divisor of 128 (8 x 16).",
        "- text-dedup (`python -m text_dedup.minhash` in-process, `--num_proc 2 --hash_func "
        "xxh3`, its `\\W`-split tokens, Hugging Face `datasets` loading the JSONL into a fresh "
        "cache each run) and datatrove (signatures -> buckets -> cluster -> filter with "
        "`LocalPipelineExecutor`, 2 workers, the corpus pre-split into 2 shard files outside "
        "the timing, its `simplify_text` + spaCy tokens, 64-bit hashes) run as shipped: both "
        "merge LSH matches without exact verification.",
        "- `dedup clusters FILE -o OUT --threshold 0.8 --workers N`, and `dedup clusters FILE "
        "-o OUT` at its defaults (threshold 0.2, containment 0.7, all cores). Its "
        "containment rule stays on at 0.8 too, so it may merge more than the peers.",
        "- Per-run limits: a timeout and an RSS ceiling (the run is killed and the reason "
        "recorded); datasketch `update` per shingle and datatrove are skipped above 100k "
        "documents (they would take over an hour at 1m).",
        "",
    ]
    path.write_text("\n".join(out), encoding="utf-8")


def write_png(results: dict[str, dict], path: Path) -> bool:
    """Time and peak RSS against corpus size (log-log), one line per tool."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no speed.png", file=sys.stderr)
        return False
    sized = sorted(
        (r for r in results.values() if r["corpus"] != "reuters"), key=lambda r: r["n_docs"]
    )
    if not sized:
        return False
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(13, 7))
    colors = plt.cm.tab10.colors
    markers = "os^vDP*Xph"
    for i, t in enumerate(TOOLS):
        pts = [
            (r["n_docs"], r["tools"][t.key]) for r in sized if "wall_s" in r["tools"].get(t.key, {})
        ]
        if not pts:
            continue
        xs = [p[0] for p in pts]
        style = dict(
            marker=markers[i % len(markers)],
            lw=2.8 if t.env == "project" else 1.3,
            ls=":" if not t.clusters else ("-" if t.env == "project" else "--"),
            color="black" if t.env == "project" else colors[i % len(colors)],
            alpha=1.0 if t.env == "project" else 0.85,
        )
        if t.env == "project":
            project = [x.key for x in TOOLS if x.env == "project"]
            style["color"] = str(0.6 * project.index(t.key) / max(1, len(project) - 1))
        name = f"{t.label} ({t.workers or 'all'} workers)" if t.workers != 1 else t.label
        ax_t.plot(xs, [p[1]["wall_s"] for p in pts], label=name, **style)
        ax_m.plot(xs, [p[1]["peak_rss_mb"] for p in pts], label=name, **style)
    plain = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")
    for ax, title, unit in (
        (ax_t, "wall time", "seconds"),
        (ax_m, "peak RSS (process tree)", "MB"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks([r["n_docs"] for r in sized])
        ax.xaxis.set_major_formatter(plain)
        ax.yaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("documents (~3.5 KB each)")
        ax.set_ylabel(unit)
        ax.set_title(f"{title} vs corpus size")
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = ax_t.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("dedup clusters and peers: threshold 0.8, 128 permutations, word 5-grams")
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- main


def select(only: str | None, skip: str | None) -> list[Tool]:
    """Tools named by ``--only`` (keys or prefixes such as ``dedup``), less ``--skip``."""

    def match(spec: str | None) -> Callable[[Tool], bool]:
        names = [s.strip() for s in (spec or "").split(",") if s.strip()]
        return lambda t: any(t.key == n or t.key.startswith(n + "-") for n in names)

    keep = match(only) if only else (lambda t: True)
    drop = match(skip)
    tools = [t for t in TOOLS if keep(t) and not drop(t)]
    if not tools:
        raise SystemExit(
            f"no tool matches --only {only!r}; tools: " + ", ".join(t.key for t in TOOLS)
        )
    return tools


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes",
        default="reuters,10k,20k,100k",
        help="corpora: reuters and/or sizes such as 10k,100k,1m",
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=0,
        help="runs per tool, median reported (default 3 up to 100k docs, else 1)",
    )
    ap.add_argument("--only", help="comma-separated tools (keys or prefixes: dedup,rensa)")
    ap.add_argument("--skip", help="comma-separated tools to leave out")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    ap.add_argument("--rss-limit-gb", type=float, default=12, help="kill a run above this RSS")
    ap.add_argument(
        "--single-run-above",
        type=float,
        default=300,
        help="run a tool once when its first run takes longer (seconds)",
    )
    ap.add_argument(
        "--no-limits",
        action="store_true",
        help="also run the tools that are skipped at large sizes",
    )
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="corpora and scratch")
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="the peers' environment")
    ap.add_argument("--no-install", action="store_true", help="do not make the peers' venv")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder")
    ap.add_argument("--fresh", action="store_true", help="drop results of earlier runs")
    args = ap.parse_args(argv)

    tools = select(args.only, args.skip)
    if not _become_subreaper():
        print("warning: not a subreaper; CPU of orphaned workers may be missed", file=sys.stderr)
    py, peer_error = (None, "")
    if any(t.env == "peers" for t in tools):
        py, peer_error = peers_python(args.venv, not args.no_install)
    args.cache.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / "speed.json"
    data = json.loads(json_path.read_text()) if json_path.exists() and not args.fresh else {}
    results: dict[str, dict] = data.get("results", {})
    if any(t.env == "project" for t in tools):
        byte_compile()
    for name in (s.strip().lower() for s in args.sizes.split(",") if s.strip()):
        corpus = load_corpus(name, args.cache)
        if corpus is None:
            continue
        res = run_corpus(corpus, tools, args, py, peer_error)
        if corpus.name in results and not args.fresh:
            merge_earlier(res, results[corpus.name])
        results[corpus.name] = res
        data = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "versions": versions(py),
            "settings": {"threshold": THRESHOLD, "num_perm": NUM_PERM, "ngram": 5},
            "results": results,
        }
        json_path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        write_md(data, args.out / "speed.md")
        write_png(results, args.out / "speed.png")
    print(f"wrote {json_path}, speed.md, speed.png", file=sys.stderr)
    for line in targets(results):
        print(line)


if __name__ == "__main__":
    main()
