"""The single call path: every attempt takes a slot; a throttling answer slows that action down."""

from __future__ import annotations

from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest

from ecs_renewal.credentials import Credentials
from ecs_renewal.gateway.client import Caller, ClientFactory
from ecs_renewal.gateway.ratelimit import RateLimiter
from ecs_renewal.gateway.retry import RetryPolicy
from tests.stubber import AcsStubber

STS = Credentials("STS.perf", "secret-perf", "token-perf", "test")


def test_throttled_attempt_is_paced_counted_and_shrinks_the_lane(mocker):
    stub = AcsStubber(mocker)
    stub.add_server_error("DescribeInstances", "Throttling.User", http_status=400)
    stub.add_response("DescribeInstances", {}, {"Instances": {"Instance": []}, "NextToken": ""})
    clock = [6_000_000.0]  # the limiter waits for the next minute after a throttle: in fake time
    limiter = RateLimiter(lambda action: 40, clock=lambda: clock[0],
                          sleep=lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    caller = Caller(ClientFactory(STS), retry=RetryPolicy(sleep=lambda s: None), limiter=limiter)
    caller.call(DescribeInstancesRequest(), region="cn-hangzhou")
    assert caller.stats.as_dict() == {"DescribeInstances": 2}
    usage = limiter.usage()["DescribeInstances"]
    assert usage["calls"] == 2 and usage["throttled"] == 1 and usage["blocks"] == 1
    assert clock[0] >= 6_000_060.0  # the retry waited for the cloud's next minute
    assert limiter.limit("DescribeInstances", "cn-hangzhou") < 40
    stub.assert_no_pending_responses()
