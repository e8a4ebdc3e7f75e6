"""API throttling as ECS documents it: per account (ParentUid), per region, per API, blocked until the next minute.

Sources:
  * ECS "API throttling" (help.aliyun.com/zh/ecs/developer-reference/api-throttling): each API and each
    region is counted on its own; "if an API is throttled in minute T it can be called again in minute T+1";
    after a throttle, probe at 1 QPS. The answer is a ``Throttling`` error (HTTP 400, reference section 8).
  * Quota Center "API rate limits" (help.aliyun.com/.../api-ecs-2014-05-26-quota): thresholds written as
    ``N/1(s)`` or ``N/60(s)`` with the dimension "regionId, API, ParentUid".

Counting is over a SLIDING window (at most N calls in any 1 s / 60 s span: stricter than calendar windows,
which the cloud may use — not documented); refused calls do not count. The block lasts until the next
calendar minute of the emulator clock (``clock``, seconds since the epoch, like ``clock.utcnow``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

THROTTLING_CODES = ("Throttling.User", "Throttling.Api", "Throttling")
THROTTLING_MESSAGES = {
    "Throttling": "Request was denied due to request throttling.",
    "Throttling.User": "Request was denied due to user flow control.",
    "Throttling.Api": "Request was denied due to api flow control.",
}


@dataclass(frozen=True)
class Quota:
    """``calls`` per ``seconds`` (1 or 60), as Quota Center writes ``calls/seconds(s)``."""

    calls: int
    seconds: int = 1
    source: str = "unverified"

    def __post_init__(self) -> None:
        if self.calls < 1 or self.seconds not in (1, 60):
            raise ValueError(f"a quota is >= 1 call per 1 or 60 seconds, not {self.calls}/{self.seconds}s")

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds


# The actions the project calls. Quota Center shows ECS quotas to the account holder only; the public
# ECS quota page lists many 2014-05-26 APIs at 1000/60(s) or 500/60(s) (DescribePrice), other products'
# pages list 100/1(s) for most Describe calls. None of the numbers below was read for these exact APIs:
# every one is UNVERIFIED and an override (``Emulator(quotas=...)``) replaces it.
DEFAULT_QUOTAS: dict[str, Quota] = {
    "DescribeInstances": Quota(100, 1, "unverified (the common 100/1(s))"),
    "DescribeInstanceAutoRenewAttribute": Quota(100, 1, "unverified (the common 100/1(s))"),
    "ModifyInstanceAutoRenewAttribute": Quota(1000, 60, "unverified (ECS quota page's usual 1000/60(s))"),
    "RenewInstance": Quota(1000, 60, "unverified (ECS quota page's usual 1000/60(s))"),
    "DescribeRenewalPrice": Quota(500, 60, "unverified (DescribePrice is 500/60(s) on the ECS quota page)"),
    "AssumeRole": Quota(100, 1, "unverified (STS; region-less)"),
    "GetCallerIdentity": Quota(100, 1, "unverified (STS; region-less)"),
}
FALLBACK_QUOTA = Quota(100, 1, "unverified (any other action)")


def as_quota(value: Quota | float | tuple[int, int]) -> Quota:
    """An override: a ``Quota``, a calls-per-second number, or ``(calls, seconds)``."""
    if isinstance(value, Quota):
        return value
    if isinstance(value, tuple):
        return Quota(int(value[0]), int(value[1]), "override")
    if value >= 1:
        return Quota(int(value), 1, "override")
    return Quota(max(1, round(value * 60)), 60, "override")  # e.g. 0.5/s -> 30/60(s)


class Throttle:
    """``emu.throttle``. Knobs: ``enabled``, ``overrides``, ``uniform_rate``, ``scale``, ``block_until_next_minute``,
    ``code``, ``clock`` (seconds since the epoch; tests replace it to cross a minute without waiting)."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        quotas: Mapping[str, Quota | float | tuple[int, int]] | None = None,
        block_until_next_minute: bool = True,
        code: str = "Throttling.User",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if code not in THROTTLING_CODES:
            raise ValueError(f"throttle code must be one of {THROTTLING_CODES}, not {code!r}")
        self._lock = threading.Lock()
        self.enabled = enabled
        self.overrides: dict[str, Quota] = {name: as_quota(q) for name, q in (quotas or {}).items()}
        self.uniform_rate: float | None = None  # calls/s for every action (``faults.rate_limit``); None = table
        self.scale = 1.0  # multiplies every quota (bench / tests that mean to measure something else)
        self.block_until_next_minute = block_until_next_minute
        self.code = code
        self.clock = clock
        self._windows: dict[tuple[str, str, str], deque[float]] = {}
        self._blocked_until: dict[tuple[str, str, str], float] = {}
        # Throttled answers by (account, region, action); never reset by clear_state().
        self.throttled: Counter[tuple[str, str, str]] = Counter()

    def quota(self, action: str) -> Quota:
        if self.uniform_rate is not None:
            base = as_quota(self.uniform_rate)
        else:
            base = self.overrides.get(action) or DEFAULT_QUOTAS.get(action, FALLBACK_QUOTA)
        if self.scale == 1.0:
            return base
        return Quota(max(1, math.floor(base.calls * self.scale)), base.seconds, base.source + f" x{self.scale:g}")

    def admit(self, account: str, region: str | None, action: str) -> bool:
        """Count one call; False = answer it with a throttling error (then counted in ``throttled``)."""
        if not self.enabled:
            return True
        key = (account, region or "", action)
        quota = self.quota(action)
        now = self.clock()
        with self._lock:
            if now < self._blocked_until.get(key, 0.0):
                self.throttled[key] += 1
                return False
            window = self._windows.setdefault(key, deque())
            while window and now - window[0] >= quota.seconds:
                window.popleft()
            if len(window) >= quota.calls:
                next_minute = math.floor(now / 60) * 60 + 60
                self._blocked_until[key] = next_minute if self.block_until_next_minute else window[0] + quota.seconds
                self.throttled[key] += 1
                return False
            window.append(now)
            return True

    def error_message(self) -> str:
        return THROTTLING_MESSAGES[self.code]

    @property
    def throttled_total(self) -> int:
        with self._lock:
            return sum(self.throttled.values())

    def throttled_by_action(self) -> dict[str, int]:
        with self._lock:
            counts: Counter[str] = Counter()
            for (_, _, action), n in self.throttled.items():
                counts[action] += n
            return dict(counts)

    def clear_state(self) -> None:
        """Forget windows and blocks (not the counts of throttled answers)."""
        with self._lock:
            self._windows.clear()
            self._blocked_until.clear()
