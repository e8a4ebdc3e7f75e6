"""Client-side flow control: one lane per (region, API action), paced at — never above — its quota.

ECS counts calls per account (ParentUid), per region and per API, and a call over the threshold is refused
with ``Throttling*``; "if an API is throttled in minute T it can be called again in minute T+1", and after
a throttle one should probe at 1 QPS (ECS "API throttling" doc, Quota Center's dimension "regionId, API,
ParentUid"). One limiter serves one account's run (each account has its own caller), so a lane per
(region, action) is exactly the cloud's counter. Each lane combines:

- a **token bucket** that paces calls at the lane's share of the limit — ``STATED_SHARE`` (85 %) of a
  quota ``ECS_MAX_QPS`` states, ``PACING_SHARE`` (80 %) of a documented, unverified default — with a
  small burst, so calls arrive evenly (a burst lands on the server spread out by its queue, and spills
  into the next second);
- a **sliding one-second window** holding at most that share of the limit, checked on when calls
  really leave (a thread woken late must not bunch up with the next ones): the hard guarantee that no
  second ever sees more sends than that, whatever the bucket allowed. The missing 15–20 % absorbs how the
  server's clock sees our sends: a call waits in queues for a varying time before ECS counts it, and a
  stall (a busy gateway, a GC pause, a starved CPU) must not crowd one of its seconds — a single refusal
  costs the rest of a minute. (Measured, README Performance: 90 % was refused beside CPU-burning
  processes, 85 % was not.)
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
import threading
import time
from collections.abc import Callable

from .lanes import (
    FLOOR_SHARE,
    PACING_SHARE,
    PROBE_INTERVAL,
    STATED_SHARE,
    Lane,
)

__all__ = ["FLOOR_SHARE", "PACING_SHARE", "PROBE_INTERVAL", "STATED_SHARE", "LaneBlocked", "RateLimiter"]


class LaneBlocked(Exception):
    """The lane cannot send before the caller's deadline (a minute block, or probing, runs past it)."""

    def __init__(self, action: str, region: str, until: float, code: str | None = None) -> None:
        super().__init__(f"{action} in {region or '-'} is throttled until after the run's deadline")
        self.action, self.region, self.until = action, region, until
        self.code = code  # the throttling code that blocked the lane (None: none seen)


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

        A limit whose ``stated`` attribute is true (``config.values.StatedRate``: ``ECS_MAX_QPS`` states the
        quota) is paced at ``STATED_SHARE`` of it, any other (a documented, unverified default) at
        ``PACING_SHARE``. ``minute`` and ``probe_interval`` are the cloud's (60 s, 1 QPS); tests of fault
        storms shrink them as they shrink the retry policy's pauses.
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
        self._lanes: dict[tuple[str, str], Lane] = {}
        self._lock = threading.Lock()

    # ---- the call path -------------------------------------------------------------------------------

    def acquire(self, action: str, region: str | None = None, *, deadline: float | None = None) -> float:
        """Wait for this lane's next slot; returns the send time (pass it to :meth:`admitted`/:meth:`throttled`)."""
        while True:
            with self._lock:
                now = self._clock()
                lane = self._lane(action, region, now)
                wait = lane.probe_wait(now, self._probe_interval)
                if wait is None:
                    send_at = lane.reserve(now)
                    if deadline is not None and send_at > deadline:
                        lane.unreserve(send_at)
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
                late = lane.dispatch_wait(self._clock())
                if late <= 0:
                    return lane.dispatch(self._clock())
            self._sleep(late)
            with self._lock:
                return lane.dispatch(self._clock())

    def admitted(self, action: str, sent_at: float, region: str | None = None) -> None:
        """The server answered a call sent at ``sent_at`` without throttling it."""
        with self._lock:
            now = self._clock()
            self._lane(action, region, now).resume(sent_at, now)

    def throttled(self, action: str, sent_at: float, region: str | None = None, code: str | None = None) -> None:
        """The server refused a call sent at ``sent_at`` for flow control: block the lane to the minute."""
        with self._lock:
            now = self._clock()
            self._lane(action, region, now).block(sent_at, now, self._wall(), self._minute, self._probe_interval,
                                                  code)

    # ---- reading -------------------------------------------------------------------------------------

    def limit(self, action: str, region: str | None = None) -> float:
        """The lane's current limit (calls per second), after any cut and recovery."""
        with self._lock:
            now = self._clock()
            lane = self._lane(action, region, now)
            lane.recover(now)
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
            return {f"{region or '-'}/{action}": lane.figures()
                    for (region, action), lane in sorted(self._lanes.items())}

    # ---- internals (under the lock) ------------------------------------------------------------------

    def _lane(self, action: str, region: str | None, now: float) -> Lane:
        key = (region or "", action)
        lane = self._lanes.get(key)
        if lane is None:
            limit = self._limit_for(action, region or None) if self._by_region else self._limit_for(action)
            configured = float(limit)
            if configured <= 0:
                raise ValueError(f"the rate limit for {action} must be positive, got {configured}")
            share = STATED_SHARE if getattr(limit, "stated", False) else PACING_SHARE
            lane = self._lanes[key] = Lane(configured, now, share)
        return lane
