"""Fault injection: latency, per-action rate limits, scripted failures, regions that are down."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import ApiError

FAULT_KINDS = ("error", "apply_then_error", "apply_then_drop", "delay", "throttle", "expire_token")

# (status, code) used when add() is not told otherwise.
_DEFAULTS = {
    "error": (503, "ServiceUnavailable"),
    "apply_then_error": (503, "ServiceUnavailable"),
    "apply_then_drop": (0, ""),
    "delay": (200, ""),
    "throttle": (400, "Throttling"),
    "expire_token": (400, "InvalidSecurityToken.Expired"),
}

_MESSAGES = {
    "ServiceUnavailable": "The request has failed due to a temporary failure of the server.",
    "InternalError": "The request processing has failed due to some unknown error, exception or failure.",
    "UnknownError": "The request processing has failed due to some unknown error.",
    "Throttling": "Request was denied due to request throttling.",
    "Throttling.User": "Request was denied due to user flow control.",
    "Throttling.Api": "Request was denied due to api flow control.",
    "InvalidSecurityToken.Expired": "Specified SecurityToken is expired.",
}


@dataclass
class FaultRule:
    kind: str
    action: str | None = None
    region: str | None = None
    instance_id: str | None = None
    times: int | None = 1  # None = forever
    status: int = 503
    code: str = "ServiceUnavailable"
    delay: float = 0.0
    message: str | None = None
    hits: int = 0

    def matches(self, action: str, region: str | None, instance_ids: Iterable[str]) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.action is not None and self.action != action:
            return False
        if self.region is not None and self.region != region:
            return False
        return self.instance_id is None or self.instance_id in instance_ids

    def error(self) -> ApiError:
        return ApiError(self.status, self.code, self.message or _MESSAGES.get(self.code, "Injected fault."))


class Faults:
    """``emu.faults``: knobs that tests turn to make the emulator misbehave on purpose."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency: float = 0.0  # seconds added before every RPC answer
        self.rate_limit: float | None = None  # calls per second per action; None = unlimited
        self._rules: list[FaultRule] = []
        self._regions_down: set[str] = set()
        self._recent: dict[str, deque[float]] = {}

    # ---- scripted rules ---------------------------------------------------------------------

    def add(
        self,
        action: str | None = None,
        kind: str = "error",
        times: int | None = 1,
        region: str | None = None,
        instance_id: str | None = None,
        status: int | None = None,
        code: str | None = None,
        delay: float = 0.0,
        message: str | None = None,
    ) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        default_status, default_code = _DEFAULTS[kind]
        rule = FaultRule(
            kind=kind,
            action=action,
            region=region,
            instance_id=instance_id,
            times=times,
            status=status if status is not None else default_status,
            code=code if code is not None else default_code,
            delay=delay,
            message=message,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, action: str, region: str | None, instance_ids: Iterable[str]) -> FaultRule | None:
        """The first live rule matching this call, consumed by one use."""
        ids = set(instance_ids)
        with self._lock:
            for rule in self._rules:
                if rule.matches(action, region, ids):
                    rule.hits += 1
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        """Remove rules and downed regions, and reset latency and the rate limit."""
        with self._lock:
            self._rules.clear()
            self._regions_down.clear()
            self._recent.clear()
            self.latency = 0.0
            self.rate_limit = None

    # ---- regions ----------------------------------------------------------------------------

    def region_down(self, region: str) -> None:
        """Every ECS call for this region gets its connection closed with no answer."""
        with self._lock:
            self._regions_down.add(region)

    def region_up(self, region: str) -> None:
        with self._lock:
            self._regions_down.discard(region)

    def is_region_down(self, region: str | None) -> bool:
        with self._lock:
            return region in self._regions_down

    # ---- flow control -----------------------------------------------------------------------

    def admit(self, action: str) -> bool:
        """Sliding one-second window per action. Rejected calls do not use up the budget."""
        limit = self.rate_limit
        if limit is None:
            return True
        now = time.monotonic()
        with self._lock:
            window = self._recent.setdefault(action, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True
