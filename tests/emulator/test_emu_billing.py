"""Per-instance prices, charges equal to quotes, the account's balance and credit, sites, unified expiry day."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta

import pytest
from aliyunsdkecs.request.v20140526.DescribeRenewalPriceRequest import DescribeRenewalPriceRequest
from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest
from emu_sdk import Sdk, build

from ecs_emulator import Emulator
from ecs_emulator.clock import UTC, to_minute, utcnow
from ecs_emulator.pricing import Resources

EXPIRY = datetime(2030, 1, 31, 16, 0, tzinfo=UTC)
SOON = to_minute(utcnow() + timedelta(days=10))  # room for 36 months within the 5-year ceiling
BARE = Resources(system_disk_gib=40, data_disks_gib=(), bandwidth_mbps=0, image_monthly_cny=0.0)


def renew(instance_id: str, period: int | None = 1, unit: str | None = None, token: str | None = None, **extra):
    params: dict[str, object] = {"InstanceId": instance_id, **extra}
    if period is not None:
        params["Period"] = period
    if unit is not None:
        params["PeriodUnit"] = unit
    if token is not None:
        params["ClientToken"] = token
    return build(RenewInstanceRequest, **params)


def quote(sdk: Sdk, instance_id: str, **params: object) -> dict:
    return sdk.call(build(DescribeRenewalPriceRequest, ResourceId=instance_id, **params))["PriceInfo"]


def payable(info: dict) -> float:
    """What a quote says RenewInstance will take: the ECS part plus a paid Marketplace image."""
    image = info.get("RelatedPrice", {}).get("MarketplaceImagePrice", {}).get("TradePrice", 0.0)
    return round(info["Price"]["TradePrice"] + image, 2)


def test_instances_of_one_type_are_priced_apart_and_deterministically(sdk: Sdk, emu: Emulator) -> None:
    ids = [emu.add_instance("cn-hangzhou", instance_id=f"i-bp1samesizetype{n:06d}", expired_time=EXPIRY)
           for n in range(10)]  # fmt: skip
    prices = [payable(quote(sdk, iid)) for iid in ids]
    assert len(set(prices)) >= 9, prices  # disks, bandwidth and images differ per instance
    assert all(price > 361.0 for price in prices)  # never below the bare instance type
    with Emulator() as other:  # same id, same resources, same price: tests can rely on it
        twin = other.add_instance("cn-hangzhou", instance_id=ids[0], expired_time=EXPIRY)
        assert Sdk(other).call(build(DescribeRenewalPriceRequest, ResourceId=twin))["PriceInfo"] == quote(sdk, ids[0])


@pytest.mark.parametrize(
    ("renew_terms", "price_terms"),
    [
        ({"period": 1}, {}),
        ({"period": 3}, {"Period": 3}),
        ({"period": 9}, {"Period": 9}),
        ({"period": 12}, {"Period": 1, "PriceUnit": "Year"}),  # the year discount is charged too
        ({"period": 24}, {"Period": 2, "PriceUnit": "Year"}),
        ({"period": 36}, {"Period": 3, "PriceUnit": "Year"}),
    ],
)
def test_renewal_charges_exactly_the_quote(sdk: Sdk, emu: Emulator, renew_terms: dict, price_terms: dict) -> None:
    for n in range(5):  # several instances: the equality holds per instance, not per type
        iid = emu.add_instance("cn-hangzhou", instance_id=f"i-bp1chargesquote{n:06d}", expired_time=SOON)
        expected = payable(quote(sdk, iid, **price_terms))
        balance, before = emu.balance, emu.total_charged()
        order = sdk.call(renew(iid, **renew_terms, token=f"q-{n}-{renew_terms['period']}"))["OrderId"]
        charge = emu.charges()[-1]
        assert (charge.instance_id, charge.order_id, charge.amount) == (iid, order, expected)
        assert emu.balance == pytest.approx(balance - expected) and emu.total_charged() == pytest.approx(
            before + expected
        )
        assert emu.instance(iid).renewals[-1].price == expected


def test_the_year_quote_of_the_issue_is_what_is_charged(sdk: Sdk, emu: Emulator) -> None:
    # Issue 12: a 12-month quote of 3,682.20 (361 x 12, 15 % off) against 4,332.00 recorded. Both are now 3,682.20.
    bare = Resources(system_disk_gib=0, data_disks_gib=(), bandwidth_mbps=0, image_monthly_cny=0.0)
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, resources=bare)
    info = quote(sdk, iid, Period=1, PriceUnit="Year")
    assert (info["Price"]["OriginalPrice"], info["Price"]["DiscountPrice"], info["Price"]["TradePrice"]) == (
        4332.0, 649.8, 3682.2)  # fmt: skip
    assert info["Rules"]["Rule"][0]["Description"].startswith("Receive a 15% discount")
    sdk.call(renew(iid, 12, token="year"))
    assert emu.charges()[-1].amount == 3682.2 == emu.instance(iid).renewals[-1].price


def test_a_paid_image_is_quoted_apart_and_charged(sdk: Sdk, emu: Emulator) -> None:
    resources = Resources(system_disk_gib=40, data_disks_gib=(500,), bandwidth_mbps=10, image_monthly_cny=99.0)
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, resources=resources)
    info = quote(sdk, iid, Period=2)
    details = {d["Resource"]: d["TradePrice"] for d in info["Price"]["DetailInfos"]["DetailInfo"]}
    assert details == {"instanceType": 722.0, "systemDisk": 80.0, "dataDisk": 700.0,
                       "internetMaxBandwidthOut": 2 * (5 * 23.0 + 5 * 80.0)}  # fmt: skip
    assert info["RelatedPrice"]["MarketplaceImagePrice"]["TradePrice"] == 198.0
    assert info["Price"]["TradePrice"] == sum(details.values())  # Price alone leaves the image out
    sdk.call(renew(iid, 2))
    assert emu.charges()[-1].amount == payable(info) == info["Price"]["TradePrice"] + 198.0


def test_week_and_unified_day_renewals_charge_what_renewal_price_says(sdk: Sdk, emu: Emulator) -> None:
    emu.set_unified_expiry_day(5)
    iid = emu.add_instance("cn-hangzhou", expired_time="2030-01-20T16:00Z")
    week = emu.renewal_price(iid, 2, "Week")
    sdk.call(renew(iid, 2, "Week"))
    assert emu.charges()[-1].amount == week
    day_quote = payable(quote(sdk, iid, ExpectedRenewDay=5))
    assert day_quote == emu.renewal_price(iid, expected_renew_day=5)
    sdk.call(renew(iid, None, ExpectedRenewDay=5))
    assert emu.charges()[-1].amount == day_quote and emu.instance(iid).true_expired_time.day == 5


def test_replays_charge_nothing_and_failures_record_no_charge(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    sdk.call(renew(iid, 1, token="once"))
    sdk.call(renew(iid, 1, token="once"))
    assert len(emu.charges()) == 1
    emu.faults.add("RenewInstance", code="InvalidAccountStatus.NotEnoughBalance", status=403)  # the demo's fault
    error = sdk.error(renew(iid, 1, token="refused"))
    assert (error.http_status, error.error_code) == (403, "InvalidAccountStatus.NotEnoughBalance")
    assert len(emu.charges()) == 1 and emu.renewal_count(iid) == 1


def test_the_credit_line_is_spent_after_the_cash_then_the_balance_error(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    price = emu.renewal_price(iid, 1)
    emu.balance = 100.0
    emu.set_credit(price)  # cash 100 + credit = price + 100: one renewal, not two
    sdk.call(renew(iid, 1))
    assert emu.balance == 0.0 and emu.state.account(emu.account_id).wallet.credit_used == pytest.approx(price - 100)
    error = sdk.error(renew(iid, 1))
    assert (error.http_status, error.error_code) == (403, "InvalidAccountStatus.NotEnoughBalance")
    assert emu.total_charged() == price and emu.renewal_count(iid) == 1


def test_charges_are_per_account_and_in_the_state_view(sdk: Sdk, emu: Emulator) -> None:
    other_role = emu.add_role("ecs-renewal", account_id="2222222222222222")
    creds = emu.issue_sts_credentials(role_arn=other_role)
    mine = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    theirs = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, account_id="2222222222222222")
    sdk.call(renew(mine, 1))
    sdk.call(renew(theirs, 3), creds=creds)
    assert [c.instance_id for c in emu.charges()] == [mine]
    assert [c.instance_id for c in emu.charges(account="2222222222222222")] == [theirs]
    assert emu.total_charged("*") == pytest.approx(emu.total_charged() + emu.total_charged("2222222222222222"))
    with urllib.request.urlopen(f"{emu.url}/_emulator/state") as answer:
        state = json.load(answer)
    assert {c["InstanceId"] for c in state["charges"]} == {mine, theirs}
    assert state["accounts"]["2222222222222222"]["TotalCharged"] == emu.total_charged("2222222222222222")
    assert state["site"] == "china"


def test_the_intl_site_allows_month_1_to_9_and_12_only(sdk: Sdk, emu: Emulator) -> None:
    emu.site = "intl"
    iid = emu.add_instance("ap-southeast-1", expired_time=SOON)
    for period, unit, code in ((24, None, "InvalidPeriod"), (10, None, "InvalidPeriod"),
                               (1, "Week", "InvalidPeriodUnit.ValueNotSupported")):  # fmt: skip
        error = sdk.error(renew(iid, period, unit), region="ap-southeast-1")
        assert (error.http_status, error.error_code) == (400, code)
    assert emu.charges() == []
    info = sdk.call(build(DescribeRenewalPriceRequest, ResourceId=iid, Period=1, PriceUnit="Year"),
                    region="ap-southeast-1")["PriceInfo"]  # fmt: skip
    assert info["Price"]["Currency"] == "USD"
    year2 = build(DescribeRenewalPriceRequest, ResourceId=iid, Period=2, PriceUnit="Year")
    assert sdk.error(year2, region="ap-southeast-1").error_code == "InvalidPeriod"
    sdk.call(renew(iid, 12), region="ap-southeast-1")
    assert emu.charges()[-1].amount == payable(info) and emu.charges()[-1].currency == "USD"
    emu.site = "china"
    sdk.call(renew(iid, 24), region="ap-southeast-1")  # the China site takes 24 months


def test_expected_renew_day_needs_the_accounts_unified_day(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time="2030-01-20T16:00Z")
    for call in (renew(iid, None, ExpectedRenewDay=5), build(DescribeRenewalPriceRequest, ResourceId=iid,
                                                              ExpectedRenewDay=5)):  # fmt: skip
        error = sdk.error(call)  # default: the account has no unified expiry day
        assert (error.http_status, error.error_code) == (400, "InvalidParam.ExpectedRenewDay")
    emu.set_unified_expiry_day(10)
    assert sdk.error(renew(iid, None, ExpectedRenewDay=5)).error_code == "InvalidParam.ExpectedRenewDay"
    sdk.call(renew(iid, None, ExpectedRenewDay=10))
    assert emu.instance(iid).true_expired_time == datetime(2030, 2, 10, 16, 0, tzinfo=UTC)
    conflict = build(DescribeRenewalPriceRequest, ResourceId=iid, ExpectedRenewDay=10, PriceUnit="Month")
    assert sdk.error(conflict).error_code == "InvalidExpectedRenewDay.Conflict"
    unknown = build(DescribeRenewalPriceRequest, ResourceId="i-bp1doesnotexist00000")
    assert (sdk.error(unknown).http_status, sdk.error(unknown).error_code) == (404, "InvalidInstanceId.NotFound")


def test_the_insufficient_funds_answer_is_a_knob(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    emu.balance = 0.0
    assert emu.insufficient_funds_error[:2] == (403, "InvalidAccountStatus.NotEnoughBalance")  # the default
    emu.insufficient_funds_error = (400, "Account.Arrearage", "Your account has an outstanding payment.")
    error = sdk.error(renew(iid, 1))
    assert (error.http_status, error.error_code) == (400, "Account.Arrearage") and emu.charges() == []
