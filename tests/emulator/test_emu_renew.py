"""RenewInstance (idempotency, visibility delay, refusals) and DescribeRenewalPrice."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.DescribeRenewalPriceRequest import DescribeRenewalPriceRequest
from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest
from emu_sdk import Sdk, build

from ecs_emulator import Emulator
from ecs_emulator.clock import UTC
from ecs_emulator.pricing import Resources

EXPIRY = datetime(2030, 1, 31, 16, 0, tzinfo=UTC)
BARE = Resources(system_disk_gib=40, data_disks_gib=(), bandwidth_mbps=0, image_monthly_cny=0.0)


def renew(instance_id: str, period: int | None = 1, unit: str | None = None, token: str | None = None, **extra):
    request = RenewInstanceRequest()
    request.set_InstanceId(instance_id)
    if period is not None:
        request.set_Period(period)
    if unit is not None:
        request.set_PeriodUnit(unit)
    if token is not None:
        request.set_ClientToken(token)
    for name, value in extra.items():
        request.add_query_param(name, value)
    return request


def visible_expiry(sdk: Sdk, instance_id: str, region: str = "cn-hangzhou") -> str:
    request = DescribeInstancesRequest()
    request.set_InstanceIds(json.dumps([instance_id]))
    return sdk.call(request, region=region)["Instances"]["Instance"][0]["ExpiredTime"]


def test_renew_extends_by_calendar_months_and_charges(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, resources=BARE)
    balance = emu.balance
    body = sdk.call(renew(iid, 1, token="t-1"))
    assert set(body) == {"RequestId", "OrderId"} and body["OrderId"].isdigit()
    record = emu.instance(iid)
    assert record.true_expired_time == datetime(2030, 2, 28, 16, 0, tzinfo=UTC)  # Jan 31 + 1 month, clamped
    assert emu.balance == pytest.approx(balance - 361.0 - 40.0)  # ecs.g7.large + a 40 GiB system disk
    assert emu.renewal_count(iid) == 1 and record.renewals[0].order_id == body["OrderId"]
    sdk.call(renew(iid, 2, "Week"))
    assert emu.instance(iid).true_expired_time == datetime(2030, 3, 14, 16, 0, tzinfo=UTC)


def test_same_client_token_renews_once(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    first = sdk.call(renew(iid, 1, token="renew-abc"))
    balance = emu.balance
    second = sdk.call(renew(iid, 1, "Month", token="renew-abc"))  # explicit default unit = same params
    assert first["OrderId"] == second["OrderId"] and first["RequestId"] != second["RequestId"]
    assert emu.renewal_count(iid) == 1 and emu.balance == balance
    assert emu.calls[-1].replayed and emu.calls[-1].applied

    error = sdk.error(renew(iid, 2, token="renew-abc"))
    assert (error.http_status, error.error_code) == (400, "IdempotenceParamNotMatch")
    other = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    assert sdk.error(renew(other, 1, token="renew-abc")).error_code == "IdempotenceParamNotMatch"
    assert emu.renewal_count(iid) == 1 and emu.renewal_count(other) == 0


def test_without_token_every_call_renews_again(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    sdk.call(renew(iid))
    sdk.call(renew(iid))
    assert emu.renewal_count(iid) == 2


def test_new_expiry_becomes_visible_only_after_the_delay(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    sdk.call(renew(iid, 1, token="vis"))
    assert emu.instance(iid).true_expired_time == datetime(2030, 2, 28, 16, 0, tzinfo=UTC)
    assert visible_expiry(sdk, iid) == "2030-01-31T16:00Z"
    # The expiry filter sees the visible value too.
    request = build(DescribeInstancesRequest, Filter_3_Key="ExpiredStartTime", Filter_3_Value="2030-01-31T16:00Z",
                    Filter_4_Key="ExpiredEndTime", Filter_4_Value="2030-01-31T16:00Z")  # fmt: skip
    assert sdk.call(request)["TotalCount"] == 1
    time.sleep(0.35)
    assert visible_expiry(sdk, iid) == "2030-02-28T16:00Z"
    assert emu.instance(iid).visible_expired_time == emu.instance(iid).true_expired_time


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"charge_type": "PostPaid"}, 403, "ChargeTypeViolation"),
        ({"locks": ("security",)}, 403, "InstanceLockedForSecurity"),
        ({"renewal_status": "NotRenewal"}, 403, "IncorrectInstanceStatus"),
        ({"locks": ("recycling",)}, 403, "IncorrectInstanceStatus"),
    ],
)
def test_refusals(sdk: Sdk, emu: Emulator, kwargs: dict, status: int, code: str) -> None:
    kwargs.setdefault("expired_time", EXPIRY)
    iid = emu.add_instance("cn-hangzhou", **kwargs)
    error = sdk.error(renew(iid, 1, token="t"))
    assert (error.http_status, error.error_code) == (status, code)
    assert emu.renewal_count(iid) == 0 and not emu.calls[-1].applied


def test_unknown_or_foreign_region_instance(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-shanghai", expired_time=EXPIRY)
    for instance_id in ("i-bp1doesnotexist00000", iid):
        error = sdk.error(renew(instance_id))
        assert (error.http_status, error.error_code) == (404, "InvalidInstanceId.NotFound")


def test_not_enough_balance(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    price = emu.renewal_price(iid, 1)
    emu.balance = price - 0.01
    error = sdk.error(renew(iid, 1, token="poor"))
    assert (error.http_status, error.error_code) == (403, "InvalidAccountStatus.NotEnoughBalance")
    assert emu.renewal_count(iid) == 0 and emu.balance == price - 0.01 and emu.charges() == []
    emu.balance = price
    sdk.call(renew(iid, 1, token="poor"))  # a failed call does not burn its token
    assert emu.renewal_count(iid) == 1


@pytest.mark.parametrize(
    ("period", "unit", "extra", "code"),
    [
        (10, None, {}, "InvalidPeriod"),
        (5, "Week", {}, "InvalidPeriod"),
        (1, "Year", {}, "InvalidPeriodUnit.ValueNotSupported"),
        (None, None, {}, "InvalidPeriod.NotFound"),
        (1, None, {"ExpectedRenewDay": 5}, "InvalidExpectedRenewDay.Conflict"),
        (None, "Month", {"ExpectedRenewDay": 5}, "InvalidExpectedRenewDay.Conflict"),
        (None, None, {"ExpectedRenewDay": 29}, "InvalidExpectedRenewDay.ValueNotSupported"),
        (None, None, {"ExpectedRenewDay": 6}, "InvalidParam.ExpectedRenewDay"),  # not the account's day (5)
        (60, None, {}, "InvalidPeriod.ExceededMaximumExpirationDate"),
    ],
)
def test_period_validation(sdk: Sdk, emu: Emulator, period, unit, extra, code: str) -> None:
    emu.set_unified_expiry_day(5)
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    error = sdk.error(renew(iid, period, unit, **extra))
    assert (error.http_status, error.error_code) == (400, code)


def test_client_token_rules(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    for token in ("x" * 65, "tökén"):
        error = sdk.error(renew(iid, 1, token=token))
        assert (error.http_status, error.error_code) == (400, "InvalidClientToken.ValueNotSupported")
    sdk.call(renew(iid, 1, token="x" * 64))


def test_expected_renew_day_and_financial_lock(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time="2030-01-20T16:00Z", status="Stopped", locks=("financial",))
    emu.set_unified_expiry_day(5)
    sdk.call(renew(iid, None, ExpectedRenewDay=5))
    record = emu.instance(iid)
    assert record.true_expired_time == datetime(2030, 2, 5, 16, 0, tzinfo=UTC)
    assert record.operation_locks == [] and record.status == "Running"


def test_renewal_price(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, instance_type="ecs.c7.large", resources=BARE)
    request = DescribeRenewalPriceRequest()
    request.set_ResourceId(iid)
    request.set_Period(3)
    price = sdk.call(request)["PriceInfo"]["Price"]
    assert price["OriginalPrice"] == price["TradePrice"] == 3 * (292.0 + 40.0) and price["Currency"] == "CNY"
    request.set_PriceUnit("Year")
    request.set_Period(1)
    info = sdk.call(request)["PriceInfo"]
    assert info["Price"]["TradePrice"] == pytest.approx((292.0 + 40.0) * 12 * 0.85)
    assert info["Price"]["DiscountPrice"] > 0 and info["Rules"]["Rule"]
    request.set_PriceUnit("Week")
    assert sdk.error(request).error_code == "InvalidPriceUnit.ValueNotSupported"
    post = emu.add_instance("cn-hangzhou", charge_type="PostPaid")
    assert sdk.error(build(DescribeRenewalPriceRequest, ResourceId=post)).error_code == "ChargeTypeViolation"
    assert sdk.error(build(DescribeRenewalPriceRequest, ResourceId=iid, Period=10)).error_code == "InvalidPeriod"
