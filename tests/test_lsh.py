import numpy as np
import pytest

from dedup.sketch.lsh import band_keys, candidate_pairs, optimal_params


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8, 0.9])
def test_optimal_params_match_datasketch(threshold):
    lsh = pytest.importorskip("datasketch.lsh")
    assert optimal_params(threshold, 128) == lsh._optimal_param(threshold, 128, 0.5, 0.5)


def test_low_threshold_uses_many_short_bands():
    b, r = optimal_params(0.1, 128)
    assert b * r <= 128 and r <= 2


def test_candidates_are_documents_sharing_a_band():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [7, 7, 3, 4], [5, 6, 7, 8]], dtype=np.uint32)
    pairs = candidate_pairs(band_keys(sigs, bands=2, rows=2))
    assert pairs.tolist() == [[0, 1], [0, 2]]


def test_a_bucket_gives_a_star_not_all_pairs():
    sigs = np.zeros((50, 4), dtype=np.uint32)
    pairs = candidate_pairs(band_keys(sigs, bands=2, rows=2))
    assert len(pairs) == 49
    assert (pairs[:, 0] == 0).all()


def test_invalid_documents_are_left_out():
    sigs = np.zeros((3, 4), dtype=np.uint32)
    valid = np.array([True, False, True])
    assert candidate_pairs(band_keys(sigs, 2, 2), valid).tolist() == [[0, 2]]
