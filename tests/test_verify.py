import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.sketch.verify as verify
from dedup import compiled
from dedup.text.shingle import SetView, ShingleBatch

small_sets = st.lists(st.sets(st.integers(0, 40), max_size=25), min_size=2, max_size=8)


@settings(max_examples=80, deadline=None)  # the first example loads the compiled loop
@given(small_sets, st.data())
def test_intersections_match_python_sets(sets, data):
    arrays = [np.array(sorted(s), dtype=np.uint64) for s in sets]
    offsets = np.cumsum([0] + [len(a) for a in arrays])
    batch = ShingleBatch(np.concatenate(arrays), offsets)
    n = len(sets)
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20)
    )
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    got = verify.pair_similarity(batch, pairs)
    with compiled.switched(False):
        assert (verify.pair_similarity(batch, pairs).intersection == got.intersection).all()
    for k, (a, b) in enumerate(pairs.tolist()):
        inter = len(sets[a] & sets[b])
        union = len(sets[a] | sets[b])
        assert got.intersection[k] == inter
        assert got.jaccard[k] == (inter / union if union else 0.0)
        small = min(len(sets[a]), len(sets[b]))
        assert got.containment[k] == (inter / small if small else 0.0)


@settings(max_examples=80, deadline=None)
@given(small_sets, st.data())
def test_sets_read_where_they_lie_match_the_gathered_sets(sets, data):
    """A view over several arrays (a store's chunks), each set at its own place in one."""
    n = len(sets)
    part = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.int64)
    gap = data.draw(st.integers(0, 3))  # entries of other sets between two sets of a part
    parts, start = [[], [], []], np.zeros(n, np.int64)
    for d, s in enumerate(sets):
        parts[part[d]].extend([10**6 + d] * gap)
        start[d] = len(parts[part[d]])
        parts[part[d]].extend(sorted(s))
    view = SetView(
        tuple(np.array(p, dtype=np.uint64) for p in parts),
        part,
        start,
        np.array([len(s) for s in sets], dtype=np.int64),
    )
    batch = view.batch()
    for d, s in enumerate(sets):
        assert batch.doc(d).tolist() == sorted(s)
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20)
    )
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    want = [len(sets[a] & sets[b]) for a, b in pairs.tolist()]
    for flag in (True, False):
        with compiled.switched(flag):
            got = verify.pair_similarity(view, pairs)
        assert got.intersection.tolist() == want
        assert got.size_a.tolist() == [len(sets[a]) for a in pairs[:, 0].tolist()]


def test_chunked_numpy_intersections_equal_whole(monkeypatch):
    rng = np.random.default_rng(0)
    arrays = [np.unique(rng.integers(0, 500, size=200)).astype(np.uint64) for _ in range(30)]
    batch = ShingleBatch(np.concatenate(arrays), np.cumsum([0] + [len(a) for a in arrays]))
    pairs = np.array([(i, j) for i in range(30) for j in range(i + 1, 30)])
    whole = verify.intersections(batch, pairs)
    monkeypatch.setattr(verify, "_PAIR_BUDGET", 333)
    with compiled.switched(False):
        assert (verify.intersections(batch, pairs) == whole).all()


@settings(max_examples=80, deadline=None)
@given(small_sets, st.data())
def test_intersections_below_their_need_stay_below_it(sets, data):
    arrays = [np.array(sorted(s), dtype=np.uint64) for s in sets]
    batch = ShingleBatch(np.concatenate(arrays), np.cumsum([0] + [len(a) for a in arrays]))
    n = len(sets)
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20)
    )
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    need = np.array(
        data.draw(st.lists(st.integers(0, 30), min_size=len(pairs), max_size=len(pairs)))
    )
    got = verify.intersections(batch, pairs, need)
    for k, (a, b) in enumerate(pairs.tolist()):
        inter = len(sets[a] & sets[b])
        if inter >= need[k]:
            assert got[k] == inter  # exact where the pair reaches its need
        else:
            assert got[k] < need[k]  # else only known to fall short


def test_near_duplicate_verdicts_do_not_depend_on_stopping_early():
    from conftest import read_jsonl, shared

    from dedup.steps.neardup import NearDuplicates

    docs = read_jsonl(shared("neardup", "dev.jsonl"))
    fast = NearDuplicates().fit(docs)
    exact = NearDuplicates()
    exact._least_overlap = lambda pairs: np.zeros(len(pairs), np.int64)
    exact.fit(docs)
    assert (fast.pairs_ == exact.pairs_).all()
    assert list(fast.cluster_rows()) == list(exact.cluster_rows())


def test_verifying_candidates_in_blocks_changes_nothing(monkeypatch):
    from conftest import read_jsonl, shared

    import dedup.steps.neardup as neardup

    docs = read_jsonl(shared("neardup", "dev.jsonl"))
    whole = neardup.NearDuplicates().fit(docs)
    monkeypatch.setattr(neardup, "VERIFY_PAIRS", 7)
    blocks = neardup.NearDuplicates().fit(docs)
    assert whole.n_candidates_ > 7 and blocks.n_verified_ == whole.n_verified_
    assert (blocks.pairs_ == whole.pairs_).all()
    assert list(blocks.cluster_rows()) == list(whole.cluster_rows())
