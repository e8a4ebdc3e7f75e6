"""Who decided what about a plan, kept in the store so that every instance of the function agrees.

- ``decisions/<plan>.json``: the first decision (approved / rejected, by whom, when) — put-if-absent, so a
  rejected plan can never be approved afterwards and two approvals race to one record;
- ``approvals/<plan>/<staff id>``: one object per approver (robot mode); the same person twice is one
  object, so the quorum counts distinct approvers;
- ``outcomes/<plan>.json``: what applying did (renewed, refused with reasons, order ids, money spent).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .store import ObjectStore


def decision_key(plan_id: str) -> str:
    return f"decisions/{plan_id}.json"


def outcome_key(plan_id: str) -> str:
    return f"outcomes/{plan_id}.json"


def _json(raw: bytes | None) -> dict[str, Any] | None:
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def decide(store: ObjectStore, plan_id: str, decision: str, who: dict[str, Any]) -> dict[str, Any]:
    """Record the plan's decision unless one exists; the decision in force (this one, or the earlier)."""
    record = {"decision": decision, **who}
    if store.put_if_absent(decision_key(plan_id), json.dumps(record, sort_keys=True).encode()):
        return record
    return _json(store.get(decision_key(plan_id))) or record


def decision_of(store: ObjectStore, plan_id: str) -> dict[str, Any] | None:
    return _json(store.get(decision_key(plan_id)))


def add_approval(store: ObjectStore, plan_id: str, staff_id: str, who: dict[str, Any]) -> bool:
    """True when this approver is counted for the first time."""
    return store.put_if_absent(f"approvals/{plan_id}/{staff_id}", json.dumps(who, sort_keys=True).encode())


def approvers_so_far(store: ObjectStore, plan_id: str, approvers: Iterable[str]) -> list[str]:
    """Which of ``APPROVERS`` approved this plan (the list is short: one read each, no listing needed)."""
    return [staff for staff in approvers if store.get(f"approvals/{plan_id}/{staff}") is not None]


def save_outcome(store: ObjectStore, plan_id: str, outcome: dict[str, Any]) -> None:
    store.put(outcome_key(plan_id), json.dumps(outcome, sort_keys=True).encode())


def outcome_of(store: ObjectStore, plan_id: str) -> dict[str, Any] | None:
    return _json(store.get(outcome_key(plan_id)))
