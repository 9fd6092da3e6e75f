from unittest.mock import patch

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedup import compiled
from dedup.sketch import cluster
from dedup.sketch.cluster import (
    UnionFind,
    best_first,
    choose_keepers,
    component_parts,
    components,
    guarded_components,
)


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


@given(st.integers(1, 40), st.data())
def test_compiled_components_are_the_union_find_components(n, data):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))))
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    uf = UnionFind(n)
    uf.union_pairs(pairs)
    want = uf.labels()
    for flag in {compiled.available(), False}:
        with compiled.switched(flag):
            got = components(n, pairs)
        assert got.tolist() == want.tolist()
        # The smallest member labels each component.
        assert all(got[i] <= i and got[got[i]] == got[i] for i in range(n))


@given(st.integers(1, 40), st.integers(1, 9), st.data())
def test_component_parts_hold_whole_components(n, parts, data):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))))
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    got = component_parts(n, pairs, parts)
    assert 1 <= len(got) <= parts
    assert all((np.diff(part) > 0).all() for part in got)
    assert sorted(np.concatenate(got).tolist()) == list(range(len(pairs)))
    comp = components(n, pairs)
    seen: dict[int, int] = {}
    for k, part in enumerate(got):
        for c in comp[pairs[part, 0]].tolist():
            assert seen.setdefault(c, k) == k  # a component lies in one part only
    if len(np.unique(comp[pairs[:, 0]])) >= parts:
        assert len(got) > 1 or parts == 1


ties = st.tuples(st.sampled_from([0.25, 0.5, 0.8, 0.9, 1.0]), st.integers(0, 3))


@given(st.lists(ties, max_size=60), st.integers(1, 4))
def test_best_first_ranks_as_lexsort_on_any_number_of_threads(rows, workers):
    # Many ties in Jaccard and in the first content key: the split into Jaccard ranges must
    # keep every tie in one range and the ranges in order, best first.
    jaccard = np.array([j for j, _ in rows], dtype=np.float64)
    lo = np.array([k for _, k in rows], dtype=np.uint64)
    hi = np.arange(len(rows), dtype=np.uint64)[::-1].copy()
    want = np.lexsort((hi, lo, -jaccard))
    with patch.object(cluster, "_SPLIT_SORT", 0):  # split however few pairs there are
        got = best_first(jaccard, lo, hi, workers)
    assert got.tolist() == want.tolist()


def test_keeper_is_the_largest_then_the_first():
    labels = np.array([0, 0, 0, 3, 3])
    weight = np.array([10, 30, 30, 5, 5])
    assert choose_keepers(labels, weight).tolist() == [1, 1, 1, 3, 3]


@given(
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 4)), min_size=0, max_size=12),
)
def test_keepers_match_a_sort_of_every_document(rows):
    # Labels are any document index (as the clusterings give them); ties in weight are common.
    labels = np.array([label % max(len(rows), 1) for label, _ in rows], dtype=np.int64)
    weight = np.array([w for _, w in rows], dtype=np.float64)
    want = []
    for label in labels.tolist():
        group = [j for j in range(len(rows)) if labels[j] == label]
        want.append(min(group, key=lambda j: (-weight[j], j)))
    assert choose_keepers(labels, weight).tolist() == want


def test_union_find_reports_merges():
    uf = UnionFind(3)
    assert uf.union(0, 1) and not uf.union(1, 0)
    assert uf.find(1) == uf.find(0) == 0


def _clique_linked(groups):
    of = {m: g for g, members in enumerate(groups) for m in members}

    def linked(x, y):
        return np.array([of[a] == of[b] for a, b in zip(x, y, strict=True)])

    return linked


def test_guard_keeps_two_groups_joined_by_one_edge_apart():
    a, b = [0, 1, 2, 3], [4, 5, 6, 7]
    inside = [(i, j) for g in (a, b) for i in g for j in g if i < j]
    pairs = np.array([*inside, (3, 4)])
    rank = np.arange(len(pairs))
    key = np.arange(8)
    labels = guarded_components(
        8, pairs, rank, _clique_linked([a, b]), min_link=0.1, member_key=key
    )
    assert labels.tolist() == [0, 0, 0, 0, 4, 4, 4, 4]
    # Without the guard the bridge fuses them.
    assert components(8, pairs).tolist() == [0] * 8


def test_guard_lets_a_chain_of_versions_grow():
    pairs = np.array([(i, i + 1) for i in range(7)])

    def neighbours(x, y):
        return np.abs(np.asarray(x) - np.asarray(y)) <= 2

    labels = guarded_components(
        8, pairs, np.arange(7), neighbours, min_link=0.1, member_key=np.arange(8)
    )
    assert labels.tolist() == [0] * 8
