import pytest

from dedup.engines.local import map_ordered


def _square(x: int) -> int:
    return x * x


def test_map_ordered_keeps_order_for_any_number_of_workers():
    for workers in (1, 2, 3):
        assert list(map_ordered(_square, range(30), workers)) == [x * x for x in range(30)]


@pytest.mark.parametrize("ahead", [1, 2, 8])
def test_map_ordered_streams_with_a_bounded_number_of_batches_in_flight(ahead):
    taken = []

    def items():
        for x in range(100):
            taken.append(x)
            yield x

    results = map_ordered(_square, items(), 2, ahead=ahead)
    assert next(results) == 0
    assert len(taken) == 2 * ahead  # ahead * workers submitted before the first result
    assert list(results) == [x * x for x in range(1, 100)]


def test_map_ordered_reports_a_failing_batch():
    def fail_on_7(x: int) -> int:
        if x == 7:
            raise ValueError("bad batch 7")
        return x

    with pytest.raises(ValueError, match="bad batch 7"):
        list(map_ordered(fail_on_7, range(20), 2))
