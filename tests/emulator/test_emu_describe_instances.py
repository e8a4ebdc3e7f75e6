"""DescribeInstances: paging (both styles), caps, filters, wire shape."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from emu_sdk import Sdk, build, in_minutes

from ecs_emulator import Emulator, FleetSpec
from ecs_emulator.clock import UTC, format_minute

BASE = datetime(2030, 1, 10, 16, 0, tzinfo=UTC)


def _fill(emu: Emulator, count: int, region: str = "cn-hangzhou") -> list[str]:
    return [emu.add_instance(region, expired_time=in_minutes(60 * 24 + i)) for i in range(count)]


def _ids(body: dict) -> list[str]:
    return [item["InstanceId"] for item in body["Instances"]["Instance"]]


def test_page_number_paging_over_250_instances(sdk: Sdk, emu: Emulator) -> None:
    created = set(_fill(emu, 250))
    pages = []
    for number in (1, 2, 3, 4):
        request = DescribeInstancesRequest()
        request.set_PageSize(100)
        request.set_PageNumber(number)
        pages.append(sdk.call(request))
    assert [len(p["Instances"]["Instance"]) for p in pages] == [100, 100, 50, 0]
    assert all(p["TotalCount"] == 250 and p["PageSize"] == 100 for p in pages)
    seen = [i for p in pages for i in _ids(p)]
    assert len(seen) == len(set(seen)) == 250 and set(seen) == created
    assert pages[2]["NextToken"] == ""


def test_next_token_paging_over_250_instances(sdk: Sdk, emu: Emulator) -> None:
    created = set(_fill(emu, 250))
    seen: list[str] = []
    token, calls = None, 0
    while True:
        request = DescribeInstancesRequest()
        request.set_MaxResults(100)
        if token:
            request.set_NextToken(token)
        body = sdk.call(request)
        calls += 1
        seen += _ids(body)
        token = body["NextToken"]
        if not token:
            break
    assert calls == 3 and len(seen) == 250 and set(seen) == created


def test_next_token_is_opaque_and_bound_to_its_query(sdk: Sdk, emu: Emulator) -> None:
    _fill(emu, 30)
    first = sdk.call(build(DescribeInstancesRequest, MaxResults=10, InstanceChargeType="PrePaid"))
    token = first["NextToken"]
    assert token and not token.isdigit()  # not a page number in disguise
    again = build(DescribeInstancesRequest, MaxResults=10, NextToken=token, InstanceChargeType="PrePaid")
    assert len(_ids(sdk.call(again))) == 10
    for bad in (
        build(DescribeInstancesRequest, MaxResults=10, NextToken="made-up"),
        build(DescribeInstancesRequest, MaxResults=10, NextToken=token, InstanceChargeType="PostPaid"),
    ):
        error = sdk.error(bad)
        assert (error.http_status, error.error_code) == (400, "InvalidParameter.NextToken")
    assert sdk.error(build(DescribeInstancesRequest, NextToken=token), region="cn-shanghai").error_code == (
        "InvalidParameter.NextToken"
    )


def test_max_results_is_clamped_as_documented(sdk: Sdk, emu: Emulator) -> None:
    _fill(emu, 120)
    assert len(_ids(sdk.call(build(DescribeInstancesRequest, MaxResults=3)))) == 10
    assert len(_ids(sdk.call(build(DescribeInstancesRequest, MaxResults=500)))) == 100


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"PageSize": 101}, "InvalidParameter.PageSize"),
        ({"PageSize": 0}, "InvalidParameter.PageSize"),
        ({"PageSize": "ten"}, "InvalidParameter.PageSize"),
        ({"PageNumber": 0}, "InvalidParameter.PageNumber"),
        ({"MaxResults": "1.5"}, "InvalidParameter.MaxResults"),
    ],
)
def test_bad_paging_parameters(sdk: Sdk, params: dict, code: str) -> None:
    error = sdk.error(build(DescribeInstancesRequest, **params))
    assert (error.http_status, error.error_code) == (400, code)


def test_default_page_size_is_10(sdk: Sdk, emu: Emulator) -> None:
    _fill(emu, 15)
    body = sdk.call(DescribeInstancesRequest())
    assert (len(_ids(body)), body["TotalCount"], body["PageSize"], body["PageNumber"]) == (10, 15, 10, 1)


def test_instance_ids_json_array_with_cap(sdk: Sdk, emu: Emulator) -> None:
    ids = _fill(emu, 5)
    request = DescribeInstancesRequest()
    request.set_InstanceIds(json.dumps(ids[:2]))
    assert set(_ids(sdk.call(request))) == set(ids[:2])

    request.set_InstanceIds(json.dumps([f"i-bp1{n:017d}" for n in range(101)]))
    error = sdk.error(request)
    assert (error.http_status, error.error_code) == (400, "InvalidParameter")

    request.set_InstanceIds(ids[:2])  # a raw Python list goes out as "['i-..', 'i-..']" (trap)
    assert sdk.error(request).error_code == "InvalidInstanceIds.Malformed"

    request.set_InstanceIds("[]")
    assert sdk.call(request)["TotalCount"] == 0


def test_expiry_filter_is_inclusive_on_both_ends(sdk: Sdk, emu: Emulator) -> None:
    before = emu.add_instance("cn-hangzhou", expired_time="2030-01-10T15:59Z")
    at_start = emu.add_instance("cn-hangzhou", expired_time=BASE)
    inside = emu.add_instance("cn-hangzhou", expired_time="2030-01-12T08:30Z")
    at_end = emu.add_instance("cn-hangzhou", expired_time="2030-01-17T16:00Z")
    after = emu.add_instance("cn-hangzhou", expired_time="2030-01-17T16:01Z")
    request = DescribeInstancesRequest()
    request.set_Filter3Key("ExpiredStartTime")
    request.set_Filter3Value("2030-01-10T16:00Z")
    request.set_Filter4Key("ExpiredEndTime")
    request.set_Filter4Value("2030-01-17T16:00Z")
    request.set_PageSize(100)
    found = set(_ids(sdk.call(request)))
    assert found == {at_start, inside, at_end}
    assert not found & {before, after}


@pytest.mark.parametrize(
    "params",
    [
        {"Filter_3_Key": "ExpiredStartTime", "Filter_3_Value": "2030-01-10T16:00:00Z"},  # seconds
        {"Filter_3_Key": "ExpiredStartTime", "Filter_3_Value": "2030-01-10 16:00"},
        {"Filter_3_Key": "ExpiredStartTime"},  # no value
        {"Filter_1_Key": "ExpiredStartTime", "Filter_1_Value": "2030-01-10T16:00Z"},  # wrong slot
        {"Filter_3_Key": "ExpiredBeginTime", "Filter_3_Value": "2030-01-10T16:00Z"},
        {"Filter_5_Key": "ExpiredStartTime", "Filter_5_Value": "2030-01-10T16:00Z"},
    ],
)
def test_bad_filters_are_rejected(sdk: Sdk, params: dict) -> None:
    error = sdk.error(build(DescribeInstancesRequest, **params))
    assert (error.http_status, error.error_code) == (404, "InvalidFilterKey.NotFound")


def test_creation_filters(sdk: Sdk, emu: Emulator) -> None:
    old = emu.add_instance("cn-hangzhou", expired_time=BASE, creation_time="2020-01-01T00:00Z")
    new = emu.add_instance("cn-hangzhou", expired_time=BASE, creation_time="2024-01-01T00:00Z")
    request = build(
        DescribeInstancesRequest,
        Filter_1_Key="CreationStartTime",
        Filter_1_Value="2023-01-01T00:00Z",
        Filter_2_Key="CreationEndTime",
        Filter_2_Value="2024-01-01T00:00Z",
    )
    assert _ids(sdk.call(request)) == [new]
    assert old != new


def test_tag_name_status_zone_and_charge_filters(sdk: Sdk, emu: Emulator) -> None:
    prod_web = emu.add_instance(
        "cn-hangzhou", name="web-prod-1", expired_time=BASE, tags={"env": "prod", "team": "web"}
    )
    emu.add_instance("cn-hangzhou", name="web-dev-1", expired_time=BASE, tags={"env": "dev", "team": "web"})
    stopped = emu.add_instance(
        "cn-hangzhou", name="db-prod-1", expired_time=BASE, tags={"env": "prod"}, status="Stopped"
    )
    postpaid = emu.add_instance("cn-hangzhou", name="batch", charge_type="PostPaid", zone_id="cn-hangzhou-k")

    request = DescribeInstancesRequest()
    request.set_Tags([{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "web"}])
    assert _ids(sdk.call(request)) == [prod_web]  # AND
    key_only = DescribeInstancesRequest()
    key_only.set_Tags([{"Key": "env"}])
    assert len(_ids(sdk.call(key_only))) == 3  # a key alone matches any value
    assert set(_ids(sdk.call(build(DescribeInstancesRequest, InstanceName="web-*")))) == {
        prod_web,
        *[i.instance_id for i in emu.instances() if i.instance_name == "web-dev-1"],
    }
    assert _ids(sdk.call(build(DescribeInstancesRequest, Status="Stopped"))) == [stopped]
    assert _ids(sdk.call(build(DescribeInstancesRequest, ZoneId="cn-hangzhou-k"))) == [postpaid]
    assert _ids(sdk.call(build(DescribeInstancesRequest, InstanceChargeType="PostPaid"))) == [postpaid]
    assert sdk.error(build(DescribeInstancesRequest, Status="Sleeping")).error_code == "InvalidStatus.NotFound"
    assert sdk.error(build(DescribeInstancesRequest, Tag_21_Key="x")).error_code == "InvalidTagCount"
    assert sdk.error(build(DescribeInstancesRequest, Tag_1_Value="x")).error_code == "InvalidTag.Mismatch"
    assert sdk.error(build(DescribeInstancesRequest, SecurityGroupId="sg-1")).error_code == (
        "Emulator.UnsupportedParameter"
    )


def test_wire_shape_of_an_instance(sdk: Sdk, emu: Emulator) -> None:
    tagged = emu.add_instance(
        "cn-shanghai", name="n1", expired_time=BASE, tags={"env": "prod"}, locks=("financial",), status="Stopped"
    )
    untagged = emu.add_instance("cn-shanghai", charge_type="PostPaid")
    body = sdk.call(DescribeInstancesRequest(), region="cn-shanghai")
    assert set(body) == {"Instances", "TotalCount", "PageNumber", "PageSize", "NextToken", "RequestId"}
    by_id = {item["InstanceId"]: item for item in body["Instances"]["Instance"]}
    item = by_id[tagged]
    assert item["ExpiredTime"] == "2030-01-10T16:00Z"
    assert item["Tags"] == {"Tag": [{"TagKey": "env", "TagValue": "prod"}]}
    assert item["OperationLocks"]["LockReason"][0]["LockReason"] == "financial"
    assert (item["InstanceChargeType"], item["Status"], item["RegionId"]) == ("PrePaid", "Stopped", "cn-shanghai")
    assert item["ZoneId"].startswith("cn-shanghai-") and item["InstanceType"] == "ecs.g7.large"
    assert len(tagged) == 22 and tagged.startswith("i-uf6")
    assert "Tags" not in by_id[untagged]  # absent, not empty: callers must .get() it
    assert by_id[untagged]["ExpiredTime"] == "2099-12-31T15:59Z"
    assert by_id[untagged]["OperationLocks"] == {"LockReason": []}


def test_instances_are_regional(sdk: Sdk, emu: Emulator) -> None:
    emu.add_instance("cn-beijing", expired_time=BASE)
    assert sdk.call(DescribeInstancesRequest())["TotalCount"] == 0
    assert sdk.call(DescribeInstancesRequest(), region="cn-beijing")["TotalCount"] == 1


def test_dry_run(sdk: Sdk) -> None:
    error = sdk.error(build(DescribeInstancesRequest, DryRun="true"))
    assert (error.http_status, error.error_code) == (400, "DryRunOperation")


def test_generated_fleet_is_deterministic_and_realistic() -> None:
    spec = FleetSpec(seed=7, now=BASE)
    one = Emulator(fleet=spec).instances()
    two = Emulator(fleet=spec).instances()
    assert [i.to_fleet_json() for i in one] == [i.to_fleet_json() for i in two]
    assert len(one) == 360 and {i.region_id for i in one} == {"cn-hangzhou", "cn-shanghai", "cn-beijing"}
    prepaid = [i for i in one if i.charge_type == "PrePaid"]
    assert 0.7 < len(prepaid) / len(one) < 0.9
    soon = [i for i in prepaid if BASE <= i.true_expired_time <= in_minutes(7 * 24 * 60, BASE)]
    assert 0.12 < len(soon) / len(prepaid) < 0.25
    assert any(i.true_expired_time < BASE and "financial" in i.operation_locks for i in prepaid)
    statuses = {i.renewal_status for i in prepaid}
    assert statuses == {"AutoRenewal", "Normal", "NotRenewal"}
    assert all((i.renewal_status == "AutoRenewal") == i.auto_renew_enabled for i in one)
    assert all((i.duration > 0) == i.auto_renew_enabled for i in one)
    assert any(i.tags.get("renewal") == "manual" for i in one)
    assert any(i.tags.get("owner", "").startswith("138") and len(i.tags["owner"]) == 11 for i in one)
    assert all(len(i.instance_id) == 22 for i in one)
    assert format_minute(max(i.true_expired_time for i in prepaid)) <= format_minute(in_minutes(121 * 24 * 60, BASE))
    assert Emulator(fleet=FleetSpec(seed=8, now=BASE)).instances()[0].instance_id != one[0].instance_id


def test_fleet_file_round_trip(tmp_path, emu: Emulator) -> None:
    emu.add_instance(
        "cn-hangzhou", name="keep", expired_time=BASE, tags={"a": "b"}, auto_renew_enabled=True, duration=3
    )
    path = tmp_path / "fleet.json"
    emu.save_fleet(path)
    loaded = Emulator.from_fleet_file(path)
    assert [i.to_fleet_json() for i in loaded.instances()] == [i.to_fleet_json() for i in emu.instances()]
    assert json.loads(path.read_text())["format"] == "ecs-emulator-fleet/1"
