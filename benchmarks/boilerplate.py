"""Boilerplate benchmark: word-level precision/recall/F1 of the main text kept, beside
keep-everything, jusText and trafilatura on the same text, in one run.

Usage: python benchmarks/boilerplate.py [--data ../shared/data] [--out benchmarks/results]
       [--folds 5] [--limit N] [--no-cache]

Data: ``boilerplate/dev.jsonl`` (2,248 real pages of 1,032 sites, each page's visible text a
block per line, and its gold main text; see that folder's README). Scoring follows that README:
lower-cased ``\\w+`` tokens, multiset overlap per page; **micro** pools the counts of all pages,
**macro** averages per-page P and R (a page with nothing kept has P = 0) and reports their
harmonic mean. Every figure of ``dedup`` comes from **site-grouped cross-validation**: the
classifier that scores a page was trained on the other folds' sites only (site statistics are
computed over all pages, as the step does on a user's corpus: they use no labels).

Systems, all on the page text (the HTML is not used):
- keep everything;
- jusText (English stop list, defaults) and trafilatura (``extract``, defaults, no comments)
  on the text with each line wrapped as ``<p>`` (as the data README did);
- ``dedup`` site boilerplate, cross-validated; and its repetition rule alone (no classifier).
The HTML-based rows of the data README are quoted for reference, not run. Speed: pages per
second of each system on the same pages; for ``dedup``, the shipped step (fit + clean).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "benchmarks" / ".cache" / "boilerplate"
_WORD = re.compile(r"\w+")
BINS = [(1, 1, "1"), (2, 4, "2-4"), (5, 9, "5-9"), (10, 19, "10-19"), (20, 10**9, "20+")]
QUOTED = [  # from the data README: extractors that see the HTML (micro F1 all / >= 5 pages)
    ("jusText on the HTML (quoted, not run)", 0.874, 0.855),
    ("trafilatura on the HTML (quoted, not run)", 0.933, 0.945),
]


def words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def page_counts(pred: str, gold: str) -> tuple[int, int, int]:
    """(true positive, false positive, false negative) words of one page (multisets)."""
    p, g = words(pred), words(gold)
    tp = sum((p & g).values())
    return tp, sum(p.values()) - tp, sum(g.values()) - tp


def scores(counts: Sequence[tuple[int, int, int]]) -> dict[str, float]:
    """Micro P/R/F1 over pooled counts, macro P/R (mean per page) and their F1."""
    tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    ps = [c[0] / (c[0] + c[1]) if c[0] + c[1] else 0.0 for c in counts]
    rs = [c[0] / (c[0] + c[2]) if c[0] + c[2] else 0.0 for c in counts]
    mp = sum(ps) / len(ps) if ps else 0.0
    mr = sum(rs) / len(rs) if rs else 0.0
    return {
        "P": p,
        "R": r,
        "F1": 2 * p * r / (p + r) if p + r else 0.0,
        "macro_P": mp,
        "macro_R": mr,
        "macro_F1": 2 * mp * mr / (mp + mr) if mp + mr else 0.0,
        "pages": len(counts),
    }


def as_paragraphs(text: str) -> str:
    """The page as HTML, every line a ``<p>``."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n"))
    return f"<html><body>{body}</body></html>"


def run_justext(rows: list[dict[str, Any]]) -> list[str]:
    import justext

    stop = justext.get_stoplist("English")
    out = []
    for row in rows:
        paragraphs = justext.justext(as_paragraphs(row["text"]), stop)
        out.append("\n".join(p.text for p in paragraphs if not p.is_boilerplate))
    return out


def run_trafilatura(rows: list[dict[str, Any]]) -> list[str]:
    import trafilatura

    return [
        trafilatura.extract(as_paragraphs(r["text"]), include_comments=False) or "" for r in rows
    ]


def cached(
    name: str, version: str, rows: list[dict[str, Any]], run: Callable, use_cache: bool
) -> tuple[list[str], float | None]:
    """Predictions of a baseline, from the cache when its version and pages match."""
    path = CACHE / f"{name}-{version}.json"
    ids = [r["id"] for r in rows]
    if use_cache and path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["ids"] == ids:
            return data["texts"], data["seconds"]
    start = time.perf_counter()
    texts = run(rows)
    seconds = time.perf_counter() - start
    CACHE.mkdir(parents=True, exist_ok=True)
    payload = {"ids": ids, "texts": texts, "seconds": seconds}
    path.write_text(json.dumps(payload), encoding="utf-8")
    return texts, seconds


def version_of(module: str) -> str:
    from importlib.metadata import version

    try:
        return version(module)
    except Exception:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--limit", type=int, default=0, help="only N pages, evenly spread (a quick run)"
    )
    ap.add_argument("--no-cache", action="store_true", help="rerun the baselines")
    args = ap.parse_args(argv)
    path = args.data / "boilerplate" / "dev.jsonl"
    if not path.exists():
        print(f"{path} not found: nothing to measure", file=sys.stderr)
        return 1
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    if args.limit:  # an evenly spread subset, so that it holds many sites
        rows = rows[:: max(1, len(rows) // args.limit)][: args.limit]

    from dedup.boilerplate.train import cross_val_clean
    from dedup.clean import Cleaner

    systems: dict[str, list[str]] = {"keep everything": [r["text"] for r in rows]}
    speed: dict[str, float | None] = {"keep everything": None}
    use_cache = not args.no_cache
    for name, module, run in [
        ("jusText on the text", "justext", run_justext),
        ("trafilatura on the text", "trafilatura", run_trafilatura),
    ]:
        try:
            systems[name], speed[name] = cached(module, version_of(module), rows, run, use_cache)
        except ImportError as e:
            print(f"{name}: not installed ({e}); pip install '.[bench]'", file=sys.stderr)
    start = time.perf_counter()
    systems["dedup boilerplate (site-grouped CV)"] = cross_val_clean(
        rows, n_splits=args.folds, seed=args.seed
    )
    cv_seconds = time.perf_counter() - start
    start = time.perf_counter()
    systems["dedup repetition rule alone"] = cross_val_clean(rows, repetition_only=True)
    speed["dedup repetition rule alone"] = time.perf_counter() - start
    start = time.perf_counter()
    Cleaner(steps=["boilerplate"]).fit_transform(rows)
    speed["dedup boilerplate (site-grouped CV)"] = time.perf_counter() - start

    site_pages = Counter(r["site"] for r in rows)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups["all pages"].append(i)
        if site_pages[r["site"]] >= 5:
            groups["sites with >= 5 pages"].append(i)
        groups[f"source: {r['source']}"].append(i)
        for lo, hi, label in BINS:
            if lo <= site_pages[r["site"]] <= hi:
                groups[f"pages per site: {label}"].append(i)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, texts in systems.items():
        counts = [page_counts(t, r["gold"]) for t, r in zip(texts, rows, strict=True)]
        results[name] = {g: scores([counts[i] for i in idx]) for g, idx in groups.items()}

    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "pages": len(rows),
        "sites": len(site_pages),
        "folds": args.folds,
        "results": results,
        "seconds": speed,
        "cv_seconds": cv_seconds,
        "quoted": QUOTED,
    }
    (args.out / "boilerplate.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    text = render(report, list(groups))
    (args.out / "boilerplate.md").write_text(text, encoding="utf-8")
    plot(report, args.out / "boilerplate.png")
    print(text)
    return 0


def render(report: dict[str, Any], groups: list[str]) -> str:
    res = report["results"]
    n_big = res["keep everything"]["sites with >= 5 pages"]["pages"]
    lines = [
        "# Boilerplate benchmark",
        "",
        f"`boilerplate/dev.jsonl`: {report['pages']:,} pages of {report['sites']:,} sites "
        f"({n_big:,} pages on sites with 5 pages or more). Word-level scores (lower-cased "
        "`\\w+` tokens, multiset overlap per page): micro pools all pages, macro averages "
        "per-page P and R. `dedup` rows: site-grouped "
        f"{report['folds']}-fold cross-validation (no page is scored by a model trained on "
        "its site). Written by `python benchmarks/boilerplate.py`.",
        "",
        "| system | micro P | micro R | micro F1 | macro F1 | micro F1, sites >= 5 pages |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in res.items():
        a, b = r["all pages"], r["sites with >= 5 pages"]
        lines.append(
            f"| {name} | {a['P']:.3f} | {a['R']:.3f} | {a['F1']:.3f} | {a['macro_F1']:.3f} "
            f"| {b['F1']:.3f} |"
        )
    for name, f_all, f_big in report["quoted"]:
        lines.append(f"| {name} | | | {f_all:.3f} | | {f_big:.3f} |")
    lines += ["", "## Micro F1 (P / R) by group", ""]
    names = list(res)
    lines.append("| group | pages | " + " | ".join(names) + " |")
    lines.append("|---|---:|" + "---:|" * len(names))
    for g in groups:
        if g == "all pages":
            continue
        cells = [
            f"{res[n][g]['F1']:.3f} ({res[n][g]['P']:.2f} / {res[n][g]['R']:.2f})" for n in names
        ]
        lines.append(f"| {g} | {res[names[0]][g]['pages']} | " + " | ".join(cells) + " |")
    lines += ["", "## Speed (one process, same pages)", "", "| system | seconds | pages/s |"]
    lines.append("|---|---:|---:|")
    for name, sec in report["seconds"].items():
        if sec:
            label = "dedup boilerplate, shipped model (fit + clean)" if "CV" in name else name
            lines.append(f"| {label} | {sec:.1f} | {report['pages'] / sec:,.0f} |")
    lines.append(
        f"\nThe cross-validation itself (5 trainings of both passes) took "
        f"{report['cv_seconds']:.0f} s. ![F1 by pages per site](boilerplate.png)"
    )
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    labels = [label for _, _, label in BINS]
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, r in report["results"].items():
        ys = [r.get(f"pages per site: {label}", {}).get("F1", float("nan")) for label in labels]
        ax.plot(labels, ys, marker="o", label=name)
    ax.set_xlabel("pages of the page's site in the set")
    ax.set_ylabel("word-level micro F1")
    ax.set_title("Boilerplate removal by pages per site (dev, site-grouped CV)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    raise SystemExit(main())
