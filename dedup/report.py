"""Run summary of ``dedup clean``: counts for the terminal, JSON for machines, and a
self-contained HTML report (inline CSS and SVG, no network) for people."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dedup.clean import CleanResult

_SAMPLE_REMOVALS = 25
_CONTEXT = 80
_BINS = 20
_COLOURS = {
    "near-duplicate": "#c0392b",
    "repeated passage": "#d68910",
    "site boilerplate": "#2471a3",
}


@dataclass
class Summary:
    """Counts gathered while the cleaned corpus is written."""

    documents: int = 0
    kept: int = 0
    dropped: int = 0
    skipped: int = 0
    chars_in: int = 0
    chars_out: int = 0
    chars_by_reason: Counter = field(default_factory=Counter)
    docs_by_reason: Counter = field(default_factory=Counter)
    sites: dict[str, Counter] = field(default_factory=dict)
    similarities: list[float] = field(default_factory=list)
    clusters: Counter = field(default_factory=Counter)
    samples: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, result: CleanResult) -> None:
        """Count one document's outcome."""
        text = result.record.text
        site = result.record.site or "(no site)"
        per_site = self.sites.setdefault(site, Counter())
        self.documents += 1
        self.chars_in += len(text)
        per_site["documents"] += 1
        per_site["chars_in"] += len(text)
        if result.drop is not None:
            self.dropped += 1
            per_site["dropped"] += 1
            self.chars_by_reason[result.drop.reason] += len(text)
            self.docs_by_reason[result.drop.reason] += 1
            self.similarities.append(result.drop.similarity)
            self.clusters[result.drop.keeper] += 1
            per_site["chars_removed"] += len(text)
            return
        self.kept += 1
        self.chars_out += len(result.text or "")
        for r in result.removals:
            self.chars_by_reason[r.reason] += r.end - r.start
            per_site["chars_removed"] += r.end - r.start
            if len(self.samples) < _SAMPLE_REMOVALS:
                self.samples.append(
                    {
                        "id": result.record.id,
                        "reason": r.reason,
                        "before": text[max(0, r.start - _CONTEXT) : r.start],
                        "removed": r.text,
                        "after": text[r.end : r.end + _CONTEXT],
                    }
                )
        if result.removals:
            reasons = {r.reason for r in result.removals}
            for reason in reasons:
                self.docs_by_reason[reason] += 1

    def skip(self) -> None:
        self.skipped += 1

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable summary (written beside the HTML report)."""
        return {
            "documents": self.documents,
            "kept": self.kept,
            "dropped": self.dropped,
            "skipped_lines": self.skipped,
            "chars_in": self.chars_in,
            "chars_out": self.chars_out,
            "chars_removed_by_reason": dict(self.chars_by_reason),
            "documents_by_reason": dict(self.docs_by_reason),
            "sites": {site: dict(c) for site, c in sorted(self.sites.items())},
            "dropped_similarity_histogram": self.histogram(),
            "largest_clusters": [
                {"keeper": k, "size": n + 1} for k, n in self.clusters.most_common(20)
            ],
            "seconds": round(self.seconds, 3),
        }

    def histogram(self) -> list[int]:
        counts = [0] * _BINS
        for s in self.similarities:
            counts[min(_BINS - 1, int(s * _BINS))] += 1
        return counts

    def text(self) -> str:
        """The one-screen summary printed at the end of a run."""
        lines = [
            f"{self.documents} documents read, {self.kept} kept, {self.dropped} dropped, "
            f"{self.skipped} input lines skipped ({self.seconds:.1f} s)",
        ]
        removed = self.chars_in - self.chars_out
        share = removed / self.chars_in if self.chars_in else 0.0
        lines.append(f"characters: {self.chars_in:,} in, {removed:,} removed ({share:.1%})")
        for reason, chars in self.chars_by_reason.most_common():
            lines.append(
                f"  {reason}: {chars:,} characters in {self.docs_by_reason[reason]} documents"
            )
        return "\n".join(lines)

    def to_html(self) -> str:
        """A self-contained HTML page: totals, per-site table, plots and sample removals."""
        d = self.to_dict()
        esc = html.escape
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'><title>dedup report</title>",
            "<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;"
            "color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;"
            "border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child"
            "{text-align:left}.ctx{font-family:monospace;white-space:pre-wrap;background:#f7f7f7;"
            "padding:.4em;margin:.3em 0}del{text-decoration:line-through}"
            "h2{margin-top:1.6em}</style></head><body>",
            "<h1>dedup clean report</h1>",
            f"<p>{d['documents']:,} documents read, {d['kept']:,} kept, {d['dropped']:,} "
            f"dropped, {d['skipped_lines']:,} input lines skipped, in {d['seconds']:.1f} s. "
            f"Characters: {d['chars_in']:,} in, {d['chars_out']:,} out.</p>",
            "<h2>Characters removed, by reason</h2>",
            _bar_chart(self.chars_by_reason),
            "<table><tr><th>reason</th><th>characters</th><th>documents</th></tr>",
        ]
        for reason, chars in self.chars_by_reason.most_common():
            parts.append(
                f"<tr><td>{esc(reason)}</td><td>{chars:,}</td>"
                f"<td>{self.docs_by_reason[reason]:,}</td></tr>"
            )
        parts.append("</table><h2>Similarity of dropped documents to their keeper</h2>")
        parts.append(_histogram_svg(d["dropped_similarity_histogram"]))
        parts.append("<h2>Largest clusters</h2><table><tr><th>keeper</th><th>size</th></tr>")
        for c in d["largest_clusters"]:
            parts.append(f"<tr><td>{esc(str(c['keeper']))}</td><td>{c['size']}</td></tr>")
        parts.append(
            "</table><h2>Per site</h2><table><tr><th>site</th><th>documents</th>"
            "<th>dropped</th><th>characters removed</th><th>share</th></tr>"
        )
        top = sorted(self.sites.items(), key=lambda kv: -kv[1]["chars_removed"])[:50]
        for site, c in top:
            share = c["chars_removed"] / c["chars_in"] if c["chars_in"] else 0.0
            parts.append(
                f"<tr><td>{esc(site)}</td><td>{c['documents']:,}</td><td>{c['dropped']:,}</td>"
                f"<td>{c['chars_removed']:,}</td><td>{share:.1%}</td></tr>"
            )
        parts.append("</table><h2>Sample of removals in context</h2>")
        if not self.samples:
            parts.append("<p>No span was removed (dropped documents are counted above).</p>")
        for s in self.samples:
            colour = _COLOURS.get(s["reason"], "#7d3c98")
            removed = s["removed"] if len(s["removed"]) <= 600 else s["removed"][:600] + " …"
            parts.append(
                f"<p><b>{esc(str(s['id']))}</b> · {esc(s['reason'])}</p><div class='ctx'>"
                f"{esc(s['before'])}<del style='color:{colour}'>{esc(removed)}</del>"
                f"{esc(s['after'])}</div>"
            )
        parts.append("</body></html>")
        return "\n".join(parts)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _bar_chart(values: Counter) -> str:
    if not values:
        return "<p>Nothing was removed.</p>"
    top = max(values.values())
    rows = []
    for i, (reason, v) in enumerate(values.most_common()):
        width = 500 * v / top
        colour = _COLOURS.get(reason, "#7d3c98")
        rows.append(
            f"<rect x='150' y='{i * 26}' width='{width:.1f}' height='20' fill='{colour}'/>"
            f"<text x='145' y='{i * 26 + 15}' text-anchor='end'>{html.escape(reason)}</text>"
            f"<text x='{155 + width:.1f}' y='{i * 26 + 15}'>{v:,}</text>"
        )
    height = 26 * len(values)
    return f"<svg width='760' height='{height}' font-size='12'>{''.join(rows)}</svg>"


def _histogram_svg(counts: list[int]) -> str:
    if not any(counts):
        return "<p>No document was dropped.</p>"
    top = max(counts)
    bars = []
    for i, c in enumerate(counts):
        h = 150 * c / top
        bars.append(
            f"<rect x='{40 + i * 30}' y='{170 - h:.1f}' width='26' height='{h:.1f}' "
            f"fill='#c0392b'><title>{i / len(counts):.2f}-{(i + 1) / len(counts):.2f}: {c}"
            f"</title></rect>"
        )
    ticks = "".join(
        f"<text x='{40 + i * 30}' y='188'>{i / len(counts):.1f}</text>"
        for i in range(0, len(counts) + 1, 4)
    )
    return (
        f"<svg width='700' height='200' font-size='11'>{''.join(bars)}{ticks}"
        f"<text x='0' y='20'>{top}</text></svg>"
    )
