"""ECS actions as typed calls: every page of every list, id lists in the API's caps.

Wire details that matter (the ECS API reference): ``InstanceIds`` is a JSON-array string,
the auto-renew actions take a comma-separated list, both at most 100; the expiry filter uses slots 3/4
in ``yyyy-MM-ddTHH:mmZ``; booleans are sent as the strings ``true``/``false``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from aliyunsdkecs.request.v20140526.DescribeInstanceAutoRenewAttributeRequest import (
    DescribeInstanceAutoRenewAttributeRequest,
)
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.ModifyInstanceAutoRenewAttributeRequest import (
    ModifyInstanceAutoRenewAttributeRequest,
)
from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest

from ..timeutil import format_minute
from .client import Caller
from .models import AutoRenewAttribute, Instance, RenewalPrice

PAGE_SIZE = 100  # the API's maximum
MAX_IDS_PER_CALL = 100


def chunks(items: Sequence[str], size: int = MAX_IDS_PER_CALL) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class EcsGateway:
    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    # --- reading ---------------------------------------------------------------------------------------

    def instances(
        self,
        region: str,
        *,
        prepaid_only: bool = True,
        expired_start: Any = None,
        expired_end: Any = None,
        instance_ids: Sequence[str] | None = None,
    ) -> Iterator[Instance]:
        """Every instance matching the filters, page by page (NextToken), ids in batches of 100."""
        if instance_ids is not None:
            for batch in chunks(instance_ids):
                yield from self._instance_pages(region, prepaid_only, expired_start, expired_end, batch)
        else:
            yield from self._instance_pages(region, prepaid_only, expired_start, expired_end, None)

    def _instance_pages(
        self, region: str, prepaid_only: bool, start: Any, end: Any, ids: list[str] | None
    ) -> Iterator[Instance]:
        next_token = ""
        while True:
            request = DescribeInstancesRequest()
            request.set_MaxResults(PAGE_SIZE)
            if prepaid_only:
                request.set_InstanceChargeType("PrePaid")
            if start is not None:
                request.set_Filter3Key("ExpiredStartTime")
                request.set_Filter3Value(format_minute(start))
                request.set_Filter4Key("ExpiredEndTime")
                request.set_Filter4Value(format_minute(end))
            if ids is not None:
                request.set_InstanceIds(json.dumps(ids))
            if next_token:
                request.set_NextToken(next_token)
            body = self.caller.call(request, region=region)
            for raw in (body.get("Instances") or {}).get("Instance", []):
                yield Instance.from_api(raw, region)
            next_token = body.get("NextToken") or ""
            if not next_token:
                return

    def auto_renew_attributes(self, region: str, instance_ids: Sequence[str]) -> Iterator[AutoRenewAttribute]:
        """Auto-renew settings of these (prepaid) instances, ≤100 ids a call, every page of each."""
        for batch in chunks(instance_ids):
            page = 1
            while True:
                request = DescribeInstanceAutoRenewAttributeRequest()
                request.set_InstanceId(",".join(batch))
                request.set_PageSize(str(PAGE_SIZE))
                request.set_PageNumber(str(page))
                body = self.caller.call(request, region=region)
                rows = (body.get("InstanceRenewAttributes") or {}).get("InstanceRenewAttribute", [])
                yield from (AutoRenewAttribute.from_api(row) for row in rows)
                total = int(body.get("TotalCount") or 0)
                if not rows or page * PAGE_SIZE >= total:
                    break
                page += 1

    # --- changing (each of these changes state or costs money) ---------------------------------------

    def renew_instance(
        self, region: str, instance_id: str, *, period: int | None, period_unit: str | None, client_token: str,
        expected_renew_day: int | None = None,
    ) -> str:
        """Renew one instance; returns the order id. The ClientToken makes every retry the same order.

        Either ``period``/``period_unit`` or ``expected_renew_day`` (the account's unified expiry day):
        the API refuses both at once.
        """
        request = RenewInstanceRequest()
        request.set_InstanceId(instance_id)
        if expected_renew_day is not None:
            request.set_ExpectedRenewDay(expected_renew_day)
        else:
            request.set_Period(period)
            request.set_PeriodUnit(period_unit)
        request.set_ClientToken(client_token)
        body = self.caller.call(request, region=region)
        return str(body.get("OrderId", ""))

    def set_auto_renew(
        self, region: str, instance_ids: Iterable[str], *, enabled: bool, duration: int
    ) -> None:
        """One ModifyInstanceAutoRenewAttribute call for ≤100 ids that share the same target."""
        ids = list(instance_ids)
        if not 1 <= len(ids) <= MAX_IDS_PER_CALL:
            raise ValueError(f"set_auto_renew takes 1..{MAX_IDS_PER_CALL} ids, got {len(ids)}")
        request = ModifyInstanceAutoRenewAttributeRequest()
        request.set_InstanceId(",".join(ids))
        # RenewalStatus takes precedence over AutoRenew on the server; send both, consistently.
        request.set_AutoRenew("true" if enabled else "false")
        request.set_RenewalStatus("AutoRenewal" if enabled else "Normal")
        if enabled:
            request.set_Duration(duration)
            request.set_PeriodUnit("Month")
        self.caller.call(request, region=region)


def describe_renewal_price(
    caller: Caller, region: str, instance_id: str, *, period: int | None, price_unit: str | None,
    expected_renew_day: int | None = None,
) -> RenewalPrice:
    """What renewing this instance would cost (``TradePrice``: after discounts). Read-only, costs nothing."""
    from aliyunsdkecs.request.v20140526.DescribeRenewalPriceRequest import DescribeRenewalPriceRequest

    request = DescribeRenewalPriceRequest()
    request.set_ResourceId(instance_id)
    request.set_ResourceType("instance")
    if expected_renew_day is not None:
        request.set_ExpectedRenewDay(expected_renew_day)
    else:
        request.set_Period(period)
        request.set_PriceUnit(price_unit)
    body = caller.call(request, region=region)
    price = (body.get("PriceInfo") or {}).get("Price") or {}
    return RenewalPrice(instance_id, float(price["TradePrice"]), str(price.get("Currency", "")))
