"""audit-autorenew's result: the drift found, what was fixed, what was left alone and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..gateway.models import AutoRenewAttribute
from ..records import Failure, Skip
from . import JobResult


@dataclass(frozen=True, eq=False)
class Drift:
    region: str
    attribute: AutoRenewAttribute

    def as_row(self) -> dict[str, Any]:
        a = self.attribute
        return {"instance_id": a.instance_id, "region": self.region, "auto_renew_enabled": a.enabled,
                "duration": a.duration, "renewal_status": a.renewal_status}


@dataclass(frozen=True, eq=False)
class Fix:
    instance_id: str
    region: str

    def as_row(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "region": self.region}


@dataclass(frozen=True, kw_only=True, eq=False)  # compared by identity: no __eq__ to build
class AuditResult(JobResult):
    drift: tuple[Drift, ...] = ()
    fixed: tuple[Fix, ...] = ()
    skipped: tuple[Skip, ...] = ()
    failed: tuple[Failure, ...] = ()
    # The setting wanted; None only for a result read back that does not say (contract.from_contract).
    expected_auto_renew: bool | None = True
    duration: int = 1
    fix: bool = False

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "errors": self.error_rows(), "drift": [d.as_row() for d in self.drift],
            "fixed": [f.as_row() for f in self.fixed], "skipped": [s.as_row() for s in self.skipped],
            "failed": [f.as_row() for f in self.failed]}
        if self.expected_auto_renew is not None:
            body["expected"] = {"auto_renew": self.expected_auto_renew, "duration": self.duration}
        body.update(fix=self.fix, api_calls=self.calls())
        return body

    def counts(self) -> dict[str, int]:
        return {"drift": len(self.drift), "fixed": len(self.fixed), "skipped": len(self.skipped),
                "failed": len(self.failed)}
