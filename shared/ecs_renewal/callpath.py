"""The call path, built by one object: credentials → optional role → caller (retry, pacing, counting).

A run knows, before its first call, its settings, its pace (``Throughput``), where its base credentials
come from and its deadline. :class:`CallPath` holds that once; :meth:`CallPath.caller` gives the caller
for the function's own account or for a target account's role, with the refresh that re-reads the
invocation's credentials (and re-assumes the role) when a token expires part-way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from .credentials import Credentials
from .gateway.client import Caller, CallStats, ClientFactory
from .gateway.ratelimit import RateLimiter
from .gateway.retry import RetryPolicy
from .logs import JsonLogger, mask_key_id

if TYPE_CHECKING:
    from .settings import Settings, Throughput

# Stop starting retries this long before the function's timeout, to leave time to report and alert.
TIMEOUT_MARGIN_SECONDS = 15.0


class CallPath(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """Everything a caller is made from, known before the first call."""

    settings: Settings
    throughput: Throughput
    base: Callable[[], Credentials]  # reads the invocation's own credentials (FC refreshes them)
    first_base: Credentials  # the ones read when the run started
    log: JsonLogger
    request_id: str | None
    deadline: float  # time.monotonic() after which no retry starts
    read_timeout: int | None = None

    def caller(self, *, role_arn: str | None = None, log: JsonLogger | None = None,
               assumed: Credentials | None = None) -> Caller:
        """The gateway's call path, with role credentials when a role is named, paced per (region, action) at
        ECS_MAX_QPS (or each action's documented quota). One caller per account: its lanes are the cloud's
        (account, region, API) counters."""
        log = log or self.log
        role_arn = role_arn or self.settings.assume_role_arn
        retry, stats = RetryPolicy(deadline=self.deadline), CallStats()
        credentials, refresh = self.first_base, self.base
        if role_arn:
            credentials = assumed or self._assume(role_arn, self.first_base, retry, stats)
            # After a long run the invocation's own credentials may have expired too: read them again first.
            refresh = lambda: self._assume(role_arn, self.base(), retry, stats)  # noqa: E731
        factory = ClientFactory(
            credentials, ecs_endpoint=self.settings.ecs_endpoint, sts_endpoint=self.settings.sts_endpoint,
            read_timeout=self.read_timeout,
            # A region has at most RENEW_CONCURRENCY calls in flight: keep that many connections open.
            pool_size=max(16, self.throughput.renew_concurrency),
        )
        from .gateway.bss import endpoint_for

        # BSS_ENDPOINT, else a set ECS_ENDPOINT (one local endpoint serves every product), else by SITE.
        factory.bss_endpoint = endpoint_for(getattr(self.settings, "site", None), explicit=self.settings.bss_endpoint,
                                            ecs_endpoint=self.settings.ecs_endpoint)
        if role_arn:
            log.info("role_assumed", role_arn=role_arn, access_key_id=mask_key_id(credentials.access_key_id))
        return Caller(factory, retry=retry, stats=stats, logger=log, refresh_credentials=refresh,
                      limiter=RateLimiter(self.throughput.qps_for))

    def _assume(self, role_arn: str, signer: Credentials, retry: RetryPolicy, stats: CallStats) -> Credentials:
        """AssumeRole signed with the invocation's own credentials, never with an assumed set."""
        from .gateway import sts  # only when needed: STS adds to the cold start

        role_caller = Caller(ClientFactory(signer, sts_endpoint=self.settings.sts_endpoint), retry=retry,
                             stats=stats, logger=self.log)
        name = sts.session_name(self.settings.job, self.request_id)
        # The shortest session that covers the run: the function's timeout, within STS's 900..3600 s.
        duration = int(min(3600, max(900, self.deadline - time.monotonic() + TIMEOUT_MARGIN_SECONDS)))
        return sts.assume_role(role_caller, role_arn, session=name, duration_seconds=duration)

