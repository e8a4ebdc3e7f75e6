"""The jobs through ``run_job``, with every ECS call stubbed: decisions and the calls they cost."""

from __future__ import annotations

import io
import sys
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from ecs_renewal import logs
from ecs_renewal.idempotency import renewal_client_token
from ecs_renewal.runtime import run_job
from tests.stubber import ANY

EXPIRY = (datetime.now(timezone.utc) + timedelta(days=2)).replace(second=0, microsecond=0)
# The funds forecast (its own calls: QueryAccountBalance, a look ahead) has its own tests: these are about
# the decisions and the ECS calls they cost.
ENV = {"REGIONS": "cn-hangzhou", "FUNDS_HORIZON_DAYS": "0"}
CONTEXT = SimpleNamespace(request_id="unit-1", credentials=SimpleNamespace(
    access_key_id="STS.unit", access_key_secret="unit-secret", security_token="unit-token"))


@pytest.fixture(autouse=True)
def quiet_logs(monkeypatch):
    monkeypatch.setattr(logs, "_default_stream", io.StringIO())


def raw(instance_id: str, **extra) -> dict:
    return {"InstanceId": instance_id, "InstanceName": instance_id, "RegionId": "cn-hangzhou",
            "InstanceChargeType": "PrePaid", "ExpiredTime": EXPIRY.strftime("%Y-%m-%dT%H:%MZ"),
            "Status": "Running", "Tags": {"Tag": extra.pop("tags", [])}, **extra}


def attributes(*pairs: tuple[str, str]) -> dict:
    rows = [{"InstanceId": i, "AutoRenewEnabled": status == "AutoRenewal", "Duration": 1 if status == "AutoRenewal"
             else 0, "PeriodUnit": "Month", "RenewalStatus": status} for i, status in pairs]
    return {"InstanceRenewAttributes": {"InstanceRenewAttribute": rows}, "TotalCount": len(rows)}


PRICE = {"PriceInfo": {"Price": {"OriginalPrice": 361.0, "DiscountPrice": 0.0, "TradePrice": 361.0,
                                  "Currency": "CNY"}, "Rules": {"Rule": []}}}


def listing(*instances: dict) -> dict:
    return {"Instances": {"Instance": list(instances)}, "NextToken": ""}


def early_intent(acs_stub, instance_id: str) -> None:
    """A run that will renew writes each instance's intent while the prices are asked (before deciding)."""
    acs_stub.add_response("TagResources", {"ResourceId.1": instance_id, "Tag.1.Key": "ecs-renewal:intent"}, {})


def withdrawn(acs_stub, ids: list[str]) -> None:
    """A limit stopped the plan: one UntagResources removes the early intents (up to 50 ids)."""
    params = {f"ResourceId.{n}": i for n, i in enumerate(sorted(ids), 1)}
    acs_stub.add_response("UntagResources", {**params, "TagKey.1": "ecs-renewal:intent"}, {})


def open_ledger_entries(acs_stub, *instances: dict) -> None:
    """A real run reads the ledger's open entries before its limits: DescribeInstances by the intent tag's key."""
    acs_stub.add_response("DescribeInstances", {"Tag.1.Key": "ecs-renewal:intent"}, listing(*instances))


def test_dry_run_lists_and_calls_nothing_that_costs_money(acs_stub):
    acs_stub.add_response("DescribeInstances", {"InstanceChargeType": "PrePaid"},
                          listing(raw("i-bp1aaaaaaaaa"), raw("i-bp1bbbbbbbbb",
                                  tags=[{"TagKey": "renewal", "TagValue": "manual"}])))
    acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {"InstanceId": "i-bp1aaaaaaaaa"},
                          attributes(("i-bp1aaaaaaaaa", "Normal")))
    acs_stub.add_response("DescribeRenewalPrice", {"ResourceId": "i-bp1aaaaaaaaa", "Period": "1", "PriceUnit": "Month"},
                          PRICE)
    result = run_job("renew-batch", b"", CONTEXT, environ=ENV)
    assert [r["instance_id"] for r in result["renewed"]] == ["i-bp1aaaaaaaaa"]
    assert result["renewed"][0]["order_id"] is None
    assert result["skipped"] == [{"instance_id": "i-bp1bbbbbbbbb", "region": "cn-hangzhou",
                                  "reason": "excluded by tag renewal=manual", "code": "excluded_by_tag"}]
    assert [action for action, _, _ in acs_stub.calls] == [
        "DescribeInstances", "DescribeInstanceAutoRenewAttribute", "DescribeRenewalPrice"]  # reads only
    assert result["estimated_cost"] == {"amount": 361.0, "currency": "CNY", "priced": 1, "unknown": 0, "exact": True}


def test_owner_choices_are_skipped_with_their_reason(acs_stub):
    acs_stub.add_response("DescribeInstances", {}, listing(raw("i-bp1aaaaaaaaa"), raw("i-bp1bbbbbbbbb"),
                                                           raw("i-bp1cccccccccc")))
    acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {}, attributes(
        ("i-bp1aaaaaaaaa", "NotRenewal"), ("i-bp1bbbbbbbbb", "AutoRenewal"), ("i-bp1cccccccccc", "Normal")))
    open_ledger_entries(acs_stub)
    acs_stub.add_response("DescribeRenewalPrice", {"ResourceId": "i-bp1cccccccccc"}, PRICE)
    acs_stub.add_response("TagResources", {"ResourceId.1": "i-bp1cccccccccc", "Tag.1.Key": "ecs-renewal:intent"}, {})
    acs_stub.add_response("RenewInstance", {"InstanceId": "i-bp1cccccccccc"}, {"OrderId": "7"})
    acs_stub.add_response("TagResources", {"ResourceId.1": "i-bp1cccccccccc", "Tag.1.Key": "ecs-renewal:renewed"}, {})
    result = run_job("renew-batch", b'{"dry_run": false}', CONTEXT, environ=ENV)
    assert [r["instance_id"] for r in result["renewed"]] == ["i-bp1cccccccccc"]
    # Auto-renew on, 2 days before expiry: the platform's deduction (from 9 days before) has failed (issue 14).
    assert {s["instance_id"]: s["reason"].split(":")[0] for s in result["skipped"]} == {
        "i-bp1aaaaaaaaa": "owner set NotRenewal", "i-bp1bbbbbbbbb": "auto-renew deduction failed — check the balance"}
    assert result["failed_deductions"] == 1


def test_a_replayed_invocation_sends_the_same_client_token(acs_stub):
    token = renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Month")
    for _ in range(2):  # the first run, then Function Compute's replay before the new expiry is visible
        acs_stub.add_response("DescribeInstances", {}, listing(raw("i-bp1aaaaaaaaa")))
        acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {}, attributes(("i-bp1aaaaaaaaa", "Normal")))
        open_ledger_entries(acs_stub)
        acs_stub.add_response("DescribeRenewalPrice", {}, PRICE)
        acs_stub.add_response("TagResources", {"Tag.1.Key": "ecs-renewal:intent"}, {})
        acs_stub.add_response("RenewInstance", {"InstanceId": "i-bp1aaaaaaaaa", "ClientToken": token},
                              {"OrderId": "900"})
        acs_stub.add_response("TagResources", {"Tag.1.Key": "ecs-renewal:renewed"}, {})
        # (The stub does not keep the tags the first run wrote: this is the ClientToken's layer alone.)
    orders = [run_job("renew-batch", b'{"dry_run": false}', CONTEXT, environ=ENV)["renewed"][0]["order_id"]
              for _ in range(2)]
    assert orders == ["900", "900"]


def test_cap_renews_nothing(acs_stub):
    ids = [f"i-bp1{n:09d}" for n in range(3)]
    acs_stub.add_response("DescribeInstances", {}, listing(*(raw(i) for i in ids)))
    acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {}, attributes(*((i, "Normal") for i in ids)))
    open_ledger_entries(acs_stub)
    result = run_job("renew-batch", b'{"dry_run": false, "max_instances": 2}', CONTEXT, environ=ENV)
    assert result["renewed"] == [] and result["cap_exceeded"] == {"candidates": 3, "max_instances": 2}
    assert "RenewInstance" not in [action for action, _, _ in acs_stub.calls]


def test_audit_groups_fixes_by_target(acs_stub):
    ids = [f"i-bp1{n:09d}" for n in range(3)]
    acs_stub.add_response("DescribeInstances", {}, listing(*(raw(i) for i in ids)))
    acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {"InstanceId": ",".join(ids), "PageSize": "100"}, {
        "InstanceRenewAttributes": {"InstanceRenewAttribute": [
            {"InstanceId": ids[0], "AutoRenewEnabled": False, "Duration": 0, "RenewalStatus": "Normal"},
            {"InstanceId": ids[1], "AutoRenewEnabled": True, "Duration": 1, "PeriodUnit": "Month",
             "RenewalStatus": "AutoRenewal"},
            {"InstanceId": ids[2], "AutoRenewEnabled": True, "Duration": 6, "PeriodUnit": "Month",
             "RenewalStatus": "AutoRenewal"},
        ]}, "TotalCount": 3})
    acs_stub.add_response("ModifyInstanceAutoRenewAttribute",
                          {"InstanceId": f"{ids[0]},{ids[2]}", "AutoRenew": "true", "Duration": "1"}, {})
    result = run_job("audit-autorenew", b'{"fix": true, "dry_run": false}', CONTEXT, environ=ENV)
    assert [d["instance_id"] for d in result["drift"]] == [ids[0], ids[2]]
    assert [f["instance_id"] for f in result["fixed"]] == [ids[0], ids[2]]
    assert result["api_calls"] == {"DescribeInstanceAutoRenewAttribute": 1, "DescribeInstances": 1,
                                   "ModifyInstanceAutoRenewAttribute": 1}


def test_a_region_error_is_reported_and_the_next_region_still_runs(acs_stub):
    with acs_stub.any_order():  # the two regions are worked at once: their calls interleave
        acs_stub.add_server_error("DescribeInstances", "Forbidden.RAM", "no permission", http_status=403,
                                  region="cn-hangzhou")
        acs_stub.add_response("DescribeInstances", {"InstanceChargeType": ANY}, listing(raw("i-bp1ccccccccc")),
                              region="cn-beijing")
        acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {},
                              attributes(("i-bp1ccccccccc", "AutoRenewal")), region="cn-beijing")
        acs_stub.add_response("DescribeRenewalPrice", {}, PRICE)
    result = run_job("scan-expiring", b"", CONTEXT, environ={"REGIONS": "cn-hangzhou,cn-beijing"})
    assert result["errors"] == [{"region": "cn-hangzhou", "code": "Forbidden.RAM", "message": "no permission"}]
    assert [r["instance_id"] for r in result["expiring"]] == ["i-bp1ccccccccc"]
    row = result["expiring"][0]
    assert (row["auto_renew"], row["price"], row["tier"]) == ("AutoRenewal", 361.0, 3)  # 2 days left → ≤ 3 days


def _three_candidates(acs_stub, tags=None):
    ids = [f"i-bp1{n:09d}" for n in range(3)]
    acs_stub.add_response("DescribeInstances", {}, listing(*(raw(i, InstanceType="ecs.g7.large",
                                                                 tags=list(tags or [])) for i in ids)))
    acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {}, attributes(*((i, "Normal") for i in ids)))
    open_ledger_entries(acs_stub)  # every use is a real run
    return ids


def test_each_instance_is_priced_on_its_own_and_the_budget_blocks_the_run(acs_stub):
    ids = _three_candidates(acs_stub)
    with acs_stub.any_order():  # one DescribeRenewalPrice per planned instance: its disks, bandwidth, image
        for instance_id in ids:
            acs_stub.add_response("DescribeRenewalPrice", {"ResourceId": instance_id, "Period": "1",
                                                           "PriceUnit": "Month"}, PRICE)
            early_intent(acs_stub, instance_id)
    withdrawn(acs_stub, ids)  # the budget stopped the plan: the intents written while pricing go again
    result = run_job("renew-batch", b'{"dry_run": false, "max_cost": 1000}', CONTEXT, environ=ENV)
    assert result["renewed"] == []
    assert result["budget_exceeded"]["amount"] == 1083.0 and result["budget_exceeded"]["max_cost"] == 1000.0
    assert "RenewInstance" not in [action for action, _, _ in acs_stub.calls]


def test_an_unknown_price_blocks_a_run_with_a_budget(acs_stub):
    ids = _three_candidates(acs_stub)
    with acs_stub.any_order():
        for instance_id in ids:  # final: not retried
            acs_stub.add_server_error("DescribeRenewalPrice", "Forbidden.RAM", http_status=403,
                                      expected_params={"ResourceId": instance_id})
            early_intent(acs_stub, instance_id)
    withdrawn(acs_stub, ids)
    result = run_job("renew-batch", b'{"dry_run": false, "max_cost": 100000}', CONTEXT, environ=ENV)
    assert result["renewed"] == [] and result["budget_exceeded"]["unknown"] == 3


def test_tagged_terms_are_followed_and_bad_tags_are_skips(acs_stub):
    ids = [f"i-bp1{n:09d}" for n in range(3)]
    tagged = [
        raw(ids[0], tags=[{"TagKey": "renewal-period", "TagValue": "3"}]),
        raw(ids[1], tags=[{"TagKey": "renewal-day", "TagValue": "15"}]),
        raw(ids[2], tags=[{"TagKey": "renewal-period", "TagValue": "ten"}]),
    ]
    acs_stub.add_response("DescribeInstances", {}, listing(*tagged))
    acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {}, attributes(*((i, "Normal") for i in ids)))
    open_ledger_entries(acs_stub)
    with acs_stub.any_order():  # prices are asked and the intents written, then renewals sent, several at once
        acs_stub.add_response("DescribeRenewalPrice", {"ResourceId": ids[0], "Period": "3"}, PRICE)
        acs_stub.add_response("DescribeRenewalPrice", {"ResourceId": ids[1], "ExpectedRenewDay": "15"}, PRICE)
        for instance_id in ids[:2]:
            early_intent(acs_stub, instance_id)
    with acs_stub.any_order():
        acs_stub.add_response("RenewInstance", {"InstanceId": ids[0], "Period": "3", "PeriodUnit": "Month"},
                              {"OrderId": "1"})
        acs_stub.add_response("RenewInstance", {"InstanceId": ids[1], "ExpectedRenewDay": "15"}, {"OrderId": "2"})
        for instance_id in ids[:2]:
            acs_stub.add_response("TagResources", {"ResourceId.1": instance_id, "Tag.1.Key": "ecs-renewal:renewed"},
                                  {})
    result = run_job("renew-batch", b'{"dry_run": false}', CONTEXT, environ={**ENV, "UNIFIED_EXPIRY_DAY": "15"})
    assert [(r["instance_id"], r["terms"]) for r in result["renewed"]] == [(ids[0], "3 Months"), (ids[1], "to day 15")]
    by_day = next(params for action, params, _ in acs_stub.calls
                  if action == "RenewInstance" and params["InstanceId"] == ids[1])
    assert "Period" not in by_day  # ExpectedRenewDay and Period are exclusive
    assert [(s["instance_id"], "not a whole number" in s["reason"]) for s in result["skipped"]] == [(ids[2], True)]


@pytest.fixture
def tiny_switch_interval():
    """Threads switch every microsecond: any order the jobs' threads can take, they take."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize("attempt", range(8))
@pytest.mark.parametrize("job_test", [test_tagged_terms_are_followed_and_bad_tags_are_skips,
                                      test_a_region_error_is_reported_and_the_next_region_still_runs])
def test_the_concurrent_job_tests_hold_under_a_tiny_switch_interval(job_test, attempt, acs_stub, tiny_switch_interval):
    """These two failed about 2 runs in 7 under setswitchinterval(1e-6) before the stubber took a lock and
    the tests said which calls may come in any order."""
    job_test(acs_stub)
