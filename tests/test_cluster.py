import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedup.sketch.cluster import UnionFind, choose_keepers, components


def test_components_are_labelled_by_their_smallest_member():
    labels = components(6, np.array([[4, 5], [1, 3], [3, 0]]))
    assert labels.tolist() == [0, 0, 2, 0, 4, 4]


edges = st.lists(st.tuples(st.integers(0, 19), st.integers(0, 19)), max_size=40)


@given(edges, st.randoms())
def test_membership_does_not_depend_on_edge_order(pairs, rnd):
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    a = components(20, np.array(pairs, dtype=np.int64).reshape(-1, 2))
    b = components(20, np.array(shuffled, dtype=np.int64).reshape(-1, 2))
    assert a.tolist() == b.tolist()


def test_keeper_is_the_largest_then_the_first():
    labels = np.array([0, 0, 0, 3, 3])
    weight = np.array([10, 30, 30, 5, 5])
    assert choose_keepers(labels, weight).tolist() == [1, 1, 1, 3, 3]


def test_union_find_reports_merges():
    uf = UnionFind(3)
    assert uf.union(0, 1) and not uf.union(1, 0)
    assert uf.find(1) == uf.find(0) == 0
