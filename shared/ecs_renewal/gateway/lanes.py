"""One (region, action) lane of the rate limiter (``ratelimit.py``): its state and its arithmetic.

Everything here runs under the limiter's lock; nothing sleeps. The limiter asks a lane when its next
call may be sent (:meth:`Lane.reserve`, the token bucket and the sliding one-second window), whether
it is blocked or probing (:meth:`Lane.probe_wait`), and tells it what the server answered
(:meth:`Lane.block`, :meth:`Lane.resume`).
"""

from __future__ import annotations

import math
from collections import deque

PACING_SHARE = 0.8  # the rest absorbs stalls between our send and the cloud's count: up to 0.25 s
STATED_SHARE = 0.85  # when ECS_MAX_QPS states the quota (measured: README Performance; 0.9 was refused under load)
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


class Lane:
    """One (region, action)'s pacing state (guarded by the limiter's lock)."""

    __slots__ = ("admitted", "blocked_until", "blocks", "calls", "ceiling", "configured", "cut_at", "dispatched",
                 "last_code", "limit", "next_probe", "probe_sent", "probing", "recovered_at", "sent", "share",
                 "throttled", "tokens", "updated", "waited")

    def __init__(self, configured: float, now: float, share: float = PACING_SHARE) -> None:
        self.configured = self.limit = self.ceiling = configured
        self.share = share  # of the limit paced: PACING_SHARE, or STATED_SHARE for a quota the operator stated
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
        return self.limit * self.share

    @property
    def burst(self) -> float:
        return max(1.0, self.limit * BURST_SHARE)

    @property
    def window_cap(self) -> int:
        return max(1, int(self.limit * self.share))

    def figures(self) -> dict[str, float]:
        return {"calls": self.calls, "waited_s": round(self.waited, 3), "throttled": self.throttled,
                "blocks": self.blocks, "limit": round(self.limit, 2)}

    # ---- sending -------------------------------------------------------------------------------------

    def probe_wait(self, now: float, interval: float) -> float | None:
        """None: send (reserving normally, or as the probe); else seconds to wait before looking again."""
        if not self.probing:
            return None
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.probe_sent is not None and now - self.probe_sent < PROBE_TIMEOUT:
            return min(POLL, interval)  # one probe in flight at a time: wait for its answer
        if now < self.next_probe:
            return self.next_probe - now
        self.probe_sent = now
        self.next_probe = now + interval
        return None

    def reserve(self, now: float) -> float:
        """The send time of one more call: the bucket's pace, and never more than ``window_cap`` a second."""
        self.recover(now)
        if self.probing:  # this call is the probe: it goes now, alone
            self.sent.append(now)
            self.updated = max(self.updated, now)
            return now
        start = max(now, self.updated)
        tokens = min(self.burst, self.tokens + (start - self.updated) * self.rate)
        paced_at = start if tokens >= 1 else start + (1 - tokens) / self.rate
        send_at = paced_at
        while len(self.sent) > self.window_cap:  # the cap may have shrunk since these were sent
            self.sent.popleft()
        if len(self.sent) == self.window_cap:
            send_at = max(send_at, self.sent[0] + WINDOW_SECONDS + _EPSILON)
            self.sent.popleft()
        self.tokens = min(self.burst, self.tokens + (send_at - self.updated) * self.rate) - 1
        if send_at > paced_at:
            # Held back by the window: no burst saved up meanwhile, or it would echo every second.
            self.tokens = min(self.tokens, 0.0)
        self.updated = send_at
        self.sent.append(send_at)
        return send_at

    def unreserve(self, send_at: float) -> None:
        """Give back a slot that will not be used (it lies after the deadline)."""
        if self.sent and self.sent[-1] == send_at:
            self.sent.pop()

    def dispatch_wait(self, now: float) -> float:
        """Seconds until one more call may leave without ``window_cap`` calls leaving within one second."""
        if self.probing:
            return 0.0  # the probe goes alone, at its own pace
        cap = self.window_cap
        while len(self.dispatched) > cap:
            self.dispatched.popleft()
        if len(self.dispatched) < cap:
            return 0.0
        wait = self.dispatched[0] + WINDOW_SECONDS + _EPSILON - now
        if wait <= 0:
            self.dispatched.popleft()
        return wait

    def dispatch(self, now: float) -> float:
        """The call leaves now: counted, and its real send time returned (and kept for the window)."""
        self.dispatched.append(now)
        self.calls += 1
        return now

    # ---- what the server answered ---------------------------------------------------------------------

    def resume(self, sent_at: float, now: float) -> None:
        """A call sent at ``sent_at`` was admitted: a probe's admission ends the block (under the ceiling)."""
        if self.probing and self.probe_sent is not None and sent_at >= self.probe_sent:
            self.probing, self.probe_sent = False, None
            self.limit = self.ceiling
            self.tokens = 0.0
            self.updated = max(self.updated, now)
            self.recovered_at = now
        self.admitted.append(sent_at)
        while self.admitted and self.admitted[0] < now - ADMITTED_MEMORY:
            self.admitted.popleft()

    def block(self, sent_at: float, now: float, wall: float, minute: float, probe_interval: float,
              code: str | None) -> None:
        """A call sent at ``sent_at`` was throttled: stop to the wall-clock minute, then probe, resume below."""
        self.throttled += 1
        self.last_code = code or self.last_code
        if self.probing:
            if self.probe_sent is not None and sent_at >= self.probe_sent:
                self.probe_sent = None  # still blocked at the cloud: probe again a second later
                self.next_probe = max(self.next_probe, now + probe_interval)
            return
        if sent_at <= self.cut_at:
            return  # sent before the last block: that block already answers this burst
        self.recover(now)
        # What the server let through in the second before this refusal: a 1 s quota's estimate.
        admitted_last_second = sum(1 for t in self.admitted if sent_at - WINDOW_SECONDS < t <= sent_at)
        below = self.limit * DECREASE
        if admitted_last_second >= 1:
            below = min(below, admitted_last_second * DECREASE ** 0.5)
        self.ceiling = max(self.configured * FLOOR_SHARE, min(self.ceiling, below))
        self.limit = min(self.limit, self.ceiling)
        self.cut_at = now
        self.blocks += 1
        self.blocked_until = now + (math.floor(wall / minute) * minute + minute - wall) + BLOCK_MARGIN * minute / 60
        self.probing, self.probe_sent = True, None
        self.next_probe = self.blocked_until
        self.tokens = min(self.tokens, 0.0)  # no burst right after a refusal

    def recover(self, now: float) -> None:
        """Additive increase: the limit climbs back towards the ceiling as time passes unthrottled."""
        if now > self.recovered_at:
            if self.limit < self.ceiling and not self.probing:
                step = self.ceiling * RECOVERY_PER_SECOND * (now - self.recovered_at)
                self.limit = min(self.ceiling, self.limit + step)
            self.recovered_at = now
