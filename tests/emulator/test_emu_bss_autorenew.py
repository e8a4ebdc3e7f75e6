"""BSS QueryAccountBalance over the wallet renewals draw, and the platform's auto-renew deductions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from aliyunsdkcore.request import RpcRequest
from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest
from emu_sdk import Sdk, build

from ecs_emulator import Emulator, FleetSpec
from ecs_emulator.autorenew import BEIJING, deduction_attempts
from ecs_emulator.clock import UTC, to_minute, utcnow
from ecs_emulator.pricing import Resources


def balance_request() -> RpcRequest:
    # What aliyunsdkbssopenapi.request.v20171214.QueryAccountBalanceRequest builds (product, version, POST).
    request = RpcRequest("BssOpenApi", "2017-12-14", "QueryAccountBalance")
    request.set_method("POST")
    return request


def test_query_account_balance_reads_the_wallet_renewals_draw(sdk: Sdk, emu: Emulator) -> None:
    emu.balance = 1000.0
    emu.set_credit(500.0, mybank=200.0)
    body = sdk.call(balance_request())
    assert (body["Code"], body["Message"], body["Success"]) == ("200", "success", True) and body["RequestId"]
    assert body["Data"] == {"AvailableAmount": "1500.00", "AvailableCashAmount": "1000.00", "CreditAmount": "500.00",
                            "MybankCreditAmount": "200.00", "Currency": "CNY", "QuotaLimit": "0.00"}  # fmt: skip
    bare = Resources(system_disk_gib=40, data_disks_gib=(), bandwidth_mbps=0, image_monthly_cny=0.0)
    iid = emu.add_instance("cn-hangzhou", expired_time="2030-01-31T16:00Z", resources=bare)
    price = emu.renewal_price(iid, 1)
    sdk.call(build(RenewInstanceRequest, InstanceId=iid, Period=1))
    data = sdk.call(balance_request())["Data"]
    assert float(data["AvailableAmount"]) == pytest.approx(1500.0 - price)
    assert float(data["AvailableCashAmount"]) == pytest.approx(max(1000.0 - price, 0.0))
    emu.site = "intl"
    assert sdk.call(balance_request(), region="ap-southeast-1")["Data"]["Currency"] == "USD"


def test_query_account_balance_is_per_account_and_signed(sdk: Sdk, emu: Emulator) -> None:
    may_read = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "bss:DescribeAcccount", "Resource": "*"}]}
    role = emu.add_role("ecs-renewal", account_id="3333333333333333", policy=may_read)
    emu.set_balance(42.5, "3333333333333333")
    other = emu.issue_sts_credentials(role_arn=role)
    assert sdk.call(balance_request(), creds=other)["Data"]["AvailableCashAmount"] == "42.50"
    status, body, _ = sdk.raw({"Action": "QueryAccountBalance", "Version": "2017-12-14", "Format": "JSON"},
                              tamper={"Version": "2017-12-15"})  # fmt: skip
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert emu.calls[-1].action == "QueryAccountBalance" and not emu.calls[-1].applied


def test_deduction_attempts_are_at_0800_beijing_from_nine_days_before() -> None:
    expiry = datetime(2030, 3, 10, 16, 0, tzinfo=UTC)  # 2030-03-11 00:00 Beijing
    attempts = deduction_attempts(expiry, None, datetime(2030, 3, 5, 12, 0, tzinfo=UTC))
    assert [a.astimezone(BEIJING).strftime("%m-%d %H:%M") for a in attempts] == [
        "03-02 08:00", "03-03 08:00", "03-04 08:00", "03-05 08:00"]  # fmt: skip
    assert deduction_attempts(expiry, attempts[-1], datetime(2030, 3, 5, 12, 0, tzinfo=UTC)) == []


def test_a_short_balance_fails_the_deduction_and_keeps_the_expiry(sdk: Sdk, emu: Emulator) -> None:
    emu.balance = 0.0
    expiry = to_minute(utcnow() + timedelta(days=20))
    iid = emu.add_instance("cn-hangzhou", expired_time=expiry, auto_renew_enabled=True, duration=1)
    assert emu.instance(iid).auto_renew_failures == []  # not due yet
    five_days_before = expiry - timedelta(days=5)
    results = emu.run_auto_renew_deductions(five_days_before)
    assert results and all(not r.succeeded for r in results) and len(results) in (4, 5)
    record = emu.instance(iid)
    assert record.true_expired_time == expiry and len(record.auto_renew_failures) == len(results)
    assert emu.charges() == [] and record.renewal_status == "AutoRenewal"
    assert emu.run_auto_renew_deductions(five_days_before) == []  # each attempt once
    emu.balance = 10_000.0  # topped up: the next daily attempt succeeds and extends by the Duration
    done = emu.run_auto_renew_deductions(five_days_before + timedelta(days=1))
    assert [d.succeeded for d in done] == [True]
    charge = emu.charges()[-1]
    assert (charge.kind, charge.instance_id, charge.amount, charge.order_id) == (
        "auto_renew", iid, emu.renewal_price(iid, 1), done[0].order_id)  # fmt: skip
    assert emu.instance(iid).true_expired_time > expiry + timedelta(days=27)


def test_an_instance_added_inside_its_last_nine_days_has_failed_deductions(emu: Emulator) -> None:
    soon = emu.add_instance("cn-hangzhou", expired_time=utcnow() + timedelta(days=5), renewal_status="AutoRenewal")
    manual = emu.add_instance("cn-hangzhou", expired_time=utcnow() + timedelta(days=5))
    assert len(emu.instance(soon).auto_renew_failures) >= 3 and emu.instance(manual).auto_renew_failures == []
    state = emu.state_summary()
    row = next(i for i in state["instances"] if i["InstanceId"] == soon)
    assert len(row["AutoRenewFailures"]) == len(emu.instance(soon).auto_renew_failures)


def test_fleet_option_adds_failed_auto_renew_instances_without_changing_the_rest() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    plain = Emulator(fleet=FleetSpec(seed=3, regions=("cn-hangzhou",), instances_per_region=40, now=now))
    more = Emulator(fleet=FleetSpec(seed=3, regions=("cn-hangzhou",), instances_per_region=40, now=now,
                                    failed_auto_renew=3))  # fmt: skip
    base = {r.instance_id for r in plain.instances()}
    extra = [r for r in more.instances() if r.instance_id not in base]
    assert base <= {r.instance_id for r in more.instances()} and len(extra) == 3
    for record in extra:
        days_left = (record.true_expired_time - now).total_seconds() / 86400
        assert record.renewal_status == "AutoRenewal" and 0 < days_left < 9 and record.auto_renew_failures


def test_query_account_balance_needs_the_ram_action_the_bss_doc_names(sdk: Sdk, emu: Emulator) -> None:
    ecs_only = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}
    role = emu.add_role("no-billing", policy=ecs_only)  # no bss:DescribeAcccount (ram/billing-read-policy.json)
    error = sdk.error(balance_request(), creds=emu.issue_sts_credentials(role_arn=role))
    assert (error.http_status, error.error_code) == (400, "NoPermission")
    sdk.call(balance_request())  # the test function role carries bss:DescribeAcccount (sic)
