"""Client-side flow control: one lane per (region, API action), paced at — never above — its quota.

ECS counts calls per account (ParentUid), per region and per API, and a call over the threshold is refused
with ``Throttling*``; "if an API is throttled in minute T it can be called again in minute T+1", and after
a throttle one should probe at 1 QPS (ECS "API throttling" doc, Quota Center's dimension "regionId, API,
ParentUid"). One limiter serves one account's run (each account has its own caller), so a lane per
(region, action) is exactly the cloud's counter. Each lane combines:

- a **token bucket** that paces calls at ``PACING_SHARE`` of the limit, with a small burst, so calls
  arrive evenly (a burst lands on the server spread out by its queue, and spills into the next second);
- a **sliding one-second window** holding at most ``PACING_SHARE`` of the limit, checked on when calls
  really leave (a thread woken late must not bunch up with the next ones): the hard guarantee that no
  second ever sees more sends than that, whatever the bucket allowed. The missing 20 % absorbs how the
  server's clock sees our sends: a call waits in queues for a varying time before ECS counts it, and a
  stall of up to a quarter of a second (a busy gateway, a GC pause) must not crowd one of its seconds —
  a single refusal costs the rest of a minute. (Measured: at 95 % a 2-core bench saw refusals.)
- **the minute block**: a throttling answer stops the lane until the next wall-clock minute (no call
  could pass before it), then the lane **probes at 1 QPS**, one call in flight, until a call is admitted;
  it then resumes *below the rate that was throttled* — at most ``DECREASE`` of the lane's limit and of
  the rate the server admitted in the second before the refusal — and never climbs back above that
  ceiling in this run (the quota is a fixed number; a minute lost per overshoot is too dear to re-test).
  Throttled probes do not re-block: our clock and the cloud's minute may disagree by a few seconds.
- **AIMD** inside the ceiling: a cut climbs back by ``RECOVERY_PER_SECOND`` of the ceiling per second.

A caller *reserves* a send time under the lock and sleeps outside it, so waiting threads are served in
order and none spins. A reservation that would start after ``deadline`` raises :class:`LaneBlocked`
instead of waiting. Clock, wall clock and sleep are injectable for tests.
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from collections import deque
from collections.abc import Callable

PACING_SHARE = 0.8  # the rest absorbs stalls between our send and the cloud's count: up to 0.25 s
BURST_SHARE = 0.2  # calls that may go at once after a pause (a fifth of a second's worth)
WINDOW_SECONDS = 1.0
DECREASE = 0.8
RECOVERY_PER_SECOND = 0.05  # of the ceiling: from a cut to 80 % back to 100 % in 4 s
FLOOR_SHARE = 0.05  # AIMD never goes below this share of the configured limit
PROBE_INTERVAL = 1.0  # "probe at 1 QPS" after a block (ECS API throttling doc)
BLOCK_MARGIN = 0.25  # seconds past the wall-clock minute before the first probe
PROBE_TIMEOUT = 30.0  # a probe whose answer never came back no longer holds the lane
POLL = 0.25  # a thread waiting for a probe's answer looks again this often
_EPSILON = 1e-6  # a full second apart, whatever the float arithmetic of the clock says
ADMITTED_MEMORY = 60.0  # seconds of admitted send times kept per lane (to estimate the quota on a refusal)


class LaneBlocked(Exception):
    """The lane cannot send before the caller's deadline (a minute block, or probing, runs past it)."""

    def __init__(self, action: str, region: str, until: float, code: str | None = None) -> None:
        super().__init__(f"{action} in {region or '-'} is throttled until after the run's deadline")
        self.action, self.region, self.until = action, region, until
        self.code = code  # the throttling code that blocked the lane (None: none seen)


class _Lane:
    """One (region, action)'s pacing state (guarded by the limiter's lock)."""

    __slots__ = ("admitted", "blocked_until", "blocks", "calls", "ceiling", "configured", "cut_at", "dispatched",
                 "last_code", "limit", "next_probe", "probe_sent", "probing", "recovered_at", "sent", "throttled",
                 "tokens", "updated", "waited")

    def __init__(self, configured: float, now: float) -> None:
        self.configured = self.limit = self.ceiling = configured
        self.tokens = max(1.0, configured * BURST_SHARE)  # a lane starts with its burst
        self.updated = now  # when ``tokens`` was true; may lie in the future (the last reservation)
        self.recovered_at = now
        self.cut_at = float("-inf")
        self.sent: deque[float] = deque()  # send times of the last ``window_cap`` calls
        self.dispatched: deque[float] = deque()  # when the last ``window_cap`` calls really left
        self.admitted: deque[float] = deque()  # send times of calls the server admitted (last minute)
        self.blocked_until = float("-inf")
        self.probing = False
        self.probe_sent: float | None = None  # the probe in flight (its send time)
        self.next_probe = float("-inf")
        self.waited = 0.0
        self.calls = 0
        self.throttled = 0
        self.blocks = 0
        self.last_code: str | None = None

    @property
    def rate(self) -> float:
        return self.limit * PACING_SHARE

    @property
    def burst(self) -> float:
        return max(1.0, self.limit * BURST_SHARE)

    @property
    def window_cap(self) -> int:
        return max(1, int(self.limit * PACING_SHARE))


class RateLimiter:
    """Pacing per (region, action) at a configured calls-per-second limit; a throttle blocks to the minute."""

    def __init__(
        self,
        limit_for: Callable[..., float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] | None = None,
        minute: float = 60.0,
        probe_interval: float = PROBE_INTERVAL,
    ) -> None:
        """``limit_for(action, region)`` (or ``limit_for(action)``) gives calls per second for a lane.

        ``minute`` and ``probe_interval`` are the cloud's (60 s, 1 QPS); tests of fault storms shrink them as
        they shrink the retry policy's pauses.
        """
        self._minute = minute
        self._probe_interval = probe_interval
        self._limit_for = limit_for
        try:
            self._by_region = len(inspect.signature(limit_for).parameters) >= 2
        except (TypeError, ValueError):  # a builtin without a signature: one argument
            self._by_region = False
        self._clock = clock
        self._sleep = sleep
        # The wall clock tells where the cloud's minute ends; with an injected clock, that clock is the wall.
        self._wall = wall or (time.time if clock is time.monotonic else clock)
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._lock = threading.Lock()

    # ---- the call path -------------------------------------------------------------------------------

    def acquire(self, action: str, region: str | None = None, *, deadline: float | None = None) -> float:
        """Wait for this lane's next slot; returns the send time (pass it to :meth:`admitted`/:meth:`throttled`)."""
        while True:
            with self._lock:
                now = self._clock()
                lane = self._lane(action, region, now)
                wait = self._probe_wait(lane, now, self._probe_interval)
                if wait is None:
                    send_at = self._reserve(lane, now)
                    if deadline is not None and send_at > deadline:
                        self._unreserve(lane, send_at)
                        raise LaneBlocked(action, region or "", send_at, lane.last_code)
                    lane.waited += send_at - now
                else:
                    if deadline is not None and now + wait > deadline:
                        raise LaneBlocked(action, region or "", now + wait, lane.last_code)
                    lane.waited += wait
            if wait is not None:
                self._sleep(wait)
                continue
            if send_at > now:
                self._sleep(send_at - now)
            # The hard guarantee is on when calls really leave, not when they were due: a thread woken late
            # (a busy CPU, the GIL) must not bunch up with the next ones and crowd one of the server's seconds.
            with self._lock:
                if lane.probing and lane.cut_at > now:
                    continue  # blocked while this call waited for its slot: it would only be refused
                late = self._dispatch_wait(lane)
                if late <= 0:
                    return self._dispatch(lane)
            self._sleep(late)
            with self._lock:
                return self._dispatch(lane)

    def admitted(self, action: str, sent_at: float, region: str | None = None) -> None:
        """The server answered a call sent at ``sent_at`` without throttling it."""
        with self._lock:
            now = self._clock()
            lane = self._lane(action, region, now)
            if lane.probing and lane.probe_sent is not None and sent_at >= lane.probe_sent:
                lane.probing, lane.probe_sent = False, None  # the block is over: resume under the ceiling
                lane.limit = lane.ceiling
                lane.tokens = 0.0
                lane.updated = max(lane.updated, now)
                lane.recovered_at = now
            lane.admitted.append(sent_at)
            while lane.admitted and lane.admitted[0] < now - ADMITTED_MEMORY:
                lane.admitted.popleft()

    def throttled(self, action: str, sent_at: float, region: str | None = None, code: str | None = None) -> None:
        """The server refused a call sent at ``sent_at`` for flow control: block the lane to the minute."""
        with self._lock:
            now = self._clock()
            lane = self._lane(action, region, now)
            lane.throttled += 1
            lane.last_code = code or lane.last_code
            if lane.probing:
                if lane.probe_sent is not None and sent_at >= lane.probe_sent:
                    lane.probe_sent = None  # still blocked at the cloud: probe again a second later
                    lane.next_probe = max(lane.next_probe, now + self._probe_interval)
                return
            if sent_at <= lane.cut_at:
                return  # sent before the last block: that block already answers this burst
            self._recover(lane, now)
            # What the server let through in the second before this refusal: a 1 s quota's estimate.
            admitted_last_second = sum(1 for t in lane.admitted if sent_at - WINDOW_SECONDS < t <= sent_at)
            below = lane.limit * DECREASE
            if admitted_last_second >= 1:
                below = min(below, admitted_last_second * DECREASE ** 0.5)
            lane.ceiling = max(lane.configured * FLOOR_SHARE, min(lane.ceiling, below))
            lane.limit = min(lane.limit, lane.ceiling)
            lane.cut_at = now
            lane.blocks += 1
            wall = self._wall()
            minute = self._minute
            lane.blocked_until = now + (math.floor(wall / minute) * minute + minute - wall) + BLOCK_MARGIN * minute / 60
            lane.probing, lane.probe_sent = True, None
            lane.next_probe = lane.blocked_until
            lane.tokens = min(lane.tokens, 0.0)  # no burst right after a refusal

    # ---- reading -------------------------------------------------------------------------------------

    def limit(self, action: str, region: str | None = None) -> float:
        """The lane's current limit (calls per second), after any cut and recovery."""
        with self._lock:
            now = self._clock()
            lane = self._lane(action, region, now)
            self._recover(lane, now)
            return lane.limit

    def usage(self) -> dict[str, dict[str, float]]:
        """Per action (all regions): calls paced, seconds waited, throttling answers, blocks, lowest limit."""
        with self._lock:
            out: dict[str, dict[str, float]] = {}
            for (_, action), lane in sorted(self._lanes.items(), key=lambda item: (item[0][1], item[0][0])):
                row = out.setdefault(action, {"calls": 0, "waited_s": 0.0, "throttled": 0, "blocks": 0,
                                              "limit": round(lane.limit, 2)})
                row["calls"] += lane.calls
                row["waited_s"] = round(row["waited_s"] + lane.waited, 3)
                row["throttled"] += lane.throttled
                row["blocks"] += lane.blocks
                row["limit"] = min(row["limit"], round(lane.limit, 2))
            return out

    def usage_by_lane(self) -> dict[str, dict[str, float]]:
        """Per ``region/action`` lane: the same figures as :meth:`usage`."""
        with self._lock:
            return {
                f"{region or '-'}/{action}": {"calls": lane.calls, "waited_s": round(lane.waited, 3),
                                               "throttled": lane.throttled, "blocks": lane.blocks,
                                               "limit": round(lane.limit, 2)}
                for (region, action), lane in sorted(self._lanes.items())
            }

    # ---- internals (under the lock) ------------------------------------------------------------------

    def _lane(self, action: str, region: str | None, now: float) -> _Lane:
        key = (region or "", action)
        lane = self._lanes.get(key)
        if lane is None:
            limit = self._limit_for(action, region or None) if self._by_region else self._limit_for(action)
            configured = float(limit)
            if configured <= 0:
                raise ValueError(f"the rate limit for {action} must be positive, got {configured}")
            lane = self._lanes[key] = _Lane(configured, now)
        return lane

    @staticmethod
    def _probe_wait(lane: _Lane, now: float, interval: float) -> float | None:
        """None: send (reserving normally, or as the probe); else seconds to wait before looking again."""
        if not lane.probing:
            return None
        if now < lane.blocked_until:
            return lane.blocked_until - now
        if lane.probe_sent is not None and now - lane.probe_sent < PROBE_TIMEOUT:
            return min(POLL, interval)  # one probe in flight at a time: wait for its answer
        if now < lane.next_probe:
            return lane.next_probe - now
        lane.probe_sent = now
        lane.next_probe = now + interval
        return None

    def _dispatch(self, lane: _Lane) -> float:
        """The call leaves now: counted, and its real send time returned (and kept for the window)."""
        now = self._clock()
        lane.dispatched.append(now)
        lane.calls += 1
        return now

    def _dispatch_wait(self, lane: _Lane) -> float:
        """Seconds until one more call may leave without ``window_cap`` calls leaving within one second."""
        if lane.probing:
            return 0.0  # the probe goes alone, at its own pace
        cap = lane.window_cap
        while len(lane.dispatched) > cap:
            lane.dispatched.popleft()
        if len(lane.dispatched) < cap:
            return 0.0
        wait = lane.dispatched[0] + WINDOW_SECONDS + _EPSILON - self._clock()
        if wait <= 0:
            lane.dispatched.popleft()
        return wait

    def _reserve(self, lane: _Lane, now: float) -> float:
        self._recover(lane, now)
        if lane.probing:  # this call is the probe: it goes now, alone
            lane.sent.append(now)
            lane.updated = max(lane.updated, now)
            return now
        start = max(now, lane.updated)
        tokens = min(lane.burst, lane.tokens + (start - lane.updated) * lane.rate)
        paced_at = start if tokens >= 1 else start + (1 - tokens) / lane.rate
        send_at = paced_at
        while len(lane.sent) > lane.window_cap:  # the cap may have shrunk since these were sent
            lane.sent.popleft()
        if len(lane.sent) == lane.window_cap:
            send_at = max(send_at, lane.sent[0] + WINDOW_SECONDS + _EPSILON)
            lane.sent.popleft()
        lane.tokens = min(lane.burst, lane.tokens + (send_at - lane.updated) * lane.rate) - 1
        if send_at > paced_at:
            # Held back by the window: no burst saved up meanwhile, or it would echo every second.
            lane.tokens = min(lane.tokens, 0.0)
        lane.updated = send_at
        lane.sent.append(send_at)
        return send_at

    @staticmethod
    def _unreserve(lane: _Lane, send_at: float) -> None:
        """Give back a slot that will not be used (it lies after the deadline)."""
        if lane.sent and lane.sent[-1] == send_at:
            lane.sent.pop()

    @staticmethod
    def _recover(lane: _Lane, now: float) -> None:
        """Additive increase: the limit climbs back towards the ceiling as time passes unthrottled."""
        if now > lane.recovered_at:
            if lane.limit < lane.ceiling and not lane.probing:
                step = lane.ceiling * RECOVERY_PER_SECOND * (now - lane.recovered_at)
                lane.limit = min(lane.ceiling, lane.limit + step)
            lane.recovered_at = now
