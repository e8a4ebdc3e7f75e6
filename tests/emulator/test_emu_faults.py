"""Fault injection as the project's tests will use it, seen through the real SDK."""

from __future__ import annotations

import threading
import time

import pytest
from aliyunsdkcore.acs_exception.exceptions import ClientException
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest
from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest
from emu_sdk import Sdk

from ecs_emulator import Emulator

EXPIRY = "2030-03-01T16:00Z"


def renew(instance_id: str, token: str | None = None) -> RenewInstanceRequest:
    request = RenewInstanceRequest()
    request.set_InstanceId(instance_id)
    request.set_Period(1)
    if token:
        request.set_ClientToken(token)
    return request


def test_apply_then_error_applies_exactly_once(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    emu.faults.add(action="RenewInstance", kind="apply_then_error", status=500, code="InternalError")
    error = sdk.error(renew(iid, token="tok"))
    assert (error.http_status, error.error_code) == (500, "InternalError")
    assert emu.renewal_count(iid) == 1
    record = emu.calls[-1]
    assert record.applied and record.fault == "apply_then_error" and record.code == "InternalError"
    sdk.call(renew(iid, token="tok"))  # rule used up; the retry with the same token is a replay
    assert emu.renewal_count(iid) == 1 and emu.calls[-1].replayed


def test_sdk_auto_retry_renews_twice_without_a_token(sdk: Sdk, emu: Emulator) -> None:
    """Reference trap 1: the SDK retries RenewInstance on 5xx and never adds a ClientToken itself."""
    no_token = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    with_token = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    client = sdk.client(auto_retry=True)
    emu.faults.add(action="RenewInstance", kind="apply_then_error", instance_id=no_token)
    sdk.call(renew(no_token), client=client)
    assert emu.renewal_count(no_token) == 2
    emu.faults.add(action="RenewInstance", kind="apply_then_error", instance_id=with_token)
    sdk.call(renew(with_token, token="deterministic"), client=client)
    assert emu.renewal_count(with_token) == 1


def test_apply_then_drop_gives_a_connection_error_after_applying(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    emu.faults.add(action="RenewInstance", kind="apply_then_drop")
    with pytest.raises(ClientException) as caught:
        sdk.call(renew(iid, token="drop"))
    assert caught.value.error_code == "SDK.HttpError"
    assert emu.renewal_count(iid) == 1
    assert (emu.calls[-1].http_status, emu.calls[-1].applied) == (0, True)


def test_delay_makes_the_client_time_out_after_the_server_applied(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    emu.faults.add(action="RenewInstance", kind="delay", delay=0.6)
    request = renew(iid, token="slow")
    request.set_read_timeout(0.2)
    with pytest.raises(ClientException) as caught:
        sdk.call(request)
    assert caught.value.error_code == "SDK.HttpError"
    assert emu.renewal_count(iid) == 1


@pytest.mark.parametrize(
    ("kind", "code", "expected"),
    [
        ("error", None, (503, "ServiceUnavailable")),
        ("throttle", None, (400, "Throttling")),
        ("throttle", "Throttling.Api", (400, "Throttling.Api")),
        ("expire_token", None, (400, "InvalidSecurityToken.Expired")),
    ],
)
def test_error_kinds_do_nothing(sdk: Sdk, emu: Emulator, kind: str, code: str | None, expected) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    emu.faults.add(action="RenewInstance", kind=kind, code=code)
    error = sdk.error(renew(iid))
    assert (error.http_status, error.error_code) == expected
    assert emu.renewal_count(iid) == 0 and not emu.calls[-1].applied


def test_rule_targets_times_and_clear(sdk: Sdk, emu: Emulator) -> None:
    first = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    second = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    emu.faults.add(action="RenewInstance", kind="error", instance_id=second, times=2)
    sdk.call(renew(first))
    assert sdk.error(renew(second)).error_code == "ServiceUnavailable"
    assert sdk.error(renew(second)).error_code == "ServiceUnavailable"
    sdk.call(renew(second))
    emu.faults.add(kind="error", region="cn-shanghai", times=None)
    sdk.call(DescribeRegionsRequest())
    assert sdk.error(DescribeRegionsRequest(), region="cn-shanghai").error_code == "ServiceUnavailable"
    emu.faults.clear()
    sdk.call(DescribeRegionsRequest(), region="cn-shanghai")


def test_rate_limit_yields_throttling_user_which_the_sdk_does_not_retry(sdk: Sdk, emu: Emulator) -> None:
    emu.faults.rate_limit = 3
    client = sdk.client(auto_retry=True)
    results = []
    for _ in range(5):
        try:
            sdk.call(DescribeInstancesRequest(), client=client)
            results.append("ok")
        except Exception as error:  # noqa: BLE001 - collecting outcomes
            results.append(getattr(error, "error_code", repr(error)))
    assert results[:3] == ["ok"] * 3 and results[3:] == ["Throttling.User"] * 2
    assert emu.calls_by_action()["DescribeInstances"] == 5  # no SDK retries
    sdk.call(DescribeRegionsRequest())  # the limit is per action
    # Throttled in minute T: blocked until minute T+1 (tests/emulator/test_emu_cloud_rules.py crosses it).
    assert emu.throttle.throttled_by_action() == {"DescribeInstances": 2}


def test_rate_limit_is_thread_safe(sdk: Sdk, emu: Emulator) -> None:
    emu.faults.rate_limit = 5
    outcomes: list[str] = []

    def worker() -> None:
        try:
            sdk.call(DescribeRegionsRequest())
            outcomes.append("ok")
        except Exception as error:  # noqa: BLE001
            outcomes.append(getattr(error, "error_code", "?"))

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 5 and outcomes.count("Throttling.User") == 7


def test_latency_knob(sdk: Sdk, emu: Emulator) -> None:
    emu.faults.latency = 0.2
    started = time.monotonic()
    sdk.call(DescribeRegionsRequest())
    assert time.monotonic() - started >= 0.2


def test_region_down_closes_the_connection(sdk: Sdk, emu: Emulator) -> None:
    emu.faults.region_down("cn-shanghai")
    with pytest.raises(ClientException) as caught:
        sdk.call(DescribeRegionsRequest(), region="cn-shanghai")
    assert caught.value.error_code == "SDK.HttpError"
    assert emu.calls[-1].fault == "region_down" and emu.calls[-1].http_status == 0
    sdk.call(DescribeRegionsRequest(), region="cn-hangzhou")
    emu.faults.region_up("cn-shanghai")
    sdk.call(DescribeRegionsRequest(), region="cn-shanghai")
