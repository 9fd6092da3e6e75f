import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedup.groups import group, group_sizes, repeats

values = st.lists(st.integers(0, 20), max_size=60).map(lambda v: np.array(v, dtype=np.uint64))


@given(values)
def test_group_matches_numpy_unique(v):
    u, first, counts = group(v)
    nu, nfirst, ncounts = np.unique(v, return_index=True, return_counts=True)
    assert u.tolist() == nu.tolist()
    assert first.tolist() == nfirst.tolist() and counts.tolist() == ncounts.tolist()


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
