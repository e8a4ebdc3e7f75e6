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
    share = ratelimit.PACING_SHARE  # the rest absorbs jitter on the way to the server
    assert most_in_any_second(sent) <= share * 100
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    assert (share - 0.02) * 100 <= rate <= share * 100 + 0.5


def test_a_quota_the_operator_stated_is_paced_closer_to_it():
    """ECS_MAX_QPS states the quota (a StatedRate): STATED_SHARE of it; a documented default: PACING_SHARE."""
    from ecs_renewal.config.build import Throughput

    throughput = Throughput(max_qps_by_action=(("RenewInstance", 20.0),))
    clock = FakeClock()
    rl = RateLimiter(throughput.qps_for, clock=clock, sleep=clock.sleep)
    stated = [rl.acquire("RenewInstance", "cn-hangzhou") for _ in range(400)]
    default = [rl.acquire("TagResources", "cn-hangzhou") for _ in range(400)]  # not stated: 20/s documented
    assert ratelimit.PACING_SHARE < ratelimit.STATED_SHARE < 1
    for sent, share in ((stated, ratelimit.STATED_SHARE), (default, ratelimit.PACING_SHARE)):
        assert most_in_any_second(sent) <= share * 20
        rate = (len(sent) - 1) / (sent[-1] - sent[0])
        assert (share - 0.02) * 20 <= rate <= share * 20 + 0.5


def test_a_burst_after_a_pause_then_pacing_without_echoes():
    rl, _ = limiter(100)
    first = [rl.acquire("DescribeInstances") for _ in range(20)]
    assert first == [first[0]] * 20  # a fifth of a second's worth at once
    rest = [rl.acquire("DescribeInstances") for _ in range(300)]
    assert rest[0] > first[-1]  # then paced
    gaps = [b - a for a, b in itertools.pairwise(rest)]
    assert min(gaps) > 0.009  # the burst does not come back each second once the window is full


def test_many_threads_share_one_lane_without_exceeding_it():
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:  # one shared fake time: a sleeping thread moves it forward
        with lock:
            clock.now = max(clock.now, clock.now + seconds)

    rl = RateLimiter(lambda action: 50, clock=clock, sleep=sleep)
    sent: list[float] = []

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
    assert len(sent) == 800
    assert most_in_any_second(sent) <= ratelimit.PACING_SHARE * 50  # on the real send times, whatever the order
    assert (len(sent) - 1) / (max(sent) - min(sent)) >= (ratelimit.PACING_SHARE - 0.02) * 50


def test_actions_have_separate_lanes():
    rl, clock = limiter(10)
    for _ in range(10):
        rl.acquire("DescribeInstances")
    before = clock.now
    rl.acquire("RenewInstance")  # a full DescribeInstances lane does not delay another action
    assert clock.now == before


def test_a_throttle_blocks_the_lane_until_the_next_minute_then_probes_at_one_qps():
    # The ECS throttling doc: throttled in minute T, callable in T+1; after a throttle, probe at 1 QPS.
    rl, clock = limiter(40)
    clock.now = 6_000_030.0  # second 30 of a wall-clock minute
    sent = [rl.acquire("RenewInstance", "cn-hangzhou") for _ in range(10)]
    for at in sent[:5]:
        rl.admitted("RenewInstance", at, "cn-hangzhou")
    rl.throttled("RenewInstance", sent[5], "cn-hangzhou")
    for at in sent[6:]:  # the rest of that burst: the same block, not a new one
        rl.throttled("RenewInstance", at, "cn-hangzhou")
    probe = rl.acquire("RenewInstance", "cn-hangzhou")
    assert probe >= 6_000_060.0  # nothing before the next minute
    rl.throttled("RenewInstance", probe, "cn-hangzhou")  # our minute and the cloud's may differ
    second = rl.acquire("RenewInstance", "cn-hangzhou")
    assert second - probe == pytest.approx(ratelimit.PROBE_INTERVAL)  # probing at 1 QPS, no new block
    rl.admitted("RenewInstance", second, "cn-hangzhou")
    usage = rl.usage()["RenewInstance"]
    assert usage["throttled"] == 6 and usage["blocks"] == 1
    # Resumed below the throttled rate (5 admitted in the second before it), and never climbs above it again.
    assert rl.limit("RenewInstance", "cn-hangzhou") < 5
    clock.sleep(600)
    assert rl.limit("RenewInstance", "cn-hangzhou") < 5


def test_one_probe_in_flight_while_the_lane_probes():
    rl, clock = limiter(100)
    first = rl.acquire("DescribeInstances", "cn-hangzhou")
    rl.throttled("DescribeInstances", first, "cn-hangzhou")
    probe = rl.acquire("DescribeInstances", "cn-hangzhou")
    # The probe's answer has not come: nobody else may send, not even a second later.
    with pytest.raises(ratelimit.LaneBlocked):
        rl.acquire("DescribeInstances", "cn-hangzhou", deadline=clock.now + ratelimit.PROBE_INTERVAL + 0.1)
    rl.admitted("DescribeInstances", probe, "cn-hangzhou")
    before = clock.now
    rl.acquire("DescribeInstances", "cn-hangzhou")  # the block is over: normal pacing again
    assert clock.now - before < 0.1


def test_regions_have_separate_lanes_and_a_block_stays_in_its_region():
    rl, clock = limiter(10)
    rl.throttled("RenewInstance", rl.acquire("RenewInstance", "cn-hangzhou"), "cn-hangzhou")
    before = clock.now
    rl.acquire("RenewInstance", "cn-shanghai")  # another region's lane is untouched
    rl.acquire("DescribeInstances", "cn-hangzhou")  # and another action in the same region
    assert clock.now == before


def test_a_block_past_the_deadline_is_refused_at_once():
    rl, clock = limiter(10)
    clock.now = 6_000_010.0
    rl.throttled("RenewInstance", rl.acquire("RenewInstance", "cn-hangzhou"), "cn-hangzhou")
    with pytest.raises(ratelimit.LaneBlocked):
        rl.acquire("RenewInstance", "cn-hangzhou", deadline=clock.now + 20)
    assert clock.now == 6_000_010.0  # no waiting for a slot it could not use


def test_repeated_blocks_shrink_the_lane_but_never_to_zero():
    rl, clock = limiter(100)
    for _ in range(50):
        at = rl.acquire("DescribeInstances")
        rl.admitted("DescribeInstances", at)
        rl.throttled("DescribeInstances", rl.acquire("DescribeInstances"))
        rl.admitted("DescribeInstances", rl.acquire("DescribeInstances"))  # the probe passes
    assert rl.limit("DescribeInstances") == pytest.approx(100 * ratelimit.FLOOR_SHARE)
    start = clock.now
    sent = [rl.acquire("DescribeInstances") for _ in range(8)]
    assert sent[-1] - start > 0.8  # about 5 a second now
