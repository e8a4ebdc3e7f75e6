"""Function Compute's asynchronous-invocation rules, as the docs state them, each a knob (``fc.py`` uses these).

Sources: FC "Retry policies" (alibabacloud.com/help/en/fc/retry-policy) and error-handling docs
(.../functioncompute/fc/error-handling-1-2), the FC 3.0 API model ``PutAsyncInvokeConfigInput``
(``alibabacloud_fc20230330/models/_put_async_invoke_config_input.py``) and the team's notes
(``shared/reference/function-compute.md`` section 5):

* A run longer than the function's ``timeout`` is killed and counts as a failure.
* A failed or killed async invocation is run again with the same event, up to ``maxAsyncRetryAttempts``
  times (API range 0-8, default 3) — *later*: never before ``replay_delay`` (default: the function's
  timeout) after the previous attempt started, so a killed run's effects are visible to its replay.
* An event older than ``maxAsyncEventAgeInSeconds`` (API default 86400) when its next attempt is due is
  dropped, not run.
* What finally failed (retries exhausted, or dropped for age) goes to the ``onFailure`` destination.
* Whether a replay carries the first attempt's request id is not documented: ``replay_same_request_id``
  (default False: each attempt has its own id, so code cannot rely on either).

Time: Function Compute's own timers (timeout, replay delay, event age) run on :class:`FcClock`, whose
``time_scale`` is emulated seconds per real second (default 1.0, real time). A test sets e.g. 100 so a
900 s timeout is 9 real seconds; the handler and the ECS emulator keep running in real time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MAX_ASYNC_RETRY_ATTEMPTS = 3  # FC docs and API model: default 3, range 0..8
DEFAULT_MAX_ASYNC_EVENT_AGE = 86400  # API model (the fc3 schema says 18000; s.yaml always sets it)
MAX_ASYNC_RETRY_ATTEMPTS = 8


class FcClock:
    """Emulated seconds since the emulator started: ``time_scale`` emulated seconds per real second."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self._origin = time.monotonic()
        self.time_scale = time_scale

    @property
    def time_scale(self) -> float:
        return self._scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        if value <= 0:
            raise ValueError("time_scale must be > 0 (emulated seconds per real second)")
        # Keep `now()` continuous across a change of scale.
        now = self.now() if hasattr(self, "_scale") else 0.0
        self._origin, self._base, self._scale = time.monotonic(), now, value

    def now(self) -> float:
        return self._base + (time.monotonic() - self._origin) * self._scale

    def real_seconds(self, emulated: float) -> float:
        return max(0.0, emulated) / self._scale

    def sleep_until(self, emulated: float) -> None:
        while (left := emulated - self.now()) > 0:
            time.sleep(self.real_seconds(left))


@dataclass(frozen=True)
class FunctionConfig:
    """One function's settings, shaped like s.yaml's props (``runtime``, ``timeout``, ``asyncInvokeConfig``)."""

    timeout: float = 900.0
    max_async_retry_attempts: int = DEFAULT_MAX_ASYNC_RETRY_ATTEMPTS
    max_async_event_age: float = DEFAULT_MAX_ASYNC_EVENT_AGE
    async_task: bool = False
    on_failure: str | None = None  # destinationConfig.onFailure.destination (an ARN; recorded, not called)
    replay_delay: float | None = None  # None: the timeout
    runtime: str = "python3.12"  # the context's shape (fc.py): python3.9/3.10 still carry credentials

    def __post_init__(self) -> None:
        if not 0 <= self.max_async_retry_attempts <= MAX_ASYNC_RETRY_ATTEMPTS:
            raise ValueError(f"maxAsyncRetryAttempts must be 0..{MAX_ASYNC_RETRY_ATTEMPTS}")
        if self.timeout <= 0 or self.max_async_event_age <= 0:
            raise ValueError("timeout and maxAsyncEventAgeInSeconds must be > 0")

    @property
    def delay_before_replay(self) -> float:
        return self.timeout if self.replay_delay is None else self.replay_delay

    @classmethod
    def from_props(cls, props: dict[str, Any], **overrides: Any) -> FunctionConfig:
        """From an s.yaml resource's ``props`` (literal values; ``${vars}`` are not resolved here)."""
        config = props.get("asyncInvokeConfig") or {}
        on_failure = ((config.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
        values: dict[str, Any] = {
            "timeout": float(props.get("timeout", 3)),  # FC's own default timeout is 3 s
            "max_async_retry_attempts": int(config.get("maxAsyncRetryAttempts", DEFAULT_MAX_ASYNC_RETRY_ATTEMPTS)),
            "max_async_event_age": float(config.get("maxAsyncEventAgeInSeconds", DEFAULT_MAX_ASYNC_EVENT_AGE)),
            "async_task": bool(config.get("asyncTask", False)),
            "on_failure": on_failure,
            "runtime": str(props.get("runtime") or "python3.12"),
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class DestinationRecord:
    """What the ``onFailure`` destination receives for an async invocation that finally failed.

    Shaped after FC's destination message (``requestContext``, ``requestPayload``, ``responseContext``,
    ``responsePayload``); the field names here are the emulator's.
    """

    destination: str | None  # None: no destination configured (kept for inspection anyway)
    function: str
    condition: str  # "RetriesExhausted" (every attempt failed) or "EventExpired" (dropped for age)
    request_id: str  # the first attempt's
    payload: bytes
    attempts: int  # how many times the handler ran
    error: dict[str, Any] | None  # the last attempt's error
    at: float  # emulated seconds (FcClock)
    extra: dict[str, Any] = field(default_factory=dict)
