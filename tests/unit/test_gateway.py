"""The gateway's wire behaviour, checked call by call with the Stubber-shaped fixture."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest
from aliyunsdkcore.auth.signers.sts_token_signer import StsTokenSigner
from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest

from ecs_renewal.credentials import Credentials
from ecs_renewal.errors import ApiError
from ecs_renewal.gateway.client import Caller, ClientFactory
from ecs_renewal.gateway.ecs import EcsGateway
from ecs_renewal.gateway.retry import RetryPolicy

STS = Credentials("STS.unit", "unit-secret", "unit-token", "test")
START = datetime(2030, 1, 1, tzinfo=timezone.utc)
END = datetime(2030, 1, 8, tzinfo=timezone.utc)


def instance(n: int, charge: str = "PrePaid") -> dict:
    return {"InstanceId": f"i-bp1{n:015d}", "InstanceName": f"web-{n}", "RegionId": "cn-hangzhou",
            "InstanceChargeType": charge, "ExpiredTime": "2030-01-02T16:00Z", "Status": "Running",
            "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}]},
            "OperationLocks": {"LockReason": []}}


def caller(endpoint: str | None = None, sleeps: list | None = None) -> Caller:
    retry = RetryPolicy(sleep=(sleeps.append if sleeps is not None else lambda _: None), rng=random.Random(0))
    return Caller(ClientFactory(STS, ecs_endpoint=endpoint), retry=retry)


def gateway(endpoint: str | None = None, sleeps: list | None = None) -> EcsGateway:
    return EcsGateway(caller(endpoint, sleeps))


def test_every_page_is_read_with_next_token_and_the_expiry_filter(acs_stub):
    window = {"InstanceChargeType": "PrePaid", "MaxResults": "100", "Filter.3.Key": "ExpiredStartTime",
              "Filter.3.Value": "2030-01-01T00:00Z", "Filter.4.Key": "ExpiredEndTime",
              "Filter.4.Value": "2030-01-08T00:00Z"}
    acs_stub.add_response("DescribeInstances", window,
                          {"Instances": {"Instance": [instance(n) for n in range(100)]}, "NextToken": "p2"},
                          region="cn-hangzhou")
    acs_stub.add_response("DescribeInstances", {**window, "NextToken": "p2"},
                          {"Instances": {"Instance": [instance(n) for n in range(100, 130)]}, "NextToken": ""})
    found = list(gateway().instances("cn-hangzhou", expired_start=START, expired_end=END))
    assert len(found) == 130
    first = found[0]
    assert (first.instance_id, first.tags, first.expired_time_text) == ("i-bp1000000000000000", {"env": "prod"},
                                                                       "2030-01-02T16:00Z")
    assert "NextToken" not in acs_stub.calls[0][1]


def test_instance_ids_go_as_a_json_array_in_batches_of_100(acs_stub):
    ids = [f"i-bp1{n:015d}" for n in range(150)]
    acs_stub.add_response("DescribeInstances", {"InstanceIds": json.dumps(ids[:100])},
                          {"Instances": {"Instance": []}, "NextToken": ""})
    acs_stub.add_response("DescribeInstances", {"InstanceIds": json.dumps(ids[100:])},
                          {"Instances": {"Instance": []}, "NextToken": ""})
    # Nothing found: the role's permission to read the region is proven before the empty answer is believed.
    acs_stub.add_server_error("DescribeInstances", "DryRunOperation", "Request validation has been passed",
                              400, {"DryRun": "true"})
    assert list(gateway().instances("cn-hangzhou", prepaid_only=False, instance_ids=ids)) == []
    assert "InstanceChargeType" not in acs_stub.calls[0][1]

EMPTY = {"Instances": {"Instance": []}, "NextToken": ""}


def test_an_empty_answer_is_believed_only_after_a_dry_run_proves_the_permission_once_per_region(acs_stub):
    acs_stub.add_response("DescribeInstances", {"InstanceChargeType": "PrePaid"}, EMPTY)
    acs_stub.add_server_error("DescribeInstances", "DryRunOperation", "passed", 400, {"DryRun": "true"})
    acs_stub.add_response("DescribeInstances", {"InstanceChargeType": "PrePaid"}, EMPTY)  # no second probe
    acs_stub.add_response("DescribeInstances", {"InstanceChargeType": "PrePaid"},
                          {"Instances": {"Instance": [instance(1)]}, "NextToken": ""}, region="cn-shanghai")
    ecs = gateway()
    assert list(ecs.instances("cn-hangzhou")) == [] and list(ecs.instances("cn-hangzhou")) == []
    assert len(list(ecs.instances("cn-shanghai"))) == 1  # a non-empty answer is its own proof: no probe
    assert ecs.read_permission.probes == 1


def test_a_role_that_may_not_describe_is_an_error_naming_the_missing_action(acs_stub):
    from ecs_renewal.gateway.permissions import MissingPermission

    acs_stub.add_response("DescribeInstances", {"InstanceChargeType": "PrePaid"}, EMPTY)
    acs_stub.add_server_error("DescribeInstances", "Forbidden.RAM", "User not authorized", 403, {"DryRun": "true"})
    acs_stub.add_response("DescribeInstances", {"InstanceChargeType": "PrePaid"}, EMPTY)
    ecs = gateway()
    for _ in range(2):  # the verdict is kept: the second empty answer raises without asking again
        with pytest.raises(MissingPermission) as raised:
            list(ecs.instances("cn-hangzhou"))
        assert raised.value.code == "Forbidden.RAM" and raised.value.missing_action == "ecs:DescribeInstances"
        assert "NOT checked" in raised.value.message
    assert ecs.read_permission.probes == 1


def test_a_probe_that_fails_for_another_reason_is_raised_and_asked_again_next_time(acs_stub):
    acs_stub.add_response("DescribeInstances", {"InstanceChargeType": "PrePaid"}, EMPTY)
    acs_stub.add_server_error("DescribeInstances", "InvalidParameter", "bad", 400, {"DryRun": "true"})
    acs_stub.add_response("DescribeInstances", {"InstanceChargeType": "PrePaid"}, EMPTY)
    acs_stub.add_server_error("DescribeInstances", "DryRunOperation", "passed", 400, {"DryRun": "true"})
    ecs = gateway()
    with pytest.raises(ApiError, match="InvalidParameter"):
        list(ecs.instances("cn-hangzhou"))
    assert list(ecs.instances("cn-hangzhou")) == []


def test_auto_renew_attributes_use_a_comma_list_and_page_size_100(acs_stub):
    ids = [f"i-bp1{n:015d}" for n in range(120)]
    rows = [{"InstanceId": i, "AutoRenewEnabled": False, "Duration": 0, "PeriodUnit": "Month",
             "RenewalStatus": "Normal"} for i in ids]
    acs_stub.add_response("DescribeInstanceAutoRenewAttribute",
                          {"InstanceId": ",".join(ids[:100]), "PageSize": "100", "PageNumber": "1"},
                          {"InstanceRenewAttributes": {"InstanceRenewAttribute": rows[:100]}, "TotalCount": 100})
    acs_stub.add_response("DescribeInstanceAutoRenewAttribute", {"InstanceId": ",".join(ids[100:])},
                          {"InstanceRenewAttributes": {"InstanceRenewAttribute": rows[100:]}, "TotalCount": 20})
    found = list(gateway().auto_renew_attributes("cn-hangzhou", ids))
    assert [a.instance_id for a in found] == ids and not found[0].enabled


def test_renewal_carries_period_unit_and_client_token(acs_stub):
    acs_stub.add_response("RenewInstance", {"InstanceId": "i-bp1000000000000001", "Period": "3",
                                            "PeriodUnit": "Month", "ClientToken": "tok-1"},
                          {"OrderId": "20671870151"})
    order = gateway().renew_instance("cn-hangzhou", "i-bp1000000000000001", period=3, period_unit="Month",
                                     client_token="tok-1")
    assert order == "20671870151"


def test_set_auto_renew_sends_strings_and_refuses_more_than_100_ids(acs_stub):
    acs_stub.add_response("ModifyInstanceAutoRenewAttribute",
                          {"InstanceId": "i-a0000001,i-a0000002", "AutoRenew": "true", "RenewalStatus": "AutoRenewal",
                           "Duration": "1", "PeriodUnit": "Month"}, {})
    gateway().set_auto_renew("cn-hangzhou", ["i-a0000001", "i-a0000002"], enabled=True, duration=1)
    with pytest.raises(ValueError):
        gateway().set_auto_renew("cn-hangzhou", [f"i-a{n:08d}" for n in range(101)], enabled=True, duration=1)


def test_throttling_variants_are_retried_with_backoff(acs_stub):
    sleeps: list[float] = []
    acs_stub.add_server_error("RenewInstance", "Throttling.User", http_status=400)
    acs_stub.add_server_error("RenewInstance", "ServiceUnavailable", http_status=503)
    acs_stub.add_client_error("RenewInstance", "SDK.HttpError", "read timeout")
    acs_stub.add_response("RenewInstance", {"ClientToken": "tok-2"}, {"OrderId": "1"})
    assert gateway(sleeps=sleeps).renew_instance("cn-hangzhou", "i-bp1000000000000001", period=1,
                                                 period_unit="Month", client_token="tok-2") == "1"
    assert len(sleeps) == 3
    tokens = {params["ClientToken"] for _, params, _ in acs_stub.calls}
    assert tokens == {"tok-2"}  # every retry of a renewal is the same order


def test_final_errors_are_not_retried(acs_stub):
    acs_stub.add_server_error("RenewInstance", "InvalidAccountStatus.NotEnoughBalance", "top up", http_status=403)
    with pytest.raises(ApiError) as caught:
        gateway().renew_instance("cn-hangzhou", "i-bp1000000000000001", period=1, period_unit="Month",
                                 client_token="tok-3")
    assert (caught.value.code, caught.value.attempts, caught.value.region) == (
        "InvalidAccountStatus.NotEnoughBalance", 1, "cn-hangzhou")


def test_real_endpoints_use_https_and_the_override_keeps_its_scheme(acs_stub):
    acs_stub.add_response("DescribeRegions", {}, {"Regions": {"Region": []}})
    acs_stub.add_response("DescribeRegions", {}, {"Regions": {"Region": []}})
    real, local = DescribeRegionsRequest(), DescribeRegionsRequest()
    caller().call(real, region="cn-hangzhou")
    caller("http://127.0.0.1:18080").call(local, region="cn-hangzhou")
    assert real.get_protocol_type() == "https" and real.endpoint is None
    assert local.endpoint == "http://127.0.0.1:18080"


def test_clients_sign_with_the_sts_token_and_never_retry_on_their_own():
    factory = ClientFactory(STS)
    client = factory.ecs_client("cn-shanghai")
    assert isinstance(client._signer, StsTokenSigner)
    assert client.is_auto_retry() is False
    assert client.get_region_id() == "cn-shanghai"
    assert factory.ecs_client("cn-shanghai") is client  # one client per region


def test_a_static_key_cannot_reach_ecs():
    factory = ClientFactory(Credentials("LTAI-unit", "secret", None, "test"))
    with pytest.raises(ApiError):
        factory.ecs_client("cn-hangzhou")
