import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedup.groups import group, group_sizes, repeats, sorted_unique

values = st.lists(st.integers(0, 20), max_size=60).map(lambda v: np.array(v, dtype=np.uint64))


@given(values)
def test_group_matches_numpy_unique(v):
    u, first, counts = group(v)
    nu, nfirst, ncounts = np.unique(v, return_index=True, return_counts=True)
    assert u.tolist() == nu.tolist()
    assert first.tolist() == nfirst.tolist() and counts.tolist() == ncounts.tolist()


@given(values, st.booleans())
def test_sorted_unique_matches_numpy_unique(v, in_place):
    before = v.copy()
    got = sorted_unique(v, in_place=in_place)
    assert got.dtype == v.dtype and got.tolist() == sorted(set(before.tolist()))
    if in_place:
        assert sorted(v.tolist()) == sorted(before.tolist())  # same values, maybe reordered
        v[:] = 0
        assert got.tolist() == sorted(set(before.tolist()))  # the result does not alias v
    else:
        assert v.tolist() == before.tolist()


@given(values)
def test_repeats_and_group_sizes(v):
    seen = set()
    expected = []
    for x in v.tolist():
        expected.append(x in seen)
        seen.add(x)
    assert repeats(v).tolist() == expected
    assert group_sizes(v).tolist() == [v.tolist().count(x) for x in v.tolist()]
    w = np.arange(len(v)) % 2 == 0
    assert group_sizes(v, w).tolist() == [
        sum(1 for y, keep in zip(v.tolist(), w, strict=True) if y == x and keep) for x in v.tolist()
    ]


@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([np.uint64, np.int64, np.uint32]),
    st.sampled_from([5_000, 40_000]),
    st.sampled_from([2**8, 2**16, 2**31]),
)
def test_repeats_of_large_arrays_match_first_occurrences(seed, dtype, n, high):
    """Large arrays take the low-bit prefilter: same answer as numpy's first occurrences."""
    rng = np.random.default_rng(seed)
    v = rng.integers(0, high, n).astype(dtype)
    if dtype is not np.uint32:
        v[::7] = (v[::7].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)).astype(dtype)
    expected = np.ones(n, dtype=bool)
    expected[np.unique(v, return_index=True)[1]] = False
    assert (repeats(v) == expected).all()
