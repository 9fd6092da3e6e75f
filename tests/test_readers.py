import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import InputError, RecordReader


def write_lines(path, lines: list[bytes]):
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_jsonl_fields_and_site_fallback_to_url_host(tmp_path):
    path = write_lines(
        tmp_path / "a.jsonl",
        [
            json.dumps({"id": "x", "text": "t", "url": "https://www.example.com/a"}).encode(),
            json.dumps({"id": "y", "text": "u", "site": "s.org"}).encode(),
            json.dumps({"text": "no id"}).encode(),
        ],
    )
    records = list(RecordReader(path))
    assert [r.site for r in records] == ["example.com", "s.org", None]
    assert records[2].id == "3"  # the line number when there is no id


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl(tmp_path, suffix):
    data = b"".join(json.dumps({"id": i, "text": f"doc {i}"}).encode() + b"\n" for i in range(5))
    path = tmp_path / f"in{suffix}"
    if suffix.endswith("gz"):
        path.write_bytes(gzip.compress(data))
    else:
        import zstandard

        path.write_bytes(zstandard.ZstdCompressor().compress(data))
    assert [r.text for r in RecordReader(path)] == [f"doc {i}" for i in range(5)]


def test_directory_of_text_files_uses_relative_paths_as_ids(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text("second", encoding="utf-8")
    (tmp_path / "skip.bin").write_bytes(b"\x00")
    assert [(r.id, r.text) for r in RecordReader(tmp_path)] == [
        ("a.txt", "first"),
        ("sub/b.txt", "second"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json", "a.jsonl:2: malformed JSON"),
        (b'{"id": "b"}', "a.jsonl:2: no 'text' field"),
        (b'{"id": "b", "text": 5}', "a.jsonl:2: field 'text' is int"),
        (b'{"id": "b", "text": "caf\xe9"}', "a.jsonl:2: not valid UTF-8"),
        (b'["a list"]', "a.jsonl:2: expected a JSON object"),
        (b'{"id": "a", "text": "again"}', "a.jsonl:2: duplicate id 'a'"),
    ],
)
def test_bad_lines_name_file_and_line_or_are_skipped_and_counted(tmp_path, line, message):
    path = write_lines(
        tmp_path / "a.jsonl", [b'{"id": "a", "text": "ok"}', line, b'{"id": "c", "text": "fine"}']
    )
    with pytest.raises(InputError, match=message.replace("(", r"\(")) as err:
        list(RecordReader(path))
    assert "\n" not in str(err.value)
    reader = RecordReader(path, on_error="skip")
    assert [r.id for r in reader] == ["a", "c"]
    assert len(reader.stats.skipped) == 1 and reader.stats.skipped[0]["where"].endswith(":2")


def test_empty_document_is_kept_not_dropped(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [b'{"id": "e", "text": ""}'])
    assert [r.text for r in RecordReader(path)] == [""]


def test_missing_input(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(RecordReader(tmp_path / "nope.jsonl"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=60),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(),
                lambda c: st.lists(c) | st.dictionaries(st.text(), c),
                max_leaves=8,
            ).map(lambda v: json.dumps(v).encode()),
        ),
        max_size=6,
    )
)
def test_random_bytes_give_records_or_a_clean_error(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    write_lines(path, [line.replace(b"\n", b" ") for line in lines])
    try:
        records = list(RecordReader(path))
    except InputError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert all(isinstance(r.text, str) for r in records)
    reader = RecordReader(path, on_error="skip")
    kept = list(reader)
    nonblank = sum(1 for line in lines if line.replace(b"\n", b" ").strip())
    assert len(kept) + len(reader.stats.skipped) == nonblank


def test_lines_the_fast_parser_refuses_read_as_python_json_does(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "lone \\ud800 surrogate"}\n'
        b'{"id": "b", "text": "big number", "n": 123456789012345678901234567890}\n'
        b'{"id": "c", "text": "not a number", "x": NaN}\n'
    )
    records = list(RecordReader(path))
    assert [r.id for r in records] == ["a", "b", "c"]
    assert records[0].text == "lone \ud800 surrogate"
    assert records[1].fields["n"] == 123456789012345678901234567890
