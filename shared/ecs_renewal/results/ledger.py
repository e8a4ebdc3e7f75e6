"""What the renewal ledger saw in one renew-batch run (``jobs/ledger_guard.py``), typed: the result's
``ledger`` and the ``job_finished`` record's.

Loaded when a run ends (``LedgerGuard.summary``), not when the handler is imported: a frozen dataclass
costs its definition at every cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class LedgerAlert(NamedTuple):
    """One renewal-ledger entry a person must check (moved twice, not moved, an outcome not written, forced)."""

    instance_id: str
    region: str
    status: str
    detail: str
    order_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class LedgerNote(NamedTuple):
    """What the ledger said about one instance it skipped (a ``Skip``'s ``ledger``): its status (``renewed``,
    ``pending``, ``moved_otherwise``, ``unconfirmed``, ...), its sentence, and the order and times it recorded."""

    status: str
    detail: str
    order_id: str | None = None
    failed: str | None = None
    recorded_at: str | None = None
    old_expiry: str | None = None
    expected_expiry: str | None = None

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> LedgerNote:
        """From ``LedgerView.as_dict()`` (or the contract's row read back): the keys it knows."""
        return cls(**{name: fields[name] for name in cls._fields if name in fields})

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self._asdict().items()
                if value is not None or key in ("status", "detail")}


class LeftoverIntents(NamedTuple):
    """Early intents a stopped plan could not withdraw (harmless: the next run renews once, same token)."""

    region: str
    instances: tuple[str, ...]
    code: str

    def as_dict(self) -> dict[str, Any]:
        return {"region": self.region, "instances": list(self.instances), "code": self.code}


@dataclass(frozen=True, eq=False)
class LedgerSummary:
    """Counts by name (``read``, ``renewed``, ``intents_written``, ...), the alerts, the forced ids, and the
    intents left behind."""

    counts: Mapping[str, int] = field(default_factory=dict)
    alerts: tuple[LedgerAlert, ...] = ()
    forced: tuple[str, ...] = ()
    leftover: tuple[LeftoverIntents, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        summary: dict[str, Any] = {**dict(sorted(self.counts.items())), "alerts": [a.as_dict() for a in self.alerts],
                                   "forced": list(self.forced)}
        if self.leftover:
            summary["leftover_intents"] = [row.as_dict() for row in self.leftover]
        return summary
