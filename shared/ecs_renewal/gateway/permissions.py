"""Trust no empty answer: prove the role may read a region before an empty list is believed.

Without ``ecs:DescribeInstances`` the API does not refuse: it answers an EMPTY list (DescribeInstances
doc), which reads exactly like a region with nothing expiring. ``DescribeInstances`` with ``DryRun=true``
checks the permission and nothing else: ``DryRunOperation`` (400) when the call would be allowed,
``Forbidden.RAM`` (403) when not. A non-empty answer is its own proof (a role without the permission
never sees an instance), so the probe is sent only when a region answered nothing at all — at most once
per account (one gateway), region and run. A region the role cannot read raises :class:`MissingPermission`
— an ``ApiError`` with code ``Forbidden.RAM`` — and the job records it as that region's error.
"""

from __future__ import annotations

import threading

from ..errors import ApiError, Reply
from .client import Caller

DESCRIBE_ACTION = "ecs:DescribeInstances"
ALLOWED_CODE = "DryRunOperation"
DENIED_CODES = frozenset({"Forbidden.RAM", "Forbidden", "NoPermission", "Forbidden.NotAuthorized"})


class MissingPermission(ApiError):
    """The role may not call ``missing_action`` in ``region``: what it would read there is not the truth."""

    def __init__(self, region: str, missing_action: str, request_id: str | None = None) -> None:
        super().__init__(
            "Forbidden.RAM",
            f"the role may not call {missing_action} in {region}: the API answers such a role with an EMPTY "
            f"list, so {region} was NOT checked. Attach ram/function-role-policy.json (or add {missing_action}) "
            "to the role",
            action=missing_action.split(":", 1)[1], region=region, reply=Reply(403, request_id),
        )
        self.missing_action = missing_action


class ReadPermission:
    """Per gateway (one account, one run): which regions proved readable. Thread-safe; a verdict is kept,
    a transient failure of the probe is raised and not kept (the next empty answer asks again)."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        self._lock = threading.Lock()
        self._verdicts: dict[str, str | None] = {}  # region -> None (readable) or the denial's request id
        self.probes = 0

    def require(self, region: str) -> None:
        """Return when the role may read ``region``; raise :class:`MissingPermission` when it may not."""
        with self._lock:
            known = region in self._verdicts
            verdict = self._verdicts.get(region)
        if not known:
            verdict = self._probe(region)
            with self._lock:
                self._verdicts[region] = verdict
        if verdict is not None:  # a fresh exception each time: threads never share one traceback
            raise MissingPermission(region, DESCRIBE_ACTION, verdict or None)

    def _probe(self, region: str) -> str | None:
        """None when allowed, else the denial's request id ("" when it had none)."""
        from .paging import request_class

        request = request_class("aliyunsdkecs.request.v20140526.DescribeInstancesRequest")()
        request.add_query_param("DryRun", "true")
        self.probes += 1
        try:
            self._caller.call(request, region=region)
        except ApiError as error:
            if error.code == ALLOWED_CODE:
                return None
            if error.code in DENIED_CODES:
                return error.request_id or ""
            raise
        # A 2xx to a DryRun is not what the API documents: nothing proves the permission either way.
        raise ApiError("DryRunUnexpected", "DescribeInstances with DryRun=true answered with a list instead of "
                       "DryRunOperation: the permission could not be proven", action="DescribeInstances",
                       region=region)
