"""Issue 12, emulator side: the cloud's rules as knobs whose defaults are the documented behaviour.

1 throttling per (account, region, API) with the minute block; 3 RAM permissions from the ram/ documents;
4 DingTalk's 20,000-byte body; 7 ClientToken memory; 8 the idempotence mismatch code.
"""

from __future__ import annotations

import json
import time

import pytest
from aliyunsdkecs.request.v20140526.DescribeInstanceAutoRenewAttributeRequest import (
    DescribeInstanceAutoRenewAttributeRequest,
)
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest
from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest
from emu_sdk import Sdk, build, in_minutes
from test_emu_dingtalk_server import post

from ecs_emulator import Credentials, Emulator
from ecs_emulator.permissions import FUNCTION_ROLE_DOCUMENTS, allowed, project_policies
from ecs_emulator.throttle import DEFAULT_QUOTAS, Quota, Throttle

ALL_ECS = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def renew(instance_id: str, period: int = 1, token: str | None = None) -> RenewInstanceRequest:
    request = RenewInstanceRequest()
    request.set_InstanceId(instance_id)
    request.set_Period(period)
    request.set_PeriodUnit("Month")
    if token:
        request.set_ClientToken(token)
    return request


def sts_creds(body: dict) -> Credentials:
    c = body["Credentials"]
    return Credentials(c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"], c["Expiration"])


# ---- 1. throttling ---------------------------------------------------------------------------------


def test_a_throttled_api_stays_blocked_until_the_next_calendar_minute() -> None:
    clock = FakeClock(1_800_000_010.0)  # 10 s into a minute
    throttle = Throttle(quotas={"RenewInstance": 2}, clock=clock)
    assert [throttle.admit("acct", "cn-hangzhou", "RenewInstance") for _ in range(3)] == [True, True, False]
    clock.now += 5  # the 1 s window has long slid by: the old sliding-second admission would let it through
    assert not throttle.admit("acct", "cn-hangzhou", "RenewInstance")
    clock.now = 1_800_000_059.999  # still minute T
    assert not throttle.admit("acct", "cn-hangzhou", "RenewInstance")
    clock.now = 1_800_000_060.0  # minute T+1 (1_800_000_000 is a multiple of 60)
    assert throttle.admit("acct", "cn-hangzhou", "RenewInstance")
    assert throttle.throttled == {("acct", "cn-hangzhou", "RenewInstance"): 3} and throttle.throttled_total == 3


def test_without_the_minute_block_the_window_slides() -> None:
    clock = FakeClock(1_800_000_010.0)
    throttle = Throttle(quotas={"RenewInstance": 2}, block_until_next_minute=False, clock=clock)
    assert [throttle.admit("a", "r", "RenewInstance") for _ in range(3)] == [True, True, False]
    clock.now += 1.0
    assert throttle.admit("a", "r", "RenewInstance")


def test_each_account_region_and_api_is_counted_on_its_own() -> None:
    clock = FakeClock(1_800_000_000.0)
    throttle = Throttle(quotas={"DescribeInstances": 1, "RenewInstance": 1}, clock=clock)
    assert throttle.admit("a", "cn-hangzhou", "DescribeInstances")
    assert not throttle.admit("a", "cn-hangzhou", "DescribeInstances")
    assert throttle.admit("a", "cn-shanghai", "DescribeInstances")  # another region
    assert throttle.admit("a", "cn-hangzhou", "RenewInstance")  # another API
    assert throttle.admit("b", "cn-hangzhou", "DescribeInstances")  # another account (ParentUid)


def test_per_minute_quotas_count_over_sixty_seconds_and_knobs_scale_or_disable() -> None:
    clock = FakeClock(1_800_000_000.0)
    throttle = Throttle(quotas={"RenewInstance": (3, 60)}, clock=clock)
    for _ in range(3):
        assert throttle.admit("a", "r", "RenewInstance")
        clock.now += 15
    assert not throttle.admit("a", "r", "RenewInstance")  # 4th within 60 s
    throttle.scale = 2.0
    assert throttle.quota("RenewInstance").calls == 6
    throttle.uniform_rate = 4  # faults.rate_limit: one quota for every action
    assert throttle.quota("DescribeInstances").calls == 8 and throttle.quota("AnyOther").calls == 8
    throttle.enabled = False
    assert all(throttle.admit("a", "r", "RenewInstance") for _ in range(100))


def test_default_quotas_cover_every_action_the_project_calls() -> None:
    for action in ("DescribeInstances", "DescribeInstanceAutoRenewAttribute", "ModifyInstanceAutoRenewAttribute",
                   "RenewInstance", "DescribeRenewalPrice", "AssumeRole"):  # fmt: skip
        quota = DEFAULT_QUOTAS[action]
        assert quota.seconds in (1, 60) and "unverified" in quota.source


def test_throttling_over_the_wire_is_per_region_counted_and_recorded(sdk: Sdk, emu: Emulator) -> None:
    clock = FakeClock(1_800_000_010.0)
    emu.throttle.clock = clock
    emu.throttle.overrides["DescribeInstances"] = Quota(2, 1)
    assert [sdk.call(DescribeInstancesRequest())["TotalCount"] for _ in range(2)] == [0, 0]
    error = sdk.error(DescribeInstancesRequest())
    assert (error.http_status, error.error_code) == (400, "Throttling.User")
    sdk.call(DescribeInstancesRequest(), region="cn-shanghai")  # another region's quota
    clock.now += 30  # same minute
    assert sdk.error(DescribeInstancesRequest()).error_code == "Throttling.User"
    clock.now += 20  # next minute
    sdk.call(DescribeInstancesRequest())
    throttled = [c for c in emu.calls if c.fault == "throttled"]
    assert len(throttled) == 2 and {c.code for c in throttled} == {"Throttling.User"}
    assert emu.throttle.throttled_by_action() == {"DescribeInstances": 2} and emu.faults.injected["rate_limit"] == 2


@pytest.mark.parametrize("code", ["Throttling", "Throttling.Api"])
def test_the_throttling_code_is_a_knob(code: str) -> None:
    with Emulator(quotas={"DescribeInstances": 1}, throttle_code=code) as emu:
        sdk = Sdk(emu)
        sdk.call(DescribeInstancesRequest())
        error = sdk.error(DescribeInstancesRequest())
        assert (error.http_status, error.error_code) == (400, code)


def test_throttling_off_admits_everything() -> None:
    with Emulator(throttling=False, quotas={"DescribeInstances": 1}) as emu:
        sdk = Sdk(emu)
        for _ in range(5):
            sdk.call(DescribeInstancesRequest())
        assert emu.throttle.throttled_total == 0


# ---- 3. RAM ----------------------------------------------------------------------------------------


def test_the_function_role_gets_exactly_the_ram_documents() -> None:
    policies = project_policies(FUNCTION_ROLE_DOCUMENTS)
    for action in ("ecs:DescribeInstances", "ecs:RenewInstance", "ecs:DescribeRenewalPrice",
                   "ecs:DescribeInstanceAutoRenewAttribute", "ecs:ModifyInstanceAutoRenewAttribute",
                   "sts:AssumeRole", "fc:InvokeFunction"):  # fmt: skip
        assert allowed(policies, action), action
    for action in ("ecs:DescribeRegions", "ecs:DeleteInstance", "ram:CreateRole"):
        assert not allowed(policies, action), action


def test_wildcards_and_an_explicit_deny() -> None:
    from ecs_emulator.permissions import as_policies

    statements = [
        {"Effect": "Allow", "Action": ["ecs:Describe*"]},
        {"Effect": "Deny", "Action": "ecs:DescribeRenewalPrice"},
    ]
    policy = as_policies({"Statement": statements})
    assert allowed(policy, "ecs:DescribeInstances") and allowed(policy, "ECS:describeinstanceautorenewattribute")
    assert not allowed(policy, "ecs:DescribeRenewalPrice") and not allowed(policy, "ecs:RenewInstance")


def test_the_default_role_may_describe_and_dry_run(sdk: Sdk, emu: Emulator) -> None:
    emu.add_instance("cn-hangzhou", expired_time=in_minutes(60 * 24))
    assert sdk.call(DescribeInstancesRequest())["TotalCount"] == 1
    error = sdk.error(build(DescribeInstancesRequest, DryRun="true"))
    assert (error.http_status, error.error_code) == (400, "DryRunOperation")
    assert error.message == "Request validation has been passed with DryRun flag set."


def test_a_role_without_describe_gets_an_empty_list_and_forbidden_elsewhere(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=in_minutes(60 * 24))
    narrow = emu.issue_credentials_with_policy(
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:DescribeRenewalPrice", "Resource": "*"}]},
        name="no-describe",
    )
    body = sdk.call(DescribeInstancesRequest(), creds=narrow)
    assert body["Instances"] == {"Instance": []} and body["TotalCount"] == 0  # not an error (the doc)
    dry = sdk.error(build(DescribeInstancesRequest, DryRun="true"), creds=narrow)
    assert (dry.http_status, dry.error_code) == (403, "Forbidden.RAM")
    denied = sdk.error(renew(iid, token="t-ram"), creds=narrow)
    assert (denied.http_status, denied.error_code) == (403, "Forbidden.RAM")
    assert "not authorized" in denied.message and emu.renewal_count(iid) == 0
    attribute = build(DescribeInstanceAutoRenewAttributeRequest, InstanceId=iid)
    assert sdk.error(attribute, creds=narrow).error_code == "Forbidden.RAM"
    assert sdk.call(attribute)["InstanceRenewAttributes"]  # the function role may
    assert [c.notes.get("ram") for c in emu.calls[:4]] == ["denied"] * 4


def test_an_assumed_target_role_carries_the_target_document(sdk: Sdk, emu: Emulator) -> None:
    target = emu.add_role("ecs-renewal-target", account_id="2222333344445555")
    emu.add_instance("cn-hangzhou", expired_time=in_minutes(60 * 24), account_id="2222333344445555")
    request = AssumeRoleRequest()
    request.set_RoleArn(target)
    request.set_RoleSessionName("renewal")
    session = sts_creds(sdk.call(request))  # the function role has sts:AssumeRole (function-role-assume-policy)
    assert sdk.call(DescribeInstancesRequest(), creds=session)["TotalCount"] == 1
    again = AssumeRoleRequest()
    again.set_RoleArn(target)
    again.set_RoleSessionName("chained")
    error = sdk.error(again, creds=session)  # the target document grants no sts:AssumeRole
    assert (error.http_status, error.error_code) == (403, "NoPermission")


def test_a_session_policy_narrows_what_the_assumed_role_may_do(sdk: Sdk, emu: Emulator) -> None:
    target = emu.add_role("ecs-renewal-target")
    iid = emu.add_instance("cn-hangzhou", expired_time=in_minutes(60 * 24))
    read_only = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]}
    request = build(AssumeRoleRequest, RoleArn=target, RoleSessionName="read-only", Policy=json.dumps(read_only))
    session = sts_creds(sdk.call(request))
    assert sdk.call(DescribeInstancesRequest(), creds=session)["TotalCount"] == 1
    assert sdk.error(renew(iid, token="t-s"), creds=session).error_code == "Forbidden.RAM"  # role may; session not
    not_a_policy = build(AssumeRoleRequest, RoleArn=target, RoleSessionName="bad", Policy='{"Statement": 1}')
    assert sdk.error(not_a_policy).error_code == "InvalidParameter.PolicyGrammar"


def test_policies_can_be_replaced_or_ram_turned_off(sdk: Sdk, emu: Emulator) -> None:
    emu.set_policy(emu.default_role_arn, {"Statement": [{"Effect": "Deny", "Action": "ecs:*"}, *ALL_ECS["Statement"]]})
    assert sdk.error(renew("i-none")).error_code == "Forbidden.RAM"
    emu.permissions.enforced = False
    assert sdk.error(renew("i-none")).error_code == "InvalidInstanceId.NotFound"
    with Emulator(ram=False, function_role_policy={"Statement": []}) as open_emu:
        assert Sdk(open_emu).error(renew("i-none")).error_code == "InvalidInstanceId.NotFound"


# ---- 4. DingTalk body size -------------------------------------------------------------------------


def message_of_bytes(size: int) -> dict:
    empty = {"msgtype": "text", "text": {"content": ""}}
    return {"msgtype": "text", "text": {"content": "x" * (size - len(json.dumps(empty).encode()))}}


def test_a_body_over_20000_bytes_is_refused(emu: Emulator) -> None:
    at_limit, over = message_of_bytes(20_000), message_of_bytes(20_001)
    assert len(json.dumps(over).encode()) == 20_001
    assert post(emu, at_limit) == {"errcode": 0, "errmsg": "ok"}
    assert post(emu, over) == {"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"}
    # Mentions count: a short text whose @-list pushes the body over the limit is refused too.
    mentions = {"msgtype": "text", "text": {"content": "expiring"},
                "at": {"atMobiles": [f"138{n:08d}" for n in range(1500)], "isAtAll": False}}  # fmt: skip
    assert len(json.dumps(mentions).encode()) > 20_000 and post(emu, mentions)["errcode"] == 460101
    assert emu.dingtalk.messages == [at_limit]


def test_the_body_limit_is_a_knob() -> None:
    with Emulator(dingtalk_max_body_bytes=None) as emu:
        assert post(emu, message_of_bytes(50_000))["errcode"] == 0


# ---- 7. ClientToken memory -------------------------------------------------------------------------


def test_client_tokens_are_forgotten_after_the_ttl() -> None:
    assert Emulator().state.client_token_ttl == 6 * 3600  # default: a few hours, not forever (undocumented)
    with Emulator(client_token_ttl=0.5) as emu:
        sdk = Sdk(emu)
        iid = emu.add_instance("cn-hangzhou", expired_time=in_minutes(60 * 24))
        first = sdk.call(renew(iid, token="tok-1"))
        assert sdk.call(renew(iid, token="tok-1"))["OrderId"] == first["OrderId"] and emu.renewal_count(iid) == 1
        time.sleep(0.6)
        # Expired: the same token renews AGAIN — the product must not lean on a long memory.
        assert sdk.call(renew(iid, token="tok-1"))["OrderId"] != first["OrderId"] and emu.renewal_count(iid) == 2


def test_client_tokens_forever_when_asked() -> None:
    with Emulator(client_token_ttl=None) as emu:
        assert emu.state.client_token_ttl is None


# ---- 8. idempotence mismatch code ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["IdempotenceParamNotMatch", "IdempotentParameterMismatch"])
def test_the_mismatch_code_is_a_knob(code: str) -> None:
    with Emulator(idempotence_mismatch_code=code) as emu:
        sdk = Sdk(emu)
        iid = emu.add_instance("cn-hangzhou", expired_time=in_minutes(60 * 24))
        sdk.call(renew(iid, 1, token="tok-m"))
        error = sdk.error(renew(iid, 2, token="tok-m"))
        assert (error.http_status, error.error_code) == (400, code) and emu.renewal_count(iid) == 1


def test_the_product_handles_both_mismatch_codes() -> None:
    from ecs_renewal.notify.advice import advice_for

    assert advice_for("IdempotentParameterMismatch") == advice_for("IdempotenceParamNotMatch")
    assert "ClientToken" in advice_for("IdempotentParameterMismatch")[0]
    with pytest.raises(ValueError):
        Emulator(idempotence_mismatch_code="Idempotent")
