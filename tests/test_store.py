from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import numpy as np
import pytest
from conftest import assert_same_batch
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import compiled
from dedup.sketch import store
from dedup.sketch.common import common_keys, common_mask, distinct_sets, is_member, site_limits
from dedup.sketch.lsh import band_keys, banded_candidates, candidate_pairs
from dedup.sketch.store import (
    Budget,
    GrowingRows,
    PartitionSpools,
    SetStore,
    Spool,
    parse_memory,
)
from dedup.text.hashing import salted
from dedup.text.shingle import ShingleBatch, shingle_batch


def test_parse_memory():
    assert parse_memory("1G") == 1 << 30
    assert parse_memory("512m") == 512 << 20
    assert parse_memory("1.5GB") == 3 << 29
    assert parse_memory(1000) == 1000
    assert parse_memory(None) is None
    with pytest.raises(ValueError):
        parse_memory("a lot")


@pytest.mark.parametrize("limit", [None, 0, 3000])
def test_spool_reads_back_what_was_appended(tmp_path, limit):
    rng = np.random.default_rng(0)
    budget = Budget(limit, tmp_path)
    spool = Spool(budget, "x", np.uint64)
    parts = [
        rng.integers(0, 2**63, size=int(rng.integers(0, 300)), dtype=np.uint64) for _ in range(40)
    ]
    for p in parts:
        spool.append(p)
    spool.finish()
    whole = np.concatenate(parts)
    assert (np.concatenate(list(spool.chunks())) == whole).all()
    for lo, hi in [(0, len(whole)), (5, 17), (100, 2000), (len(whole) - 3, len(whole))]:
        assert (spool.read(lo, hi) == whole[lo:hi]).all()
    assert (budget.spilled > 0) == (limit is not None and limit < whole.nbytes)
    spool.close()
    budget.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("aside", [False, True])
def test_work_files_have_no_name_and_are_closed_when_released(tmp_path, aside):
    # A killed run leaves no file: the spilled data is reachable by its descriptor only.
    import threading

    budget = Budget(0, tmp_path, release_aside=aside)
    spool = Spool(budget, "x", np.uint32, flush_bytes=64)
    data = np.arange(10_000, dtype=np.uint32)
    spool.append(data)
    spool.finish()
    assert spool.on_disk and budget.spilled == data.nbytes
    (workdir,) = tmp_path.iterdir()
    assert list(workdir.iterdir()) == []
    assert (spool.read(17, 9_000) == data[17:9_000]).all()
    file = spool._file
    spool.close()
    assert file.closed != aside  # set aside: closed once the directory is gone
    budget.close()
    assert list(tmp_path.iterdir()) == []
    for thread in threading.enumerate():  # the releasing thread, if any
        if thread.name == "dedup-release":
            thread.join()
    assert file.closed


def spool_and_runs(tmp_path_factory, sizes, limit, flush, data):
    """A spool of appends of ``sizes`` entries (past ``limit`` bytes on disk) and drawn runs
    over it: ``(budget, spool, its entries, run starts, run counts)``."""
    budget = Budget(limit, tmp_path_factory.mktemp("spool"))
    spool = Spool(budget, "x", np.uint64, flush_bytes=flush)
    whole = np.arange(sum(sizes), dtype=np.uint64) * np.uint64(2654435761)
    lo = 0
    for n in sizes:
        spool.append(whole[lo : lo + n])
        lo += n
    spool.finish()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(whole)), max_size=30)))
    starts, counts = np.array(cuts[0::2], np.int64), np.diff(cuts)[0::2].astype(np.int64)
    return budget, spool, whole, starts[: len(counts)], counts


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 120), min_size=1, max_size=25),
    limit=st.sampled_from([None, 0, 800, 4000]),
    flush=st.sampled_from([64, 1 << 20]),
    data=st.data(),
)
def test_take_runs_matches_slicing(tmp_path_factory, sizes, limit, flush, data):
    """Any ascending, non-overlapping runs, also across chunk and memory/disk boundaries."""
    budget, spool, whole, starts, counts = spool_and_runs(
        tmp_path_factory, sizes, limit, flush, data
    )
    want = [whole[s : s + c] for s, c in zip(starts, counts, strict=True)]
    for flag in {compiled.available(), False}:  # the compiled copy and numpy's gather
        with compiled.switched(flag):
            got = spool.take_runs(starts, counts)
        assert got.tolist() == np.concatenate([np.empty(0, np.uint64), *want]).tolist()
    # Located instead: the runs in memory are read where they are, the others copied out.
    arrays, part, at = spool.locate_runs(starts, counts)
    for k, (c, w) in enumerate(zip(counts.tolist(), want, strict=True)):
        assert arrays[part[k]][at[k] : at[k] + c].tolist() == w.tolist()
    chunks = [arr for _, _, arr in spool._chunks if arr is not None]
    copied = [a for a in arrays if not any(a is chunk for chunk in chunks)]
    assert len(copied) <= 1  # one array for every run read from disk or over a chunk edge
    spool.close()
    budget.close()


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 120), min_size=1, max_size=25),
    limit=st.sampled_from([None, 0, 800, 4000]),
    flush=st.sampled_from([64, 1 << 20]),
    fast=st.sampled_from(sorted({compiled.available(), False})),
    data=st.data(),
)
def test_put_runs_writes_over_exactly_those_entries(
    tmp_path_factory, sizes, limit, flush, fast, data
):
    """Runs in memory, on disk and across chunk edges; every other entry stays as it was."""
    budget, spool, whole, starts, counts = spool_and_runs(
        tmp_path_factory, sizes, limit, flush, data
    )
    values = ~np.arange(int(counts.sum()), dtype=np.uint64)  # none of them is in ``whole``
    want = whole.copy()
    at = 0
    for start, count in zip(starts.tolist(), counts.tolist(), strict=True):
        want[start : start + count] = values[at : at + count]
        at += count
    with compiled.switched(fast):
        spool.put_runs(starts, counts, values)
    assert spool.take_runs([0], [len(whole)]).tolist() == want.tolist()
    with pytest.raises(ValueError, match="as many values"):
        spool.put_runs(starts, counts, np.append(values, np.uint64(1)))
    spool.close()
    budget.close()


@pytest.mark.parametrize("limit", [None, 0, 50_000, 1 << 30])
@pytest.mark.parametrize("threads", [1, 3])
def test_partition_spools_give_back_every_entry_of_every_thread(tmp_path, limit, threads):
    rng = np.random.default_rng(threads)
    n_parts = 8
    batches = []
    for _ in range(40):
        counts = rng.integers(0, 300, n_parts)
        keys = rng.integers(0, 2**64, counts.sum(), dtype=np.uint64)
        docs = rng.integers(0, 2**31, counts.sum()).astype(np.int32)
        batches.append((keys, docs, counts))
    parts = PartitionSpools(Budget(limit, tmp_path), "k", n_parts, flush_bytes=4096)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda batch: parts.append(*batch), batches))
    for p in range(n_parts):
        want = sorted(
            (int(k), int(d))
            for keys, docs, counts in batches
            for k, d in zip(
                keys[counts[:p].sum() : counts[: p + 1].sum()],
                docs[counts[:p].sum() : counts[: p + 1].sum()],
                strict=True,
            )
        )
        keys, docs = parts.take(p)
        assert docs.dtype == np.int32
        assert sorted(zip(keys.tolist(), docs.tolist(), strict=True)) == want
    assert parts.sizes().tolist() == sum(counts for _, _, counts in batches).tolist()
    # A span of neighbouring partitions comes back as the partitions one by one do.
    for lo, hi in [(0, n_parts), (2, 6), (5, 6)]:
        keys, docs = parts.take(lo, hi)
        one_by_one = [parts.take(p) for p in range(lo, hi)]
        assert sorted(zip(keys.tolist(), docs.tolist(), strict=True)) == sorted(
            (k, d) for ks, ds in one_by_one for k, d in zip(ks.tolist(), ds.tolist(), strict=True)
        )
    parts.close()
    if limit is not None and parts.budget.spilled == 0:  # the memory is the budget's again
        assert parts.budget.left == limit


@pytest.mark.parametrize("limit", [None, 0, 20000])
@pytest.mark.parametrize("fast", [True, False])  # positioned reads in the compiled loop or not
def test_set_store_gathers_documents(tmp_path, limit, fast):
    with compiled.switched(fast):
        _check_set_store(tmp_path, limit)


def _check_set_store(tmp_path, limit):
    texts = [
        f"document {i} " + " ".join(f"w{(i * 7 + j) % 50}" for j in range(i % 30))
        for i in range(200)
    ]
    budget = Budget(limit, tmp_path)
    store = SetStore(budget, "sets")
    batches = [shingle_batch(texts[i : i + 17]).unique() for i in range(0, 200, 17)]
    for b in batches:
        store.append(b)
    store.finish()
    ref = [b.doc(i) for b in batches for i in range(b.n_docs)]
    docs = np.array([0, 3, 4, 50, 51, 120, 199])
    got = store.gather(docs)
    for k, d in enumerate(docs):
        assert (got.doc(k) == ref[d]).all()
    assert_same_batch(store.view(docs).batch(), got)
    firsts = np.array([len(ref[d]) // 3 for d in docs])
    head = store.view(docs, firsts).batch()
    for k, d in enumerate(docs):
        assert (head.doc(k) == ref[d][: firsts[k]]).all()
    spans = list(store.spans())
    assert [hi - lo for lo, hi in spans] == [b.n_docs for b in batches]
    assert spans[0][0] == 0 and all(
        a[1] == b[0] for a, b in zip(spans[:-1], spans[1:], strict=True)
    )
    # Batches are read on worker threads at once: positioned reads, no shared file offset.
    with ThreadPoolExecutor(4) as pool:
        read = list(pool.map(lambda span: store.read_docs(*span), spans * 3))
    for (lo, hi), batch in zip(spans * 3, read, strict=True):
        assert batch.n_docs == hi - lo
        for i in range(batch.n_docs):
            assert (batch.doc(i) == ref[lo + i]).all()
    # Shorter sets written over the first entries (the last half, reversed): read back as the
    # first entries of the stored sets; the rest of each set and the other sets are as they were.
    heads = [ref[d][len(ref[d]) // 2 :][::-1] for d in docs]
    firsts = np.array([len(h) for h in heads])
    store.put(docs, ShingleBatch(np.concatenate(heads), np.r_[0, np.cumsum(firsts)]))
    head = store.view(docs, firsts).batch()
    for k, d in enumerate(docs):
        assert (head.doc(k) == heads[k]).all()
        assert (store.gather(docs).doc(k)[firsts[k] :] == ref[d][firsts[k] :]).all()
    assert (store.gather([1, 2]).doc(0) == ref[1]).all()
    with pytest.raises(ValueError, match="larger"):
        store.put(
            docs[:1], ShingleBatch(np.append(ref[0], ref[0][:1]), np.array([0, len(ref[0]) + 1]))
        )
    store.close()
    budget.close()


def test_common_keys_by_partition_match_common_mask():
    rng = np.random.default_rng(3)
    n = 300
    site = rng.integers(0, 4, size=n)
    vocab = rng.integers(0, 2**63, size=400, dtype=np.uint64)
    per_doc = [np.unique(rng.choice(vocab, size=c)) for c in rng.integers(0, 40, size=n)]
    offsets = np.concatenate(([0], np.cumsum([len(p) for p in per_doc])))
    hashes = np.concatenate(per_doc)
    sets = ShingleBatch(hashes, offsets)
    from dedup.sketch.common import set_fingerprints

    expected = common_mask(sets, site, fraction=0.05, min_docs=2, unknown_site=3)
    distinct = distinct_sets(set_fingerprints(sets), site)
    limit = site_limits(site, distinct, fraction=0.05, min_docs=2, unknown_site=3)
    doc = sets.doc_ids()
    keys = salted(sets.hashes, site[doc])
    top = keys >> np.uint64(62)
    found = np.concatenate(
        [common_keys(keys[top == p], doc[top == p], site, distinct, limit) for p in range(4)]
    )
    assert len(found) > 0
    assert (found[1:] > found[:-1]).all()
    assert (is_member(keys, found) == expected).all()


def test_banded_candidates_match_candidate_pairs():
    rng = np.random.default_rng(5)
    sigs = rng.integers(0, 4, size=(300, 24), dtype=np.uint32)
    valid = rng.random(300) > 0.1
    flip = rng.random(300) > 0.7
    keys = band_keys(sigs, 12, 2)
    keys[flip] ^= np.uint64(0x5DEECE66D)
    expected = candidate_pairs(keys, valid)
    got = banded_candidates(sigs, 12, 2, valid=valid, flip=flip, block_bytes=1)
    assert len(expected) > 0
    assert (got == expected).all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 3000), max_size=12), st.integers(1, 5), st.booleans())
def test_growing_rows_hold_the_rows_appended_in_order(sizes, width, remap):
    rng = np.random.default_rng(len(sizes))
    blocks = [rng.integers(0, 2**32, (n, width), dtype=np.uint32) for n in sizes]
    # Without remap: the path of systems without mremap (a new buffer and one copy).
    with patch.object(store, "_private_map", store._private_map if remap else bytearray):
        rows = GrowingRows(width, np.uint32)
        for block in blocks:
            rows.append(block)
        got = rows.finish()
    want = np.concatenate([np.empty((0, width), np.uint32), *blocks])
    assert got.dtype == np.uint32 and got.shape == want.shape
    assert np.array_equal(got, want)
    got[:] = 7  # the signatures are written again in place (content sketches)
    assert (got == 7).all()


def test_growing_rows_take_memory_only_for_rows_written():
    rows = GrowingRows(128, np.uint32)
    rows.append(np.ones((1000, 128), np.uint32))
    rows.append(np.ones((1000, 128), np.uint32))  # capacity doubles to 2048 rows
    got = rows.finish()
    assert got.shape == (2000, 128) and (got == 1).all()
    # ndarray.resize zero-filled each new half: the map is cut back to the rows written.
    owner = got
    while not isinstance(owner, memoryview):
        owner = owner.base
    assert len(owner.obj) == got.nbytes
