"""Auto-renew attributes, DescribeRegions, and STS AssumeRole (credentials that really work)."""

from __future__ import annotations

import pytest
from aliyunsdkecs.request.v20140526.DescribeInstanceAutoRenewAttributeRequest import (
    DescribeInstanceAutoRenewAttributeRequest,
)
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest
from aliyunsdkecs.request.v20140526.ModifyInstanceAutoRenewAttributeRequest import (
    ModifyInstanceAutoRenewAttributeRequest,
)
from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest
from aliyunsdksts.request.v20150401.GetCallerIdentityRequest import GetCallerIdentityRequest
from emu_sdk import Sdk, build

from ecs_emulator import Credentials, Emulator

EXPIRY = "2030-03-01T16:00Z"


def _prepaid(emu: Emulator, count: int, **kwargs) -> list[str]:
    return [emu.add_instance("cn-hangzhou", expired_time=EXPIRY, **kwargs) for _ in range(count)]


def describe_attr(ids: list[str], page_size: int | None = None) -> DescribeInstanceAutoRenewAttributeRequest:
    request = DescribeInstanceAutoRenewAttributeRequest()
    request.set_InstanceId(",".join(ids))
    if page_size:
        request.set_PageSize(page_size)
    return request


def test_describe_auto_renew_pages_and_cap(sdk: Sdk, emu: Emulator) -> None:
    ids = _prepaid(emu, 100)
    body = sdk.call(describe_attr(ids))
    assert len(body["InstanceRenewAttributes"]["InstanceRenewAttribute"]) == 10  # default PageSize!
    assert body["TotalCount"] == 100
    body = sdk.call(describe_attr(ids, page_size=100))
    attrs = body["InstanceRenewAttributes"]["InstanceRenewAttribute"]
    assert len(attrs) == 100
    assert set(attrs[0]) == {"InstanceId", "AutoRenewEnabled", "Duration", "PeriodUnit", "RenewalStatus"}
    error = sdk.error(describe_attr([*ids, "i-bp1one0too0many00000"], page_size=100))
    assert (error.http_status, error.error_code) == (403, "InvalidParameter.ToManyInstanceIds")
    assert sdk.error(describe_attr(ids, page_size=101)).error_code == "InvalidParameter.PageSize"


def test_describe_auto_renew_errors_and_status_filter(sdk: Sdk, emu: Emulator) -> None:
    prepaid = _prepaid(emu, 2)
    auto = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, auto_renew_enabled=True, duration=3)
    postpaid = emu.add_instance("cn-hangzhou", charge_type="PostPaid")
    error = sdk.error(describe_attr([*prepaid, postpaid]))
    assert (error.http_status, error.error_code) == (403, "ChargeTypeViolation")
    error = sdk.error(describe_attr([prepaid[0], "i-bp1nope"]))
    assert (error.http_status, error.error_code) == (403, "InvalidParameter.InvalidInstanceId")
    error = sdk.error(describe_attr([prepaid[0], " " + prepaid[1]]))  # lists are not trimmed
    assert error.error_code == "InvalidParameter.InvalidInstanceId"
    error = sdk.error(DescribeInstanceAutoRenewAttributeRequest())
    assert (error.http_status, error.error_code) == (403, "Abs.MissingParamter.InstanceId")
    body = sdk.call(build(DescribeInstanceAutoRenewAttributeRequest, RenewalStatus="AutoRenewal"))
    assert [a["InstanceId"] for a in body["InstanceRenewAttributes"]["InstanceRenewAttribute"]] == [auto]
    assert body["InstanceRenewAttributes"]["InstanceRenewAttribute"][0]["Duration"] == 3


def modify(ids: list[str], **params) -> ModifyInstanceAutoRenewAttributeRequest:
    request = ModifyInstanceAutoRenewAttributeRequest()
    request.set_InstanceId(",".join(ids))
    for name, value in params.items():
        request.add_query_param(name, value)
    return request


def test_modify_auto_renew(sdk: Sdk, emu: Emulator) -> None:
    ids = _prepaid(emu, 3)
    assert set(sdk.call(modify(ids, AutoRenew="TRUE", Duration=6))) == {"RequestId"}
    assert all(
        (r.auto_renew_enabled, r.duration, r.renewal_status) == (True, 6, "AutoRenewal") for r in map(emu.instance, ids)
    )
    sdk.call(modify(ids[:1], AutoRenew=False))  # the SDK sends Python False as "False"
    assert (emu.instance(ids[0]).renewal_status, emu.instance(ids[0]).duration) == ("Normal", 0)
    sdk.call(modify(ids[1:2], AutoRenew="true", RenewalStatus="NotRenewal"))  # RenewalStatus wins
    assert emu.instance(ids[1]).renewal_status == "NotRenewal" and not emu.instance(ids[1]).auto_renew_enabled
    sdk.call(modify(ids[2:], Duration=1))  # AutoRenew defaults to false
    assert emu.instance(ids[2]).renewal_status == "Normal"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"AutoRenew": "yes", "Duration": 1}, "InvalidParameter.AutoRenew"),
        ({"AutoRenew": "true", "Duration": 4}, "InvalidParameter.Duration"),
        ({"AutoRenew": "true"}, "InvalidParameter.Duration"),
        ({"AutoRenew": "true", "Duration": 6, "PeriodUnit": "Year"}, "InvalidParameter.Duration"),
        ({"AutoRenew": "true", "Duration": 1, "PeriodUnit": "Day"}, "InvalidPeriodUnit.ValueNotSupported"),
        ({"RenewalStatus": "Sometimes"}, "InvalidParameter.RenewalStatus"),
    ],
)
def test_modify_validation(sdk: Sdk, emu: Emulator, params: dict, code: str) -> None:
    ids = _prepaid(emu, 1)
    error = sdk.error(modify(ids, **params))
    assert (error.http_status, error.error_code) == (403, code)


def test_modify_is_all_or_nothing(sdk: Sdk, emu: Emulator) -> None:
    ids = _prepaid(emu, 2)
    postpaid = emu.add_instance("cn-hangzhou", charge_type="PostPaid")
    error = sdk.error(modify([*ids, postpaid], AutoRenew="true", Duration=1))
    assert (error.http_status, error.error_code) == (403, "ChargeTypeViolation")
    assert not any(emu.instance(i).auto_renew_enabled for i in ids)
    too_many = [*ids, *[f"i-bp1x{n:016d}" for n in range(99)]]
    assert sdk.error(modify(too_many, AutoRenew="true", Duration=1)).error_code == "InvalidParameter.ToManyInstanceIds"
    assert sdk.error(ModifyInstanceAutoRenewAttributeRequest()).error_code == "MissingParameter.InstanceId"


def test_describe_regions(sdk: Sdk) -> None:
    regions = sdk.call(DescribeRegionsRequest())["Regions"]["Region"]
    by_id = {r["RegionId"]: r for r in regions}
    assert {"cn-hangzhou", "ap-southeast-1", "eu-central-1", "cn-wulanchabu"} <= set(by_id)
    assert by_id["cn-hangzhou"] == {
        "RegionId": "cn-hangzhou",
        "LocalName": "华东1（杭州）",
        "RegionEndpoint": "ecs.cn-hangzhou.aliyuncs.com",
        "Status": "available",
    }


# ---- STS ------------------------------------------------------------------------------------------


def assume(arn: str, session: str = "fc-renew-test", duration: int | None = None) -> AssumeRoleRequest:
    request = AssumeRoleRequest()
    request.set_RoleArn(arn)
    request.set_RoleSessionName(session)
    if duration is not None:
        request.set_DurationSeconds(duration)
    return request


def test_assume_role_from_function_credentials_gives_working_credentials(sdk: Sdk, emu: Emulator) -> None:
    other_account_role = emu.add_role("renewer", account_id="2222333344445555")
    emu.add_instance("cn-hangzhou", expired_time=EXPIRY, account_id="2222333344445555")
    body = sdk.call(assume(other_account_role))  # AssumeRoleRequest forces https; set_endpoint's http wins
    creds = body["Credentials"]
    assert creds["AccessKeyId"].startswith("STS.") and len(creds["SecurityToken"]) > 1000
    assert creds["Expiration"].endswith("Z") and len(creds["Expiration"]) == 20
    assert body["AssumedRoleUser"]["Arn"] == f"{other_account_role}/fc-renew-test"
    assert emu.calls[-1].role_arn == emu.default_role_arn  # the caller was the function's role

    assumed = Credentials(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"], creds["Expiration"])
    listing = sdk.call(DescribeInstancesRequest(), creds=assumed)
    assert listing["TotalCount"] == 1  # that account's instances, not the default account's
    assert emu.calls[-1].role_arn == other_account_role and emu.calls[-1].account_id == "2222333344445555"
    identity = sdk.call(GetCallerIdentityRequest(), creds=assumed)
    assert identity["AccountId"] == "2222333344445555" and identity["IdentityType"] == "AssumedRoleUser"


def test_assume_role_rules(sdk: Sdk, emu: Emulator) -> None:
    arn = emu.default_role_arn
    long_role = emu.add_role("long-sessions", max_session_duration=43200)
    assert sdk.error(assume("acs:ram::1234567890123456:role/nope")).error_code == "EntityNotExist.Role"
    assert sdk.error(assume("arn:aws:iam::1:role/x")).error_code == "InvalidParameter.RoleArn"
    assert sdk.error(assume(arn, session="a")).error_code == "InvalidParameter.RoleSessionName"
    assert sdk.error(assume(arn, session="bad name")).error_code == "InvalidParameter.RoleSessionName"
    assert sdk.error(assume(arn, duration=899)).error_code == "InvalidParameter.DurationSeconds"
    # Role chaining (caller is an STS session) is capped at 3600 s, even for a role allowing more.
    assert sdk.error(assume(long_role, duration=7200)).error_code == "InvalidParameter.DurationSeconds"
    sdk.call(assume(long_role, duration=7200), creds=emu.static_key)  # a RAM user may ask for more
    assert sdk.error(assume(arn, duration=7200), creds=emu.static_key).error_code == (
        "InvalidParameter.DurationSeconds"  # the default role keeps RAM's default maximum of 3600 s
    )
    policy = build(AssumeRoleRequest, RoleArn=arn, RoleSessionName="ok-name", Policy="not json")
    assert sdk.error(policy).error_code == "InvalidParameter.PolicyGrammar"
