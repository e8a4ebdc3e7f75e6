"""The jobs' pools (``jobs/base.py``): regions at once, a bounded number of items per region, input order kept."""

from __future__ import annotations

import threading
import time

import pytest

from ecs_renewal.jobs.base import in_background, region_wide_map
from ecs_renewal.settings import Throughput


def test_every_region_works_at_once_and_results_keep_the_input_order():
    """The items come sorted by region (renew's prices): one pool over the list would work one region's
    lanes after another's. Each region's first item waits for the others' first: only regions at once pass."""
    items = [(region, n) for region in ("cn-a", "cn-b", "cn-c") for n in range(4)]
    firsts = threading.Barrier(3, timeout=5)

    def work(item: tuple[str, int]) -> str:
        region, n = item
        if n == 0:
            firsts.wait()  # BrokenBarrierError if the regions ran one after another
        return f"{region}-{n}"

    done = region_wide_map(work, items, lambda item: item[0], Throughput(region_concurrency=3, renew_concurrency=2))
    assert done == [f"{region}-{n}" for region, n in items]


def test_at_most_renew_concurrency_items_of_a_region_at_once():
    busy: dict[str, int] = {}
    most: dict[str, int] = {}
    lock = threading.Lock()

    def work(item: tuple[str, int]) -> None:
        region = item[0]
        with lock:
            busy[region] = busy.get(region, 0) + 1
            most[region] = max(most.get(region, 0), busy[region])
        time.sleep(0.01)
        with lock:
            busy[region] -= 1

    items = [(region, n) for region in ("cn-a", "cn-b") for n in range(12)]
    region_wide_map(work, items, lambda item: item[0], Throughput(region_concurrency=2, renew_concurrency=3))
    assert max(most.values()) <= 3


def test_work_in_the_background_returns_its_value_or_raises_its_error():
    assert in_background(lambda: 42)() == 42

    def fails() -> None:
        raise ValueError("unreadable")

    with pytest.raises(ValueError, match="unreadable"):
        in_background(fails)()
