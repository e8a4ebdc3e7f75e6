"""The AcsStubber test helper, exercised with real SDK clients and request classes."""

from __future__ import annotations

import contextlib
import json

import pytest
from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest

from tests.stubber import ANY, AcsStubber, StubAssertionError

pytest_plugins = ["pytester"]

PAGE = {"Instances": {"Instance": [{"InstanceId": "i-1"}]}, "TotalCount": 1, "RequestId": "r-1"}


def make_client(region: str = "cn-hangzhou", **kwargs) -> AcsClient:
    return AcsClient(region_id=region, credential=StsTokenCredential("STS.x", "y", "z"), **kwargs)


def describe_prepaid(page_size: int = 100) -> DescribeInstancesRequest:
    request = DescribeInstancesRequest()
    request.set_PageSize(page_size)
    request.set_InstanceChargeType("PrePaid")
    return request


def renew(instance_id: str) -> RenewInstanceRequest:
    request = RenewInstanceRequest()
    request.set_InstanceId(instance_id)
    request.set_Period(1)
    return request


@pytest.fixture
def stubber(mocker) -> AcsStubber:
    """A bare stubber, without the teardown check, for tests that fail on purpose."""
    return AcsStubber(mocker)


def test_happy_path_with_the_fixture(acs_stub):
    acs_stub.add_response(
        "DescribeInstances", {"PageSize": "100", "InstanceChargeType": "PrePaid"}, PAGE, region="cn-hangzhou"
    )
    acs_stub.add_response("RenewInstance", {"InstanceId": "i-1", "Period": 1}, {"OrderId": "o-1"})

    body = make_client().do_action_with_exception(describe_prepaid())
    order = make_client().do_action_with_exception(renew("i-1"))

    assert isinstance(body, bytes)
    assert json.loads(body) == PAGE
    assert json.loads(order) == {"OrderId": "o-1"}
    assert [(action, region) for action, _, region in acs_stub.calls] == [
        ("DescribeInstances", "cn-hangzhou"),
        ("RenewInstance", "cn-hangzhou"),
    ]
    assert acs_stub.calls[0][1]["PageSize"] == 100  # calls keep what the code actually set


def test_clients_in_several_regions_are_all_intercepted(acs_stub):
    acs_stub.add_response("DescribeInstances", region="cn-hangzhou")
    acs_stub.add_response("DescribeInstances", region="cn-shanghai", response={"TotalCount": 0})

    make_client("cn-hangzhou").do_action_with_exception(describe_prepaid())
    assert json.loads(make_client("cn-shanghai").do_action_with_exception(describe_prepaid())) == {"TotalCount": 0}


def test_any_means_present_with_any_value(stubber):
    stubber.add_response("DescribeInstances", {"PageSize": ANY})
    stubber.add_response("DescribeInstances", {"NextToken": ANY})

    make_client().do_action_with_exception(describe_prepaid(page_size=7))
    with pytest.raises(StubAssertionError, match=r"'NextToken'.*not sent"):
        make_client().do_action_with_exception(describe_prepaid())


def test_param_mismatch_fails_with_expected_and_actual(stubber):
    stubber.add_response("DescribeInstances", {"PageSize": "100"})

    with pytest.raises(StubAssertionError) as raised:
        make_client().do_action_with_exception(describe_prepaid(page_size=50))

    message = str(raised.value)
    assert "expected: DescribeInstances" in message
    assert "actual:   DescribeInstances" in message
    assert "param 'PageSize': expected '100', got '50'" in message


def test_wrong_action_and_wrong_region_fail(stubber):
    stubber.add_response("DescribeInstances", region="cn-shanghai")

    with pytest.raises(StubAssertionError, match="action: expected 'DescribeInstances', got 'RenewInstance'"):
        make_client("cn-shanghai").do_action_with_exception(renew("i-1"))
    with pytest.raises(StubAssertionError, match="region: expected 'cn-shanghai', got 'cn-hangzhou'"):
        make_client("cn-hangzhou").do_action_with_exception(describe_prepaid())


def test_a_swallowed_mismatch_still_fails_the_final_check(stubber):
    stubber.add_response("DescribeInstances")

    # Code under test that catches everything must not hide a wrong call.
    with contextlib.suppress(Exception):
        make_client().do_action_with_exception(renew("i-1"))

    with pytest.raises(StubAssertionError, match="does not match"):
        stubber.assert_no_pending_responses()


def test_unexpected_call_with_an_empty_queue_fails(stubber):
    with pytest.raises(StubAssertionError, match="nothing left in the queue"):
        make_client().do_action_with_exception(renew("i-1"))
    assert stubber.calls == [("RenewInstance", {"InstanceId": "i-1", "Period": 1}, "cn-hangzhou")]


def test_left_over_response_fails(stubber):
    stubber.add_response("DescribeInstances")
    stubber.add_response("RenewInstance", {"InstanceId": "i-9"})
    make_client().do_action_with_exception(describe_prepaid())

    with pytest.raises(StubAssertionError, match=r"1 expected call\(s\) never made:\n  - RenewInstance"):
        stubber.assert_no_pending_responses()


def test_server_error_is_raised_with_its_code(stubber):
    stubber.add_server_error(
        "RenewInstance", "InvalidAccountStatus.NotEnoughBalance", "no money", http_status=403, request_id="req-1"
    )

    with pytest.raises(ServerException) as raised:
        make_client().do_action_with_exception(renew("i-1"))

    assert raised.value.get_error_code() == "InvalidAccountStatus.NotEnoughBalance"
    assert raised.value.get_error_msg() == "no money"
    assert raised.value.get_http_status() == 403
    assert raised.value.get_request_id() == "req-1"
    stubber.assert_no_pending_responses()


def test_client_error_is_raised(stubber):
    stubber.add_client_error("DescribeInstances")

    with pytest.raises(ClientException) as raised:
        make_client().do_action_with_exception(describe_prepaid())

    assert raised.value.get_error_code() == "SDK.HttpError"


def test_errors_are_checked_against_params_too(stubber):
    stubber.add_server_error("RenewInstance", "Throttling", expected_params={"InstanceId": "i-2"})

    with pytest.raises(StubAssertionError, match="'InstanceId': expected 'i-2', got 'i-1'"):
        make_client().do_action_with_exception(renew("i-1"))


def test_the_sdk_retry_loop_and_http_layer_are_bypassed(stubber, mocker):
    http_layer = mocker.patch.object(AcsClient, "_implementation_of_do_action")
    client = make_client(auto_retry=True, max_retry_time=5)
    stubber.add_server_error("DescribeInstances", "Throttling", http_status=503)  # the SDK would retry this
    stubber.add_client_error("DescribeInstances", "SDK.HttpError")  # and this

    with pytest.raises(ServerException):
        client.do_action_with_exception(describe_prepaid())
    with pytest.raises(ClientException):
        client.do_action_with_exception(describe_prepaid())

    assert len(stubber.calls) == 2  # each error raised once, no retries
    http_layer.assert_not_called()
    stubber.assert_no_pending_responses()


def test_fixture_fails_a_passing_test_that_left_responses_or_hid_a_mismatch(pytester):
    pytester.makeconftest("from tests.unit.conftest import acs_stub  # noqa: F401\n")
    pytester.makepyfile(
        """
        from aliyunsdkcore.auth.credentials import StsTokenCredential
        from aliyunsdkcore.client import AcsClient
        from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest

        def client():
            return AcsClient(region_id="cn-hangzhou", credential=StsTokenCredential("STS.x", "y", "z"))

        def test_left_over(acs_stub):
            acs_stub.add_response("DescribeInstances")

        def test_swallowed(acs_stub):
            acs_stub.add_response("DescribeInstances")
            try:
                client().do_action_with_exception(RenewInstanceRequest())
            except Exception:
                pass

        def test_clean(acs_stub):
            acs_stub.add_response("RenewInstance")
            client().do_action_with_exception(RenewInstanceRequest())

        def test_failed_on_its_own(acs_stub):
            acs_stub.add_response("DescribeInstances")
            assert False, "the test's own failure"
        """
    )

    # Plugins the inner run does not need cost seconds of re-import (pytester runs in-process).
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

    # left_over and swallowed pass their call phase but error at teardown; the failed test is not piled on
    result.assert_outcomes(passed=3, errors=2, failed=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_left_over*", "*ERROR at teardown of test_swallowed*"])


# --- concurrency: one lock, and an explicit any-order mode ----------------------------------------------


def test_any_order_matches_each_call_by_its_params_and_then_the_queue_goes_on(stubber):
    with stubber.any_order():
        stubber.add_response("RenewInstance", {"InstanceId": "i-a"}, {"OrderId": "1"})
        stubber.add_response("RenewInstance", {"InstanceId": "i-b"}, {"OrderId": "2"})
    stubber.add_response("DescribeInstances", {"PageSize": "100"}, PAGE)
    client = make_client()
    assert json.loads(client.do_action_with_exception(renew("i-b")))["OrderId"] == "2"
    with pytest.raises(StubAssertionError, match="matches none of the calls queued in any order"):
        client.do_action_with_exception(describe_prepaid())  # the group is not done yet
    stubber.errors.clear()
    assert json.loads(client.do_action_with_exception(renew("i-a")))["OrderId"] == "1"
    client.do_action_with_exception(describe_prepaid())
    stubber.assert_no_pending_responses()


def test_any_order_refuses_a_call_that_matches_none_or_several(stubber):
    with stubber.any_order():
        stubber.add_response("RenewInstance", {"Period": "1"})
        stubber.add_response("RenewInstance", {"InstanceId": "i-a"})
    with pytest.raises(StubAssertionError, match="matches 2"):
        make_client().do_action_with_exception(renew("i-a"))
    with pytest.raises(StubAssertionError, match="matches none"):
        make_client().do_action_with_exception(describe_prepaid())


def test_a_group_left_unfinished_fails_the_final_check(stubber):
    with stubber.any_order():
        stubber.add_response("RenewInstance", {"InstanceId": "i-a"})
        stubber.add_response("RenewInstance", {"InstanceId": "i-b"})
    make_client().do_action_with_exception(renew("i-a"))
    with pytest.raises(StubAssertionError, match="never made") as raised:
        stubber.assert_no_pending_responses()
    assert "i-b" in str(raised.value) and "i-a" not in str(raised.value).split("never made")[1]


def test_many_threads_each_get_exactly_one_answer(stubber):
    """Under a tiny switch interval, unlocked matching answered two threads with one entry."""
    import sys
    import threading

    ids = [f"i-{n:03d}" for n in range(64)]
    with stubber.any_order():
        for instance_id in ids:
            stubber.add_response("RenewInstance", {"InstanceId": instance_id}, {"OrderId": instance_id})
    answers: dict[str, str] = {}
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        def call(instance_id: str) -> None:
            answers[instance_id] = json.loads(make_client().do_action_with_exception(renew(instance_id)))["OrderId"]

        threads = [threading.Thread(target=call, args=(instance_id,)) for instance_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(before)
    assert answers == {instance_id: instance_id for instance_id in ids}
    assert len(stubber.calls) == 64
    stubber.assert_no_pending_responses()
