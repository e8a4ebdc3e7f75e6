"""Fan-out on Function Compute: a run too big for one invocation becomes shards, one async invocation each.

When the work (accounts × regions) exceeds ``SHARD_SIZE``, the invoked function acts as a coordinator:
it plans shards — one account each, at most ``SHARD_SIZE`` regions — and invokes *the same function*
asynchronously once per shard, with the shard in the event. A shard event carries ``shard`` and never
fans out again. Each shard runs the normal job and alerts on its own.

Shard events are deterministic (same overrides, same plan → same bytes, sorted keys), and each is sent
with an async task id derived from them (FC 3.0 header ``x-fc-async-task-id``), so a retried coordinator
re-sends the same shards. With ``asyncTask`` enabled on the function (s.yaml) Function Compute refuses a
repeated task id with 409 and queues nothing: the shard is reported ``dispatched`` with ``duplicate``.
When it is not enabled, a repeated shard only repeats reads — its renewals carry the same ClientTokens
(same instances, same expiries), so nothing is renewed twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # annotations only: a run for the function's own account never loads the accounts module
    from .accounts import Account

DEFAULT_SHARD_SIZE = 20  # account-regions per invocation: ~20 regions fit a 15-minute run at the rate limit
SHARD_KEYS = {"index", "of", "coordinator"}


class Shard(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """One async invocation's share of the run: one account, some of its regions."""

    index: int
    of: int
    account_id: str | None  # None: the function's own account
    regions: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "of": self.of, "account_id": self.account_id, "regions": list(self.regions)}


def plan_shards(accounts: Sequence[Account] | None, regions: Sequence[str], shard_size: int) -> list[Shard]:
    """One account per shard, its regions in slices of ``shard_size``; deterministic order."""
    owners: list[str | None] = [a.account_id for a in accounts] if accounts else [None]
    starts = range(0, len(regions), shard_size)
    slices = [(owner, tuple(regions[i : i + shard_size])) for owner in owners for i in starts]
    return [Shard(index, len(slices), owner, part) for index, (owner, part) in enumerate(slices, start=1)]


def needs_fan_out(accounts: Sequence[Account] | None, regions: Sequence[str], shard_size: int) -> bool:
    return len(accounts or [None]) * len(regions) > shard_size


def shard_event(overrides: dict[str, Any], shard: Shard, coordinator: str) -> bytes:
    """The event one shard is invoked with: the run's overrides, narrowed to the shard, marked as a shard."""
    event = {key: value for key, value in overrides.items() if key not in ("accounts", "regions", "shard")}
    event["regions"] = list(shard.regions)
    if shard.account_id is not None:
        event["accounts"] = [shard.account_id]
    event["shard"] = {"index": shard.index, "of": shard.of, "coordinator": coordinator}
    return json.dumps(event, sort_keys=True, separators=(",", ":")).encode("utf-8")


Invoker = Callable[[str, bytes, str], str | None]
"""(function name, payload, task id) → the async request id; raises on failure (an error whose
``duplicate`` is true: that task id was already queued)."""


def dispatch(
    function: str, overrides: dict[str, Any], shards: Sequence[Shard], coordinator: str, invoke: Invoker
) -> list[dict[str, Any]]:
    """Invoke the function once per shard; a failed dispatch is reported, the others still go out."""
    from .idempotency.keys import async_task_id

    dispatched = []
    for shard in shards:
        payload = shard_event(overrides, shard, coordinator)
        entry: dict[str, Any] = {**shard.as_dict(), "task_id": async_task_id(function, payload)}
        try:
            entry["request_id"] = invoke(function, payload, entry["task_id"])
            entry["status"] = "dispatched"
        except Exception as error:  # noqa: BLE001 - one failed dispatch must not stop the rest
            if getattr(error, "duplicate", False):  # the same task went out before (a replayed coordinator)
                entry.update(status="dispatched", duplicate=True, request_id=getattr(error, "request_id", None))
                dispatched.append(entry)
                continue
            entry.update(status="failed", code=getattr(error, "err_code", None) or type(error).__name__,
                         message=str(getattr(error, "message", error))[:300])
        dispatched.append(entry)
    return dispatched


def __getattr__(name: str) -> Any:
    """``async_task_id`` is re-exported (the task id lives with the other keys), loaded on first use: a run
    that does not fan out never needs it."""
    if name == "async_task_id":
        from .idempotency.keys import async_task_id

        return async_task_id
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
