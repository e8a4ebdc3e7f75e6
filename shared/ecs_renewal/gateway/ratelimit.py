"""Client-side flow control: every API action gets its own lane, paced at — never above — its limit.

ECS counts calls per account, per API and per region, and a call over the threshold is refused with
``Throttling*`` — in the real cloud, for the rest of that minute (``ecs-api`` throttling docs). Hitting
the limit on purpose and retrying is therefore the slowest way through a big fleet. Each lane combines:

- a **token bucket** that paces calls at ``PACING_SHARE`` of the limit, with a small burst, so calls
  arrive evenly (a burst lands on the server spread out by its queue, and spills into the next second);
- a **sliding one-second window** holding at most ``PACING_SHARE`` of the limit: the hard guarantee that
  no second ever sees more sends than that, whatever the bucket allowed. The missing 5 % absorbs how
  the server's clock sees our sends: a call waits in queues for a varying time before ECS counts it;
- **AIMD**: a throttling answer cuts the lane's limit by ``DECREASE`` (once per burst of answers: only
  calls sent after the previous cut can cut again), then the limit climbs back by ``RECOVERY_PER_SECOND``
  of the configured one per second without throttling.

A caller *reserves* a send time under the lock and sleeps outside it, so waiting threads are served in
order and none spins. Clock and sleep are injectable for tests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

PACING_SHARE = 0.95  # the rest absorbs jitter between our send and the server's count
BURST_SHARE = 0.2  # calls that may go at once after a pause (a fifth of a second's worth)
WINDOW_SECONDS = 1.0
DECREASE = 0.8
RECOVERY_PER_SECOND = 0.05  # of the configured limit: from a cut to 80 % back to 100 % in 4 s
FLOOR_SHARE = 0.05  # AIMD never goes below this share of the configured limit


class _Lane:
    """One action's pacing state (guarded by the limiter's lock)."""

    __slots__ = ("calls", "configured", "cut_at", "limit", "recovered_at", "sent", "throttled", "tokens",
                 "updated", "waited")

    def __init__(self, configured: float, now: float) -> None:
        self.configured = self.limit = configured
        self.tokens = max(1.0, configured * BURST_SHARE)  # a lane starts with its burst
        self.updated = now  # when ``tokens`` was true; may lie in the future (the last reservation)
        self.recovered_at = now
        self.cut_at = float("-inf")
        self.sent: deque[float] = deque()  # send times of the last ``window_cap`` calls
        self.waited = 0.0
        self.calls = 0
        self.throttled = 0

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
    """Per-action pacing at a configured calls-per-second limit, shrinking on throttling, recovering after."""

    def __init__(
        self,
        limit_for: Callable[[str], float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limit_for = limit_for
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[str, _Lane] = {}
        self._lock = threading.Lock()

    def acquire(self, action: str) -> float:
        """Wait for this action's next slot; returns the send time (pass it to :meth:`throttled`)."""
        with self._lock:
            now = self._clock()
            lane = self._lane(action, now)
            self._recover(lane, now)
            start = max(now, lane.updated)
            tokens = min(lane.burst, lane.tokens + (start - lane.updated) * lane.rate)
            paced_at = start if tokens >= 1 else start + (1 - tokens) / lane.rate
            send_at = paced_at
            while len(lane.sent) > lane.window_cap:  # the cap may have shrunk since these were sent
                lane.sent.popleft()
            if len(lane.sent) == lane.window_cap:
                send_at = max(send_at, lane.sent[0] + WINDOW_SECONDS)
                lane.sent.popleft()
            lane.tokens = min(lane.burst, lane.tokens + (send_at - lane.updated) * lane.rate) - 1
            if send_at > paced_at:
                # Held back by the window: no burst saved up meanwhile, or it would echo every second.
                lane.tokens = min(lane.tokens, 0.0)
            lane.updated = send_at
            lane.sent.append(send_at)
            lane.calls += 1
            lane.waited += send_at - now
        if send_at > now:
            self._sleep(send_at - now)
        return send_at

    def throttled(self, action: str, sent_at: float) -> None:
        """The server refused a call sent at ``sent_at`` for flow control: slow this action down."""
        with self._lock:
            now = self._clock()
            lane = self._lane(action, now)
            lane.throttled += 1
            if sent_at <= lane.cut_at:
                return  # sent before the last cut: that cut already answered this burst
            self._recover(lane, now)
            lane.limit = max(lane.configured * FLOOR_SHARE, lane.limit * DECREASE)
            lane.cut_at = now
            lane.tokens = min(lane.tokens, 0.0)  # no burst right after a refusal

    def limit(self, action: str) -> float:
        """The action's current limit (calls per second), after any cut and recovery."""
        with self._lock:
            now = self._clock()
            lane = self._lane(action, now)
            self._recover(lane, now)
            return lane.limit

    def usage(self) -> dict[str, dict[str, float]]:
        """Per action: calls paced, seconds spent waiting for a slot, throttling answers, current limit."""
        with self._lock:
            return {
                action: {"calls": lane.calls, "waited_s": round(lane.waited, 3), "throttled": lane.throttled,
                         "limit": round(lane.limit, 2)}
                for action, lane in sorted(self._lanes.items())
            }

    def _lane(self, action: str, now: float) -> _Lane:
        lane = self._lanes.get(action)
        if lane is None:
            configured = float(self._limit_for(action))
            if configured <= 0:
                raise ValueError(f"the rate limit for {action} must be positive, got {configured}")
            lane = self._lanes[action] = _Lane(configured, now)
        return lane

    @staticmethod
    def _recover(lane: _Lane, now: float) -> None:
        """Additive increase: the limit climbs back towards the configured one as time passes unthrottled."""
        if now > lane.recovered_at:
            if lane.limit < lane.configured:
                step = lane.configured * RECOVERY_PER_SECOND * (now - lane.recovered_at)
                lane.limit = min(lane.configured, lane.limit + step)
            lane.recovered_at = now
