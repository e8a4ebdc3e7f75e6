"""Function Compute through aliyun-fc2: the endpoint, a client signed with STS credentials, async invoke.

Used by the CLI's ``invoke`` and by the fan-out coordinator; imported only when one of them runs
(fc2 pulls in requests and websocket-client: not something every handler should pay for at start).
aliyun-fc2 speaks the FC 2.0 API, ``POST /2016-08-15/services/<service>[.<qualifier>]/functions/
<function>/invocations``. Functions deployed by the fc3 component have no service: the segment is the
``FC_SERVICE_NAME`` setting (default ``default``; see README, "Command line" — unverified against the
real service, so it is configurable, and a wrong name is answered 404 with nothing run).
"""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..credentials import Credentials
from ..errors import InvalidSettingError

DEFAULT_SERVICE = "default"
DEFAULT_REGION = "cn-hangzhou"  # s.yaml's default vars.region
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def fc_endpoint(environ: Mapping[str, str], region: str | None = None) -> str:
    override = environ.get("FC_ENDPOINT", "").strip().rstrip("/")
    if override:
        url = urllib.parse.urlsplit(override)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidSettingError("FC_ENDPOINT", "must be a base URL with its scheme, e.g. http://127.0.0.1:18080")
        if url.scheme == "http" and url.hostname not in LOOPBACK_HOSTS:
            # The security token travels in a header: plain HTTP only to this machine (the emulator).
            raise InvalidSettingError("FC_ENDPOINT", "plain http is allowed only for 127.0.0.1/localhost; use https")
        return override
    account = (environ.get("FC_ACCOUNT_ID") or environ.get("ALIBABA_CLOUD_ACCOUNT_ID") or "").strip()
    if not account.isdigit():
        raise InvalidSettingError("FC_ACCOUNT_ID", "set it to the account id that owns the functions (digits), "
                                  "or set FC_ENDPOINT")
    region = (region or environ.get("FC_DEPLOY_REGION") or environ.get("FC_REGION")
              or environ.get("ALIBABA_CLOUD_REGION_ID") or DEFAULT_REGION)
    return f"https://{account}.{region.strip()}.fc.aliyuncs.com"


def service_and_qualifier(environ: Mapping[str, str]) -> tuple[str, str | None]:
    # FANOUT_SERVICE_NAME: inside Function Compute, where user variables may not start with FC_.
    service = environ.get("FC_SERVICE_NAME", "").strip() or environ.get("FANOUT_SERVICE_NAME", "").strip()
    return (service or DEFAULT_SERVICE,
            environ.get("FC_QUALIFIER", "").strip() or None)


def fc2_client(credentials: Credentials, endpoint: str, timeout: int) -> Any:
    import fc2  # here: only the CLI's invoke and a fan-out coordinator need it

    # camelCase keywords; securityToken must be a string: None crashes fc2 (reference trap 9).
    return fc2.Client(endpoint=endpoint, accessKeyID=credentials.access_key_id,
                      accessKeySecret=credentials.access_key_secret,
                      securityToken=credentials.security_token or "", Timeout=timeout)


@contextlib.contextmanager
def fc2_logging_silenced() -> Iterator[None]:
    """aliyun-fc2 logs every error answer on the root logger WITH the request headers, security token
    included (``fc2/client.py``); Python would print that to stderr. Drop fc2's records while it runs."""
    import fc2

    fc2_dir = str(Path(fc2.__file__).resolve().parent)

    def not_from_fc2(record: logging.LogRecord) -> bool:
        return not str(Path(record.pathname).resolve()).startswith(fc2_dir)

    root = logging.getLogger()
    root.addFilter(not_from_fc2)
    try:
        yield
    finally:
        root.removeFilter(not_from_fc2)


class AsyncInvoker:
    """Invokes one function of this deployment asynchronously (the fan-out's shards)."""

    def __init__(self, credentials: Credentials, environ: Mapping[str, str], *, timeout: int = 30) -> None:
        self._client = fc2_client(credentials, fc_endpoint(environ), timeout)
        self.service, self.qualifier = service_and_qualifier(environ)

    def __call__(self, function: str, payload: bytes, task_id: str) -> str | None:
        headers = {"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id}
        with fc2_logging_silenced():
            answer = self._client.invoke_function(self.service, function, payload=payload, headers=headers,
                                                  qualifier=self.qualifier)
        return answer.headers.get("X-Fc-Request-Id")
