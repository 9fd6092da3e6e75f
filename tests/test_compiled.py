"""The compiled loops compute exactly what the numpy code computes: same hashes, same order."""

from unittest.mock import patch

import numpy as np
import pytest
from conftest import assert_same_batch, read_jsonl, shared
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dedup import compiled
from dedup.sketch.common import SiteKeys, is_member, set_fingerprints
from dedup.sketch.minhash import EMPTY, _densify, oph_signatures
from dedup.text.hashing import salted, splitmix64
from dedup.text.shingle import ShingleBatch, shingle_sets, shingles_and_numbers

pytestmark = pytest.mark.skipif(
    not compiled.available(), reason="the compiled loops were not built (no C compiler)"
)

# Letters of several scripts and cases, digits, ASCII and Unicode punctuation and spaces
# (curly quotes, dashes, no-break space, ellipsis), a replacement-prone lone surrogate.
ALPHABET = "aZqÉéİßΣσ ,.\n09-’“”—\u00a0…\u2028ﬁ\ud800"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=60), min_size=1, max_size=8), st.integers(1, 8))
def test_word_sets_match_the_numpy_shingles(texts, n):
    sets, numbers = shingle_sets(texts, ngram=n)
    shingles, reference_numbers = shingles_and_numbers(texts, ngram=n)
    assert_same_batch(sets, shingles.unique())
    assert_same_batch(numbers, reference_numbers)


def test_word_sets_match_the_numpy_path_of_shingle_sets():
    texts = ["Mr. Smith’s 3 DOGS — and 42 cats…", "", "ünïcödé ΣΟΦΙΑ text"]
    with compiled.switched(False):
        numpy_sets, numpy_numbers = shingle_sets(texts, ngram=2)
    sets, numbers = shingle_sets(texts, ngram=2)
    assert_same_batch(sets, numpy_sets)
    assert_same_batch(numbers, numpy_numbers)


def test_word_sets_match_the_numpy_shingles_on_real_pages(seed_texts):
    docs = read_jsonl(shared("boilerplate", "dev.jsonl"))
    texts = [d["text"] for d in docs[:400]] + list(seed_texts.values()) + ["", "   ", "x"]
    sets, numbers = shingle_sets(texts)
    shingles, reference_numbers = shingles_and_numbers(texts)
    assert_same_batch(sets, shingles.unique())
    assert_same_batch(numbers, reference_numbers)
    assert sets.n_docs == len(texts) and len(sets.doc(len(texts) - 1)) == 1


def test_word_sets_reject_n_grams_the_hashing_cannot_order():
    import pytest

    with pytest.raises(ValueError, match="n-gram size"):
        shingle_sets(["a b c"], ngram=9)


def numpy_oph_minima(batch: ShingleBatch, num_perm: int, salt: np.uint64) -> np.ndarray:
    """The unbuffered-minimum formulation the compiled loop replaces."""
    out = np.full((batch.n_docs, num_perm), EMPTY, dtype=np.uint32)
    x = splitmix64(batch.hashes ^ salt)
    bins = ((x >> np.uint64(32)) * np.uint64(num_perm)) >> np.uint64(32)
    values = (x & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    np.minimum.at(out.ravel(), batch.doc_ids() * num_perm + bins.astype(np.int64), values)
    return out


hash_lists = st.lists(
    st.lists(st.integers(0, 2**64 - 1), max_size=40).map(lambda v: np.array(v, np.uint64)),
    min_size=1,
    max_size=6,
)


def batch_of(docs: list[np.ndarray]) -> ShingleBatch:
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=offsets[1:])
    return ShingleBatch(np.concatenate([np.empty(0, np.uint64), *docs]), offsets)


@settings(max_examples=100, deadline=None)
@given(hash_lists, st.sampled_from([1, 7, 64, 128]), st.integers(0, 2**20))
def test_one_permutation_signatures_match_numpy(docs, num_perm, seed):
    from dedup.compiled import oph_minima

    batch = batch_of(docs)
    salt = np.uint64(np.random.default_rng(seed).integers(0, 2**63))
    got = oph_minima(batch.hashes, batch.offsets, salt, num_perm)  # densified in the loop
    filled = np.diff(batch.offsets) > 0
    assert (got == _densify(numpy_oph_minima(batch, num_perm, salt), filled)).all()
    sig = oph_signatures(batch, num_perm, seed)
    with compiled.switched(False):
        assert (oph_signatures(batch, num_perm, seed) == sig).all()
    empty = np.diff(batch.offsets) == 0
    assert (sig[empty] == EMPTY).all()
    assert not (sig[~empty] == EMPTY).any()  # densified: no empty bin left in a filled row


@settings(max_examples=100, deadline=None)
@given(hash_lists)
def test_set_fingerprints_match_a_numpy_sum(docs):
    batch = batch_of(docs)
    sums = np.array(
        [splitmix64(d).sum(dtype=np.uint64) if len(d) else 0 for d in docs], dtype=np.uint64
    )
    expected = splitmix64(sums ^ np.diff(batch.offsets).astype(np.uint64))
    assert set_fingerprints(batch).tolist() == expected.tolist()
    with compiled.switched(False):
        assert set_fingerprints(batch).tolist() == expected.tolist()


@settings(max_examples=100, deadline=None)
@given(hash_lists, st.data())
def test_site_key_membership_matches_is_member(docs, data):
    batch = batch_of(docs)
    site = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(docs), max_size=len(docs))))
    keys = salted(batch.hashes, site[batch.doc_ids()])
    chosen = data.draw(st.lists(st.sampled_from(keys.tolist()), max_size=10)) if len(keys) else []
    others = data.draw(st.lists(st.integers(0, 2**64 - 1), max_size=10))
    table = np.unique(np.array(chosen + others, dtype=np.uint64))
    expected = is_member(keys, table)
    for flag in (True, False):
        with compiled.switched(flag):
            found, counts = SiteKeys(table).members(batch, site)
        assert found.tolist() == expected.tolist()
        want = np.bincount(batch.doc_ids()[expected], minlength=len(docs))
        assert counts.tolist() == want.tolist()


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.sampled_from([1, 7, 64, 128]), st.data())
def test_pair_equal_slots_count_what_numpy_counts(n, num_perm, data):
    from dedup.compiled import pair_equal_slots

    rng = np.random.default_rng(data.draw(st.integers(0, 2**32)))
    sigs = rng.integers(0, 4, (n, num_perm), dtype=np.uint32)  # few values: many slots agree
    pairs = rng.integers(0, n, (data.draw(st.integers(0, 50)), 2))
    expected = np.count_nonzero(sigs[pairs[:, 0]] == sigs[pairs[:, 1]], axis=1)
    assert pair_equal_slots(sigs, pairs).tolist() == expected.tolist()
    with pytest.raises(ValueError, match="names no signature"):
        pair_equal_slots(sigs, np.array([[0, n]]))


def test_numpy_and_compiled_paths_give_the_same_clusters_on_the_dev_set():
    from dedup.steps.neardup import NearDuplicates

    docs = read_jsonl(shared("neardup", "dev.jsonl"))
    fast = NearDuplicates().fit(docs)
    with compiled.switched(False):
        plain = NearDuplicates().fit(docs)
    assert list(plain.cluster_rows()) == list(fast.cluster_rows())
    assert (plain.signatures_ == fast.signatures_).all()
    assert (plain.pairs_ == fast.pairs_).all()


@settings(max_examples=100, deadline=None)
@given(
    st.data(),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 40),
    st.integers(1, 1000),
)
def test_band_buckets_give_the_pairs_of_sorted_band_keys(
    data, bands, rows, workers, group, key_bytes
):
    from dedup.sketch.lsh import FLIP_SALT, band_keys, banded_candidates, candidate_pairs

    n = data.draw(st.integers(0, 30))
    # Few distinct values, so documents often share a band's rows.
    values = data.draw(
        st.lists(st.integers(0, 2), min_size=n * bands * rows, max_size=n * bands * rows)
    )
    sigs = np.array(values, dtype=np.uint32).reshape(n, bands * rows)
    valid = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    flip = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    keys = band_keys(sigs, bands, rows)
    keys[flip] ^= FLIP_SALT
    expected = candidate_pairs(keys, valid)
    # Groups of band keys as small as one document, up to all of them in one group; the keys
    # of one band up to all of them computed in one pass.
    for flag in (True, False):
        with (
            compiled.switched(flag),
            patch.object(compiled, "BAND_GROUP_DOCS", group),
            patch.object(compiled, "BAND_KEY_BYTES", key_bytes),
        ):
            got = banded_candidates(sigs, bands, rows, valid=valid, flip=flip, workers=workers)
        assert got.tolist() == expected.tolist()
    for a, b in expected.tolist():  # each pair shares a bucket: same rows and same kind
        assert a < b and valid[a] and valid[b] and flip[a] == flip[b]
        assert (keys[a] == keys[b]).any()


# Characters whose lower case changes length (İ, Kelvin sign, ẞ, Ⱥ), depends on context (Σ),
# lies above U+FFFF (Deseret), or is a title case (ǅ); beside common accented letters.
CASES = "aZ É é İ \u212a \u2126 ẞ Ⱥ ΣΑΣ Σ σ Дд ǅ Ა 𐐀 𐐨 ß ﬁ \ud800 09"


@settings(max_examples=200, deadline=None)
@example(["ΟΔΟΣ Α", "İstanbul", "\u212aelvin 𐐀", "Ⱥ ẞ Ω", "plain ascii", ""])
@given(
    st.lists(
        st.one_of(st.text(alphabet=CASES, max_size=40), st.text(max_size=40)),
        min_size=1,
        max_size=6,
    )
)
def test_multibyte_lower_case_is_str_lower(texts):
    from dedup.text.casefold import lower_multibyte
    from dedup.text.tokenize import _ASCII_LOWER, encode_batch

    ref = encode_batch(texts)  # str.lower, then the ASCII table
    got = lower_multibyte(encode_batch(texts, fold_ascii=False))
    assert _ASCII_LOWER[got.data].tobytes() == ref.data.tobytes()
    assert got.starts.tolist() == ref.starts.tolist() and got.ends.tolist() == ref.ends.tolist()
    # a batch lowered once (as the reading process sends them) is not folded again
    assert got.lowered and lower_multibyte(got) is got


@settings(max_examples=100, deadline=None)
@given(hash_lists, st.data())
def test_dropping_marked_entries_matches_select(docs, data):
    batch = batch_of(docs)
    n = len(batch.hashes)
    marked = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    mode = np.array(data.draw(st.lists(st.booleans(), min_size=len(docs), max_size=len(docs))))
    expected = batch.select(~(marked & np.repeat(mode, np.diff(batch.offsets))))
    hashes, offsets = compiled.drop_marked(batch.hashes, batch.offsets, marked, mode)
    assert_same_batch(ShingleBatch(hashes, offsets), expected)


@settings(max_examples=100, deadline=None)
@given(hash_lists, st.data(), st.floats(0.0, 1.0), st.integers(0, 1000))
def test_heavy_keys_group_the_heavy_entries_by_partition_in_entry_order(docs, data, share, lo):
    from dedup.steps.neardup import _BUCKET_BITS, _PARTITION_BITS, _heavy_entries

    batch = batch_of(docs)
    site = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(docs), max_size=len(docs))))
    heavy = np.random.default_rng(lo).random(1 << _BUCKET_BITS) < share
    # Written out entry by entry: each partition's (key, document) pairs in entry order.
    keys = salted(batch.hashes, site[batch.doc_ids()]).tolist()
    by_part: list[list[tuple[int, int]]] = [[] for _ in range(1 << _PARTITION_BITS)]
    for key, doc in zip(keys, batch.doc_ids().tolist(), strict=True):
        if heavy[key >> (64 - _BUCKET_BITS)]:
            by_part[key >> (64 - _PARTITION_BITS)].append((key, lo + doc))
    want = [pair for part in by_part for pair in part]
    for flag in (True, False):
        with compiled.switched(flag):
            got_keys, got_docs, counts = _heavy_entries(batch, site, lo, heavy)
        assert got_docs.dtype == np.int32
        assert list(zip(got_keys.tolist(), got_docs.tolist(), strict=True)) == want
        assert counts.tolist() == [len(part) for part in by_part]


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 30), st.data())
def test_guarded_components_match_the_python_loop(n, data):
    from dedup.sketch.cluster import guarded_components, signature_links

    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    m = data.draw(st.integers(0, 3 * n))
    pairs = rng.integers(0, n, size=(m, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    # Few distinct slot values: signatures agree in many slots, so both outcomes occur.
    sigs = rng.integers(0, 3, size=(n, 8)).astype(np.uint32)
    sizes = rng.integers(0, 50, size=n)
    key = rng.integers(0, 4, size=n).astype(np.uint64)  # ties: broken by index
    rank = rng.permutation(len(pairs))
    rules = {
        "threshold": data.draw(st.sampled_from([0.3, 0.5, 0.875, 1.0])),
        "containment": data.draw(st.sampled_from([0.5, 0.7, 2.0])),
    }
    min_link = data.draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    sample = data.draw(st.integers(1, 5))
    order_of = np.empty(len(rank), dtype=np.int64)
    order_of[rank] = np.arange(len(rank))
    linked = signature_links(sigs, sizes, **rules)
    want = guarded_components(
        n, pairs, order_of, linked, min_link=min_link, member_key=key, sample=sample
    )
    got = compiled.guarded_components(
        pairs, rank, sigs, sizes, min_link=min_link, member_key=key, sample=sample, **rules
    )
    assert got.tolist() == want.tolist()
    # Judged ahead on threads, a few pairs at a time: verdicts out of date are judged again.
    ahead = compiled.guarded_components(
        pairs,
        rank,
        sigs,
        sizes,
        min_link=min_link,
        member_key=key,
        sample=sample,
        workers=data.draw(st.integers(2, 4)),
        window=data.draw(st.integers(1, 6)),
        **rules,
    )
    assert ahead.tolist() == want.tolist()
