"""What proposing a plan for approval came to (``APPROVAL=required``, ``approval/nightly.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ApprovalOutcome:
    """How many instances the plan holds and, once stored and put to the group, where; or why not."""

    entries: int
    plan_id: str | None = None
    valid_until: str | None = None  # the plan's own text (UTC), what the card and the page show
    totals: Mapping[str, float] | None = None  # per currency
    stored: str | None = None  # the plan's key in the store
    card_sent: bool | None = None
    error: str | None = None  # no secret, no store, the store down: the code (also in the result's errors)

    def planned(self, *, plan_id: str, valid_until: str, totals: Mapping[str, float], stored: str) -> ApprovalOutcome:
        return replace(self, plan_id=plan_id, valid_until=valid_until, totals=dict(totals), stored=stored)

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"entries": self.entries, "plan_id": self.plan_id}
        if self.error is not None:
            row["error"] = self.error
        if self.plan_id is not None:
            row.update(valid_until=self.valid_until, totals=dict(self.totals or {}), stored=self.stored)
        if self.card_sent is not None:
            row["card_sent"] = self.card_sent
        return row

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> ApprovalOutcome:
        totals = row.get("totals")
        return cls(int(row.get("entries") or 0), row.get("plan_id"), row.get("valid_until"),
                   dict(totals) if totals is not None else None, row.get("stored"), row.get("card_sent"),
                   row.get("error"))
