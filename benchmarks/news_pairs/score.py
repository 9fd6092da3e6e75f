"""Score a near-duplicate clustering against the `news_pairs` gold groups.

``pairwise_scores`` compares two clusterings of the same documents: pairwise precision, recall
and F1 over same-cluster document pairs, and the adjusted Rand index. The command line scores a
prediction file (JSON lines ``{"id", "cluster"}``) against ``news_pairs.jsonl`` and adds

- recall per edit kind: the share of (original, edited copy) pairs of that kind that the
  prediction puts in one cluster (``copy_copy``: pairs of two copies of one story);
- false-positive pairs per hard-negative kind: ``templated_brief`` (two earnings tables) and
  ``same_day_topic`` (two unedited stories sharing the ``date`` day and a topic; needs the
  ``manifest.jsonl`` written next to ``news_pairs.jsonl``).

Documents missing from the prediction count as singletons; ids not in the gold are ignored.

    python benchmarks/news_pairs/score.py predictions.jsonl [--gold news_pairs.jsonl] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

from sklearn.metrics import adjusted_rand_score

DEFAULT_GOLD = Path(__file__).resolve().parent / "data" / "news_pairs.jsonl"
UNEDITED = ("original", "templated_brief")


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def pairwise_scores(gold: dict[str, str], pred: dict[str, str]) -> dict[str, Any]:
    """Pairwise precision/recall/F1 over same-cluster pairs and ARI of ``pred`` vs ``gold``.

    Both map document id -> cluster label. Only the ids of ``gold`` are scored; an id that
    ``pred`` lacks is its own singleton cluster. Precision is 1.0 when ``pred`` puts no two
    documents together, recall is 1.0 when ``gold`` has no pairs.
    """
    ids = sorted(gold)
    gold_labels = [str(gold[i]) for i in ids]
    pred_labels = [f"p:{pred[i]}" if i in pred else f"missing:{i}" for i in ids]
    true_pairs = _pairs(Counter(zip(gold_labels, pred_labels, strict=True)).values())
    gold_pairs = _pairs(Counter(gold_labels).values())
    pred_pairs = _pairs(Counter(pred_labels).values())
    precision = true_pairs / pred_pairs if pred_pairs else 1.0
    recall = true_pairs / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ari = float(adjusted_rand_score(gold_labels, pred_labels)) if ids else 1.0
    return {
        "documents": len(ids),
        "gold_pairs": gold_pairs,
        "predicted_pairs": pred_pairs,
        "true_pairs": true_pairs,
        "false_positive_pairs": pred_pairs - true_pairs,
        "false_negative_pairs": gold_pairs - true_pairs,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "ari": ari,
    }


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All JSON objects of a JSON-lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def recall_by_kind(docs: list[dict[str, Any]], pred: dict[str, str]) -> dict[str, dict]:
    """Per edit kind: (original, copy) pairs and how many the prediction keeps together."""
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in docs:
        by_group[d["group"]].append(d)
    totals: Counter[str] = Counter()
    found: Counter[str] = Counter()

    def together(a: str, b: str) -> bool:
        return a in pred and b in pred and pred[a] == pred[b]

    for members in by_group.values():
        originals = [d for d in members if d["kind"] == "original"]
        copies = [d for d in members if d["kind"] not in UNEDITED]
        for o in originals:
            for c in copies:
                totals[c["kind"]] += 1
                found[c["kind"]] += together(o["id"], c["id"])
        for a, b in combinations(copies, 2):
            totals["copy_copy"] += 1
            found["copy_copy"] += together(a["id"], b["id"])
    return {
        k: {"pairs": totals[k], "found": found[k], "recall": found[k] / totals[k]}
        for k in sorted(totals)
    }


def hard_negative_pairs(
    docs: list[dict[str, Any]], manifest: list[dict[str, Any]] | None
) -> dict[str, set[tuple[str, str]]]:
    """Hard-negative id pairs by kind (``same_day_topic`` only when a manifest is given)."""
    templ = sorted(d["id"] for d in docs if d["kind"] == "templated_brief")
    out: dict[str, set[tuple[str, str]]] = {"templated_brief": set(combinations(templ, 2))}
    if manifest is not None:
        buckets: dict[tuple[str, str], list[str]] = defaultdict(list)
        for m in manifest:
            if m["kind"] == "original":
                for topic in set(m["topics"]):
                    buckets[(m["date"].split()[0], topic)].append(m["id"])
        out["same_day_topic"] = {
            pair for ids in buckets.values() for pair in combinations(sorted(ids), 2)
        }
    return out


def score(
    docs: list[dict[str, Any]], pred: dict[str, str], manifest: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """Overall pairwise scores, recall per edit kind, false positives per hard-negative kind."""
    gold = {d["id"]: d["group"] for d in docs}
    result: dict[str, Any] = {"overall": pairwise_scores(gold, pred)}
    result["recall_by_edit_kind"] = recall_by_kind(docs, pred)
    hard = {}
    for kind, pairs in hard_negative_pairs(docs, manifest).items():
        fp = sum(1 for a, b in pairs if a in pred and b in pred and pred[a] == pred[b])
        hard[kind] = {"pairs": len(pairs), "false_positive_pairs": fp}
    result["hard_negatives"] = hard
    result["ignored_prediction_ids"] = sum(1 for i in pred if i not in gold)
    result["missing_prediction_ids"] = sum(1 for i in gold if i not in pred)
    return result


def render(result: dict[str, Any]) -> str:
    """Human-readable report."""
    o = result["overall"]
    lines = [
        f"documents {o['documents']}: gold pairs {o['gold_pairs']}, predicted pairs "
        f"{o['predicted_pairs']}, true pairs {o['true_pairs']}",
        f"pairwise precision {o['precision']:.4f}  recall {o['recall']:.4f}  "
        f"F1 {o['f1']:.4f}  ARI {o['ari']:.4f}",
        "recall by edit kind (original-copy pairs):",
    ]
    for kind, r in result["recall_by_edit_kind"].items():
        lines.append(f"  {kind:<12} {r['found']:>5} / {r['pairs']:<5} {r['recall']:.4f}")
    lines.append("false-positive pairs by hard-negative kind:")
    for kind, h in result["hard_negatives"].items():
        lines.append(f"  {kind:<16} {h['false_positive_pairs']:>5} of {h['pairs']} pairs")
    lines.append(
        f"prediction ids not in gold: {result['ignored_prediction_ids']}; gold ids without "
        f"prediction (singletons): {result['missing_prediction_ids']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("predictions", type=Path, help='JSON lines {"id", "cluster"}')
    p.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="news_pairs.jsonl")
    p.add_argument(
        "--manifest", type=Path, default=None, help="manifest.jsonl (default: next to --gold)"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args(argv)
    for path in (args.predictions, args.gold):
        if not path.is_file():
            print(f"error: file not found: {path}", file=sys.stderr)
            return 2
    docs = read_jsonl(args.gold)
    pred = {str(r["id"]): str(r["cluster"]) for r in read_jsonl(args.predictions)}
    manifest_path = args.manifest or args.gold.parent / "manifest.jsonl"
    manifest = read_jsonl(manifest_path) if manifest_path.is_file() else None
    result = score(docs, pred, manifest)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
