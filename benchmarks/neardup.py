"""Near-duplicate benchmark: accuracy on Wikipedia versions, precision on news and scraped pages,
and speed against datasketch, all in one run.

Usage: python benchmarks/neardup.py [--data ../shared/data] [--out benchmarks/results]

Sections (each skipped with a note when its data is missing):
1. ``neardup/dev.jsonl``: pairwise P/R/F1 and ARI of ``dedup`` at its defaults, beside
   datasketch MinHashLSH (num_perm 128, the same word 5-gram shingles, connected components of
   LSH candidates, as in that folder's README) and exact 5-gram Jaccard with connected components.
2. Cluster-grouped cross-validation of the threshold: tuned on 4/5 of the clusters, scored on
   the rest, so the default can be compared with what tuning would pick on unseen articles.
3. ``boilerplate/dev.jsonl`` (whole scraped pages, site field given): pages dropped with a
   keeper whose gold main text has 5-gram Jaccard < 0.5, i.e. different articles.
4. ``benchmarks/news_pairs`` (seeded edits of Reuters stories plus hard negatives): P/R.
5. The two seed documents are not clustered together.
6. Speed: documents per second of ``NearDuplicates`` against datasketch ``update_batch`` +
   ``MinHashLSH`` on the same documents, as a ratio from the same run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import pair_confusion_matrix

from dedup import NearDuplicates
from dedup.sketch.cluster import components

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
_WORD = re.compile(r"\w+")


def _confusion(gold: list[str], pred) -> np.ndarray:
    g = np.unique(gold, return_inverse=True)[1]
    p = np.unique([str(x) for x in pred], return_inverse=True)[1]
    return pair_confusion_matrix(g, p)


def _scores(c: np.ndarray) -> dict[str, float]:
    tp, fp, fn = c[1, 1], c[0, 1], c[1, 0]
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"P": float(prec), "R": float(rec), "F1": float(f1)}


def pairwise(gold: list[str], pred) -> dict[str, float]:
    """Pairwise precision/recall/F1 over same-cluster pairs, and ARI."""
    g = np.unique(gold, return_inverse=True)[1]
    p = np.unique([str(x) for x in pred], return_inverse=True)[1]
    return {**_scores(_confusion(gold, pred)), "ARI": adjusted_rand_score(g, p)}


def pairwise_touching(gold: list[str], pred, mask: np.ndarray) -> dict[str, float]:
    """Pairwise scores over the pairs with at least one document where ``mask`` is True."""
    rest = ~mask
    inside = _confusion([g for g, m in zip(gold, rest, strict=True) if m], np.asarray(pred)[rest])
    return _scores(_confusion(gold, pred) - inside)


def shingle_strings(text: str, n: int = 5) -> set[str]:
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def datasketch_clusters(texts: list[str], threshold: float, num_perm: int = 128) -> list[int]:
    """datasketch MinHashLSH candidates, connected components, no verification."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sigs = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=num_perm)
        m.update_batch([s.encode("utf-8") for s in shingle_strings(text)])
        sigs.append(m)
        lsh.insert(i, m)
    pairs = [(i, j) for i, m in enumerate(sigs) for j in lsh.query(m) if j > i]
    return components(len(texts), np.array(pairs, dtype=np.int64).reshape(-1, 2)).tolist()


def exact_jaccard_clusters(texts: list[str], threshold: float) -> list[int]:
    """Connected components of pairs whose exact 5-gram Jaccard reaches ``threshold``."""
    sets = [shingle_strings(t) for t in texts]
    index: dict[str, list[int]] = {}
    for i, s in enumerate(sets):
        for sh in s:
            index.setdefault(sh, []).append(i)
    inter: dict[tuple[int, int], int] = {}
    for docs in index.values():
        for a in range(len(docs)):
            for b in range(a + 1, len(docs)):
                key = (docs[a], docs[b])
                inter[key] = inter.get(key, 0) + 1
    pairs = [
        (a, b) for (a, b), c in inter.items() if c / (len(sets[a]) + len(sets[b]) - c) >= threshold
    ]
    return components(len(texts), np.array(pairs, dtype=np.int64).reshape(-1, 2)).tolist()


def section_wikipedia(data: Path, report: list[str], results: dict) -> None:
    path = data / "neardup" / "dev.jsonl"
    if not path.exists():
        report.append(f"(skipped: {path.name} of neardup not found)\n")
        return
    docs = load(path)
    gold = [d["cluster"] for d in docs]
    texts = [d["text"] for d in docs]
    rows = []
    nd = NearDuplicates().fit(docs)
    rows.append(("dedup, defaults", pairwise(gold, nd.keepers_)))
    for t in (0.5, 0.3):
        rows.append(
            (f"datasketch MinHashLSH, threshold {t}", pairwise(gold, datasketch_clusters(texts, t)))
        )
    for t in (0.3, 0.2):
        rows.append(
            (
                f"exact 5-gram Jaccard >= {t}, components",
                pairwise(gold, exact_jaccard_clusters(texts, t)),
            )
        )
    report.append("## Wikipedia versions (neardup/dev.jsonl, 1,251 documents, 221 clusters)\n")
    report.append("| system | P | R | F1 | ARI |\n|---|---:|---:|---:|---:|")
    for name, s in rows:
        report.append(f"| {name} | {s['P']:.4f} | {s['R']:.4f} | {s['F1']:.4f} | {s['ARI']:.4f} |")
    report.append("")
    results["wikipedia"] = {name: s for name, s in rows}

    # Cluster-grouped cross-validation of the Jaccard threshold (containment kept at default).
    grid = [0.15, 0.2, 0.25, 0.3, 0.4]
    clusters = sorted(set(gold))
    rng = np.random.default_rng(0)
    fold_of = dict(zip(clusters, rng.permutation(len(clusters)) % 5, strict=True))
    fits = {t: NearDuplicates(threshold=t).fit(docs).keepers_ for t in grid}
    report.append("### Threshold chosen by 5-fold cluster-grouped cross-validation\n")
    report.append(
        "Each fold picks the threshold with the best F1 at P >= 0.99 on the pairs among the "
        "other folds' clusters and is scored on every pair that touches a document of its own "
        "clusters (so a false merge with another fold's article counts against it).\n"
    )
    report.append("| fold | picked | test P | test R | test F1 | default test F1 |")
    report.append("|---:|---:|---:|---:|---:|---:|")
    cv = []
    for k in range(5):
        test = np.array([fold_of[c] == k for c in gold])

        def train(t: float, test: np.ndarray = test) -> dict[str, float]:
            keep = ~test
            return pairwise([g for g, m in zip(gold, keep, strict=True) if m], fits[t][keep])

        ok = [t for t in grid if train(t)["P"] >= 0.99] or grid
        best = max(ok, key=lambda t: train(t)["F1"])
        s = pairwise_touching(gold, fits[best], test)
        d = pairwise_touching(gold, fits[NearDuplicates().threshold], test)
        cv.append({"fold": k, "picked": best, **s, "default_F1": d["F1"]})
        report.append(
            f"| {k} | {best} | {s['P']:.4f} | {s['R']:.4f} | {s['F1']:.4f} | {d['F1']:.4f} |"
        )
    report.append("")
    results["wikipedia_cv"] = cv


def section_pages(data: Path, report: list[str], results: dict) -> None:
    path = data / "boilerplate" / "dev.jsonl"
    if not path.exists():
        report.append(f"(skipped: {path.name} of boilerplate not found)\n")
        return
    docs = load(path)
    nd = NearDuplicates().fit(docs)
    gold = [shingle_strings(d["gold"]) for d in docs]
    dropped = bad = 0
    for i, k in enumerate(nd.keepers_):
        if k != i:
            dropped += 1
            j = len(gold[i] & gold[k]) / max(1, len(gold[i] | gold[k]))
            bad += j < 0.5
    share = bad / len(docs)
    report.append("## Scraped pages (boilerplate/dev.jsonl, 2,248 pages, site field given)\n")
    report.append(
        f"Pages dropped: {dropped}; dropped with a keeper whose gold 5-gram Jaccard < 0.5 "
        f"(a different article): **{bad} = {100 * share:.2f} %** of pages (target <= 0.5 %).\n"
    )
    results["pages"] = {"pages": len(docs), "dropped": dropped, "wrong": bad, "wrong_share": share}


def section_news(data: Path, report: list[str], results: dict) -> None:
    folder = ROOT / "benchmarks" / "news_pairs"
    made = folder / "data" / "news_pairs.jsonl"
    source = data / "raw_news" / "reuters21578.jsonl"
    if not made.exists() and source.exists():
        subprocess.run(
            [sys.executable, str(folder / "make_news_pairs.py"), "--data", str(source)],
            check=True,
            capture_output=True,
        )
    if not made.exists():
        report.append("(skipped: news_pairs could not be built: Reuters-21578 not found)\n")
        return
    docs = load(made)
    nd = NearDuplicates().fit(docs)
    gold = [d["group"] for d in docs]
    s = pairwise(gold, nd.keepers_)
    kinds: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        kinds.setdefault(d["kind"], []).append(i)
    base = {d["group"]: i for i, d in enumerate(docs) if d["kind"] in ("base", "original")}
    report.append(f"## News pairs (benchmarks/news_pairs, {len(docs)} documents)\n")
    report.append(f"P {s['P']:.4f} · R {s['R']:.4f} · F1 {s['F1']:.4f} · ARI {s['ARI']:.4f}\n")
    report.append("| kind | documents | found with their original |\n|---|---:|---:|")
    per_kind = {}
    for kind, idx in sorted(kinds.items()):
        found = [
            nd.keepers_[i] == nd.keepers_[base[docs[i]["group"]]]
            for i in idx
            if docs[i]["group"] in base and base[docs[i]["group"]] != i
        ]
        rate = float(np.mean(found)) if found else float("nan")
        per_kind[kind] = rate
        report.append(f"| {kind} | {len(idx)} | {rate:.3f} |")
    report.append("")
    results["news_pairs"] = {**s, "recall_by_kind": per_kind}


def section_sweep(data: Path, report: list[str], results: dict) -> None:
    """The threshold against all three accuracy sets at once: why the default is 0.2."""
    sets = {
        "wiki": data / "neardup" / "dev.jsonl",
        "news": ROOT / "benchmarks" / "news_pairs" / "data" / "news_pairs.jsonl",
        "pages": data / "boilerplate" / "dev.jsonl",
    }
    if not all(p.exists() for p in sets.values()):
        report.append("(threshold sweep skipped: a data set is missing)\n")
        return
    loaded = {k: load(p) for k, p in sets.items()}
    gold_pages = [shingle_strings(d["gold"]) for d in loaded["pages"]]
    report.append("## Threshold sweep (containment and the rest at defaults)\n")
    report.append(
        "| threshold | Wikipedia P | Wikipedia F1 | news P | news R | pages wrongly dropped |"
    )
    report.append("|---:|---:|---:|---:|---:|---:|")
    rows = []
    for t in (0.15, 0.17, 0.2, 0.25, 0.3):
        w = pairwise(
            [d["cluster"] for d in loaded["wiki"]],
            NearDuplicates(threshold=t).fit(loaded["wiki"]).keepers_,
        )
        n = pairwise(
            [d["group"] for d in loaded["news"]],
            NearDuplicates(threshold=t).fit(loaded["news"]).keepers_,
        )
        keep = NearDuplicates(threshold=t).fit(loaded["pages"]).keepers_
        wrong = sum(
            1
            for i, k in enumerate(keep)
            if k != i
            and len(gold_pages[i] & gold_pages[k]) / max(1, len(gold_pages[i] | gold_pages[k]))
            < 0.5
        )
        share = wrong / len(keep)
        rows.append({"threshold": t, "wiki": w, "news": n, "pages_wrong": share})
        report.append(
            f"| {t} | {w['P']:.4f} | {w['F1']:.4f} | {n['P']:.4f} | {n['R']:.4f} "
            f"| {100 * share:.2f} % |"
        )
    report.append(
        "\nWikipedia alone would take 0.15 (see the cross-validation above); there the news "
        "hard negatives (daily templated reports such as U.K. money market operations, and "
        "same-day stories on one event) fall below P 0.99, so the default is the lowest "
        "threshold that keeps every set at its precision target.\n"
    )
    results["sweep"] = rows


def section_seeds(data: Path, report: list[str], results: dict) -> None:
    seeds = sorted((data / "seeds").glob("*.txt"))
    if len(seeds) < 2:
        return
    nd = NearDuplicates().fit([p.read_text(encoding="utf-8") for p in seeds])
    apart = bool(nd.keepers_[0] != nd.keepers_[1])
    report.append(f"## Seeds\n\nSeed documents 000 and 002 clustered apart: **{apart}**.\n")
    results["seeds_apart"] = apart


def section_speed(data: Path, report: list[str], results: dict) -> None:
    path = data / "raw_news" / "reuters21578.jsonl"
    if not path.exists():
        path = data / "neardup" / "dev.jsonl"
    if not path.exists():
        return
    docs = load(path)
    texts = [d["text"] for d in docs]
    t0 = time.perf_counter()
    NearDuplicates(n_jobs=1).fit(texts)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    datasketch_clusters(texts, 0.5)
    theirs = time.perf_counter() - t0
    n = len(texts)
    report.append(f"## Speed ({path.parent.name}/{path.name}, {n} documents, one process)\n")
    report.append("| system | seconds | documents/s |\n|---|---:|---:|")
    report.append(f"| dedup NearDuplicates (fit) | {ours:.2f} | {n / ours:,.0f} |")
    report.append(
        f"| datasketch update_batch + MinHashLSH (5-grams) | {theirs:.2f} | {n / theirs:,.0f} |"
    )
    report.append(f"\nRatio: dedup is **{theirs / ours:.1f}x** datasketch's throughput.\n")
    results["speed"] = {"documents": n, "dedup_s": ours, "datasketch_s": theirs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    report = ["# Near-duplicate benchmark\n", f"Defaults: {NearDuplicates().get_params()}\n"]
    results: dict = {}
    sections = {
        "wikipedia": section_wikipedia,
        "pages": section_pages,
        "news": section_news,
        "sweep": section_sweep,
        "seeds": section_seeds,
        "speed": section_speed,
    }
    for name, fn in sections.items():
        if name not in skip:
            t0 = time.perf_counter()
            fn(args.data, report, results)
            print(f"[{name}] {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "neardup.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    (args.out / "neardup.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
