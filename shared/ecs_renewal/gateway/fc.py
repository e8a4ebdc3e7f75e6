"""Function Compute invocations: the endpoint, STS-signed clients for both APIs, one answer shape.

Used by the CLI's ``invoke`` and by the fan-out coordinator; imported only when one of them runs (the
clients pull in requests, darabonba and friends: not something every handler should pay for at start).

Two APIs, chosen by ``FC_API`` (the CLI) / ``FANOUT_API`` (inside Function Compute, where user variables
may not start with ``FC_``):

* ``fc3`` (default) — the FC 3.0 API that addresses what ``s.yaml`` deploys (component fc3):
  ``POST /2023-03-30/functions/<function>/invocations[?qualifier=...]`` through Alibaba's own client
  ``alibabacloud_fc20230330`` (ACS3-HMAC-SHA256 signature, ``x-acs-security-token``).
* ``fc2`` — the FC 2.0 API, ``POST /2016-08-15/services/<service>[.<qualifier>]/functions/<function>/
  invocations`` through aliyun-fc2: only for functions deployed as FC 2.0 services (``FC_SERVICE_NAME``
  / ``FANOUT_SERVICE_NAME``, default ``default``). Whether that path reaches an fc3 function is
  documented nowhere: don't use it for what s.yaml deploys.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..credentials import Credentials
from ..errors import InvalidSettingError

DEFAULT_SERVICE = "default"
DEFAULT_REGION = "cn-hangzhou"  # s.yaml's default vars.region
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
APIS = ("fc3", "fc2")
DEFAULT_API = "fc3"


class FcInvokeError(Exception):
    """Function Compute refused or failed the call itself (nothing ran, or we cannot tell): one shape for
    both APIs, with no header, key or token of the request in it."""

    def __init__(self, status: int | None, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{status or '-'} {code}: {message}")
        self.status, self.code, self.message, self.request_id = status, code, message, request_id
        self.err_code = code  # what fanout.dispatch reports

    @property
    def duplicate(self) -> bool:
        """409: this async task id was submitted before (asyncTask enabled), so nothing was queued again.
        help.aliyun.com/document_detail/2513608.html ("任务防重复提交"): a repeated id "返回错误409"."""
        return self.status == 409


@dataclass(frozen=True)
class FcAnswer:
    """What an invocation answered: 200 (sync, the result in ``body``) or 202 (async, accepted)."""

    status: int
    request_id: str
    body: bytes
    error_type: str | None = None  # x-fc-error-type: the function ran and raised


def fc_api(environ: Mapping[str, str], explicit: str | None = None) -> str:
    """``fc3`` unless ``--api``, ``FC_API`` or ``FANOUT_API`` (first set wins) says ``fc2``."""
    for name, value in (("--api", explicit), ("FC_API", environ.get("FC_API")),
                        ("FANOUT_API", environ.get("FANOUT_API"))):
        chosen = (value or "").strip().lower()
        if chosen:
            if chosen not in APIS:
                raise InvalidSettingError(name, f"must be one of {', '.join(APIS)} (fc3: the functions s.yaml "
                                          "deploys; fc2: only functions deployed as FC 2.0 services)")
            return chosen
    return DEFAULT_API


def fc_endpoint(environ: Mapping[str, str], region: str | None = None) -> str:
    override = environ.get("FC_ENDPOINT", "").strip().rstrip("/")
    if override:
        url = urllib.parse.urlsplit(override)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidSettingError("FC_ENDPOINT", "must be a base URL with its scheme, e.g. http://127.0.0.1:18080")
        if url.scheme == "http" and url.hostname not in LOOPBACK_HOSTS:
            # The security token travels in a header: plain HTTP only to this machine (the emulator).
            raise InvalidSettingError("FC_ENDPOINT", "plain http is allowed only for 127.0.0.1/localhost; use https")
        if url.path or url.query:
            raise InvalidSettingError("FC_ENDPOINT", "must be a base URL without a path, e.g. http://127.0.0.1:18080")
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


# ---- FC 3.0: alibabacloud_fc20230330 ---------------------------------------------------------------------


class Fc3Client:
    """``InvokeFunction`` of the FC 3.0 API through ``alibabacloud_fc20230330``, STS credentials only."""

    def __init__(self, credentials: Credentials, endpoint: str, timeout: int) -> None:
        from alibabacloud_fc20230330.client import Client  # here: only the CLI and a coordinator need it
        from alibabacloud_tea_openapi.utils_models import Config

        _silence_sdk_debug_log()
        url = urllib.parse.urlsplit(endpoint)
        # endpoint = the host (it is also the signed `host` header); the scheme goes in `protocol`.
        config = Config(access_key_id=credentials.access_key_id, access_key_secret=credentials.access_key_secret,
                        security_token=credentials.security_token or None, endpoint=url.netloc,
                        protocol=url.scheme, connect_timeout=10_000, read_timeout=timeout * 1000)
        self._client = Client(config)
        self._timeout_ms = timeout * 1000

    def invoke(self, function: str, payload: bytes, *, invocation_type: str, qualifier: str | None = None,
               task_id: str | None = None) -> FcAnswer:
        from alibabacloud_fc20230330 import models
        from darabonba.runtime import RuntimeOptions

        request = models.InvokeFunctionRequest(body=io.BytesIO(payload), qualifier=qualifier)
        headers = models.InvokeFunctionHeaders(x_fc_invocation_type=invocation_type, x_fc_async_task_id=task_id)
        runtime = RuntimeOptions(read_timeout=self._timeout_ms, connect_timeout=10_000)
        try:
            response = self._client.invoke_function_with_options(function, request, headers, runtime)
        except Exception as error:  # noqa: BLE001 - the SDK's exceptions carry the request (token included)
            raise _fc3_error(error) from None
        answer_headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        body = response.body.read() if hasattr(response.body, "read") else (response.body or b"")
        return FcAnswer(response.status_code or 0, answer_headers.get("x-fc-request-id", ""), bytes(body),
                        answer_headers.get("x-fc-error-type"))


def _fc3_error(error: Exception) -> FcInvokeError:
    inner = getattr(error, "inner_exception", None) or error  # UnretryableException wraps the real one
    status = getattr(inner, "status_code", None)
    if status is None:  # never answered: connection refused, timeout, TLS
        return FcInvokeError(None, "ConnectionError", f"cannot reach Function Compute: {type(inner).__name__}")
    data = getattr(inner, "data", None) or {}
    return FcInvokeError(int(status), str(data.get("Code") or getattr(inner, "code", "") or "Error"),
                         str(data.get("Message") or data.get("message") or ""),
                         str(data.get("RequestId") or getattr(inner, "request_id", "") or ""))


def _silence_sdk_debug_log() -> None:
    # darabonba logs every request WITH its headers (security token included) when DEBUG=sdk is set.
    logging.getLogger("darabonba-core").disabled = True


# ---- FC 2.0: aliyun-fc2 (functions deployed as FC 2.0 services only) ------------------------------------


class Fc2Client:
    def __init__(self, credentials: Credentials, endpoint: str, timeout: int, service: str) -> None:
        self._client = fc2_client(credentials, endpoint, timeout)
        self.service = service

    def invoke(self, function: str, payload: bytes, *, invocation_type: str, qualifier: str | None = None,
               task_id: str | None = None) -> FcAnswer:
        import fc2

        headers = {"x-fc-invocation-type": invocation_type}
        if task_id:
            headers["x-fc-async-task-id"] = task_id
        try:
            with fc2_logging_silenced():
                answer = self._client.invoke_function(self.service, function, payload=payload, headers=headers,
                                                      qualifier=qualifier)
        except fc2.FcError as error:
            try:
                body = json.loads(error.message)
            except (TypeError, ValueError):
                body = {}
            request_id = body.get("RequestId") or getattr(error, "request_id", "") or ""
            if "errorType" in body:  # aliyun-fc2 raises for a function that ran and raised: an answer here
                return FcAnswer(200, request_id, error.message.encode("utf-8"), "UnhandledInvocationError")
            raise FcInvokeError(error.status_code, body.get("ErrorCode") or getattr(error, "err_code", "") or "Error",
                                body.get("ErrorMessage", ""), request_id) from None
        except OSError as error:  # requests' connection errors, timeouts
            raise FcInvokeError(None, "ConnectionError", f"cannot reach Function Compute: {type(error).__name__}") \
                from None
        return FcAnswer(202 if invocation_type == "Async" else 200, answer.headers.get("X-Fc-Request-Id", ""),
                        answer.data or b"")


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


# ---- one client for either API ----------------------------------------------------------------------------


def invoke_client(credentials: Credentials, environ: Mapping[str, str], *, timeout: int, api: str | None = None,
                  region: str | None = None, service: str | None = None) -> Fc3Client | Fc2Client:
    """The client ``FC_API``/``FANOUT_API`` chooses; settings are checked before any connection."""
    chosen = fc_api(environ, api)
    endpoint = fc_endpoint(environ, region)
    if chosen == "fc2":
        return Fc2Client(credentials, endpoint, timeout, service or service_and_qualifier(environ)[0])
    return Fc3Client(credentials, endpoint, timeout)


class AsyncInvoker:
    """Invokes one function of this deployment asynchronously (the fan-out's shards)."""

    def __init__(self, credentials: Credentials, environ: Mapping[str, str], *, timeout: int = 30) -> None:
        self._client = invoke_client(credentials, environ, timeout=timeout)
        self.qualifier = service_and_qualifier(environ)[1]

    def __call__(self, function: str, payload: bytes, task_id: str) -> str | None:
        answer = self._client.invoke(function, payload, invocation_type="Async", qualifier=self.qualifier,
                                     task_id=task_id)
        return answer.request_id or None
