import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.text.shingle import number_batch, shingle_batch
from dedup.text.tokenize import encode_batch, token_spans


def python_shingles(text: str, n: int) -> set[str]:
    words = re.findall(r"[a-z0-9\u0080-\U0010ffff]+", text.lower())
    return (
        {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))} if words else set()
    )


def test_curly_quotes_and_dashes_tokenize_like_ascii():
    a = encode_batch(["don’t stop — “now”"])
    b = encode_batch(['don\'t stop - "now"'])
    ta = [a.data[s:e].tobytes() for s, e in zip(*token_spans(a.data), strict=True)]
    tb = [b.data[s:e].tobytes() for s, e in zip(*token_spans(b.data), strict=True)]
    assert ta == tb == [b"don", b"t", b"stop", b"now"]


words = st.lists(
    st.sampled_from(["the", "war", "in", "iraq", "troops", "é", "1987", "us"]), max_size=30
)


@settings(max_examples=60)
@given(st.lists(words, min_size=1, max_size=5), st.integers(1, 5))
def test_distinct_shingle_count_matches_a_plain_python_reference(docs, n):
    texts = [" ".join(d) for d in docs]
    batch = shingle_batch(texts, ngram=n).unique()
    for i, text in enumerate(texts):
        assert len(batch.doc(i)) == len(python_shingles(text, n))


def test_case_and_layout_do_not_change_word_shingles():
    a = shingle_batch(["The US troops\n\nin Iraq,  today"]).unique()
    b = shingle_batch(["the us TROOPS in iraq today"]).unique()
    assert a.hashes.tolist() == b.hashes.tolist()


def test_char_shingles_ignore_punctuation_runs():
    a = shingle_batch(["hello, world!"], kind="char", ngram=4).unique()
    b = shingle_batch(["hello world"], kind="char", ngram=4).unique()
    assert a.hashes.tolist() == b.hashes.tolist()
    assert len(a.hashes) == len("hello world") - 3


def test_number_tokens():
    batch = number_batch(["Shr 1.20 dlrs vs 98 cts in 1987", "no figures here"])
    assert len(batch.doc(0)) == 4  # 1, 20, 98, 1987
    assert len(batch.doc(1)) == 0


@settings(max_examples=80)
@given(st.lists(st.text(alphabet="aZqÉéİßΣσ ,.\n0", max_size=40), min_size=1, max_size=6))
def test_shingles_are_those_of_the_lower_cased_text(texts):
    # ASCII texts are lower-cased on their bytes, the others by str.lower: same result.
    for kind, n in (("word", 2), ("char", 3)):
        mixed = shingle_batch(texts, ngram=n, kind=kind)
        lowered = shingle_batch([t.lower() for t in texts], ngram=n, kind=kind)
        assert mixed.hashes.tolist() == lowered.hashes.tolist()
        assert mixed.offsets.tolist() == lowered.offsets.tolist()
