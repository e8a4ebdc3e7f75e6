"""The event as Function Compute passes it (bytes, str, dict or nothing) → the overrides dict."""

from __future__ import annotations

import gc
import json
from typing import Any

from ..errors import InvalidEventError

MAX_EVENT_BYTES = 128 * 1024  # Function Compute's own cap on an async payload
TIMER_KEYS = {"triggerTime", "triggerName", "payload"}


def parse_event(event: Any) -> dict[str, Any]:
    """Turn what Function Compute passes (bytes, str, dict or nothing) into the overrides dict.

    A timer trigger's envelope is unwrapped: its ``payload`` string, when it holds a JSON object,
    is read as the overrides; any other payload (a label such as "nightly") carries none.
    """
    if event is None:
        return {}
    if isinstance(event, (bytes, bytearray)):
        event = _text_of(bytes(event))
    if isinstance(event, str):
        event = _json_of(event)
    if not isinstance(event, dict):
        raise InvalidEventError("event", f"must be a JSON object, got {type(event).__name__}")
    if event and set(event) <= TIMER_KEYS and ("triggerTime" in event or "triggerName" in event):
        return _timer_payload(event.get("payload"))
    return dict(event)


def _text_of(event: bytes) -> str:
    if len(event) > MAX_EVENT_BYTES:
        raise InvalidEventError("event", f"is {len(event)} bytes; at most {MAX_EVENT_BYTES}")
    try:
        return event.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEventError("event", "is not UTF-8 text") from None


def _json_of(event: str) -> Any:
    if len(event.encode("utf-8", "surrogatepass")) > MAX_EVENT_BYTES:
        raise InvalidEventError("event", f"is larger than {MAX_EVENT_BYTES} bytes")
    if not event.strip():
        return {}
    return _loads(event, "event", "is not valid JSON")


def _loads(text: str, key: str, problem: str) -> Any:
    """``json.loads``, its failure an InvalidEventError. The collector waits meanwhile: a deeply nested
    event is parsed at the edge of the recursion limit, where a finalizer that the collector happened to run
    (an earlier run's socket, a generator) would itself fail with RecursionError, printed as unraisable."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidEventError(key, problem) from None
    finally:
        if enabled:
            gc.enable()


def _timer_payload(payload: Any) -> dict[str, Any]:
    if payload is None or (isinstance(payload, str) and not payload.strip()):
        return {}
    if not isinstance(payload, str):
        raise InvalidEventError("payload", "must be a string (a JSON object in a string)")
    text = payload.strip()
    if not text.startswith("{"):
        return {}  # a plain label, not overrides
    overrides = _loads(text, "payload", "looks like JSON but does not parse")
    if not isinstance(overrides, dict):
        raise InvalidEventError("payload", "must hold a JSON object")
    return overrides
