"""The client-side rate limiter with a fake clock: at — never above — the limit; shrinks; recovers."""

from __future__ import annotations

import itertools
import threading
from collections import deque

import pytest

from ecs_renewal.gateway import ratelimit
from ecs_renewal.gateway.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def limiter(limit: float = 100.0, clock: FakeClock | None = None) -> tuple[RateLimiter, FakeClock]:
    clock = clock or FakeClock()
    return RateLimiter(lambda action: limit, clock=clock, sleep=clock.sleep), clock


def most_in_any_second(times: list[float]) -> int:
    window: deque[float] = deque()
    most = 0
    for t in sorted(times):
        window.append(t)
        while window[0] <= t - 1.0:
            window.popleft()
        most = max(most, len(window))
    return most


def test_never_more_than_the_limit_in_any_second_and_close_to_it_over_time():
    rl, _ = limiter(100)
    sent = [rl.acquire("RenewInstance") for _ in range(2000)]
    assert sent == sorted(sent)
    assert most_in_any_second(sent) <= 95  # 95 %: the rest absorbs jitter on the way to the server
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    assert 0.93 * 100 <= rate <= 100


def test_a_burst_after_a_pause_then_pacing_without_echoes():
    rl, _ = limiter(100)
    first = [rl.acquire("DescribeInstances") for _ in range(20)]
    assert first == [first[0]] * 20  # a fifth of a second's worth at once
    rest = [rl.acquire("DescribeInstances") for _ in range(300)]
    assert rest[0] > first[-1]  # then paced
    gaps = [b - a for a, b in itertools.pairwise(rest)]
    assert min(gaps) > 0.009  # the burst does not come back each second once the window is full


def test_many_threads_share_one_lane_without_exceeding_it():
    clock = FakeClock()  # time stands still: only the reserved send times matter
    rl = RateLimiter(lambda action: 50, clock=clock, sleep=lambda seconds: None)
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(100):
            at = rl.acquire("RenewInstance")
            with lock:
                sent.append(at)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 800 and len(set(sent)) == 800 - 10 + 1  # one burst of 10 at the start, then paced
    assert most_in_any_second(sent) <= 0.95 * 50
    assert (len(sent) - 1) / (max(sent) - min(sent)) >= 0.93 * 50


def test_actions_have_separate_lanes():
    rl, clock = limiter(10)
    for _ in range(10):
        rl.acquire("DescribeInstances")
    before = clock.now
    rl.acquire("RenewInstance")  # a full DescribeInstances lane does not delay another action
    assert clock.now == before


def test_throttling_shrinks_once_per_burst_then_recovers_gradually():
    rl, clock = limiter(100)
    sent = [rl.acquire("RenewInstance") for _ in range(10)]
    rl.throttled("RenewInstance", sent[5])
    assert rl.limit("RenewInstance") == pytest.approx(100 * ratelimit.DECREASE)
    rl.throttled("RenewInstance", sent[6])  # sent before that cut: the same burst, no second cut
    assert rl.limit("RenewInstance") == pytest.approx(100 * ratelimit.DECREASE)
    later = rl.acquire("RenewInstance")
    rl.throttled("RenewInstance", later)  # sent after the cut and refused again: cut again
    assert rl.limit("RenewInstance") == pytest.approx(100 * ratelimit.DECREASE**2, rel=0.01)

    shrunk = rl.limit("RenewInstance")
    clock.sleep(2.0)
    assert shrunk < rl.limit("RenewInstance") < 100  # climbing back, not jumping
    clock.sleep(30.0)
    assert rl.limit("RenewInstance") == 100  # and never above the configured limit
    assert rl.usage()["RenewInstance"]["throttled"] == 3


def test_a_shrunk_lane_paces_slower_and_never_goes_to_zero():
    rl, clock = limiter(100)
    for _ in range(50):
        rl.throttled("DescribeInstances", rl.acquire("DescribeInstances"))
    assert rl.limit("DescribeInstances") == pytest.approx(100 * ratelimit.FLOOR_SHARE, rel=0.5)
    start = clock.now
    sent = [rl.acquire("DescribeInstances") for _ in range(8)]
    assert sent[-1] - start > 0.8  # about 5 to 10 a second now, climbing back slowly
