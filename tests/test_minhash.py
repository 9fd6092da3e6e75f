import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.sketch.minhash import (
    EMPTY,
    from_datasketch,
    jaccard_estimate,
    permutations,
    signatures,
    to_datasketch,
)
from dedup.text.shingle import ShingleBatch


def batch_of(*sets: np.ndarray) -> ShingleBatch:
    offsets = np.cumsum([0] + [len(s) for s in sets])
    return ShingleBatch(np.concatenate(sets).astype(np.uint64), offsets)


def random_sets(rng, overlap: int, only_a: int, only_b: int):
    pool = np.unique(rng.integers(0, 2**63, size=2 * (overlap + only_a + only_b) + 8))
    pool = rng.permutation(pool)[: overlap + only_a + only_b].astype(np.uint64)
    shared = pool[:overlap]
    a = np.concatenate([shared, pool[overlap : overlap + only_a]])
    b = np.concatenate([shared, pool[overlap + only_a :]])
    return a, b


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 400), st.integers(0, 400), st.integers(0, 400), st.integers(0, 2**32))
def test_estimate_is_within_its_error_bound(overlap, only_a, only_b, seed):
    if overlap + only_a == 0 or overlap + only_b == 0:
        return
    rng = np.random.default_rng(seed)
    a, b = random_sets(rng, overlap, only_a, only_b)
    exact = overlap / (overlap + only_a + only_b)
    sig = signatures(batch_of(a, b), permutations(256, seed=seed % 1000))
    est = jaccard_estimate(sig[0], sig[1])
    # Standard error sqrt(J(1-J)/k) is at most 0.031 for k=256; allow ~5 of them.
    assert abs(est - exact) <= 0.16


def test_identical_sets_and_order_give_identical_signatures():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, size=300).astype(np.uint64)
    sig = signatures(batch_of(a, a[::-1], np.concatenate([a, a])), permutations())
    assert (sig[0] == sig[1]).all() and (sig[0] == sig[2]).all()


def test_empty_document_gets_the_empty_signature():
    sig = signatures(batch_of(np.array([1, 2, 3]), np.array([], dtype=np.uint64)), permutations())
    assert (sig[1] == EMPTY).all()
    assert not (sig[0] == EMPTY).all()


def test_same_seed_same_signatures_other_seed_other():
    a = np.arange(1, 200, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    s1 = signatures(batch_of(a), permutations(64, seed=3))
    s2 = signatures(batch_of(a), permutations(64, seed=3))
    s3 = signatures(batch_of(a), permutations(64, seed=4))
    assert (s1 == s2).all() and not (s1 == s3).all()


def test_chunking_does_not_change_signatures(monkeypatch):
    import dedup.sketch.minhash as mh

    rng = np.random.default_rng(1)
    sets = [rng.integers(0, 2**63, size=n).astype(np.uint64) for n in (5, 3000, 1, 700)]
    whole = signatures(batch_of(*sets), permutations())
    monkeypatch.setattr(mh, "_CHUNK", 7)
    assert (signatures(batch_of(*sets), permutations()) == whole).all()


def test_datasketch_round_trip_and_jaccard():
    datasketch = pytest.importorskip("datasketch")
    rng = np.random.default_rng(2)
    a, b = random_sets(rng, 300, 100, 100)
    sig = signatures(batch_of(a, b), permutations())
    ma, mb = to_datasketch(sig[0]), to_datasketch(sig[1])
    assert isinstance(ma, datasketch.LeanMinHash)
    assert (from_datasketch(ma) == sig[0]).all()
    assert ma.jaccard(mb) == pytest.approx(jaccard_estimate(sig[0], sig[1]))
    lsh = datasketch.MinHashLSH(threshold=0.5, num_perm=128)
    lsh.insert("a", ma)
    assert lsh.query(mb) == ["a"]
    # And from datasketch's own MinHash to our arrays.
    m = datasketch.MinHash(num_perm=128)
    m.update_batch([b"one", b"two"])
    assert from_datasketch(m).dtype == np.uint32
    assert (from_datasketch(m).astype(np.uint64) == m.hashvalues).all()
