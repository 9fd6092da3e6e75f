import json
from pathlib import Path

import pytest
from conftest import SAMPLE, read_jsonl, shared
from typer.testing import CliRunner

from dedup.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_clusters_writes_one_line_per_document(tmp_path, sample_docs):
    out = tmp_path / "clusters.jsonl"
    result = run("clusters", SAMPLE, "-o", out, "--quiet")
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == [d["id"] for d in sample_docs]
    assert all(set(r) == {"id", "cluster", "similarity"} for r in rows)
    ids = {r["id"] for r in rows}
    assert all(r["cluster"] in ids for r in rows)
    keepers = {r["cluster"] for r in rows}
    assert all(r["similarity"] == 1.0 for r in rows if r["id"] in keepers)


@pytest.mark.parametrize("workers", [1, 2])
def test_clusters_file_holds_the_rows_of_the_fit(tmp_path, workers):
    # The file is written from encoded columns (keepers filled in, ids encoded on a spare
    # thread with two workers); it must hold exactly the rows the fitted model gives.
    from dedup import NearDuplicates, RecordReader

    path = shared("neardup", "dev.jsonl")
    out = tmp_path / "clusters.jsonl"
    result = run("clusters", path, "-o", out, "--workers", workers, "--quiet")
    assert result.exit_code == 0, result.output
    nd = NearDuplicates(n_jobs=1).fit(RecordReader(path))
    rows = read_jsonl(out)
    assert rows == list(nd.cluster_rows())
    assert any(r["cluster"] != r["id"] for r in rows)
    assert any(r["similarity"] != 1.0 for r in rows)  # the encoded, not the 1.0 filled in


def test_clean_keeps_fields_and_records_every_drop(tmp_path, sample_docs):
    out = tmp_path / "clean.jsonl"
    result = run("clean", SAMPLE, "-o", out, "--steps", "neardup")
    assert result.exit_code == 0, result.output
    assert "dropped" in result.output
    kept = read_jsonl(out)
    audit = read_jsonl(tmp_path / "clean.removals.jsonl")
    assert [a["id"] for a in audit] == [d["id"] for d in sample_docs]  # a line per document
    by_id = {d["id"]: d for d in sample_docs}
    for doc in kept:
        assert doc == by_id[doc["id"]]  # every input field, text unchanged by neardup
    kept_ids = {d["id"] for d in kept}
    dropped = [a for a in audit if a["dropped"]]
    assert len(kept) + len(dropped) == len(sample_docs)
    for rec in dropped:
        assert rec["reason"] == "near-duplicate"
        assert rec["keeper"] in kept_ids and 0 < rec["similarity"] <= 1
        assert rec["record"] == by_id[rec["id"]]  # the whole input, so it can be restored


def test_existing_output_is_refused_without_force(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text("keep me\n")
    result = run("clusters", SAMPLE, "-o", out)
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert out.read_text() == "keep me\n"
    assert run("clusters", SAMPLE, "-o", out, "--force", "-q").exit_code == 0
    assert out.read_text() != "keep me\n"


def test_the_input_is_never_overwritten(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(SAMPLE.read_text())
    result = run("clean", src, "-o", src, "--force")
    assert result.exit_code == 2 and "is the input" in result.output
    assert src.read_text() == SAMPLE.read_text()


def test_bad_input_is_one_line_with_exit_code_2_and_no_output(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": \n')
    out = tmp_path / "o.jsonl"
    result = run("clean", src, "-o", out)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {src}:2: malformed JSON: Expecting value (column ")
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".o.jsonl*"))


def test_skip_mode_counts_bad_lines(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"id": "a", "text": "fine"}\nnot json\n')
    result = run("clusters", src, "-o", tmp_path / "o.jsonl", "--on-error", "skip")
    assert result.exit_code == 0
    assert "1 lines skipped" in result.output


def test_wrong_text_field_names_the_fields_found(tmp_path):
    result = run("clusters", SAMPLE, "-o", tmp_path / "o.jsonl", "--text-field", "body")
    assert result.exit_code == 2
    assert "no 'body' field" in result.output and "--text-field" in result.output


def test_missing_input_file(tmp_path):
    result = run("clean", tmp_path / "none.jsonl", "-o", tmp_path / "o.jsonl")
    assert result.exit_code == 2 and "no such file" in result.output


def test_unknown_step(tmp_path):
    result = run("clean", SAMPLE, "-o", tmp_path / "o.jsonl", "--steps", "nope")
    assert result.exit_code == 2 and "unknown step 'nope'" in result.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_output_is_byte_identical_for_any_worker_count(tmp_path, workers):
    ref = tmp_path / "ref.jsonl"
    assert run("clusters", SAMPLE, "-o", ref, "-w", "1", "-q").exit_code == 0
    out = tmp_path / f"w{workers}.jsonl"
    assert run("clusters", SAMPLE, "-o", out, "-w", workers, "-q").exit_code == 0
    assert out.read_bytes() == ref.read_bytes()


def test_stdin_input(tmp_path):
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["clean", "-", "-o", str(out), "-q"], input=SAMPLE.read_text())
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(out)) < len(SAMPLE.read_text().splitlines())


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("dedup ")
    assert json.dumps  # keep import used


def test_memory_budget_changes_nothing_and_bad_values_fail(tmp_path):
    outs = []
    for budget in ("1K", "none"):
        out = tmp_path / f"clusters-{budget}.jsonl"
        result = runner.invoke(
            app, ["clusters", str(SAMPLE), "-o", str(out), "--memory", budget, "-q"]
        )
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    result = runner.invoke(
        app, ["clusters", str(SAMPLE), "-o", str(tmp_path / "x.jsonl"), "--memory", "lots"]
    )
    assert result.exit_code == 2 and "--memory" in result.output


@pytest.mark.parametrize("compiled", ["0", "1"])  # "1": a second process reads the input
def test_sigterm_ends_a_run_cleanly(tmp_path, sample_docs, compiled):
    """A killed run (SIGTERM) says so, exits 2, and leaves no output, no work directory and
    no process behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    corpus = tmp_path / "big.jsonl"
    with open(corpus, "w", encoding="utf-8") as fh:
        for k in range(300):
            for d in sample_docs:
                text = f"{d['text']}\nCopy {k} of {d['id']}."
                fh.write(json.dumps({"id": f"{d['id']}-{k}", "text": text}) + "\n")
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "dedup.cli", "clusters", str(corpus)]  # the console command
    proc = subprocess.Popen(
        [*cmd, "-o", str(out), "--memory", "1K", "--workers", "2", "-q"],
        env={**os.environ, "TMPDIR": str(work), "DEDUP_COMPILED": compiled},
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait for the run's own work directory: the first entry can be the standard library's
    # probe file for a writable temporary directory, which it removes a moment later.
    deadline = time.monotonic() + 60
    while (
        not any(p.name.startswith("dedup-") for p in work.iterdir())
        and proc.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "interrupted" in err
    assert not out.exists()
    assert list(work.iterdir()) == []
    time.sleep(0.2)
    left = []
    for proc_dir in Path("/proc").iterdir():
        try:
            if str(corpus).encode() in (proc_dir / "cmdline").read_bytes():
                left.append(proc_dir.name)
        except OSError:  # not a process, or it just ended
            pass
    assert left == []


@pytest.mark.parametrize("compiled", ["0", "1"])
def test_console_command_exits_like_the_app(tmp_path, compiled):
    """The console command, in its own process, writes what the app writes, prints its
    summary, removes its work directory and keeps the app's exit codes."""
    import os
    import subprocess
    import sys

    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "DEDUP_COMPILED": compiled, "TMPDIR": str(work)}
    out = tmp_path / "clusters.jsonl"
    cmd = [sys.executable, "-m", "dedup.cli", "clusters", str(SAMPLE), "-o", str(out)]
    done = subprocess.run([*cmd, "--memory", "1K"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "44 documents" in done.stderr
    expected = tmp_path / "expected.jsonl"
    assert run("clusters", SAMPLE, "-o", expected, "-q").exit_code == 0
    assert out.read_bytes() == expected.read_bytes()
    assert list(work.iterdir()) == []  # the spilled work directory is gone
    again = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert again.returncode == 2
    assert again.stderr.startswith("Error: ") and "exists" in again.stderr
