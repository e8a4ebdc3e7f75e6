"""ECS 2014-05-26 actions: parameter validation as strict as the real API, then the state change."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable

from .billing import Charge, draw, spendable
from .clock import add_months, add_weeks, parse_minute, utcnow
from .context import RpcContext
from .errors import ApiError
from .model import CHARGE_TYPES, INSTANCE_STATUSES, LOCK_REASONS, RENEWAL_STATUSES, InstanceRecord, RenewalRecord
from .permissions import FORBIDDEN_RAM_MESSAGE
from .pricing import renewal_quote
from .regions import REGIONS
from .state import TokenRecord
from .tags import TAG_ACTIONS

MAX_IDS = 100
MAX_PAGE_SIZE = 100
MAX_TAG_FILTERS = 20
MAX_TAG_FILTER_MATCHES = 1000  # documented cap of tag-filtered results
MAX_EXPIRY_MONTHS_AHEAD = 60  # renewals may not push the expiry more than 5 years past now

# RenewInstance Period per PeriodUnit: China site Month 1-9,12,24,36,48,60 and Week 1-4; international
# site Month 1-9 and 12 only (RenewInstance doc / generated SDK docstring, <props="china"> / <props="intl">).
RENEW_PERIODS_CHINA = {"Month": (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, 60), "Week": (1, 2, 3, 4)}
RENEW_PERIODS_INTL = {"Month": (1, 2, 3, 4, 5, 6, 7, 8, 9, 12)}
AUTO_RENEW_DURATIONS = {"Month": (1, 2, 3, 6, 12, 24, 36, 48, 60), "Year": (1, 2, 3, 4, 5), "Week": (1, 2, 3, 4)}

# DescribeInstances Filter.N: the emulator accepts each key only in its conventional slot.
FILTER_SLOTS = {1: "CreationStartTime", 2: "CreationEndTime", 3: "ExpiredStartTime", 4: "ExpiredEndTime"}

# Real DescribeInstances filters the emulator does not model: refused so nobody believes they work.
UNMODELLED_FILTERS = (
    "SecurityGroupId", "VpcId", "VSwitchId", "ImageId", "KeyPairName", "HpcClusterId", "ResourceGroupId",
    "InnerIpAddresses", "PrivateIpAddresses", "PublicIpAddresses", "EipAddresses", "RdmaIpAddresses",
    "InstanceNetworkType", "InternetChargeType", "IoOptimized", "DeviceAvailable", "InstanceTypeFamily",
    "NeedSaleCycle", "HttpEndpoint", "HttpTokens", "HttpPutResponseHopLimit",
)  # fmt: skip

# Parameters that are not part of a DescribeInstances query (they don't change what a NextToken means).
_NON_FILTER_PARAMS = {
    "Action", "Version", "Format", "RegionId", "AccessKeyId", "SecurityToken", "SignatureMethod",
    "SignatureType", "SignatureVersion", "SignatureNonce", "Timestamp", "Signature",
    "NextToken", "MaxResults", "PageNumber", "PageSize",
}  # fmt: skip

_FILTER_PARAM = re.compile(r"^Filter\.(\d+)\.(Key|Value)$")
_TAG_PARAM = re.compile(r"^Tag\.(\d+)\.(Key|Value|key|value)$")


def _is_true(value: str | None) -> bool:
    return value is not None and value.lower() == "true"


def _not_found(instance_id: str) -> ApiError:
    return ApiError(404, "InvalidInstanceId.NotFound", f"The specified InstanceId does not exist: {instance_id}.")


def _charge_type_violation() -> ApiError:
    return ApiError(403, "ChargeTypeViolation", "Pay-As-You-Go instances do not support this operation.")


def _page_number_and_size(ctx: RpcContext) -> tuple[int, int]:
    page_number = ctx.get_int("PageNumber", 400, "InvalidParameter.PageNumber", default=1)
    page_size = ctx.get_int("PageSize", 400, "InvalidParameter.PageSize", default=10)
    assert page_number is not None and page_size is not None
    if page_number < 1:
        raise ApiError(400, "InvalidParameter.PageNumber", "PageNumber must be 1 or greater.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApiError(400, "InvalidParameter.PageSize", f"PageSize must be within 1..{MAX_PAGE_SIZE}.")
    return page_number, page_size


# ---- DescribeInstances ----------------------------------------------------------------------------


def _parse_instance_ids(ctx: RpcContext) -> list[str] | None:
    raw = ctx.params.get("InstanceIds")
    if raw is None:
        return None
    try:
        ids = json.loads(raw)
    except ValueError:
        ids = None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(
            400,
            "InvalidInstanceIds.Malformed",
            'InstanceIds must be a JSON array of strings, e.g. ["i-xxx","i-yyy"].',
        )
    if len(ids) > MAX_IDS:
        raise ApiError(400, "InvalidParameter", f"InstanceIds accepts at most {MAX_IDS} ids, got {len(ids)}.")
    return ids


def _parse_time_filters(ctx: RpcContext) -> dict[str, object]:
    slots: dict[int, dict[str, str]] = {}
    for name, value in ctx.params.items():
        match = _FILTER_PARAM.match(name)
        if match:
            slots.setdefault(int(match.group(1)), {})[match.group(2)] = value
    bounds: dict[str, object] = {}
    for slot, entry in sorted(slots.items()):
        key, value = entry.get("Key"), entry.get("Value")
        if slot not in FILTER_SLOTS:
            raise ApiError(404, "InvalidFilterKey.NotFound", f"Filter.{slot} is not supported (use Filter.1..4).")
        if not key or value is None:
            raise ApiError(404, "InvalidFilterKey.NotFound", f"Filter.{slot} needs both Key and Value.")
        if key != FILTER_SLOTS[slot]:
            raise ApiError(
                404,
                "InvalidFilterKey.NotFound",
                f"The specified filter key {key!r} is not valid in Filter.{slot} "
                f"(Filter.{slot}.Key must be {FILTER_SLOTS[slot]}).",
            )
        moment = parse_minute(value)
        if moment is None:
            raise ApiError(
                404,
                "InvalidFilterKey.NotFound",
                f"The specified filter value {value!r} of {key} is not valid: use UTC yyyy-MM-ddTHH:mmZ "
                "(minute precision, no seconds).",
            )
        bounds[key] = moment
    return bounds


def _parse_tag_filters(ctx: RpcContext) -> list[tuple[str, str | None]]:
    tags: dict[int, dict[str, str]] = {}
    for name, value in ctx.params.items():
        match = _TAG_PARAM.match(name)
        if match:
            tags.setdefault(int(match.group(1)), {})[match.group(2).capitalize()] = value
    result: list[tuple[str, str | None]] = []
    for index, entry in sorted(tags.items()):
        if not 1 <= index <= MAX_TAG_FILTERS:
            raise ApiError(400, "InvalidTagCount", f"Tag.N supports N = 1..{MAX_TAG_FILTERS}.")
        key = entry.get("Key")
        if not key:
            raise ApiError(400, "InvalidTag.Mismatch", f"Tag.{index}.Value was given without Tag.{index}.Key.")
        result.append((key, entry.get("Value")))
    return result


def _name_matcher(pattern: str) -> Callable[[str], bool]:
    regex = re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")
    return lambda name: regex.match(name) is not None


def describe_instances(ctx: RpcContext) -> dict:
    if _is_true(ctx.get("DryRun")):
        if not ctx.permitted:  # DryRun checks the permission too (DescribeInstances doc)
            raise ApiError(403, "Forbidden.RAM", FORBIDDEN_RAM_MESSAGE)
        raise ApiError(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.")
    for name in UNMODELLED_FILTERS:
        if ctx.get(name) is not None:
            raise ApiError(400, "Emulator.UnsupportedParameter", f"The ECS emulator does not model {name}.")

    charge_type = ctx.get("InstanceChargeType")
    if charge_type is not None and charge_type not in CHARGE_TYPES:
        raise ApiError(404, "InvalidInstanceChargeType.NotFound", f"Unknown InstanceChargeType {charge_type!r}.")
    status = ctx.get("Status")
    if status is not None and status not in INSTANCE_STATUSES:
        raise ApiError(404, "InvalidStatus.NotFound", f"Unknown Status {status!r}.")
    lock_reason = ctx.get("LockReason")
    if lock_reason is not None and lock_reason not in LOCK_REASONS:
        raise ApiError(400, "InvalidParameter.LockReason", f"Unknown LockReason {lock_reason!r}.")
    ids = _parse_instance_ids(ctx)
    bounds = _parse_time_filters(ctx)
    tag_filters = _parse_tag_filters(ctx)
    name_pattern = ctx.get("InstanceName")
    name_matches = _name_matcher(name_pattern) if name_pattern is not None else None
    zone_id = ctx.get("ZoneId")
    instance_type = ctx.get("InstanceType")

    token_mode = ctx.get("NextToken") is not None or ctx.get("MaxResults") is not None
    if token_mode:
        max_results = ctx.get_int("MaxResults", 400, "InvalidParameter.MaxResults", default=10)
        assert max_results is not None
        page_size = 10 if max_results < 10 else min(max_results, MAX_PAGE_SIZE)  # documented clamping
        page_number = 0
    else:
        page_number, page_size = _page_number_and_size(ctx)

    def selected(record: InstanceRecord) -> bool:
        if ids is not None and record.instance_id not in ids:
            return False
        if charge_type is not None and record.charge_type != charge_type:
            return False
        if status is not None and record.status != status:
            return False
        if lock_reason is not None and lock_reason not in record.operation_locks:
            return False
        if zone_id is not None and record.zone_id != zone_id:
            return False
        if instance_type is not None and record.instance_type != instance_type:
            return False
        if name_matches is not None and not name_matches(record.instance_name):
            return False
        for key, value in tag_filters:  # AND over all tag filters; a key alone matches any value
            if key not in record.tags or (value is not None and record.tags[key] != value):
                return False
        expiry = record.visible_expired_time  # filters see what DescribeInstances shows, not the truth
        if "ExpiredStartTime" in bounds and expiry < bounds["ExpiredStartTime"]:  # type: ignore[operator]
            return False
        if "ExpiredEndTime" in bounds and expiry > bounds["ExpiredEndTime"]:  # type: ignore[operator]
            return False
        if "CreationStartTime" in bounds and record.creation_time < bounds["CreationStartTime"]:  # type: ignore[operator]
            return False
        return not ("CreationEndTime" in bounds and record.creation_time > bounds["CreationEndTime"])  # type: ignore[operator]

    fingerprint = (
        ctx.account_id,
        ctx.region,
        tuple(sorted((k, v) for k, v in ctx.params.items() if k not in _NON_FILTER_PARAMS)),
    )
    with ctx.state.lock:
        # Without permission: "an empty list is returned" (DescribeInstances doc), after the same validation.
        visible = ctx.state.in_region(ctx.account_id, ctx.region or "") if ctx.permitted else []
        candidates = (r for r in visible if selected(r))
        if tag_filters:
            candidates = itertools.islice(candidates, MAX_TAG_FILTER_MATCHES)
        if token_mode:
            # TotalCount means nothing here: stop one past the page (enough to know whether more follow).
            entry = ctx.state.page_tokens.get(ctx.get("NextToken") or "")
            limit = (entry[1] if entry else 0) + page_size + 1
            candidates = itertools.islice(candidates, limit)
        matched = list(candidates)
        if token_mode:
            offset = 0
            token = ctx.get("NextToken")
            if token is not None:
                entry = ctx.state.page_tokens.get(token)
                if entry is None or entry[0] != fingerprint:
                    raise ApiError(
                        400,
                        "InvalidParameter.NextToken",
                        "The specified NextToken is not valid (unknown, or issued for a different query).",
                    )
                offset = entry[1]
        else:
            offset = (page_number - 1) * page_size
        page = matched[offset : offset + page_size]
        items = [record.describe() for record in page]
        end = offset + len(page)
        next_token = ctx.state.issue_page_token(fingerprint, end) if end < len(matched) and page else ""

    return {
        "Instances": {"Instance": items},
        # With NextToken paging TotalCount is documented as meaningless; the emulator makes it so.
        "TotalCount": len(items) if token_mode else len(matched),
        "PageNumber": page_number if not token_mode else offset // page_size + 1,
        "PageSize": page_size,
        "NextToken": next_token,
    }


# ---- RenewInstance --------------------------------------------------------------------------------


def _check_client_token(token: str | None) -> None:
    if token is not None and (len(token) > 64 or not token.isascii()):
        raise ApiError(
            400,
            "InvalidClientToken.ValueNotSupported",
            "The ClientToken must be ASCII and at most 64 characters.",
        )


def _check_renewable(record: InstanceRecord) -> None:
    if record.charge_type != "PrePaid":
        raise ApiError(403, "ChargeTypeViolation", "The operation is not permitted due to charge type of the instance.")
    if "security" in record.operation_locks:
        raise ApiError(
            403,
            "InstanceLockedForSecurity",
            "The specified operation is denied as your instance is locked for security reasons.",
        )
    if {"recycling", "refunded"} & set(record.operation_locks):
        raise ApiError(
            403, "IncorrectInstanceStatus", "The current status of the resource does not support this operation."
        )
    if record.renewal_status == "NotRenewal":
        raise ApiError(
            403,
            "IncorrectInstanceStatus",
            "The instance's RenewalStatus is NotRenewal: change it to Normal before renewing manually.",
        )


def renew_periods(site: str) -> dict[str, tuple[int, ...]]:
    """RenewInstance's Period values per PeriodUnit on this site (RenewInstance doc, <props="china"/"intl">)."""
    return RENEW_PERIODS_INTL if site == "intl" else RENEW_PERIODS_CHINA


def _expected_renew_day(ctx: RpcContext, unit_param: str) -> int | None:
    """ExpectedRenewDay: exclusive with the period parameters, 1..28 (RenewInstance/DescribeRenewalPrice docs)."""
    text = ctx.get("ExpectedRenewDay")
    if text is None:
        return None
    if ctx.get("Period") is not None or ctx.get(unit_param) is not None:
        other = "period" if ctx.get("Period") is not None else unit_param[0].lower() + unit_param[1:]
        raise ApiError(
            400, "InvalidExpectedRenewDay.Conflict", f"The specified expectedRenewDay is in conflict with {other}."
        )
    day = ctx.get_int("ExpectedRenewDay", 400, "InvalidExpectedRenewDay.ValueNotSupported")
    if day is None or not 1 <= day <= 28:
        raise ApiError(
            400, "InvalidExpectedRenewDay.ValueNotSupported", "The specified parameter ExpectedRenewDay is not valid."
        )
    return day


def _check_unified_day(ctx: RpcContext, day: int) -> None:
    """The day must be the account's unified expiry day, set beforehand (RenewInstance doc). Code: unverified."""
    unified = ctx.state.account(ctx.account_id).wallet.unified_expiry_day
    if unified is None:
        raise ApiError(
            400,
            "InvalidParam.ExpectedRenewDay",
            "The specified param ExpectedRenewDay is not valid: the account has no unified expiry day.",
        )
    if day != unified:
        raise ApiError(
            400,
            "InvalidParam.ExpectedRenewDay",
            f"The specified param ExpectedRenewDay is not valid: the account's unified expiry day is {unified}.",
        )


def renewal_terms_quote(record: InstanceRecord, period: int | None, unit: str | None, day: int | None, site: str):
    """(new expiry, quote) for renewing ``record`` now: the one computation both price and renewal use."""
    old = record.true_expired_time
    if day is not None:
        # Approximation: to that day of the next calendar month, priced by the days it adds.
        new = add_months(old, 1).replace(day=day)
        quote = renewal_quote(record, days=max(round((new - old).total_seconds() / 86400), 1), site=site)
    elif unit == "Week":
        assert period is not None
        new, quote = add_weeks(old, period), renewal_quote(record, weeks=period, site=site)
    else:
        assert period is not None
        new, quote = add_months(old, period), renewal_quote(record, months=period, site=site)
    if new > add_months(utcnow(), MAX_EXPIRY_MONTHS_AHEAD):
        raise ApiError(
            400,
            "InvalidPeriod.ExceededMaximumExpirationDate",
            "The specified renewal period cannot exceed the maximum expiration date. We recommend you try "
            "shortening the renewal period at next attempt.",
        )
    return new, quote


def renew_instance(ctx: RpcContext) -> dict:
    instance_id = ctx.require("InstanceId")
    client_token = ctx.get("ClientToken")
    _check_client_token(client_token)
    site = ctx.state.site
    renew_day = _expected_renew_day(ctx, "PeriodUnit")
    period: int | None = None
    unit: str | None = None
    if renew_day is None:
        period_text = ctx.get("Period")
        unit = ctx.get("PeriodUnit") or "Month"
        periods = renew_periods(site)
        if unit not in periods:
            raise ApiError(
                400, "InvalidPeriodUnit.ValueNotSupported", "The specified parameter PeriodUnit is not valid."
            )
        if period_text is None:
            raise ApiError(
                400, "InvalidPeriod.NotFound", "The specified period and expectedRenewDay cannot both be empty."
            )
        period = ctx.get_int("Period", 400, "InvalidPeriod")
        if period not in periods[unit]:
            raise ApiError(
                400, "InvalidPeriod", f"The specified period is not valid: {period_text} {unit} ({site} site)."
            )

    fingerprint = (instance_id, period, unit, renew_day)
    state = ctx.state
    with state.lock:
        account = state.account(ctx.account_id)
        previous = state.remembered_token(account, client_token)
        if previous is not None:
            if previous.params != fingerprint:
                raise ApiError(
                    400,
                    state.idempotence_mismatch_code,
                    "Request uses a client token in a previous request but is not identical to that request.",
                )
            ctx.replayed = True  # same request again: same order, nothing renewed or charged twice
            return {"OrderId": previous.order_id}
        if renew_day is not None:
            _check_unified_day(ctx, renew_day)

        record = state.find(instance_id, ctx.account_id, ctx.region)
        if record is None:
            raise _not_found(instance_id)
        _check_renewable(record)
        old_expiry = record.true_expired_time
        new_expiry, quote = renewal_terms_quote(record, period, unit, renew_day, site)
        price = quote.total  # exactly what DescribeRenewalPrice quotes for this instance and these terms
        wallet = account.wallet
        if spendable(account.balance, wallet) < price:
            raise ApiError(*state.insufficient_funds_error)

        order_id = state.next_order_id()
        account.balance = draw(account.balance, wallet, price)
        now = time.time()
        wallet.charges.append(Charge(
            account_id=account.account_id, instance_id=instance_id, region_id=record.region_id, kind="renewal",
            period=period, period_unit=unit, expected_renew_day=renew_day, amount=price, currency=quote.currency,
            order_id=order_id, at=now, client_token=client_token,
        ))  # fmt: skip
        record.set_true_expiry(new_expiry, state.renew_visibility_delay)
        record.renewals.append(
            RenewalRecord(
                order_id=order_id,
                period=period,
                period_unit=unit,
                expected_renew_day=renew_day,
                client_token=client_token,
                at=now,
                old_expired_time=old_expiry,
                new_expired_time=new_expiry,
                price=price,
                access_key_id=ctx.key.access_key_id,
            )
        )
        if "financial" in record.operation_locks:  # paid up: the overdue lock goes and the instance restarts
            record.operation_locks.remove("financial")
            if record.status == "Stopped":
                record.status = "Running"
        if client_token is not None:
            account.client_tokens[client_token] = TokenRecord(fingerprint, order_id, instance_id, time.time())
    return {"OrderId": order_id}


# ---- DescribeRenewalPrice -------------------------------------------------------------------------


def describe_renewal_price(ctx: RpcContext) -> dict:
    resource_id = ctx.require("ResourceId")
    resource_type = ctx.get("ResourceType") or "instance"
    if resource_type != "instance":
        raise ApiError(
            400, "InvalidResourceType.ValueNotSupported", "The specified parameter ResourceType is not valid."
        )
    site = ctx.state.site
    renew_day = _expected_renew_day(ctx, "PriceUnit")
    period: int | None = None
    unit: str | None = None
    if renew_day is None:
        unit = ctx.get("PriceUnit") or "Month"
        if unit not in ("Month", "Year"):
            raise ApiError(400, "InvalidPriceUnit.ValueNotSupported", "The specified parameter PriceUnit is not valid.")
        period = ctx.get_int("Period", 400, "InvalidPeriod", default=1)
        # Month 1-9, Year 1-3 (doc). The intl site renews at most 12 months: Year 2-3 refused there (a choice).
        allowed = range(1, 10) if unit == "Month" else range(1, 2 if site == "intl" else 4)
        if period not in allowed:
            raise ApiError(400, "InvalidPeriod", f"The specified period is not valid: {period} {unit} ({site} site).")
        if unit == "Year":
            assert period is not None
            period, unit = period * 12, "Month"

    with ctx.state.lock:
        if renew_day is not None:
            _check_unified_day(ctx, renew_day)
        record = ctx.state.find(resource_id, ctx.account_id, ctx.region)
        if record is None:
            raise ApiError(
                404, "InvalidInstanceId.NotFound", f"The specified InstanceId does not exist: {resource_id}."
            )
        if record.charge_type != "PrePaid":
            raise _charge_type_violation()
        _, quote = renewal_terms_quote(record, period, unit, renew_day, site)
    return {"PriceInfo": quote.price_info()}


# ---- Describe/ModifyInstanceAutoRenewAttribute ----------------------------------------------------


def _comma_ids(ctx: RpcContext) -> list[str] | None:
    raw = ctx.get("InstanceId")
    if raw is None:
        return None
    ids = raw.split(",")  # no trimming: "i-a, i-b" names an instance " i-b" that does not exist
    if len(ids) > MAX_IDS:
        raise ApiError(
            403,
            "InvalidParameter.ToManyInstanceIds",
            f"The number of instance IDs exceeds the upper limit ({MAX_IDS}).",
        )
    return list(dict.fromkeys(ids))


def _resolve_prepaid(ctx: RpcContext, ids: list[str]) -> list[InstanceRecord]:
    records = []
    for instance_id in ids:
        record = ctx.state.find(instance_id, ctx.account_id, ctx.region)
        if record is None:
            raise ApiError(
                403, "InvalidParameter.InvalidInstanceId", f"The specified InstanceId is not valid: {instance_id!r}."
            )
        records.append(record)
    if any(record.charge_type != "PrePaid" for record in records):  # one pay-as-you-go id fails the whole call
        raise _charge_type_violation()
    return records


def describe_instance_auto_renew_attribute(ctx: RpcContext) -> dict:
    ids = _comma_ids(ctx)
    renewal_status = ctx.get("RenewalStatus")
    if ids is None and renewal_status is None:
        raise ApiError(403, "Abs.MissingParamter.InstanceId", "InstanceId or RenewalStatus must be specified.")
    if renewal_status is not None and renewal_status not in RENEWAL_STATUSES:
        raise ApiError(403, "InvalidParameter.RenewalStatus", f"Unknown RenewalStatus {renewal_status!r}.")
    page_number, page_size = _page_number_and_size(ctx)
    with ctx.state.lock:
        if ids is not None:
            records = _resolve_prepaid(ctx, ids)
        else:
            records = [r for r in ctx.state.in_region(ctx.account_id, ctx.region or "") if r.charge_type == "PrePaid"]
        if renewal_status is not None:
            records = [r for r in records if r.renewal_status == renewal_status]
        offset = (page_number - 1) * page_size
        items = [record.auto_renew_attribute() for record in records[offset : offset + page_size]]
    return {
        "InstanceRenewAttributes": {"InstanceRenewAttribute": items},
        "TotalCount": len(records),
        "PageNumber": page_number,
        "PageSize": page_size,
    }


def modify_instance_auto_renew_attribute(ctx: RpcContext) -> dict:
    ids = _comma_ids(ctx)
    if ids is None:
        raise ApiError(403, "MissingParameter.InstanceId", 'The input parameter "InstanceId" is mandatory.')
    renewal_status = ctx.get("RenewalStatus")
    if renewal_status is not None and renewal_status not in RENEWAL_STATUSES:
        raise ApiError(403, "InvalidParameter.RenewalStatus", f"Unknown RenewalStatus {renewal_status!r}.")
    auto_renew_text = ctx.get("AutoRenew")
    if auto_renew_text is not None and auto_renew_text.lower() not in ("true", "false"):
        raise ApiError(403, "InvalidParameter.AutoRenew", f"AutoRenew must be true or false, not {auto_renew_text!r}.")
    unit = ctx.get("PeriodUnit") or "Month"
    if unit not in AUTO_RENEW_DURATIONS:
        raise ApiError(
            403, "InvalidPeriodUnit.ValueNotSupported", f"PeriodUnit must be Month, Year or Week, not {unit!r}."
        )
    duration = ctx.get_int("Duration", 403, "InvalidParameter.Duration")
    if duration is not None and duration not in AUTO_RENEW_DURATIONS[unit]:
        raise ApiError(403, "InvalidParameter.Duration", f"Duration {duration} is not valid for PeriodUnit {unit}.")
    # RenewalStatus wins over AutoRenew; AutoRenew defaults to false (so a bare call turns auto-renew off).
    target = renewal_status or ("AutoRenewal" if _is_true(auto_renew_text) else "Normal")
    if target == "AutoRenewal" and duration is None:
        raise ApiError(403, "InvalidParameter.Duration", "Duration is required when auto-renewal is enabled.")

    with ctx.state.lock:
        records = _resolve_prepaid(ctx, ids)  # validate everything before changing anything
        for record in records:
            if {"recycling", "refunded"} & set(record.operation_locks):
                raise ApiError(
                    403, "IncorrectInstanceStatus", f"The current status of {record.instance_id} does not allow this."
                )
        for record in records:
            record.renewal_status = target
            if target == "AutoRenewal":
                assert duration is not None
                record.auto_renew_enabled, record.duration, record.period_unit = True, duration, unit
            else:
                record.auto_renew_enabled, record.duration = False, 0
    return {}


# ---- DescribeRegions ------------------------------------------------------------------------------


def describe_regions(ctx: RpcContext) -> dict:
    charge_type = ctx.get("InstanceChargeType")
    if charge_type is not None and charge_type not in ("PrePaid", "PostPaid", "SpotWithPriceLimit", "SpotAsPriceGo"):
        raise ApiError(404, "InvalidInstanceChargeType.NotFound", f"Unknown InstanceChargeType {charge_type!r}.")
    english = (ctx.get("AcceptLanguage") or "zh-CN").lower().startswith("en")
    regions = [
        {
            "RegionId": region.region_id,
            "LocalName": region.local_name_en if english else region.local_name_zh,
            "RegionEndpoint": region.endpoint,
            "Status": "available",
        }
        for region in REGIONS.values()
    ]
    return {"Regions": {"Region": regions}}


ECS_ACTIONS: dict[str, Callable[[RpcContext], dict]] = {
    "DescribeInstances": describe_instances,
    "RenewInstance": renew_instance,
    "DescribeRenewalPrice": describe_renewal_price,
    "DescribeInstanceAutoRenewAttribute": describe_instance_auto_renew_attribute,
    "ModifyInstanceAutoRenewAttribute": modify_instance_auto_renew_attribute,
    "DescribeRegions": describe_regions,
    **TAG_ACTIONS,  # TagResources, UntagResources, ListTagResources (tags.py)
}
