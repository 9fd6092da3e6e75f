import numpy as np

from dedup.engines.local import map_ordered, map_with_context, worker_context


def _scaled(x: int) -> int:
    return int(worker_context()["table"][x]) * worker_context()["factor"]


def _square(x: int) -> int:
    return x * x


def test_map_with_context_keeps_order_for_any_number_of_workers():
    context = {"table": np.arange(50) + 100, "factor": 3}
    expected = [(100 + x) * 3 for x in range(50)]
    for workers in (1, 2):
        assert list(map_with_context(_scaled, range(50), workers, context)) == expected
    assert worker_context() == {}  # the caller's context is restored


def test_map_ordered_keeps_order():
    assert list(map_ordered(_square, range(30), 2)) == [x * x for x in range(30)]
