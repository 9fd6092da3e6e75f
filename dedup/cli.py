"""The ``dedup`` command line: a thin typer layer over the Python API.

User errors (bad input, an existing output, a bad option) print one line, ``Error: ...``, and
exit with code 2; nothing is written in that case.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from dedup import __version__
from dedup.clean import DEFAULT_STEPS, Cleaner
from dedup.errors import DedupError
from dedup.io.readers import ON_ERROR, RecordReader
from dedup.io.records import DEFAULT_ID_FIELD, DEFAULT_SITE_FIELD, DEFAULT_TEXT_FIELD
from dedup.io.writers import JsonlWriter, check_output
from dedup.sketch.minhash import DEFAULT_NUM_PERM, DEFAULT_SEED
from dedup.steps import STEPS
from dedup.steps.neardup import (
    DEFAULT_CONTAINMENT,
    DEFAULT_THRESHOLD,
    NearDuplicates,
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
Workers = Annotated[
    int, typer.Option("--workers", "-w", help="Processes to use (0 = all cores); same output")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors")]
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


def _reader(path: str, text_field: str, id_field: str, site_field: str, on_error: str):
    if on_error not in ON_ERROR:
        _fail(f"--on-error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    reader = RecordReader(
        path, text_field=text_field, id_field=id_field, site_field=site_field, on_error=on_error
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
    )


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
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Write the near-duplicate cluster of every document: {"id", "cluster", "similarity"}.

    "cluster" is the id of the document the cluster keeps; "similarity" is the Jaccard
    similarity of the document's content shingles to the keeper's (1.0 for keepers).

    Example: dedup clusters pages.jsonl -o clusters.jsonl
    """
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
        ).fit(reader)
        with JsonlWriter(output) as out:
            for row in nd.cluster_rows():
                out.write(row)
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
        typer.Option(help="Audit record of every removal [default: OUTPUT.removals.jsonl]"),
    ] = None,
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
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Write the kept documents, all fields, with "text" cleaned; record every removal.

    Each line of the removals record says, for one document, whether it was dropped (with
    its keeper and similarity) and which character spans of its text were removed and why.

    Example: dedup clean corpus/sample.jsonl -o clean.jsonl
    """
    say = _say(quiet)
    start = time.perf_counter()
    names = [s.strip() for s in steps.split(",") if s.strip()]
    audit_path = removals or output.with_name(output.name.split(".")[0] + ".removals.jsonl")
    kept = dropped = spans = 0
    with _user_errors(), _rereadable(input) as path:
        check_output(output, force=force, inputs=(input,))
        check_output(audit_path, force=force, inputs=(input,))
        if audit_path.resolve() == output.resolve():
            _fail("--removals must differ from --output")
        reader = _reader(path, text_field, id_field, site_field, on_error)
        built: list[Any] = []
        for name in names:
            if name == NearDuplicates.name:
                built.append(
                    _neardup(
                        threshold=threshold,
                        containment=containment,
                        ngram=ngram,
                        char=char,
                        num_perm=num_perm,
                        seed=seed,
                        workers=workers,
                    )
                )
            else:
                built.append(name)
        cleaner = Cleaner(steps=built).fit(reader)
        with JsonlWriter(output) as out, JsonlWriter(audit_path) as audit:
            for result in cleaner.transform(reader):
                if result.kept:
                    out.write(result.output_fields(text_field))
                    kept += 1
                else:
                    dropped += 1
                spans += len(result.removals)
                if result.drop is not None or result.removals:
                    audit.write(result.audit())
    seconds = time.perf_counter() - start
    skipped = len(reader.stats.skipped)
    say(
        f"dedup clean: {kept + dropped} documents read, {kept} kept, {dropped} dropped as "
        f"near-duplicates, {spans} spans removed, {skipped} lines skipped ({seconds:.1f} s)\n"
        f"  output:   {output}\n  removals: {audit_path}"
    )
