"""One DingTalk robot's limits: 20 messages a minute, then a 10-minute block. Thread-safe, per process."""

from __future__ import annotations

import hashlib
import threading
from collections import deque

# DingTalk allows 20 messages per minute per robot and then blocks the robot for 10 minutes. We stay
# one below, and count every HTTP attempt (a retried message is a second call on DingTalk's side).
# Other functions sharing the robot are not counted: batch results into few messages per run.
SENDS_PER_MINUTE = 19
RATE_WINDOW_SECONDS = 60.0

ERRCODE_RATE_LIMITED = 130101  # the robot is blocked for 10 minutes: retrying inside this run is useless
RATE_LIMIT_BLOCK_SECONDS = 600.0


class RobotLimits:
    """Sends in the last minute and a DingTalk block, for one robot. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sends: deque[float] = deque()
        self._blocked_until = 0.0

    def problem(self, now: float) -> str | None:
        with self._lock:
            if now < self._blocked_until:
                return f"robot rate limited by DingTalk (errcode {ERRCODE_RATE_LIMITED}) for 10 minutes"
            while self._sends and now - self._sends[0] >= RATE_WINDOW_SECONDS:
                self._sends.popleft()
            if len(self._sends) >= SENDS_PER_MINUTE:
                return f"over {SENDS_PER_MINUTE} messages in the last minute"
            return None

    def record(self, now: float) -> None:
        with self._lock:
            self._sends.append(now)

    def block(self, until: float) -> None:
        with self._lock:
            self._blocked_until = max(self._blocked_until, until)


# Per robot, for the whole process: Function Compute runs invocations one after another in a warm instance
# (a replayed invocation, the next night's run); together they must stay under the robot's limit too.
_SHARED_BUDGETS: dict[str, RobotLimits] = {}
_SHARED_LOCK = threading.Lock()


def shared_limits(webhook: str) -> RobotLimits:
    key = hashlib.sha256(webhook.encode("utf-8")).hexdigest()  # never keep the token itself as a key
    with _SHARED_LOCK:
        return _SHARED_BUDGETS.setdefault(key, RobotLimits())
