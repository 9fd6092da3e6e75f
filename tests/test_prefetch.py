"""Reading the input in a second process (two or more workers) changes nothing users see."""

import json

import pytest
from conftest import SAMPLE, shared
from test_neardup import DEV_CLUSTERS_SHA256, _rows_digest

from dedup import NearDuplicates, compiled
from dedup.errors import InputError
from dedup.io.prefetch import can_prefetch
from dedup.io.readers import RecordReader

pytestmark = pytest.mark.skipif(
    not compiled.available(), reason="the second process feeds the compiled loops (not built)"
)


def test_dev_set_clusters_are_the_same_when_read_by_a_second_process():
    path = shared("neardup", "dev.jsonl")
    with compiled.switched(True):
        one = NearDuplicates(n_jobs=1).fit(RecordReader(path))
        reader = RecordReader(path)
        two = NearDuplicates(n_jobs=2).fit(reader)
    assert two.prefetched_ and not one.prefetched_
    assert _rows_digest(two) == DEV_CLUSTERS_SHA256
    assert list(two.cluster_rows()) == list(one.cluster_rows())
    assert (two.signatures_ == one.signatures_).all()
    assert reader.stats.documents == len(two.ids_) and reader.stats.skipped == []


def test_non_ascii_text_is_lower_cased_once_by_the_second_process(tmp_path):
    # Upper-case copies of the same texts, in scripts whose case the compiled table folds and
    # in the ones it leaves to str.lower (dotted I, final sigma, astral letters)
    words = ["ΟΔΟΣ", "İSTANBUL", "ÇAĞ", "ПРИВЕТ", "МИР", "𐐀𐐁", "ẞ", "straße", "Ωmega"]
    src = tmp_path / "in.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(40):
            text = " ".join(words[(i * 7 + j) % len(words)] + str(j % 5) for j in range(60))
            for k, variant in enumerate((text, text.lower(), text.title())):
                fh.write(json.dumps({"id": f"{i}-{k}", "text": variant}))
                fh.write("\n")
    with compiled.switched(True):
        one = NearDuplicates(n_jobs=1).fit(RecordReader(src))
        two = NearDuplicates(n_jobs=2).fit(RecordReader(src))
    assert two.prefetched_
    assert (two.signatures_ == one.signatures_).all()
    assert list(two.cluster_rows()) == list(one.cluster_rows())
    # case does not matter: each text's three variants are one cluster
    assert len(set(two.keepers_.tolist())) <= 40


def _corpus_with_problems(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    text = [json.dumps(d) for d in lines[:5]]
    text.insert(2, '{"id": "broken", "text": ')  # line 3
    text.append(json.dumps(lines[0]))  # line 7: the id of line 1 again
    src.write_text("\n".join(text) + "\n", encoding="utf-8")
    return src


def test_bad_lines_are_reported_with_their_line_by_the_second_process(tmp_path):
    src = _corpus_with_problems(tmp_path)
    with compiled.switched(True), pytest.raises(InputError, match=rf"^{src}:3: malformed JSON"):
        NearDuplicates(n_jobs=2).fit(RecordReader(src))


def test_skipped_lines_are_counted_by_the_second_process(tmp_path):
    src = _corpus_with_problems(tmp_path)
    with compiled.switched(True):
        reader = RecordReader(src, on_error="skip")
        nd = NearDuplicates(n_jobs=2).fit(reader)
        inline = RecordReader(src, on_error="skip")
        ref = NearDuplicates(n_jobs=1).fit(inline)
    assert nd.prefetched_
    assert [s["where"] for s in reader.stats.skipped] == [f"{src}:3", f"{src}:7"]
    assert reader.stats.skipped == inline.stats.skipped
    assert reader.stats.documents == 5 and nd.ids_ == ref.ids_
    assert list(nd.cluster_rows()) == list(ref.cluster_rows())


def test_standard_input_lists_and_one_worker_are_read_in_process(sample_docs):
    assert can_prefetch(RecordReader(SAMPLE))
    assert not can_prefetch(RecordReader("-")) and not can_prefetch(sample_docs)
    with compiled.switched(True):
        assert not NearDuplicates(n_jobs=2).fit(sample_docs).prefetched_
        assert not NearDuplicates(n_jobs=1).fit(RecordReader(SAMPLE)).prefetched_
    with compiled.switched(False):  # the numpy shingler encodes the texts itself
        assert not NearDuplicates(n_jobs=2).fit(RecordReader(SAMPLE)).prefetched_


def test_batch_bytes_cross_the_pipe_whole_however_the_reads_split_them():
    import os
    import threading

    import numpy as np

    from dedup.io.prefetch import _read_into, _write_all

    data = np.random.default_rng(0).integers(0, 256, 9 << 20, dtype=np.uint8)  # > the pipe
    receive, send = os.pipe()
    writer = threading.Thread(target=lambda: (_write_all(send, data), os.close(send)))
    writer.start()
    got = np.empty(len(data), np.uint8)
    _read_into(receive, got)
    writer.join()
    assert (got == data).all()
    with pytest.raises(EOFError):  # the writer is gone: a short batch is an error, not zeros
        _read_into(receive, np.empty(1, np.uint8))
    os.close(receive)


def _small_ring_batches(monkeypatch):
    """A 32 KB ring and 6,000-character batches of the sample: they wrap around the ring's
    end, some are over a quarter of it (those go on the pipe), and they hold four rings."""
    from dedup.io import prefetch
    from dedup.io.records import batched
    from dedup.text.casefold import lower_multibyte
    from dedup.text.tokenize import encode_batch

    ring, max_chars = 32 << 10, 6000
    monkeypatch.setattr(prefetch, "_RING_BYTES", ring)
    expected = [
        (chunk, lower_multibyte(encode_batch([r.text for r in chunk], fold_ascii=False)))
        for chunk in batched(RecordReader(SAMPLE), max_chars)
    ]
    sizes = [len(text.data) for _, text in expected]
    assert min(sizes) <= ring // 4 < max(sizes) and sum(sizes) > 4 * ring
    return ring, max_chars, expected


def _same_batch(got, chunk, ref) -> None:
    ids, sites, text = got
    assert ids == [r.id for r in chunk] and sites == [r.site for r in chunk]
    assert text.lowered and text.data.tobytes() == ref.data.tobytes()
    assert text.starts.tolist() == ref.starts.tolist()
    assert text.ends.tolist() == ref.ends.tolist()


def test_batches_are_read_in_the_ring_whole_as_it_wraps_and_is_let_go(monkeypatch):
    # The consumer lets go of each batch before the next, and is slow at the start (the
    # child fills the ring and waits meanwhile). Every batch must arrive as encoded in
    # process; those that fit are read in the ring itself (no copy), its space reused.
    import time

    from dedup.io import prefetch

    ring, max_chars, expected = _small_ring_batches(monkeypatch)
    in_ring = 0
    with prefetch.Prefetch(RecordReader(SAMPLE), max_chars) as source:
        batches = iter(source)
        for i, (chunk, ref) in enumerate(expected):
            got = next(batches)
            if i < 3:
                time.sleep(0.2)
            _same_batch(got, chunk, ref)
            in_ring += isinstance(got[2].data.base, prefetch._Slot)
            assert isinstance(got[2].data.base, prefetch._Slot) == (len(ref.data) <= ring // 4)
            del got
        assert next(batches, None) is None
    assert in_ring == sum(len(ref.data) <= ring // 4 for _, ref in expected)


def test_a_consumer_that_keeps_its_batches_gets_them_all_through_the_pipe(monkeypatch):
    # Kept batches hold the ring: the child waits a while for space, then sends the rest
    # on the pipe instead of waiting for ever.
    from dedup.io import prefetch

    monkeypatch.setattr(prefetch, "_RING_WAIT", 0.05)
    ring, max_chars, expected = _small_ring_batches(monkeypatch)
    with prefetch.Prefetch(RecordReader(SAMPLE), max_chars) as source:
        kept = list(source)
    assert len(kept) == len(expected)
    for got, (chunk, ref) in zip(kept, expected, strict=True):
        _same_batch(got, chunk, ref)
    assert not all(isinstance(text.data.base, prefetch._Slot) for _, _, text in kept)
    assert any(isinstance(text.data.base, prefetch._Slot) for _, _, text in kept)
