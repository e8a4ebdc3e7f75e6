"""ECS actions as typed calls: every page of every list, id lists in the API's caps.

Wire details that matter (the ECS API reference): ``InstanceIds`` is a JSON-array string,
the auto-renew actions take a comma-separated list, both at most 100; the expiry filter uses slots 3/4
in ``yyyy-MM-ddTHH:mmZ``; booleans are sent as the strings ``true``/``false``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..timeutil import format_minute
from .client import Caller
from .models import AutoRenewAttribute, Instance, RenewalPrice
from .paging import MAX_IDS_PER_CALL, PAGE_SIZE, ListSpec, chunks, pages, request_class
from .permissions import ReadPermission

# The SDK request modules, by full path: imported on first use, so each handler loads only the ones it calls.
INSTANCES = ListSpec(
    "aliyunsdkecs.request.v20140526.DescribeInstancesRequest", ("Instances", "Instance"), "next_token",
    "MaxResults", PAGE_SIZE, "InstanceIds", "json_array")
AUTO_RENEW_ATTRIBUTES = ListSpec(
    "aliyunsdkecs.request.v20140526.DescribeInstanceAutoRenewAttributeRequest",
    ("InstanceRenewAttributes", "InstanceRenewAttribute"), "page_number", "PageSize", str(PAGE_SIZE), "InstanceId",
    "comma_list")
SET_AUTO_RENEW = ListSpec(
    "aliyunsdkecs.request.v20140526.ModifyInstanceAutoRenewAttributeRequest", ("", ""), ids_param="InstanceId")
RENEW_INSTANCE = "aliyunsdkecs.request.v20140526.RenewInstanceRequest"
DESCRIBE_RENEWAL_PRICE = "aliyunsdkecs.request.v20140526.DescribeRenewalPriceRequest"
TAG_RESOURCES = "aliyunsdkecs.request.v20140526.TagResourcesRequest"  # the renewal ledger (renew-batch)
UNTAG_RESOURCES = "aliyunsdkecs.request.v20140526.UntagResourcesRequest"
MAX_IDS_PER_TAG_CALL = 50  # TagResources/UntagResources: ResourceId.N, N 1..50
MAX_TAGS_PER_CALL = 20  # Tag.N / TagKey.N, N 1..20

if TYPE_CHECKING:
    from .bss import Balance

__all__ = ["MAX_IDS_PER_CALL", "PAGE_SIZE", "EcsGateway", "chunks"]


class EcsGateway:
    """The jobs' only door to the cloud: every list, price, change and usage figure goes through here."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        # An empty list is believed only once the role proved it may read the region (permissions.py).
        self.read_permission = ReadPermission(caller)

    def _call(self, region: str) -> Callable[[Any], dict[str, Any]]:
        return lambda request: self._caller.call(request, region=region)

    # --- reading ---------------------------------------------------------------------------------------

    def instances(
        self,
        region: str,
        *,
        prepaid_only: bool = True,
        expired_start: datetime | None = None,
        expired_end: datetime | None = None,
        instance_ids: Sequence[str] | None = None,
        prove_empty: bool = True,
    ) -> Iterator[Instance]:
        """Every instance matching the filters, page by page (NextToken), ids in batches of 100.

        Nothing found at all: the role's permission to read the region is proven first (DryRun, once per
        region), and :class:`~.permissions.MissingPermission` raised if it has none — a role without
        ``ecs:DescribeInstances`` is answered with an EMPTY list, not an error. ``prove_empty=False``: the
        caller proves it another way (the scan's :meth:`prepaid_count`).
        """
        params: dict[str, Any] = {"InstanceChargeType": "PrePaid"} if prepaid_only else {}
        if expired_start is not None and expired_end is not None:
            params.update({"Filter.3.Key": "ExpiredStartTime", "Filter.3.Value": format_minute(expired_start),
                           "Filter.4.Key": "ExpiredEndTime", "Filter.4.Value": format_minute(expired_end)})
        found = False
        for raw in pages(self._call(region), INSTANCES, params, instance_ids):
            found = True
            yield Instance.from_api(raw, region)
        if not found and prove_empty and (instance_ids is None or len(instance_ids) > 0):
            self.read_permission.require(region)

    def tagged_instances(self, region: str, tag_key: str) -> Iterator[Instance]:
        """The prepaid instances carrying this tag, whatever its value (``Tag.1.Key`` alone), every page.

        An empty answer means nothing carries it (the renewal ledger's open entries): the permission to
        read the region is the candidates' listing's to prove.
        """
        for raw in pages(self._call(region), INSTANCES, {"InstanceChargeType": "PrePaid", "Tag.1.Key": tag_key}):
            yield Instance.from_api(raw, region)

    def prepaid_count(self, region: str) -> int:
        """How many prepaid instances the region has: one page of one (``TotalCount`` is meaningful in page
        mode only, DescribeInstances doc). None at all: the permission to read is proven as for a list."""
        request = request_class(INSTANCES.request)()
        request.set_InstanceChargeType("PrePaid")
        request.set_PageNumber(1)
        request.set_PageSize(1)
        count = int(self._caller.call(request, region=region).get("TotalCount") or 0)
        if count == 0:
            self.read_permission.require(region)
        return count

    def account_balance(self) -> Balance:
        """The account's cash and credit (BSS ``QueryAccountBalance``: one call, not regional)."""
        from .bss import query_account_balance

        return query_account_balance(self._caller)

    def auto_renew_attributes(self, region: str, instance_ids: Sequence[str]) -> Iterator[AutoRenewAttribute]:
        """Auto-renew settings of these (prepaid) instances, ≤100 ids a call, every page of each."""
        for raw in pages(self._call(region), AUTO_RENEW_ATTRIBUTES, {}, instance_ids):
            yield AutoRenewAttribute.from_api(raw)

    def renewal_price(
        self, region: str, instance_id: str, *, period: int | None, price_unit: str | None,
        expected_renew_day: int | None = None,
    ) -> RenewalPrice:
        """What renewing this instance would cost, after discounts. Read-only, costs nothing.

        ``PriceInfo.Price.TradePrice`` is the instance with its disks and bandwidth; a paid Marketplace image
        is quoted apart (``PriceInfo.RelatedPrice.MarketplaceImagePrice``) and charged on top by
        RenewInstance: the price is their sum, or a budget would under-estimate what is charged.
        """
        request = request_class(DESCRIBE_RENEWAL_PRICE)()
        request.set_ResourceId(instance_id)
        request.set_ResourceType("instance")
        if expected_renew_day is not None:
            request.set_ExpectedRenewDay(expected_renew_day)
        else:
            request.set_Period(period)
            request.set_PriceUnit(price_unit)
        body = self._caller.call(request, region=region)
        info = body.get("PriceInfo") or {}
        price = info.get("Price") or {}
        image = ((info.get("RelatedPrice") or {}).get("MarketplaceImagePrice") or {}).get("TradePrice") or 0
        return RenewalPrice(instance_id, float(price["TradePrice"]) + float(image), str(price.get("Currency", "")))

    def usage(self) -> tuple[dict[str, int], dict[str, Any] | None]:
        """Calls made so far by action, and (when paced) how the run met the rate limit."""
        limiter = self._caller.limiter
        return self._caller.stats.as_dict(), limiter.usage() if limiter is not None else None

    # --- changing (each of these changes state or costs money) ---------------------------------------

    def renew_instance(
        self, region: str, instance_id: str, *, period: int | None, period_unit: str | None, client_token: str,
        expected_renew_day: int | None = None,
    ) -> str:
        """Renew one instance; returns the order id. The ClientToken makes every retry the same order.

        Either ``period``/``period_unit`` or ``expected_renew_day`` (the account's unified expiry day):
        the API refuses both at once.
        """
        request = request_class(RENEW_INSTANCE)()
        request.set_InstanceId(instance_id)
        if expected_renew_day is not None:
            request.set_ExpectedRenewDay(expected_renew_day)
        else:
            request.set_Period(period)
            request.set_PeriodUnit(period_unit)
        request.set_ClientToken(client_token)
        body = self._caller.call(request, region=region)
        return str(body.get("OrderId", ""))

    def set_auto_renew(
        self, region: str, instance_ids: Iterable[str], *, enabled: bool, duration: int
    ) -> None:
        """One ModifyInstanceAutoRenewAttribute call for ≤100 ids that share the same target."""
        ids = list(instance_ids)
        if not 1 <= len(ids) <= SET_AUTO_RENEW.max_ids:
            raise ValueError(f"set_auto_renew takes 1..{SET_AUTO_RENEW.max_ids} ids, got {len(ids)}")
        # RenewalStatus takes precedence over AutoRenew on the server; send both, consistently.
        params: dict[str, Any] = {"AutoRenew": "true" if enabled else "false",
                                  "RenewalStatus": "AutoRenewal" if enabled else "Normal"}
        if enabled:
            params.update(Duration=duration, PeriodUnit="Month")
        self._caller.call(SET_AUTO_RENEW.build(params, ids), region=region)

    def tag_instance(self, region: str, instance_id: str, tags: Mapping[str, str]) -> None:
        """Set these tags on one instance (an existing key gets the new value): one TagResources call.

        Safe to retry: setting a tag to a value twice leaves it at that value.
        """
        if not 1 <= len(tags) <= MAX_TAGS_PER_CALL:
            raise ValueError(f"tag_instance takes 1..{MAX_TAGS_PER_CALL} tags, got {len(tags)}")
        request = request_class(TAG_RESOURCES)()
        request.set_ResourceType("instance")
        request.set_ResourceIds([instance_id])
        request.set_Tags([{"Key": key, "Value": value} for key, value in tags.items()])
        self._caller.call(request, region=region)

    def untag_instances(self, region: str, instance_ids: Sequence[str], keys: Sequence[str]) -> None:
        """Remove these tag keys from ≤50 instances of one region: one UntagResources call."""
        if not 1 <= len(instance_ids) <= MAX_IDS_PER_TAG_CALL or not 1 <= len(keys) <= MAX_TAGS_PER_CALL:
            raise ValueError(f"untag_instances takes 1..{MAX_IDS_PER_TAG_CALL} ids and 1..{MAX_TAGS_PER_CALL} keys")
        request = request_class(UNTAG_RESOURCES)()
        request.set_ResourceType("instance")
        request.set_ResourceIds(list(instance_ids))
        request.set_TagKeys(list(keys))
        self._caller.call(request, region=region)
