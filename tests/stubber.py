"""``AcsStubber``: botocore-``Stubber``-style canned responses for ``aliyunsdkcore``'s ``AcsClient``.

It patches ``AcsClient.do_action_with_exception`` on the class, so every client is intercepted, including
the ones the code under test builds itself. Queue the calls you expect, in order; each call is checked
against the head of the queue (action, the query params you name, optionally the client's region) and
answered with your response — the JSON bytes the real method returns — or with the SDK exception you chose.

The patch sits above the SDK's own retry loop and HTTP layer (``_implementation_of_do_action``): an
error you queue is raised exactly once, the SDK never retries it, and nothing goes on the network.

Example::

    from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
    from tests.stubber import ANY

    def test_lists_prepaid_instances(acs_stub):  # the fixture from tests/unit/conftest.py
        acs_stub.add_response(
            "DescribeInstances",
            {"PageSize": "100", "InstanceChargeType": "PrePaid", "NextToken": ANY},
            {"Instances": {"Instance": []}, "TotalCount": 0},
            region="cn-hangzhou",
        )
        acs_stub.add_server_error("RenewInstance", "InvalidAccountStatus.NotEnoughBalance", http_status=403)

        run_the_code_under_test()

        assert [action for action, _, _ in acs_stub.calls] == ["DescribeInstances", "RenewInstance"]
        # at teardown the fixture fails the test if a queued call was never made, or if a call did not
        # match even though the code under test swallowed the StubAssertionError

Values are compared as strings (``"100"`` matches ``100``): that is what the SDK puts on the wire.
Params not named in ``expected_params`` are not checked; ``ANY`` means "present, any value".
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any, NoReturn

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.client import AcsClient


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
"""In ``expected_params``: the param must be present, its value does not matter."""


class StubAssertionError(AssertionError):
    """A call the stubber did not expect (wrong action, params or region, or none left in the queue)."""


@dataclass(frozen=True)
class _Expected:
    action: str
    expected_params: dict[str, Any] | None
    region: str | None
    response: dict[str, Any] | None = None
    error: Exception | None = None

    def describe(self) -> str:
        params = "any params" if not self.expected_params else f"params including {self.expected_params!r}"
        region = f" in region {self.region}" if self.region else ""
        outcome = f"raise {type(self.error).__name__}" if self.error else "respond"
        return f"{self.action}{region} with {params} (then {outcome})"


def _mismatches(expected: _Expected, action: str, params: dict[str, Any], region: str | None) -> list[str]:
    problems = []
    if action != expected.action:
        problems.append(f"action: expected {expected.action!r}, got {action!r}")
    if expected.region is not None and region != expected.region:
        problems.append(f"region: expected {expected.region!r}, got {region!r}")
    for key, want in (expected.expected_params or {}).items():
        if key not in params:
            problems.append(f"param {key!r}: expected {want!r}, but it was not sent")
        elif want is not ANY and str(params[key]) != str(want):
            problems.append(f"param {key!r}: expected {str(want)!r}, got {str(params[key])!r}")
    return problems


class AcsStubber:
    """Intercepts every ``AcsClient.do_action_with_exception`` call; see the module docstring.

    ``mocker`` is pytest-mock's fixture: the patch is undone when the test ends.
    """

    def __init__(self, mocker: Any) -> None:
        self._queue: deque[_Expected] = deque()
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []
        """Every call made, in order: (action, params, client region)."""
        self.errors: list[StubAssertionError] = []
        """Mismatches seen, kept even if the code under test caught the exception."""
        self.mock = mocker.patch.object(AcsClient, "do_action_with_exception", autospec=True, side_effect=self._answer)

    # ------------------------------------------------------------ queueing

    def add_response(
        self,
        action: str,
        expected_params: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        *,
        region: str | None = None,
    ) -> None:
        """Expect a call of ``action``; answer it with ``response`` (``{}`` when None) as JSON bytes."""
        self._queue.append(_Expected(action, expected_params, region, response=response or {}))

    def add_server_error(
        self,
        action: str,
        code: str,
        message: str = "",
        http_status: int = 400,
        expected_params: dict[str, Any] | None = None,
        request_id: str = "stub-request",
        *,
        region: str | None = None,
    ) -> None:
        """Expect a call of ``action``; raise ``ServerException(code, message, http_status, request_id)``."""
        error = ServerException(code, message, http_status, request_id)
        self._queue.append(_Expected(action, expected_params, region, error=error))

    def add_client_error(
        self,
        action: str,
        code: str = "SDK.HttpError",
        message: str = "stubbed client error",
        expected_params: dict[str, Any] | None = None,
        *,
        region: str | None = None,
    ) -> None:
        """Expect a call of ``action``; raise ``ClientException(code, message)`` (e.g. a network failure)."""
        self._queue.append(_Expected(action, expected_params, region, error=ClientException(code, message)))

    # ------------------------------------------------------------ checking

    @property
    def pending(self) -> list[str]:
        """Descriptions of the queued calls not made yet."""
        return [expected.describe() for expected in self._queue]

    def assert_no_pending_responses(self) -> None:
        """Fail if a call did not match (even one the code swallowed) or a queued call was never made."""
        if self.errors:
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            raise StubAssertionError(f"{self.errors[0]}{more}")
        if self._queue:
            listing = "\n".join(f"  - {description}" for description in self.pending)
            raise StubAssertionError(f"AcsStubber: {len(self._queue)} expected call(s) never made:\n{listing}")

    # ------------------------------------------------------------ the patched method

    def _answer(self, client: AcsClient, request: Any) -> bytes:
        action = request.get_action_name()
        # ECS sends everything as query params; body params (other products) are merged for completeness.
        params = {**(request.get_body_params() or {}), **(request.get_query_params() or {})}
        region = client.get_region_id()
        self.calls.append((action, dict(params), region))
        number = len(self.calls)

        if not self._queue:
            self._fail(
                f"AcsStubber: unexpected call #{number}, nothing left in the queue\n"
                f"  actual: {action} in region {region} with params {params!r}"
            )
        expected = self._queue[0]
        problems = _mismatches(expected, action, params, region)
        if problems:
            self._fail(
                f"AcsStubber: call #{number} does not match the queue\n"
                f"  expected: {expected.describe()}\n"
                f"  actual:   {action} in region {region} with params {params!r}\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            )
        self._queue.popleft()
        if expected.error is not None:
            raise expected.error
        return json.dumps(expected.response).encode("utf-8")

    def _fail(self, message: str) -> NoReturn:
        error = StubAssertionError(message)
        self.errors.append(error)
        raise error
