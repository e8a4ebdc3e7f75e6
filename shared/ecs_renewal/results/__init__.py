"""One typed result per job run; :func:`ecs_renewal.contract.to_contract` turns it into the contract's dict.

Every reader that decides something — the exit status, the run record, the alerts, the account merge —
reads these fields; only the boundary (the handler's return value, the CLI's JSON) sees the dict. Each
job's result lives in its own module (``results.scan``, ``.renew``, ``.audit``, ``.runs``): a handler
loads only its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple, Self

from ..records import CostEstimate, RegionError

if TYPE_CHECKING:
    from ..config.window import Window
    from ..plan import BudgetExceeded, CapExceeded
    from ..settings import Settings


class Alerts(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """What the run's DingTalk messages came to."""

    messages: int = 0
    sent: int = 0
    already_reported: int | None = None  # a scan: reminders already sent today, left out
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"messages": self.messages, "sent": self.sent}
        if self.already_reported is not None:
            fields["already_reported"] = self.already_reported
        if self.error is not None:
            fields["error"] = self.error
        return fields


def as_dicts(**values: Any) -> dict[str, Any]:
    """``{key: value.as_dict()}`` for the values that are set, in the order given (limits, costs, funds)."""
    return {key: value.as_dict() for key, value in values.items() if value is not None}


@dataclass(frozen=True, kw_only=True, eq=False)  # compared by identity: no __eq__ to build
class JobResult:
    """What every job's result says: which run, what could not be read, what it cost in calls."""

    job: str
    dry_run: bool
    regions: tuple[str, ...]
    window: Window | None = None
    errors: tuple[RegionError, ...] = ()
    api_calls: Mapping[str, int] = field(default_factory=dict)
    # Filled in by the execution mode, after the job:
    account_id: str | None = None
    shard: Mapping[str, Any] | None = None
    request_id: str | None = None
    alerts: Alerts | None = None

    @classmethod
    def facts(cls, settings: Settings, *, with_window: bool) -> dict[str, Any]:
        """The fields every result of this run starts with."""
        return {"job": settings.job, "dry_run": settings.dry_run, "regions": tuple(settings.regions),
                "window": settings.window if with_window else None}

    def with_meta(self, **fields: Any) -> Self:
        """The same result with what the execution mode adds (account, shard, request, alerts)."""
        return replace(self, **fields)

    def head(self) -> dict[str, Any]:
        """The keys every result starts with: which job, how, where, when."""
        head: dict[str, Any] = {"job": self.job, "dry_run": self.dry_run, "regions": list(self.regions)}
        if self.window is not None:
            head["window"] = self.window.as_dict()
        return head

    def tail(self) -> dict[str, Any]:
        """The keys the execution mode adds: the account, the shard, the request, the alerts."""
        tail: dict[str, Any] = {"account_id": self.account_id} if self.account_id is not None else {}
        if self.shard:
            tail["shard"] = dict(self.shard)
        tail["request_id"] = self.request_id
        if self.alerts is not None:
            tail["alerts"] = self.alerts.as_dict()
        return tail

    def as_one(self) -> JobResult:
        """This result as one job's result (what messages, the CLI's table and the page read): itself;
        many accounts' result puts their rows together (``AccountsResult.as_one``)."""
        return self

    def fields(self) -> dict[str, Any]:
        """Every key of the contract's dict, not yet redacted (``contract.to_contract`` redacts them)."""
        return {**self.head(), **self.body(), **self.tail()}

    def body(self) -> dict[str, Any]:
        """The job's own keys of the contract's dict, in the contract's order."""
        return {"errors": self.error_rows()}

    def error_rows(self) -> list[dict[str, Any]]:
        return [error.as_row() for error in self.errors]

    # What the run record, the exit status and the account merge ask of any result:
    @property
    def cap(self) -> CapExceeded | None:
        return None

    @property
    def budget(self) -> BudgetExceeded | None:
        return None

    @property
    def cost(self) -> CostEstimate | None:
        return None

    @property
    def funds_short(self) -> Any:  # a FundsForecast that cash + credit cannot pay (renew-batch), else None
        return None

    @property
    def all_clear(self) -> Any:  # what a quiet scan checked (results.scan.AllClear), else None
        return None

    def counts(self) -> dict[str, int]:
        return {}

    def error_count(self) -> int:
        return len(self.errors)

    def calls(self) -> dict[str, int]:
        return dict(self.api_calls)

    def order_ids(self) -> list[str]:
        return []
