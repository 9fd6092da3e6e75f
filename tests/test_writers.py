"""Column-wise JSONL output gives the bytes of row-wise output."""

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dedup.io.writers import JsonlWriter, encode_values

ids = st.one_of(st.text(max_size=12), st.integers(-(2**70), 2**70))
sims = st.floats(0, 1).map(lambda x: round(x, 4))


@settings(max_examples=60, deadline=None)
@example([('\x00\x1f\x7f"\\/\u2028é😀', "a},{b", 0.5), (2**70, -1, 1.0)], 1)
@given(st.lists(st.tuples(ids, ids, sims), max_size=30), st.integers(1, 7))
def test_columns_write_the_bytes_of_rows(tmp_path_factory, rows, block):
    folder = tmp_path_factory.mktemp("out")
    keys = ("id", "cluster", "100% similar")  # a key with a per cent sign
    with JsonlWriter(folder / "rows.jsonl") as out:
        for row in rows:
            out.write(dict(zip(keys, row, strict=True)))
    columns = {k: encode_values([row[i] for row in rows]) for i, k in enumerate(keys)}
    with JsonlWriter(folder / "columns.jsonl") as out:
        out.write_columns(columns, block=block)
        assert out.count == len(rows)
    written = (folder / "columns.jsonl").read_bytes()
    assert written == (folder / "rows.jsonl").read_bytes()
    parsed = [json.loads(line) for line in written.split(b"\n")[:-1]]  # not at U+2028
    assert parsed == [dict(zip(keys, row, strict=True)) for row in rows]
