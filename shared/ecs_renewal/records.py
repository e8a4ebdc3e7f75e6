"""The records every job shares: frozen, one per fact, made once and never changed.

The source yields :class:`~.gateway.models.Instance`; filters turn some into a :class:`Skip` (with a
:class:`SkipCode`, so code compares codes and people read the detail); what could not be done is a
:class:`Failure` (one instance) or a :class:`RegionError` (a region, an account, a shard); prices add
up to a :class:`CostEstimate`. The renewal plan's records are in :mod:`ecs_renewal.plan`, each job's
rows beside its result (:mod:`ecs_renewal.results`). Each record knows its row of the contract's
result (``as_row``); the dict itself is made once, by :func:`ecs_renewal.contract.to_contract`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import ApiError
from .gateway.models import Instance
from .logs import redact

if TYPE_CHECKING:
    from datetime import datetime

    from .results.ledger import LedgerNote

# Every record here is a NamedTuple: immutable, typed, and a tenth of a frozen dataclass's cost to define
# at a cold start (a dataclass execs each generated method; bench/probes.py imports). Nothing hashes or
# compares the records a person reads about (Skip, Failure, RegionError); their tuple-ness is unused.
MAX_MESSAGE_CHARS = 300  # an error's text in a result: enough to act on, short enough for a chat line


class SkipCode(StrEnum):
    """Why an instance is left alone. The value is stable (logs, tests); the detail says it to a person."""

    PAY_AS_YOU_GO = "pay_as_you_go"
    LOCKED = "locked"
    EXCLUDED_BY_TAG = "excluded_by_tag"
    NOT_INCLUDED_BY_TAG = "not_included_by_tag"
    OWNER_LETS_GO = "owner_lets_go"  # RenewalStatus NotRenewal: being let go on purpose
    AUTO_RENEWING = "auto_renewing"  # RenewalStatus AutoRenewal: the platform renews it
    DEDUCTION_FAILED = "deduction_failed"  # AutoRenewal, but the platform's deduction failed (deductions.py)
    BAD_TAG_TERMS = "bad_tag_terms"
    TERMS_SHORTER_THAN_WINDOW = "terms_shorter_than_window"
    RENEWED_EARLIER = "renewed_earlier"  # the renewal ledger (the instance's tags): ecs-renewal did it already
    UNSTATED = "unstated"  # a result read back (contract.from_contract) from a function that did not say


class Skip(NamedTuple):
    instance: Instance
    code: SkipCode
    detail: str
    ledger: LedgerNote | None = None  # RENEWED_EARLIER: what the renewal ledger recorded

    def as_row(self) -> dict[str, Any]:
        row = {"instance_id": self.instance.instance_id, "region": self.instance.region, "reason": self.detail,
               "code": self.code.value}
        if self.ledger is not None:
            row["ledger"] = self.ledger.as_dict()
        return row


def error_code_and_message(error: BaseException) -> tuple[str, str]:
    """One way to turn any exception into (code, message) for a result: API errors keep theirs."""
    if isinstance(error, ApiError):
        return error.code, error.message
    return type(error).__name__, redact(str(error))[:MAX_MESSAGE_CHARS]


class Failure(NamedTuple):
    """One instance not done (renewal refused, fix refused, or not found)."""

    instance_id: str
    region: str | None
    code: str
    message: str
    reported_at: datetime | None = None  # the same refusal was recorded (and alerted) at this moment already

    @classmethod
    def from_error(cls, instance_id: str, region: str | None, error: BaseException) -> Failure:
        return cls(instance_id, region, *error_code_and_message(error))

    def as_row(self) -> dict[str, Any]:
        row = {"instance_id": self.instance_id, "region": self.region, "code": self.code, "message": self.message}
        if self.reported_at:
            row["reported_at"] = self.reported_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return row


class RegionError(NamedTuple):
    """A region (or, with ``account_id``, a whole account or shard) that could not be worked."""

    region: str | None
    code: str
    message: str
    account_id: str | None = None
    names_account: bool = False  # a whole account's or shard's error names it, even as None (own account)
    missing_action: str | None = None  # a permission the role lacks (``ecs:DescribeInstances``), by name

    @classmethod
    def from_error(cls, region: str, error: BaseException, *, prefix: str = "") -> RegionError:
        code, message = error_code_and_message(error)
        return cls(region, code, prefix + message, missing_action=getattr(error, "missing_action", None))

    def as_row(self) -> dict[str, Any]:
        named = self.names_account or self.account_id is not None
        row: dict[str, Any] = {"account_id": self.account_id} if named else {}
        row.update(region=self.region, code=self.code, message=self.message)
        if self.missing_action:
            row["missing_action"] = self.missing_action
        return row


class Price(NamedTuple):
    amount: float
    currency: str


def _first_currency(currencies: Iterable[str]) -> str:
    return next((currency for currency in currencies if currency), "")


class CostEstimate(NamedTuple):
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


def price_fields(price: Price | None) -> dict[str, Any]:
    return {"price": price.amount if price else None, "currency": price.currency if price else None}


def sort_key(row: dict[str, Any]) -> tuple[str, str]:
    return row.get("region") or "", row.get("instance_id") or ""
