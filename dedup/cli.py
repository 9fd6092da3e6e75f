"""The ``dedup`` command line: a thin typer layer over the Python API.

User errors (bad input, an existing output, a bad option) print one line, ``Error: ...``, and
exit with code 2; nothing is written in that case.
"""

from __future__ import annotations

import logging
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from dedup import __version__
from dedup.allocator import keep_freed_memory
from dedup.audit import read_jsonl as read_audit
from dedup.audit import rebuild_text
from dedup.audit import restore as restore_docs
from dedup.clean import DEFAULT_STEPS, Cleaner
from dedup.errors import DedupError
from dedup.io.readers import DEFAULT_MAX_CHARS, ON_ERROR, RecordReader, require_pyarrow
from dedup.io.records import DEFAULT_ID_FIELD, DEFAULT_SITE_FIELD, DEFAULT_TEXT_FIELD
from dedup.io.writers import JsonlWriter, check_output, open_writer, write_text_atomic
from dedup.progress import Tracked, progress_enabled, track
from dedup.report import Summary
from dedup.sketch.minhash import DEFAULT_NUM_PERM, DEFAULT_SEED
from dedup.sketch.store import parse_memory
from dedup.steps import STEPS
from dedup.steps.boilerplate import DEFAULT_FRACTION, SiteBoilerplate
from dedup.steps.neardup import (
    DEFAULT_CONTAINMENT,
    DEFAULT_MEMORY,
    DEFAULT_THRESHOLD,
    NearDuplicates,
)
from dedup.steps.passages import (
    DEFAULT_CROSS_NGRAM,
    DEFAULT_CROSS_NUM_PERM,
    DEFAULT_CROSS_THRESHOLD,
    DEFAULT_MIN_TOKENS,
    RepeatedPassages,
    SharedPassages,
)
from dedup.text.shingle import DEFAULT_NGRAM

app = typer.Typer(
    name="dedup",
    help="Near-duplicate and boilerplate detection for scraped text corpora.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

InputArg = Annotated[
    str, typer.Argument(help="JSONL file (.gz/.zst too), a .txt file, a directory of .txt, or -")
]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Output JSONL file (.gz/.zst)")]
TextField = Annotated[str, typer.Option(help="JSON field holding the text")]
IdField = Annotated[str, typer.Option(help="JSON field holding the document id")]
SiteField = Annotated[
    str, typer.Option(help="JSON field naming the site (else the host of a 'url' field)")
]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing output file")]
OnError = Annotated[
    str,
    typer.Option(help="On a bad input line: 'raise' stops, 'skip' skips it and counts it"),
]
MemoryOpt = Annotated[
    str,
    typer.Option(
        "--memory",
        help="Memory budget of the near-duplicate index and of the boilerplate counts "
        "(512M, 2G, none); beyond it, spill to disk",
    ),
]
Workers = Annotated[
    int, typer.Option("--workers", "-w", help="Threads to use (0 = all cores); same output")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log what each stage does")]
MaxChars = Annotated[
    int, typer.Option(help="Refuse (or with --on-error skip, skip) longer documents")
]
SHOW_COLOURS = {
    "near-duplicate": "red",
    "repeated passage": "yellow",
    "site boilerplate": "blue",
}
log = logging.getLogger("dedup")
Threshold = Annotated[
    float, typer.Option(help="Least Jaccard similarity of two documents' content shingles")
]
Containment = Annotated[
    float, typer.Option(help="Least share of the smaller document inside the larger (>1: off)")
]
Ngram = Annotated[int, typer.Option(help="Shingle size in words (or characters with --char)")]
CharShingles = Annotated[bool, typer.Option("--char", help="Character shingles, not words")]
NumPerm = Annotated[int, typer.Option(help="MinHash permutations")]
Seed = Annotated[int, typer.Option(help="Seed of the MinHash permutations")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dedup {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version"),
    ] = None,
) -> None:
    """Near-duplicate and boilerplate detection for scraped text corpora."""
    keep_freed_memory()  # batches reuse the memory of the batches before them
    # A polite kill (SIGTERM) ends a run like Ctrl-C: temporary outputs and work directories
    # are removed on the way out.
    signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _fail(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the errors a user can act on into one line and exit code 2."""
    try:
        yield
    except DedupError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; no output was written")


@contextmanager
def _rereadable(path: str) -> Iterator[str]:
    """A path that can be read twice: stdin is spooled to a temporary file first."""
    if path != "-":
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=True) as tmp:
        shutil.copyfileobj(sys.stdin.buffer, tmp)
        tmp.flush()
        yield tmp.name


def _reader(
    path: str,
    text_field: str,
    id_field: str,
    site_field: str,
    on_error: str,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> RecordReader:
    if on_error not in ON_ERROR:
        _fail(f"--on-error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    reader = RecordReader(
        path,
        text_field=text_field,
        id_field=id_field,
        site_field=site_field,
        on_error=on_error,
        max_chars=max_chars or None,
    )
    reader.check()
    return reader


def _neardup(**kw: Any) -> NearDuplicates:
    return NearDuplicates(
        threshold=kw["threshold"],
        containment=kw["containment"],
        ngram=kw["ngram"],
        shingle="char" if kw["char"] else "word",
        num_perm=kw["num_perm"],
        seed=kw["seed"],
        n_jobs=kw["workers"] or None,
        memory=_memory(kw["memory"]),
    )


def _memory(value: str) -> int | None:
    if value.strip().lower() in ("", "none", "unlimited"):
        return None
    try:
        return parse_memory(value)
    except ValueError as e:
        _fail(f"--memory: {e}")


def _logging(verbose: bool) -> None:
    # --verbose logs our stages; other libraries keep to warnings.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr
    )
    log.setLevel(logging.DEBUG if verbose else logging.WARNING)


def _say(quiet: bool) -> Callable[[str], None]:
    return (lambda _msg: None) if quiet else (lambda msg: typer.echo(msg, err=True))


@app.command()
def clusters(
    input: InputArg,
    output: OutputOpt,
    threshold: Threshold = DEFAULT_THRESHOLD,
    containment: Containment = DEFAULT_CONTAINMENT,
    ngram: Ngram = DEFAULT_NGRAM,
    char: CharShingles = False,
    num_perm: NumPerm = DEFAULT_NUM_PERM,
    seed: Seed = DEFAULT_SEED,
    text_field: TextField = DEFAULT_TEXT_FIELD,
    id_field: IdField = DEFAULT_ID_FIELD,
    site_field: SiteField = DEFAULT_SITE_FIELD,
    on_error: OnError = "raise",
    workers: Workers = 0,
    memory: MemoryOpt = DEFAULT_MEMORY,
    force: Force = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write the near-duplicate cluster of every document: {"id", "cluster", "similarity"}.

    "cluster" is the id of the document the cluster keeps; "similarity" is the Jaccard
    similarity of the document's content shingles to the keeper's (1.0 for keepers).

    Example: dedup clusters pages.jsonl -o clusters.jsonl
    """
    _logging(verbose)
    say = _say(quiet)
    start = time.perf_counter()
    with _user_errors():
        check_output(output, force=force, inputs=(input,))
        reader = _reader(input, text_field, id_field, site_field, on_error)
        nd = _neardup(
            threshold=threshold,
            containment=containment,
            ngram=ngram,
            char=char,
            num_perm=num_perm,
            seed=seed,
            workers=workers,
            memory=memory,
        ).fit(reader)
        with JsonlWriter(output) as out:
            out.write_columns(nd.cluster_columns())
    n = len(nd.ids_)
    dups = int(nd.is_duplicate().sum())
    groups = len(set(nd.keepers_[nd.is_duplicate()].tolist()))
    seconds = time.perf_counter() - start
    say(
        f"{n} documents, {dups} near-duplicates in {groups} clusters; "
        f"{len(reader.stats.skipped)} lines skipped; {seconds:.1f} s -> {output}"
    )


@app.command()
def clean(
    input: InputArg,
    output: OutputOpt,
    steps: Annotated[
        str, typer.Option(help=f"Comma-separated steps to run, of: {', '.join(STEPS)}")
    ] = ",".join(DEFAULT_STEPS),
    removals: Annotated[
        Path | None,
        typer.Option(help="Audit record, a line per document [default: OUTPUT.removals.jsonl]"),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="Write a self-contained HTML report here (and a JSON summary beside)"),
    ] = None,
    threshold: Threshold = DEFAULT_THRESHOLD,
    containment: Containment = DEFAULT_CONTAINMENT,
    ngram: Ngram = DEFAULT_NGRAM,
    char: CharShingles = False,
    num_perm: NumPerm = DEFAULT_NUM_PERM,
    seed: Seed = DEFAULT_SEED,
    cross_document: Annotated[
        bool,
        typer.Option(
            "--cross-document",
            help="passages: also remove sentences an earlier document already holds",
        ),
    ] = False,
    boilerplate_model: Annotated[
        Path | None,
        typer.Option(help="boilerplate: a model from `dedup train-boilerplate` [default: shipped]"),
    ] = None,
    boilerplate_fraction: Annotated[
        float,
        typer.Option(
            help="boilerplate: a block on this share of a site's other pages goes (>1: off)"
        ),
    ] = DEFAULT_FRACTION,
    text_field: TextField = DEFAULT_TEXT_FIELD,
    id_field: IdField = DEFAULT_ID_FIELD,
    site_field: SiteField = DEFAULT_SITE_FIELD,
    on_error: OnError = "raise",
    max_chars: MaxChars = DEFAULT_MAX_CHARS,
    workers: Workers = 0,
    memory: MemoryOpt = DEFAULT_MEMORY,
    force: Force = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write the kept documents, all fields, with "text" cleaned; record every removal.

    The audit record has one line per input document: whether it was dropped (with its
    keeper, its similarity and its whole input record) and which character spans of its text
    were removed and why. `dedup restore` rebuilds the input from the output and the record.

    Example: dedup clean corpus/sample.jsonl -o clean.jsonl --report report.html
    """
    _logging(verbose)
    start = time.perf_counter()
    names = [s.strip() for s in steps.split(",") if s.strip()]
    audit_path = removals or _beside(output, ".removals.jsonl")
    summary = Summary()
    with _user_errors(), _rereadable(input) as path:
        targets = [output, audit_path]
        if report is not None:
            targets += [report, report.with_suffix(".json")]
        for target in targets:
            check_output(target, force=force, inputs=(input,))
        if len({t.resolve() for t in targets}) < len(targets):
            _fail("--output, --removals and --report must be different files")
        reader = _reader(path, text_field, id_field, site_field, on_error, max_chars)
        neardup = _neardup(
            threshold=threshold,
            containment=containment,
            ngram=ngram,
            char=char,
            num_perm=num_perm,
            seed=seed,
            workers=workers,
            memory=memory,
        )
        configured: dict[str, Any] = {
            NearDuplicates.name: neardup,
            RepeatedPassages.name: RepeatedPassages(cross_document=cross_document, seed=seed),
            SiteBoilerplate.name: SiteBoilerplate(
                model=str(boilerplate_model) if boilerplate_model else "default",
                fraction=boilerplate_fraction,
                memory=_memory(memory),
            ),
        }
        built = [configured.get(name, name) for name in names]
        show = progress_enabled(quiet)
        log.info("fitting steps %s on %s", names, input)
        cleaner = Cleaner(steps=built).fit(Tracked(reader, "fitting", enabled=show))
        total = reader.stats.documents
        log.info("fitted on %d documents; writing %s", total, output)
        with open_writer(output) as out, JsonlWriter(audit_path) as audit:
            written_skips = 0

            def flush_skips() -> None:
                # The reader lists a skipped line before it yields the record after it.
                nonlocal written_skips
                for skip in reader.stats.skipped[written_skips:]:
                    audit.write({"skipped": True, **skip})
                    summary.skip()
                written_skips = len(reader.stats.skipped)

            for result in track(cleaner.transform(reader), "cleaning", enabled=show, total=total):
                flush_skips()
                if result.kept:
                    out.write(result.output_fields(text_field))
                audit.write(result.audit())
                summary.add(result)
            flush_skips()
        summary.seconds = time.perf_counter() - start
        if report is not None:
            write_text_atomic(report, summary.to_html())
            write_text_atomic(report.with_suffix(".json"), summary.to_json())
    say = _say(quiet)
    say(f"dedup clean: {summary.text()}")
    say(f"  output:   {output}\n  removals: {audit_path}")
    if report is not None:
        say(f"  report:   {report} (+ {report.with_suffix('.json').name})")


def _beside(output: Path, suffix: str) -> Path:
    """``out.jsonl.gz`` -> ``out.removals.jsonl`` (next to the output)."""
    return output.with_name(output.name.split(".")[0] + suffix)


@app.command()
def restore(
    output: Annotated[Path, typer.Argument(help="Output of dedup clean (JSONL)")],
    removals: Annotated[
        Path | None,
        typer.Option(help="Its audit record [default: OUTPUT.removals.jsonl]"),
    ] = None,
    to: Annotated[Path, typer.Option("--to", "-o", help="Where to write the restored corpus")] = (
        Path("restored.jsonl")
    ),
    text_field: TextField = DEFAULT_TEXT_FIELD,
    id_field: IdField = DEFAULT_ID_FIELD,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Rebuild the original corpus from the output of `dedup clean` and its audit record.

    Example: dedup restore clean.jsonl -o original.jsonl
    """
    audit_path = removals or _beside(output, ".removals.jsonl")
    n = 0
    with _user_errors():
        check_output(to, force=force, inputs=(output, audit_path))
        with open_writer(to) as out:
            for doc in restore_docs(
                _read_output(output),
                read_audit(audit_path),
                text_field=text_field,
                id_field=id_field,
            ):
                out.write(doc)
                n += 1
    _say(quiet)(f"dedup restore: {n} documents -> {to}")


def _read_output(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".parquet":
        pq = require_pyarrow().parquet
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            yield from batch.to_pylist()
    else:
        yield from read_audit(path)


@app.command()
def show(
    output: Annotated[Path, typer.Argument(help="Output of dedup clean (JSONL)")],
    doc_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the document to show")],
    removals: Annotated[
        Path | None,
        typer.Option(help="Its audit record [default: OUTPUT.removals.jsonl]"),
    ] = None,
    text_field: TextField = DEFAULT_TEXT_FIELD,
    id_field: IdField = DEFAULT_ID_FIELD,
) -> None:
    """Print a document with its removals struck through and coloured by reason.

    Example: dedup show clean.jsonl seed-000
    """
    from rich.console import Console
    from rich.text import Text

    audit_path = removals or _beside(output, ".removals.jsonl")
    with _user_errors():
        entry = next((e for e in read_audit(audit_path) if str(e.get("id")) == doc_id), None)
        if entry is None:
            _fail(f"{audit_path}: no document with id {doc_id!r}")
        if entry["dropped"]:
            original = entry["record"].get(text_field, "")
        else:
            doc = next(
                (d for d in _read_output(output) if str(d.get(id_field, "")) == doc_id), None
            )
            if doc is None:
                _fail(f"{output}: no document with id {doc_id!r}")
            original = rebuild_text(doc[text_field], entry["removals"])
    console = Console()
    head = Text(f"{doc_id}", style="bold")
    if entry["dropped"]:
        head.append(
            f"  dropped: {entry['reason']} of {entry['keeper']} (similarity {entry['similarity']})",
            style=f"bold {SHOW_COLOURS.get(entry['reason'], 'magenta')}",
        )
    console.print(head)
    text = Text(original, style="strike dim" if entry["dropped"] else "")
    for r in entry["removals"]:
        text.stylize(f"strike {SHOW_COLOURS.get(r['reason'], 'magenta')}", r["start"], r["end"])
    console.print(text)
    reasons = sorted({r["reason"] for r in entry["removals"]})
    if reasons:
        legend = Text("removed: ")
        for reason in reasons:
            legend.append(f"{reason}  ", style=SHOW_COLOURS.get(reason, "magenta"))
        console.print(legend)


@app.command()
def passages(
    input: InputArg,
    output: OutputOpt,
    min_tokens: Annotated[
        int, typer.Option(help="Shortest passage (a sentence) compared, in word tokens")
    ] = DEFAULT_MIN_TOKENS,
    threshold: Annotated[
        float, typer.Option(help="Least Jaccard similarity of two passages' word n-grams")
    ] = DEFAULT_CROSS_THRESHOLD,
    ngram: Annotated[
        int, typer.Option(help="Size of the word n-grams passages are compared on")
    ] = DEFAULT_CROSS_NGRAM,
    num_perm: Annotated[int, typer.Option(help="MinHash permutations")] = DEFAULT_CROSS_NUM_PERM,
    seed: Seed = DEFAULT_SEED,
    text_field: TextField = DEFAULT_TEXT_FIELD,
    id_field: IdField = DEFAULT_ID_FIELD,
    site_field: SiteField = DEFAULT_SITE_FIELD,
    on_error: OnError = "raise",
    max_chars: MaxChars = DEFAULT_MAX_CHARS,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Write the passages that occur in more than one document, one line per passage.

    A line: {"passage", "documents", "text", "occurrences": [{"id", "start", "end",
    "similarity"}, ...]}, the first occurrence (in input order) first; "text" is its text,
    "start"/"end" are character offsets, "similarity" the Jaccard similarity to the first.
    Nothing is removed: `dedup clean --steps passages` removes repeats inside documents.

    Example: dedup passages pages.jsonl -o shared.jsonl
    """
    say = _say(quiet)
    start = time.perf_counter()
    with _user_errors(), _rereadable(input) as path:
        check_output(output, force=force, inputs=(input,))
        reader = _reader(path, text_field, id_field, site_field, on_error, max_chars)
        shared = SharedPassages(
            min_tokens=min_tokens,
            ngram=ngram,
            threshold=threshold,
            num_perm=num_perm,
            seed=seed,
            text_field=text_field,
            id_field=id_field,
            site_field=site_field,
        ).fit(reader)
        n = 0
        with JsonlWriter(output) as out:
            for row in shared.rows(reader):
                out.write(row)
                n += 1
    seconds = time.perf_counter() - start
    say(
        f"{len(shared.ids_)} documents, {len(shared.doc_)} passages compared, {n} shared by "
        f"two documents or more; {len(reader.stats.skipped)} lines skipped; {seconds:.1f} s "
        f"-> {output}"
    )


@app.command("train-boilerplate")
def train_boilerplate(
    gold: Annotated[
        Path, typer.Argument(help="JSONL of pages: the page text, its gold main text, its site")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write (JSON)")],
    text_field: TextField = DEFAULT_TEXT_FIELD,
    gold_field: Annotated[str, typer.Option(help="JSON field holding the gold main text")] = "gold",
    site_field: SiteField = DEFAULT_SITE_FIELD,
    seed: Annotated[int, typer.Option(help="Seed of the tree ensembles")] = 0,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Train the boilerplate classifier on your own gold pages and write it as a model file.

    Each line needs the whole page text (a block per line), its main text ("gold") and its
    site (or a "url"). Use it with `dedup clean --boilerplate-model MODEL.json`.

    Example: dedup train-boilerplate gold.jsonl -o model.json
    """
    from dedup.boilerplate.train import train as train_model

    say = _say(quiet)
    start = time.perf_counter()
    with _user_errors():
        check_output(output, force=force, inputs=(str(gold),))
        reader = _reader(str(gold), text_field, DEFAULT_ID_FIELD, site_field, "raise")
        rows = []
        for record in reader:
            if not isinstance(record.fields.get(gold_field), str):
                _fail(f"{record.source}: no {gold_field!r} text field")
            rows.append(
                {"text": record.text, "gold": record.fields[gold_field], "site": record.site}
            )
        if not rows:
            _fail(f"{gold}: no pages to train on")
        model = train_model(rows, seed=seed)
        write_text_atomic(output, model.to_json())
    say(
        f"trained on {len(rows)} pages ({model.info['blocks']} blocks) in "
        f"{time.perf_counter() - start:.1f} s -> {output}"
    )


if __name__ == "__main__":
    app()
