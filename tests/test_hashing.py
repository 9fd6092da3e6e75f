import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedup.text.hashing import PrefixHash, combine_ngrams, splitmix64
from dedup.text.tokenize import encode_batch, token_spans


def test_splitmix64_is_a_bijection_on_a_sample():
    x = np.arange(100_000, dtype=np.uint64)
    assert len(np.unique(splitmix64(x))) == len(x)


@given(st.text(alphabet="ab c", min_size=1, max_size=40), st.text(alphabet="ab c", max_size=10))
def test_equal_slices_hash_equal_wherever_they_stand(word, prefix):
    data = np.frombuffer((prefix + word + "|" + word).encode(), dtype=np.uint8)
    ph = PrefixHash(data)
    a = len(prefix.encode())
    b = a + len(word.encode()) + 1
    n = len(word.encode())
    h = ph.slice_hash(np.array([a, b]), np.array([a + n, b + n]))
    assert h[0] == h[1]


def test_different_words_hash_differently():
    batch = encode_batch(["alpha beta gamma alpha"])
    starts, ends = token_spans(batch.data)
    h = PrefixHash(batch.data).slice_hash(starts, ends)
    assert h[0] == h[3]
    assert len({int(x) for x in h[:3]}) == 3


def test_ngrams_never_cross_documents_and_short_documents_get_one():
    tokens = np.arange(1, 8, dtype=np.uint64)
    doc = np.array([0, 0, 0, 0, 1, 1, 2])
    hashes, doc_of = combine_ngrams(tokens, doc, 3)
    # doc 0: 4 tokens -> 2 trigrams; doc 1: 2 tokens -> 1 short shingle; doc 2: 1 token -> 1
    assert doc_of.tolist() == [0, 0, 1, 2]
    assert len(set(hashes.tolist())) == 4


def test_ngram_hash_is_order_sensitive():
    doc = np.zeros(2, dtype=np.int64)
    ab, _ = combine_ngrams(np.array([5, 9], dtype=np.uint64), doc, 2)
    ba, _ = combine_ngrams(np.array([9, 5], dtype=np.uint64), doc, 2)
    assert ab[0] != ba[0]
