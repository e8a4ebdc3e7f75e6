"""AcsClient construction and the single call path every request takes.

- One ``AcsClient`` per region (``RegionId`` is injected from the client's region).
- STS credentials only (``StsTokenCredential``); a static key is accepted only for AssumeRole.
- HTTPS to the real endpoints (the ECS request classes default to plain HTTP, reference trap 2), or the
  ``ECS_ENDPOINT`` / ``STS_ENDPOINT`` base URL, scheme included, for the emulator.
- The SDK's retry off; :class:`RetryPolicy` decides. Every attempt is counted per action and, with a
  :class:`~.ratelimit.RateLimiter`, paced per (region, action); a throttling answer blocks that lane until
  the cloud's next minute, then it probes at 1 QPS: throttling never uses up a retry attempt, only the
  run's deadline ends the wait (an ``ApiError`` ``Throttling.User`` says so).
- Thread-safe: jobs call from a pool of threads (one client per region, shared; its HTTP pool is sized
  for the calls a region may have in flight).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from typing import Any

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
from aliyunsdkcore.client import AcsClient

from ..credentials import Credentials
from ..errors import ApiError, Reply
from ..logs import JsonLogger, get_logger
from .ratelimit import LaneBlocked, RateLimiter
from .retry import THROTTLING_CODES, TOKEN_EXPIRED_CODES, RetryPolicy

# The SDK logs every server error itself, and at DEBUG it logs request parameters including the
# SecurityToken. We report errors ourselves, in JSON, redacted.
logging.getLogger("aliyunsdkcore").setLevel(logging.CRITICAL)

DEFAULT_CONNECT_TIMEOUT = 5
# A safety net for a server that throttles forever with no deadline set (tests, the CLI without a timeout):
# at 1 QPS probing this is over half an hour of trying.
MAX_THROTTLED_ANSWERS = 2000
DEFAULT_POOL_SIZE = 16  # HTTP connections kept per client (region); more calls in flight open and drop extras


class CallStats:
    """API calls made in this invocation, by action (attempts, retries included)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_action: Counter[str] = Counter()

    def count(self, action: str) -> None:
        with self._lock:
            self.by_action[action] += 1

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.by_action.items()))


class _AcsClient(AcsClient):
    """``AcsClient`` that leaves a successful body to us to parse, once.

    The SDK parses every answer's JSON just to look for an error (``_get_server_exception``), and returns
    nothing for a 2xx; a page of 100 instances is ~120 KB, so that parse was a third of our CPU per page.
    Errors (non-2xx) still go through the SDK's own handling, unchanged.
    """

    def _get_server_exception(self, http_status: int, response_body: bytes, endpoint: str,
                              string_to_sign: str) -> ServerException | None:
        if 200 <= http_status < 300:
            return None
        return super()._get_server_exception(http_status, response_body, endpoint, string_to_sign)


class ClientFactory:
    """Builds and caches one client per region, and the STS client."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        ecs_endpoint: str | None = None,
        sts_endpoint: str | None = None,
        connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: int | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self.credentials = credentials
        self.ecs_endpoint = ecs_endpoint
        self.sts_endpoint = sts_endpoint
        # The balance (gateway/bss.py): set by whoever builds the call path; a base URL, never the SDK's table.
        self.bss_endpoint: str | None = None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._pool_size = pool_size
        self._clients: dict[str, AcsClient] = {}
        self._lock = threading.Lock()

    def ecs_client(self, region: str) -> AcsClient:
        if not self.credentials.is_sts:
            # Defence in depth: credentials.require_sts() already refused this.
            raise ApiError("NotStsCredentials", "ECS calls need STS credentials", action="-", region=region)
        client = self._clients.get(region)  # every call asks: no lock once the region's client exists
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = self._clients[region] = self._new_client(region)
            return client

    def sts_client(self, region: str = "cn-hangzhou") -> AcsClient:
        return self._new_client(region)

    def replace_credentials(self, credentials: Credentials) -> None:
        """New credentials (e.g. after a token expired): drop the cached clients that used the old ones."""
        with self._lock:
            self.credentials = credentials
            self._clients.clear()

    def _new_client(self, region: str) -> AcsClient:
        creds = self.credentials
        credential: Any
        if creds.is_sts:
            credential = StsTokenCredential(creds.access_key_id, creds.access_key_secret, creds.security_token)
        else:
            credential = AccessKeyCredential(creds.access_key_id, creds.access_key_secret)
        # Never pass ak/secret positionally: the SDK would then ignore the credential and drop the token.
        client = _AcsClient(
            region_id=region,
            credential=credential,
            auto_retry=False,
            connect_timeout=self._connect_timeout,
            timeout=self._read_timeout,
            pool_size=self._pool_size,
        )
        # Nothing from the host's environment: no ~/.netrc credentials sent to Alibaba Cloud, and no file
        # lookups on every request. (The SDK still honours HTTP(S)_PROXY itself, per request.)
        client.session.trust_env = False
        return client

    def endpoint_for(self, product: str) -> str | None:
        if product == "bss":
            return self.bss_endpoint
        return self.sts_endpoint if product == "sts" else self.ecs_endpoint


class _Tries:
    """One call's attempts so far: retried errors, throttled answers, and the last throttling code."""

    __slots__ = ("attempt", "last_throttle", "throttled")

    def __init__(self) -> None:
        self.attempt = 0
        self.throttled = 0
        self.last_throttle = "Throttling.User"  # what a lane blocked by another call's throttle answers with

    @property
    def total(self) -> int:
        return self.attempt + self.throttled


class Caller:
    """Sends a request through the retry policy; returns the parsed JSON body or raises ApiError."""

    def __init__(
        self,
        factory: ClientFactory,
        *,
        retry: RetryPolicy | None = None,
        stats: CallStats | None = None,
        logger: JsonLogger | None = None,
        refresh_credentials: Any = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.factory = factory
        self.retry = retry or RetryPolicy()
        self.stats = stats or CallStats()
        self.log = logger or get_logger()
        self.refresh_credentials = refresh_credentials
        self.limiter = limiter
        self._refresh_lock = threading.Lock()

    def call(self, request: Any, *, region: str, product: str = "ecs") -> dict[str, Any]:
        action = request.get_action_name()
        endpoint = self.factory.endpoint_for(product)
        if endpoint:
            request.set_endpoint(endpoint)  # a scheme prefix is honoured as given
        else:
            request.set_protocol_type("https")
        tries = _Tries()
        refreshed = False
        while True:
            signed_with = self.factory.credentials
            client = self.factory.sts_client(region) if product == "sts" else self.factory.ecs_client(region)
            sent_at = self._slot(action, region, tries)
            self.stats.count(action)
            try:
                body = client.do_action_with_exception(request)
                self._settle(action, region, sent_at, None)
                return json.loads(body)
            except ServerException as error:
                code, message = error.get_error_code(), error.get_error_msg()
                status, request_id = error.get_http_status(), error.get_request_id()
            except ClientException as error:
                code, message, status, request_id = error.get_error_code(), error.get_error_msg(), None, None
            self._settle(action, region, sent_at, code)

            if code in TOKEN_EXPIRED_CODES and self.refresh_credentials and not refreshed:
                # The STS token ran out mid-run: get fresh credentials once and go on where we were.
                refreshed = True
                self._refresh(signed_with, action, region)
                continue
            if code in THROTTLING_CODES and self.limiter is not None and tries.throttled < MAX_THROTTLED_ANSWERS:
                # The lane now waits for the cloud's next minute and probes at 1 QPS: no attempt is used up,
                # the run's deadline (inside the function's timeout) is the only limit (see _slot).
                tries.throttled += 1
                tries.last_throttle = code
                self.log.warning("api_retry", action=action, region=region, code=code, attempt=tries.total,
                                 wait="the lane's minute block, then 1 QPS")
                continue
            pause = self.retry.should_retry(tries.attempt, code, status)
            if pause is None:
                raise ApiError(code, _one_line(message), action=action, region=region,
                               reply=Reply(status, request_id, tries.total + 1))
            self.log.warning(
                "api_retry", action=action, region=region, code=code, attempt=tries.attempt + 1,
                pause_s=round(pause, 3),
            )
            self.retry.sleep(pause)
            tries.attempt += 1

    def _slot(self, action: str, region: str, tries: _Tries) -> float:
        """Every attempt takes a slot in its (region, action) lane: a retry costs the quota like a first call."""
        if self.limiter is None:
            return 0.0
        try:
            return self.limiter.acquire(action, region, deadline=self.retry.deadline)
        except LaneBlocked as blocked:
            raise ApiError(
                blocked.code or tries.last_throttle,
                f"{action} in {region} stays throttled past the run's deadline ({tries.throttled} throttled answers)",
                action=action, region=region, reply=Reply(400, None, tries.total),
            ) from blocked

    def _settle(self, action: str, region: str, sent_at: float, code: str | None) -> None:
        """Tell the lane how the cloud answered: a throttle blocks it, anything else was admitted."""
        if self.limiter is None:
            return
        if code in THROTTLING_CODES:
            self.limiter.throttled(action, sent_at, region, code)
        else:
            self.limiter.admitted(action, sent_at, region)

    def _refresh(self, expired: Credentials, action: str, region: str) -> None:
        """Once for all threads: those that hit the same expired token wait for one refresh and use it."""
        with self._refresh_lock:
            if self.factory.credentials is not expired:
                return  # another thread already replaced them
            self.log.warning("credentials_expired", action=action, region=region)
            self.factory.replace_credentials(self.refresh_credentials())


def _one_line(message: str | None) -> str:
    text = " ".join((message or "").split())
    return text if len(text) <= 300 else text[:297] + "..."
