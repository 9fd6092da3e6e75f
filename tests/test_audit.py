"""The audit trail: the original is rebuilt exactly from cleaned text plus removals."""

import gzip
import json
import signal

import pytest
from conftest import SAMPLE, read_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dedup.audit import rebuild_text, restore
from dedup.clean import apply_removals, disjoint
from dedup.cli import app
from dedup.steps import Removal

runner = CliRunner()


@st.composite
def text_and_spans(draw):
    text = draw(st.text(min_size=0, max_size=200))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    spans = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if b > a]
    # Steps may propose overlapping spans too.
    extra = draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, 30)), max_size=3))
    spans += [(a, min(len(text), a + n)) for a, n in extra if n > 0 and a < len(text)]
    return text, [Removal(a, b, "test", text[a:b]) for a, b in spans]


@settings(max_examples=300)
@given(text_and_spans())
def test_original_is_rebuilt_from_cleaned_text_and_removals(case):
    text, removals = case
    spans = disjoint(text, removals)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end <= b.start
    assert all(r.text == text[r.start : r.end] for r in spans)
    cleaned = apply_removals(text, spans)
    assert apply_removals(text, removals) == cleaned  # clipping removes the same characters
    assert rebuild_text(cleaned, [r.to_dict() for r in spans]) == text


def test_restore_rebuilds_the_input_in_order(tmp_path, sample_docs):
    out = tmp_path / "clean.jsonl"
    assert runner.invoke(app, ["clean", str(SAMPLE), "-o", str(out), "-q"]).exit_code == 0
    restored = tmp_path / "restored.jsonl"
    result = runner.invoke(app, ["restore", str(out), "-o", str(restored)])
    assert result.exit_code == 0, result.output
    assert read_jsonl(restored) == sample_docs


def test_restore_api_rejects_a_record_that_does_not_match():
    with pytest.raises(Exception, match="output ends"):
        list(restore([], [{"id": "a", "dropped": False, "removals": []}]))


def test_report_html_and_json(tmp_path):
    out = tmp_path / "clean.jsonl"
    report = tmp_path / "report.html"
    result = runner.invoke(app, ["clean", str(SAMPLE), "-o", str(out), "--report", str(report)])
    assert result.exit_code == 0, result.output
    page = report.read_text(encoding="utf-8")
    summary = json.loads((tmp_path / "report.json").read_text())
    assert (
        summary["documents"] == 44
        and summary["dropped"] == summary["documents_by_reason"]["near-duplicate"]
    )
    assert "<svg" in page and "http" not in page.split("<body>")[0]  # no external resources
    assert "Largest clusters" in page and "Per site" in page
    assert sum(summary["dropped_similarity_histogram"]) == summary["dropped"]


def test_show_strikes_through_removals(tmp_path):
    out = tmp_path / "clean.jsonl"
    assert runner.invoke(app, ["clean", str(SAMPLE), "-o", str(out), "-q"]).exit_code == 0
    dropped = next(a for a in read_jsonl(tmp_path / "clean.removals.jsonl") if a["dropped"])
    result = runner.invoke(app, ["show", str(out), dropped["id"]])
    assert result.exit_code == 0, result.output
    assert f"dropped: near-duplicate of {dropped['keeper']}" in result.output
    missing = runner.invoke(app, ["show", str(out), "no-such-id"])
    assert missing.exit_code == 2 and "no document with id" in missing.output


def test_parquet_in_and_out(tmp_path, sample_docs):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(sample_docs), src)
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["clean", str(src), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    kept = pq.read_table(out).to_pylist()
    jsonl_out = tmp_path / "reference.jsonl"
    runner.invoke(app, ["clean", str(SAMPLE), "-o", str(jsonl_out), "-q"])
    assert [d["id"] for d in kept] == [d["id"] for d in read_jsonl(jsonl_out)]
    restored = tmp_path / "restored.jsonl"
    result = runner.invoke(
        app,
        [
            "restore",
            str(out),
            "--removals",
            str(tmp_path / "out.removals.jsonl"),
            "-o",
            str(restored),
        ],
    )
    assert result.exit_code == 0, result.output
    assert [d["id"] for d in read_jsonl(restored)] == [d["id"] for d in sample_docs]


def test_dataframe_and_dataset_through_the_api(sample_docs):
    pd = pytest.importorskip("pandas")
    from dedup.io.frames import clean_dataframe

    frame = pd.DataFrame(sample_docs)
    kept, audit = clean_dataframe(frame)
    assert list(kept.columns) == list(frame.columns)
    assert len(kept) == sum(not a["dropped"] for a in audit) < len(frame)
    datasets = pytest.importorskip("datasets")
    from dedup.io.frames import clean_dataset

    ds = datasets.Dataset.from_list(sample_docs)
    kept_ds, audit_ds = clean_dataset(ds)
    assert kept_ds["id"] == kept["id"].tolist()
    assert [(a["id"], a["dropped"]) for a in audit_ds] == [(a["id"], a["dropped"]) for a in audit]


def test_an_oversized_document_is_refused_with_file_and_line(tmp_path):
    src = tmp_path / "big.jsonl.gz"
    big = "word " * 20_000_001  # a 100 MB document
    with gzip.open(src, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "small", "text": "a small page"}) + "\n")
        fh.write(json.dumps({"id": "huge", "text": big}) + "\n")
    del big
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["clean", str(src), "-o", str(out)])
    assert result.exit_code == 2
    assert f"{src}:2: document of 100,000,005 characters is longer than" in result.output
    assert not out.exists()
    result = runner.invoke(app, ["clean", str(src), "-o", str(out), "--on-error", "skip"])
    assert result.exit_code == 0 and "1 input lines skipped" in result.output
    audit = read_jsonl(tmp_path / "o.removals.jsonl")
    assert audit[-1]["skipped"] and audit[-1]["where"].endswith(":2")


def test_an_interrupted_run_leaves_no_output_and_a_rerun_gives_the_same(tmp_path, monkeypatch):
    out = tmp_path / "clean.jsonl"
    import dedup.cli as cli

    real = cli.Summary.add
    calls = {"n": 0}

    def interrupt(self, result):
        calls["n"] += 1
        if calls["n"] == 20:
            raise KeyboardInterrupt
        return real(self, result)

    monkeypatch.setattr(cli.Summary, "add", interrupt)
    result = runner.invoke(app, ["clean", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 2 and "interrupted" in result.output
    assert list(tmp_path.iterdir()) == []  # no output, no record, no temp file
    monkeypatch.setattr(cli.Summary, "add", real)
    assert runner.invoke(app, ["clean", str(SAMPLE), "-o", str(out), "-q"]).exit_code == 0
    first = out.read_bytes()
    rerun = ["clean", str(SAMPLE), "-o", str(out), "-q", "--force"]
    assert runner.invoke(app, rerun).exit_code == 0
    assert out.read_bytes() == first
    assert signal.SIGINT  # Ctrl-C raises KeyboardInterrupt, which is what is simulated here


@pytest.mark.parametrize("workers", ["2", "4"])
def test_clean_output_is_byte_identical_for_any_worker_count(tmp_path, workers):
    ref, out = tmp_path / "w1.jsonl", tmp_path / f"w{workers}.jsonl"
    assert (
        runner.invoke(app, ["clean", str(SAMPLE), "-o", str(ref), "-w", "1", "-q"]).exit_code == 0
    )
    assert (
        runner.invoke(app, ["clean", str(SAMPLE), "-o", str(out), "-w", workers, "-q"]).exit_code
        == 0
    )
    assert out.read_bytes() == ref.read_bytes()
    assert (tmp_path / f"w{workers}.removals.jsonl").read_bytes() == (
        tmp_path / "w1.removals.jsonl"
    ).read_bytes()
