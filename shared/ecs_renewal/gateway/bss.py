"""BSS OpenAPI ``QueryAccountBalance``: what the account can still pay with (cash, credit).

Wire facts (help.aliyun.com/document_detail/472991): RPC version 2017-12-14, no parameters; ``Data`` carries
``AvailableAmount``, ``AvailableCashAmount``, ``CreditAmount``, ``MybankCreditAmount`` and ``Currency``, every
amount a STRING (read here with or without thousands separators, "10,000.00"); a refusal may come as HTTP
200 with ``Success: false`` and its ``Code``, so both are checked. RAM action: ``bss:DescribeAcccount`` (sic).
China and international sites answer at different hosts (the SDK's endpoint table): :func:`endpoint_for`.

What can pay a charge: the cash (``AvailableCashAmount``) plus the credit line (``CreditAmount``). Whether
``AvailableAmount`` already includes the credit is not documented ("可用额度"), so it is never added to it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..errors import ApiError, Reply
from .client import Caller

CHINA_ENDPOINT = "https://business.aliyuncs.com"
INTL_ENDPOINT = "https://business.ap-southeast-1.aliyuncs.com"
ACTION = "QueryAccountBalance"


def endpoint_for(site: str | None, *, explicit: str | None = None, ecs_endpoint: str | None = None) -> str:
    """``BSS_ENDPOINT``, else ``ECS_ENDPOINT`` (one local endpoint serves every product), else by site."""
    return explicit or ecs_endpoint or (INTL_ENDPOINT if site == "intl" else CHINA_ENDPOINT)


class Balance(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """What the account can still pay with."""

    cash: float  # may be negative: the account is in arrears
    credit: float
    available: float  # as BSS reports it ("可用额度"); shown, never added to the credit
    currency: str

    @property
    def spendable(self) -> float:
        """What a charge may draw: the cash plus the credit line."""
        return round(self.cash + self.credit, 2)

    def as_dict(self) -> dict[str, Any]:
        return {"cash": self.cash, "credit": self.credit, "available": self.available,
                "spendable": self.spendable, "currency": self.currency}


def amount(value: Any) -> float:
    """ "10,000.00" / "0.00" / 12.5 -> float; anything else is an error (never read as zero)."""
    try:
        return round(float(str(value).replace(",", "").strip()), 2)
    except (TypeError, ValueError):
        raise ValueError(f"not an amount: {str(value)[:40]!r}") from None


QUERY_ACCOUNT_BALANCE = "aliyunsdkbssopenapi.request.v20171214.QueryAccountBalanceRequest"


def query_account_balance(caller: Caller, region: str = "cn-hangzhou") -> Balance:
    """Through ``caller``'s BSS endpoint (``ClientFactory.bss_endpoint``); the region only picks the client."""
    from .paging import request_class

    body = caller.call(request_class(QUERY_ACCOUNT_BALANCE)(), region=region, product="bss")
    if body.get("Success") is False or str(body.get("Code", "200")) != "200":
        raise ApiError(str(body.get("Code") or "BssError"), str(body.get("Message") or "QueryAccountBalance failed"),
                       action=ACTION, reply=Reply(200, body.get("RequestId")))
    data = body.get("Data") or {}
    try:
        cash = amount(data.get("AvailableCashAmount", data.get("AvailableAmount")))
        return Balance(cash=cash, credit=amount(data.get("CreditAmount", 0)),
                       available=amount(data.get("AvailableAmount", cash)), currency=str(data.get("Currency") or ""))
    except ValueError as error:
        raise ApiError("InvalidResponse", f"QueryAccountBalance: {error}", action=ACTION,
                       reply=Reply(200, body.get("RequestId"))) from None
