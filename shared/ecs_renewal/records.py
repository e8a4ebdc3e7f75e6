"""What flows through a job: frozen records, one per fact, made once and never changed.

The source yields :class:`~.gateway.models.Instance`; filters turn some into a :class:`Skip` (with a
:class:`SkipCode`, so code compares codes and people read the detail); the limits give a
:class:`CapExceeded` or a :class:`BudgetExceeded`; actions give a :class:`Renewal`, a :class:`Fix` or a
:class:`Failure`. Each record knows its row of the contract's result (``as_row``): the only place where
a record becomes a dict is :mod:`ecs_renewal.contract`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .errors import ApiError
from .gateway.models import AutoRenewAttribute, Instance
from .logs import redact
from .tag_rules import Owner, RenewalTerms

MAX_MESSAGE_CHARS = 300  # an error's text in a result: enough to act on, short enough for a chat line


class SkipCode(str, Enum):
    """Why an instance is left alone. The value is stable (logs, tests); the detail says it to a person."""

    PAY_AS_YOU_GO = "pay_as_you_go"
    LOCKED = "locked"
    EXCLUDED_BY_TAG = "excluded_by_tag"
    NOT_INCLUDED_BY_TAG = "not_included_by_tag"
    OWNER_LETS_GO = "owner_lets_go"  # RenewalStatus NotRenewal: being let go on purpose
    AUTO_RENEWING = "auto_renewing"  # RenewalStatus AutoRenewal: the platform renews it
    BAD_TAG_TERMS = "bad_tag_terms"
    TERMS_SHORTER_THAN_WINDOW = "terms_shorter_than_window"


@dataclass(frozen=True)
class Skip:
    instance: Instance
    code: SkipCode
    detail: str

    def as_row(self) -> dict[str, Any]:
        return {"instance_id": self.instance.instance_id, "region": self.instance.region, "reason": self.detail}


def error_code_and_message(error: BaseException) -> tuple[str, str]:
    """One way to turn any exception into (code, message) for a result: API errors keep theirs."""
    if isinstance(error, ApiError):
        return error.code, error.message
    return type(error).__name__, redact(str(error))[:MAX_MESSAGE_CHARS]


@dataclass(frozen=True)
class Failure:
    """One instance not done (renewal refused, fix refused, or not found)."""

    instance_id: str
    region: str | None
    code: str
    message: str

    @classmethod
    def from_error(cls, instance_id: str, region: str | None, error: BaseException) -> Failure:
        return cls(instance_id, region, *error_code_and_message(error))

    def as_row(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "region": self.region, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class RegionError:
    """A region (or, with ``account_id``, a whole account or shard) that could not be worked."""

    region: str | None
    code: str
    message: str
    account_id: str | None = None
    names_account: bool = False  # a whole account's or shard's error names it, even as None (own account)

    @classmethod
    def from_error(cls, region: str, error: BaseException, *, prefix: str = "") -> RegionError:
        code, message = error_code_and_message(error)
        return cls(region, code, prefix + message)

    def as_row(self) -> dict[str, Any]:
        named = self.names_account or self.account_id is not None
        row: dict[str, Any] = {"account_id": self.account_id} if named else {}
        row.update(region=self.region, code=self.code, message=self.message)
        return row


@dataclass(frozen=True)
class Price:
    amount: float
    currency: str


def _first_currency(currencies: Iterable[str]) -> str:
    return next((currency for currency in currencies if currency), "")


@dataclass(frozen=True)
class CostEstimate:
    """The sum of known prices; instances without one are counted apart, never priced at zero."""

    total: float = 0.0
    currency: str = ""
    priced: int = 0
    unknown: tuple[str, ...] = ()

    @classmethod
    def of(cls, prices: list[tuple[str, Price | None]]) -> CostEstimate:
        known = [price for _, price in prices if price is not None]
        return cls(total=sum(price.amount for price in known), currency=_first_currency(p.currency for p in known),
                   priced=len(known), unknown=tuple(instance_id for instance_id, price in prices if price is None))

    @classmethod
    def combined(cls, estimates: list[CostEstimate]) -> CostEstimate:
        return cls(total=sum(e.total for e in estimates), currency=_first_currency(e.currency for e in estimates),
                   priced=sum(e.priced for e in estimates), unknown=tuple(i for e in estimates for i in e.unknown))

    def as_dict(self) -> dict[str, object]:
        return {"amount": round(self.total, 2), "currency": self.currency or None, "priced": self.priced,
                "unknown": len(self.unknown)}


@dataclass(frozen=True)
class CapExceeded:
    """More selected instances than ``max_instances``: the run renews nothing."""

    candidates: int
    max_instances: int

    def as_dict(self) -> dict[str, Any]:
        return {"candidates": self.candidates, "max_instances": self.max_instances}


@dataclass(frozen=True)
class BudgetExceeded:
    """The estimate is over ``max_cost``, or a price is unknown: the run renews nothing."""

    cost: CostEstimate
    max_cost: float

    def as_dict(self) -> dict[str, Any]:
        return {**self.cost.as_dict(), "max_cost": self.max_cost, "unknown_instances": sorted(self.cost.unknown)[:20]}


def price_fields(price: Price | None) -> dict[str, Any]:
    return {"price": price.amount if price else None, "currency": price.currency if price else None}


@dataclass(frozen=True)
class PlannedRenewal:
    """One renewal decided: the instance, its terms, the ClientToken that makes it happen once, its price."""

    instance: Instance
    terms: RenewalTerms
    client_token: str
    price: Price | None = None

    def as_row(self, order_id: str | None = None) -> dict[str, Any]:
        return {"instance_id": self.instance.instance_id, "region": self.instance.region,
                "expired_time": self.instance.expired_time_text, "order_id": order_id,
                "client_token": self.client_token, "terms": self.terms.describe(), **price_fields(self.price)}

    def candidate_row(self) -> dict[str, Any]:
        """What the operator needs to decide when a limit stopped the run."""
        return {"instance_id": self.instance.instance_id, "region": self.instance.region,
                "expired_time": self.instance.expired_time_text, "terms": self.terms.describe(),
                **price_fields(self.price)}


@dataclass(frozen=True)
class RenewalPlan:
    """What renew-batch will do, decided before anything is paid: a value, so it can be shown and applied later."""

    items: tuple[PlannedRenewal, ...]
    cost: CostEstimate | None = None  # None: the cap stopped the run before any price was asked
    cap: CapExceeded | None = None
    budget: BudgetExceeded | None = None

    @property
    def stopped(self) -> bool:
        return self.cap is not None or self.budget is not None


@dataclass(frozen=True)
class Renewal:
    """A renewal done (``order_id``) or, in a dry run, listed (``order_id`` None)."""

    planned: PlannedRenewal
    order_id: str | None

    def as_row(self) -> dict[str, Any]:
        return self.planned.as_row(self.order_id)


@dataclass(frozen=True)
class Drift:
    region: str
    attribute: AutoRenewAttribute

    def as_row(self) -> dict[str, Any]:
        a = self.attribute
        return {"instance_id": a.instance_id, "region": self.region, "auto_renew_enabled": a.enabled,
                "duration": a.duration, "renewal_status": a.renewal_status}


@dataclass(frozen=True)
class Fix:
    instance_id: str
    region: str

    def as_row(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "region": self.region}


@dataclass(frozen=True)
class Expiring:
    """One scan row: what an operator needs to act on an instance that expires in the window."""

    instance: Instance
    expires_local: str
    days_left: float
    tier: int | None
    auto_renew: str | None
    owner: Owner | None
    price: Price | None

    def as_row(self) -> dict[str, Any]:
        i = self.instance
        return {"instance_id": i.instance_id, "instance_name": i.instance_name, "region": i.region,
                "expired_time": i.expired_time_text, "expires_local": self.expires_local, "status": i.status,
                "days_left": round(self.days_left, 1), "tier": self.tier, "auto_renew": self.auto_renew,
                "owner": self.owner.value if self.owner else None, **price_fields(self.price),
                "owner_kind": self.owner.kind if self.owner else None}


def sort_key(row: dict[str, Any]) -> tuple[str, str]:
    return row.get("region") or "", row.get("instance_id") or ""
