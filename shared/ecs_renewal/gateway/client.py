"""AcsClient construction and the single call path every request takes.

- One ``AcsClient`` per region (``RegionId`` is injected from the client's region).
- STS credentials only (``StsTokenCredential``); a static key is accepted only for AssumeRole.
- HTTPS to the real endpoints (the ECS request classes default to plain HTTP, reference trap 2), or the
  ``ECS_ENDPOINT`` / ``STS_ENDPOINT`` base URL, scheme included, for the emulator.
- The SDK's retry off; :class:`RetryPolicy` decides. Every attempt is counted per action.
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
from ..errors import ApiError
from ..logs import JsonLogger, get_logger
from .retry import TOKEN_EXPIRED_CODES, RetryPolicy

# The SDK logs every server error itself, and at DEBUG it logs request parameters including the
# SecurityToken. We report errors ourselves, in JSON, redacted.
logging.getLogger("aliyunsdkcore").setLevel(logging.CRITICAL)

DEFAULT_CONNECT_TIMEOUT = 5


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
    ) -> None:
        self.credentials = credentials
        self.ecs_endpoint = ecs_endpoint
        self.sts_endpoint = sts_endpoint
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._clients: dict[str, AcsClient] = {}
        self._lock = threading.Lock()

    def ecs_client(self, region: str) -> AcsClient:
        if not self.credentials.is_sts:
            # Defence in depth: credentials.require_sts() already refused this.
            raise ApiError("NotStsCredentials", "ECS calls need STS credentials", action="-", region=region)
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
        return AcsClient(
            region_id=region,
            credential=credential,
            auto_retry=False,
            connect_timeout=self._connect_timeout,
            timeout=self._read_timeout,
            pool_size=16,
        )

    def endpoint_for(self, product: str) -> str | None:
        return self.sts_endpoint if product == "sts" else self.ecs_endpoint


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
    ) -> None:
        self.factory = factory
        self.retry = retry or RetryPolicy()
        self.stats = stats or CallStats()
        self.log = logger or get_logger()
        self.refresh_credentials = refresh_credentials

    def call(self, request: Any, *, region: str, product: str = "ecs") -> dict[str, Any]:
        action = request.get_action_name()
        endpoint = self.factory.endpoint_for(product)
        if endpoint:
            request.set_endpoint(endpoint)  # a scheme prefix is honoured as given
        else:
            request.set_protocol_type("https")
        attempt = 0
        refreshed = False
        while True:
            client = self.factory.sts_client(region) if product == "sts" else self.factory.ecs_client(region)
            self.stats.count(action)
            try:
                body = client.do_action_with_exception(request)
                return json.loads(body)
            except ServerException as error:
                code, message = error.get_error_code(), error.get_error_msg()
                status, request_id = error.get_http_status(), error.get_request_id()
            except ClientException as error:
                code, message, status, request_id = error.get_error_code(), error.get_error_msg(), None, None

            if code in TOKEN_EXPIRED_CODES and self.refresh_credentials and not refreshed:
                # The STS token ran out mid-run: get fresh credentials once and go on where we were.
                refreshed = True
                self.log.warning("credentials_expired", action=action, region=region)
                self.factory.replace_credentials(self.refresh_credentials())
                continue
            pause = self.retry.should_retry(attempt, code, status)
            if pause is None:
                raise ApiError(
                    code, _one_line(message), action=action, region=region, http_status=status,
                    request_id=request_id, attempts=attempt + 1,
                )
            self.log.warning(
                "api_retry", action=action, region=region, code=code, attempt=attempt + 1,
                pause_s=round(pause, 3),
            )
            self.retry.sleep(pause)
            attempt += 1


def _one_line(message: str | None) -> str:
    text = " ".join((message or "").split())
    return text if len(text) <= 300 else text[:297] + "..."
