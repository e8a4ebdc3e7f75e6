"""Deterministic keys: the same decision always carries the same key, in any process, on any day.

**ClientToken** — ``RenewInstance``'s ClientToken makes a request idempotent: the same token with the
same parameters is the same order, never a second charge. The token is derived from what the decision
was based on — instance id, the expiry it had when selected, period and unit (or the unified expiry
day) — so:

- a retried call (our retry policy) re-sends the same token;
- a re-invoked function (Function Compute replays a failed async invocation up to 3 times) selects the
  same instance at the same old expiry — the new expiry becomes visible only seconds later — and so
  sends the same token again: ECS answers with the first order.
- once the new expiry is visible, the instance has a different expiry: it is a new decision, and it is
  normally out of the window anyway.

Limit: if someone renews the instance by hand between two runs, its expiry changes, the token changes,
and a run that still finds it in the window renews it again (it *is* expiring, by the data we see).

**Async task id** — a fan-out coordinator sends each shard with an id derived from the function and the
shard's event bytes: Function Compute drops a repeated task id, so a retried coordinator re-sends the
same shards without running them twice.

**Reminder key** — (instance, tier, local day): one reminder per instance and tier a day.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from ..timeutil import format_minute

TOKEN_PREFIX = "ecsrenew-"  # ASCII, and the whole token stays under the API's 64 characters


def renewal_client_token(
    instance_id: str, expired_time: datetime, period: int | None, period_unit: str | None,
    expected_renew_day: int | None = None,
) -> str:
    terms = f"day{expected_renew_day}" if expected_renew_day is not None else f"{period}|{period_unit}"
    material = f"{instance_id}|{format_minute(expired_time)}|{terms}"
    return TOKEN_PREFIX + hashlib.sha256(material.encode("ascii")).hexdigest()[:48]


def async_task_id(function: str, payload: bytes) -> str:
    """Same function + same shard event → same id, so Function Compute can drop a repeated dispatch."""
    return f"{function}-{hashlib.sha256(payload).hexdigest()[:32]}"


def reminder_key(instance_id: str, tier: int | None, local_day: str) -> str:
    return f"{instance_id}|{tier}|{local_day}"
