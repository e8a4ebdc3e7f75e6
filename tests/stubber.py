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

Thread-safe: the jobs call from several threads (regions at once, renewals in flight), so matching a
call and taking it off the queue happen under one lock. Where the order of calls across threads is
legitimately not fixed (two regions, two renewals in flight), say so explicitly::

    with acs_stub.any_order():  # these calls may come in any order; each matches by its params
        acs_stub.add_response("RenewInstance", {"InstanceId": "i-a"}, {"OrderId": "1"})
        acs_stub.add_response("RenewInstance", {"InstanceId": "i-b"}, {"OrderId": "2"})

Each call must then match exactly one of the group's entries (name enough params, or the region, to
tell them apart: a call that two entries accept fails as ambiguous); the group is one slot of the
queue, and what follows it waits until every entry of the group was called.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
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


@dataclass
class _AnyOrder:
    """One slot of the queue: entries that may be called in any order."""

    entries: list[_Expected] = field(default_factory=list)

    def describe(self) -> str:
        return "any order of: " + "; ".join(entry.describe() for entry in self.entries)


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
        self._queue: deque[_Expected | _AnyOrder] = deque()
        self._lock = threading.RLock()  # one call matched and taken off the queue at a time
        self._group: _AnyOrder | None = None  # open while queueing inside any_order()
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
        self._enqueue(_Expected(action, expected_params, region, response=response or {}))

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
        self._enqueue(_Expected(action, expected_params, region, error=error))

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
        self._enqueue(_Expected(action, expected_params, region, error=ClientException(code, message)))

    @contextlib.contextmanager
    def any_order(self) -> Iterator[None]:
        """The calls queued inside may be made in any order (see the module docstring)."""
        if self._group is not None:
            raise RuntimeError("any_order() groups do not nest")
        self._group = _AnyOrder()
        try:
            yield
        finally:
            group, self._group = self._group, None
        if group.entries:
            with self._lock:
                self._queue.append(group)

    def _enqueue(self, expected: _Expected) -> None:
        if self._group is not None:
            self._group.entries.append(expected)
            return
        with self._lock:
            self._queue.append(expected)

    # ------------------------------------------------------------ checking

    @property
    def pending(self) -> list[str]:
        """Descriptions of the queued calls not made yet."""
        with self._lock:
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
        with self._lock:  # match and take off the queue as one step: other threads are calling too
            self.calls.append((action, dict(params), region))
            expected = self._take(len(self.calls), action, params, region)
        if expected.error is not None:
            raise expected.error
        return json.dumps(expected.response).encode("utf-8")

    def _take(self, number: int, action: str, params: dict[str, Any], region: str | None) -> _Expected:
        actual = f"{action} in region {region} with params {params!r}"
        if not self._queue:
            self._fail(f"AcsStubber: unexpected call #{number}, nothing left in the queue\n  actual: {actual}")
        head = self._queue[0]
        if isinstance(head, _AnyOrder):
            return self._take_from_group(head, number, action, params, region)
        problems = _mismatches(head, action, params, region)
        if problems:
            self._fail(
                f"AcsStubber: call #{number} does not match the queue\n"
                f"  expected: {head.describe()}\n"
                f"  actual:   {actual}\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            )
        self._queue.popleft()
        return head

    def _take_from_group(
        self, group: _AnyOrder, number: int, action: str, params: dict[str, Any], region: str | None
    ) -> _Expected:
        matching = [entry for entry in group.entries if not _mismatches(entry, action, params, region)]
        if len(matching) != 1:
            why = "matches none" if not matching else f"matches {len(matching)} (name more params to tell them apart)"
            listing = "\n".join(f"  - {entry.describe()}" for entry in group.entries)
            self._fail(f"AcsStubber: call #{number} {why} of the calls queued in any order\n"
                       f"  actual: {action} in region {region} with params {params!r}\n{listing}")
        group.entries.remove(matching[0])
        if not group.entries:
            self._queue.popleft()
        return matching[0]

    def _fail(self, message: str) -> NoReturn:
        error = StubAssertionError(message)
        self.errors.append(error)
        raise error
