"""Fault injection: latency, scripted failures, regions that are down (throttling itself: ``throttle.py``).

Every fault actually injected is counted by kind in ``Faults.injected`` (a ``Counter``): tests and the
reliability report read it to say what the code under test survived. ``clear()`` resets the knobs,
never the counts.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .errors import ApiError
from .throttle import Throttle

# "pass" injects nothing: the call goes through unchanged. With ``then=`` it runs a callback at that exact
# point of a run (e.g. expire the caller's credentials for real, or take a region down mid-batch).
FAULT_KINDS = ("error", "apply_then_error", "apply_then_drop", "delay", "throttle", "expire_token", "pass")

# (status, code) used when add() is not told otherwise.
_DEFAULTS = {
    "error": (503, "ServiceUnavailable"),
    "apply_then_error": (503, "ServiceUnavailable"),
    "apply_then_drop": (0, ""),
    "delay": (200, ""),
    "throttle": (400, "Throttling"),
    "expire_token": (400, "InvalidSecurityToken.Expired"),
    "pass": (200, ""),
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
    # Storms and precise timing: let the first ``after`` matching calls through; then strike each
    # matching call with this ``probability`` (dice from the Faults' seeded generator).
    after: int = 0
    probability: float = 1.0
    then: Callable[[], object] | None = field(default=None, repr=False)
    seen: int = 0

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

    def __init__(self, throttle: Throttle | None = None) -> None:
        self._lock = threading.Lock()
        self.latency: float = 0.0  # seconds added before every RPC answer
        self.throttle = throttle if throttle is not None else Throttle()
        self._rules: list[FaultRule] = []
        self._regions_down: set[str] = set()
        self._rng = random.Random(0)
        self.injected: Counter[str] = Counter()  # faults actually injected, by kind (never reset)

    def seed(self, value: int) -> None:
        """Make probabilistic rules (storms) repeatable."""
        with self._lock:
            self._rng = random.Random(value)

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
        *,
        after: int = 0,
        probability: float = 1.0,
        then: Callable[[], object] | None = None,
    ) -> FaultRule:
        """A scripted rule. ``times`` = how many calls it strikes (None: until cleared); ``after`` = matching
        calls it lets through first; ``probability`` = chance it strikes a matching call (a storm);
        ``then`` = callback run when it strikes (before the action runs)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        if not 0.0 < probability <= 1.0 or after < 0:
            raise ValueError("probability must be in (0, 1] and after >= 0")
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
            after=after,
            probability=probability,
            then=then,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, action: str, region: str | None, instance_ids: Iterable[str]) -> FaultRule | None:
        """The first live rule that strikes this call, consumed by one use (its ``then`` runs here)."""
        ids = set(instance_ids)
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(action, region, ids):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.hits += 1
                if rule.times is not None:
                    rule.times -= 1
                if rule.kind != "pass":
                    self.injected[rule.kind] += 1
                chosen = rule
                break
        if chosen is not None and chosen.then is not None:
            chosen.then()  # outside the lock: it may well call back into the emulator
        return None if chosen is not None and chosen.kind == "pass" else chosen

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        """Remove rules and downed regions, and reset latency and the rate limit."""
        with self._lock:
            self._rules.clear()
            self._regions_down.clear()
            self.latency = 0.0
        self.rate_limit = None
        self.throttle.clear_state()

    @property
    def rate_limit(self) -> float | None:
        """One quota of this many calls/s for EVERY action (per account, region, action); None = the quota table."""
        return self.throttle.uniform_rate

    @rate_limit.setter
    def rate_limit(self, value: float | None) -> None:
        self.throttle.uniform_rate = value

    # ---- regions ----------------------------------------------------------------------------

    def region_down(self, region: str) -> None:
        """Every ECS call for this region gets its connection closed with no answer."""
        with self._lock:
            self._regions_down.add(region)

    def region_up(self, region: str) -> None:
        with self._lock:
            self._regions_down.discard(region)

    def is_region_down(self, region: str | None) -> bool:
        """Asked once per ECS call: a True answer is an injected outage (counted)."""
        with self._lock:
            down = region in self._regions_down
            if down:
                self.injected["region_down"] += 1
            return down

    # ---- flow control -----------------------------------------------------------------------

    def admit(self, action: str, account: str = "", region: str | None = None) -> bool:
        """The throttle's verdict for one call; a refusal is counted as an injected ``rate_limit``."""
        admitted = self.throttle.admit(account, region, action)
        if not admitted:
            with self._lock:
                self.injected["rate_limit"] += 1
        return admitted
