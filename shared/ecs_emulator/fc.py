"""Function Compute's invoke endpoint, both APIs, running the project's real handlers.

FC 3.0 (what s.yaml deploys), as ``alibabacloud_fc20230330`` 4.8.3 sends it:
``POST /2023-03-30/functions/<function>/invocations[?qualifier=<version|alias>]``. Authentication is
ACS3-HMAC-SHA256 (``acs3.py`` has the client's exact algorithm): missing ``Authorization`` /
``x-acs-date`` / nonce / content hash -> 400 ``MissingRequiredHeader``; not ``ACS3-HMAC-SHA256
Credential=..,SignedHeaders=..,Signature=..`` -> 403/400 ``InvalidAuthorization``; ``x-acs-date`` more
than 15 min off -> 403 ``RequestTimeTooSkewed``; ``host``, ``content-type`` or an ``x-acs-*``/``x-fc-*``
header left unsigned, or any change to method, path, query, signed header or body -> 403
``SignatureNotMatch``; unknown key -> 403 ``InvalidAccessKeyID``; a nonce seen before -> 400
``SignatureNonceUsed``; token rules as below (``x-acs-security-token``, and ``x-acs-accesskey-id`` must
name the key). Errors answer ``{"Code", "Message", "RequestId"}`` (what the SDK reads). An async call's
``x-fc-async-task-id`` must look like the SDK documents it (400 ``InvalidArgument``); with ``async_task``
on (s.yaml ``asyncInvokeConfig.asyncTask``) a repeated id is refused with 409 (documented status; code
``AsyncTaskAlreadyExists`` is ours) and nothing is queued.

FC 2.0, as aliyun-fc2 2.5.2 speaks it (only for functions deployed as FC 2.0 services):
``POST /2016-08-15/services/<service>[.<qualifier>]/functions/<function>/invocations``.

Authentication, checked before anything else, exactly as ``fc2/auth.py`` signs:
  * ``authorization: FC <AccessKeyId>:<base64 HMAC-SHA256>`` over ``METHOD\\nContent-MD5\\nContent-Type\\n
    Date\\n<x-fc-* headers, lower-cased, sorted, "k:v\\n" each><path>`` (path unescaped; with a query,
    ``path\\n`` + the sorted ``k=v`` lines). Missing ``authorization`` or ``date`` -> 400
    ``MissingRequiredHeader``; not ``FC id:sig`` -> 403 ``InvalidAuthorization``; Date more than 15 min off
    -> 403 ``RequestTimeTooSkewed``; unknown key -> 403 ``InvalidAccessKeyID``; wrong signature -> 403
    ``SignatureNotMatch``; an STS key whose ``x-fc-security-token`` is missing, another key's or expired
    (or a static key sent with a token) -> 403 ``InvalidSecurityToken``; another account's key -> 403
    ``AccessDenied``. Codes and messages are the emulator's choice where the FC docs are silent.
  * Errors answer JSON ``{"ErrorCode", "ErrorMessage"}`` with an ``X-Fc-Request-Id`` header, like FC.

Routing: a function exists when ``<functions_dir>/<function>/index.py`` does (404 ``FunctionNotFound``);
any service name is accepted unless ``services`` is set (404 ``ServiceNotFound``) — functions deployed
with fc3 have no service, and which name the 2.0 API would accept for them is unverified; qualifiers
other than ``qualifiers`` (``LATEST``) -> 404 ``VersionNotFound``/``AliasNotFound``. Other paths -> 404
``PathNotFound``.

Invocation (``x-fc-invocation-type``, default ``Sync``; anything else -> 400 ``InvalidArgument``):
  * Sync: the handler runs now; 200 with its result as JSON (str/bytes as they are). If it raises: 200
    with ``x-fc-error-type: UnhandledInvocationError`` and ``{"errorMessage", "errorType", "stackTrace"}``.
  * Async: payload at most 128 KB (else 400 ``InvalidArgument``); 202 with an empty body at once; the
    handler runs in a background thread under Function Compute's async rules (``fc_async.py``, each a
    knob, defaults as documented): a run past its ``timeout`` is killed (``FunctionTimeout``); a failed
    or killed run is replayed up to ``maxAsyncRetryAttempts`` (3) times with the same event, never before
    the timeout has passed since the previous attempt started; an event older than
    ``maxAsyncEventAgeInSeconds`` (86400) when due is dropped; what finally failed is appended to
    ``destinations`` (``onFailure``). Per function: ``configure(name, timeout=.., ...)`` or
    ``configure_from_s_yaml(resources)``. The timers run on ``clock`` (``time_scale`` emulated seconds
    per real second). ``wait_idle()`` waits for queued, running, replay-pending and killed runs.
  * Timeouts apply to Sync too (200 with ``x-fc-error-type`` and ``errorType: FunctionTimeout``). A
    killed run's thread cannot be stopped (Python has no thread kill): it runs to its end and what it
    does then still happens; it keeps the run lock, so the next run starts after it.
  * Every run is recorded in ``invocations`` (one :class:`Invocation` per attempt).

The handler gets the event as bytes and a context shaped like its runtime's (``runtime``, default
``python3.12`` as s.yaml deploys; per function from ``configure(name, runtime=..)`` or s.yaml's
``runtime``). python3.12 (FC docs, "Context"): ``request_id``, ``function`` (name, handler, memory,
timeout, version_id, qualifier), ``region``, ``account_id``, ``logger``, ``log_project``, ``log_store`` —
no ``credentials`` and no ``service``, and ``__slots__`` so reading either raises ``AttributeError`` as
in the cloud. python3.9/python3.10: ``request_id``, ``credentials`` (the emulator's function
credentials), ``function`` (name, handler, memory, timeout), ``service``, ``region``, ``account_id``.
Whatever the runtime, the role's credentials are also in the function's environment
(``ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/_SECURITY_TOKEN``, the only place python3.12 has them), read
afresh from ``function_credentials`` for each run — as FC refreshes a warm instance's environment — with
``environment`` and the ``FC_*`` metadata; the variables ecs-renewal reads are cleared first unless
``environment`` sets them, so the host's settings never leak into a function. Handlers read
``os.environ``, which is process-wide: **the emulator runs handlers one at a time** and restores the
environment after each run.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import re
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from . import acs3
from .clock import utcnow
from .errors import new_request_id
from .fc_async import DestinationRecord, FcClock, FunctionConfig
from .keys import Credentials, KeyRecord, KeyRegistry

API_VERSION = "2016-08-15"
FC3_API_VERSION = "2023-03-30"
FC3_INVOKE_PATH = re.compile(rf"^/{FC3_API_VERSION}/functions/(?P<function>[A-Za-z_][\w-]*)/invocations$")
# x-fc-async-task-id: "must start with a letter or an underscore ... letters, digits, _ and -, at most 128
# characters" (alibabacloud_fc20230330 models/_invoke_function_headers.py).
ASYNC_TASK_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
INVOKE_PATH = re.compile(
    rf"^/{API_VERSION}/services/(?P<service>[A-Za-z_][\w-]*)(?:\.(?P<qualifier>[\w-]+))?"
    r"/functions/(?P<function>[A-Za-z_][\w-]*)/invocations$"
)
MAX_ASYNC_PAYLOAD = 128 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=15)
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"



class FcError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class FcAnswer:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass
class Invocation:
    """One run of a handler (an async invocation that is replayed has one record per attempt)."""

    function: str
    service: str  # "" through the FC 3.0 API (no services)
    qualifier: str | None
    invocation_type: str  # "Sync" or "Async"
    payload: bytes
    request_id: str
    attempt: int = 1
    api: str = "fc2"  # which API accepted it: "fc3" (2023-03-30) or "fc2" (2016-08-15)
    task_id: str | None = None  # x-fc-async-task-id
    result: Any = None
    error: dict[str, Any] | None = None
    duration_s: float = 0.0
    killed: bool = False  # ran past the function's timeout: failed; its thread may still be running
    started_at: float = 0.0  # emulated seconds (FunctionCompute.clock), when the handler started


@dataclass(frozen=True)
class ContextCredentials:
    access_key_id: str
    access_key_secret: str
    security_token: str


@dataclass(frozen=True)
class ContextFunction:
    name: str
    handler: str
    memory: int
    timeout: int


@dataclass(frozen=True)
class ContextService:
    name: str
    qualifier: str | None
    log_project: str = ""
    log_store: str = ""
    version_id: str = ""


@dataclass(frozen=True)
class InvocationContext:
    """Shaped like the python3.9/python3.10 runtimes' ``context`` (the role's keys on ``credentials``)."""

    request_id: str
    credentials: ContextCredentials
    function: ContextFunction
    service: ContextService
    region: str
    account_id: str


@dataclass(frozen=True, slots=True)
class Py312Function:
    """``context.function`` on python3.12: six fields."""

    name: str
    handler: str
    memory: int
    timeout: int
    version_id: str = ""
    qualifier: str = "LATEST"


@dataclass(frozen=True, slots=True)
class Py312Context:
    """The python3.12 runtime's ``context``: no ``credentials``, no ``service`` (slots: reading them raises
    AttributeError, as in the cloud; the role's keys are in the environment)."""

    request_id: str
    function: Py312Function
    region: str
    account_id: str
    logger: Any = None
    log_project: str = ""
    log_store: str = ""


# Runtimes whose context still carries ``credentials`` (FC 3.0 offers python3.9, 3.10 and 3.12).
CREDENTIALS_ON_CONTEXT = frozenset({"python3.9", "python3.10"})
DEFAULT_RUNTIME = "python3.12"


@dataclass
class FunctionCompute:
    keys: KeyRegistry
    account_id: str
    function_credentials: Callable[[], Credentials]
    functions_dir: Path = FUNCTIONS_DIR
    region: str = "cn-hangzhou"
    environment: dict[str, str | None] = field(default_factory=dict)
    services: set[str] | None = None
    qualifiers: set[str] = field(default_factory=lambda: {"LATEST"})
    memory: int = 256
    runtime: str = DEFAULT_RUNTIME  # the context's shape; "python3.10" gives context.credentials back
    # Defaults for every function (``configure`` sets one function's own, as its s.yaml props would).
    timeout: int = 900
    max_async_retry_attempts: int = 3  # FC's default
    max_async_event_age: float = 86400  # FC 3.0 API default (maxAsyncEventAgeInSeconds)
    # asyncTask (s.yaml asyncInvokeConfig.asyncTask): a repeated x-fc-async-task-id is refused with 409.
    # Off by default, as on a function nobody configured; task ids are then accepted and not deduplicated.
    async_task: bool = False
    # Knobs for what the docs leave open or what a test needs (fc_async.py):
    enforce_timeout: bool = True  # a run past its timeout is killed (counted failed; its thread runs on)
    replay_same_request_id: bool = False  # undocumented: by default each attempt gets a new request id
    invocations: list[Invocation] = field(default_factory=list)
    destinations: list[DestinationRecord] = field(default_factory=list)  # what onFailure received

    def __post_init__(self) -> None:
        self.clock = FcClock()  # Function Compute's timers; clock.time_scale speeds them up for tests
        self._configs: dict[str, FunctionConfig] = {}
        self._nonces = acs3.NonceCache()
        self._task_ids: set[tuple[str, str]] = set()
        self._run_lock = threading.Lock()  # one handler at a time: they share os.environ
        self._records_lock = threading.Lock()
        self._idle = threading.Condition()
        self._pending = 0
        self._running = 0  # handler threads alive, killed runs included
        self._modules: dict[str, ModuleType] = {}

    # ---- HTTP entry point ---------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, query: str, headers: Mapping[str, str], body: bytes) -> FcAnswer:
        if raw_path.startswith(f"/{FC3_API_VERSION}/"):
            return self._handle_fc3(method, raw_path, query, headers, body)
        request_id = new_request_id()
        try:
            path = urllib.parse.unquote(raw_path)
            self._authenticate(method, path, query, headers)
            match = INVOKE_PATH.match(path)
            if method != "POST" or not match:
                raise FcError(404, "PathNotFound", f"Path not found: {method} {path}")
            service, qualifier, function = match["service"], match["qualifier"], match["function"]
            self._check_target(service, qualifier, function)
            kind = headers.get("x-fc-invocation-type") or "Sync"
            if kind not in ("Sync", "Async"):
                raise FcError(400, "InvalidArgument", f"x-fc-invocation-type must be Sync or Async, got {kind!r}")
            invocation = Invocation(function, service, qualifier, kind, body, request_id)
            if kind == "Async":
                return self._accept_async(invocation)
            return self._answer_sync(invocation)
        except FcError as error:
            payload = {"ErrorCode": error.code, "ErrorMessage": error.message}
            return FcAnswer(error.status, json.dumps(payload).encode(), self._headers(request_id))

    def _handle_fc3(self, method: str, raw_path: str, query: str, headers: Mapping[str, str],
                    body: bytes) -> FcAnswer:
        """FC 3.0 ``InvokeFunction``, as ``alibabacloud_fc20230330`` sends it (``acs3.py`` for the signature)."""
        request_id = new_request_id()
        received = acs3.lower_headers(headers)
        try:
            self._authenticate_acs3(method, raw_path, query, received, body)
            match = FC3_INVOKE_PATH.match(urllib.parse.unquote(raw_path))
            if method != "POST" or not match:
                raise FcError(404, "PathNotFound", f"Path not found: {method} {raw_path}")
            function = match["function"]
            params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            qualifier = params.get("qualifier") or None
            self._check_target(None, qualifier, function)
            kind = received.get("x-fc-invocation-type") or "Sync"
            if kind not in ("Sync", "Async"):
                raise FcError(400, "InvalidArgument", f"x-fc-invocation-type must be Sync or Async, got {kind!r}")
            task_id = received.get("x-fc-async-task-id") or None
            if task_id is not None and not ASYNC_TASK_ID.match(task_id):
                raise FcError(400, "InvalidArgument", "x-fc-async-task-id must start with a letter or '_' and have "
                              "at most 128 letters, digits, '_' or '-'.")
            invocation = Invocation(function, "", qualifier, kind, body, request_id, api="fc3", task_id=task_id)
            if kind == "Async":
                self._admit_task_id(function, task_id)
                answer = self._accept_async(invocation)
                if task_id:
                    answer.headers["X-Fc-Async-Task-Id"] = task_id
                return answer
            return self._answer_sync(invocation)
        except (FcError, acs3.Acs3Error) as error:
            payload = {"Code": error.code, "Message": error.message, "RequestId": request_id}
            return FcAnswer(error.status, json.dumps(payload).encode(), self._headers(request_id))

    def _admit_task_id(self, function: str, task_id: str | None) -> None:
        if not (task_id and self.config_for(function).async_task):
            return
        with self._records_lock:
            if (function, task_id) in self._task_ids:
                # Status documented ("返回错误409", help.aliyun.com/document_detail/2513608.html); code ours.
                raise FcError(409, "AsyncTaskAlreadyExists", f"An async task with id {task_id!r} already exists.")
            self._task_ids.add((function, task_id))

    def _authenticate_acs3(self, method: str, raw_path: str, query: str, headers: Mapping[str, str],
                           body: bytes) -> None:
        auth = acs3.parse_authorization(headers.get("authorization"))
        now = utcnow()
        acs3.check_date(headers, now)
        acs3.check_signed_header_list(auth, headers)
        if headers.get("x-acs-version") != FC3_API_VERSION or headers.get("x-acs-action") != "InvokeFunction":
            raise FcError(400, "InvalidArgument", f"x-acs-version must be {FC3_API_VERSION} and x-acs-action "
                          "InvokeFunction on this path.")
        record = self.keys.get(auth.access_key_id)
        if record is None:
            raise FcError(403, "InvalidAccessKeyID", f"The access key id {auth.access_key_id!r} does not exist.")
        expected = acs3.expected_signature(record.access_key_secret, method, raw_path, query, headers,
                                           auth.signed_headers, body)
        if not hmac.compare_digest(expected, auth.signature):
            raise FcError(403, "SignatureNotMatch", "The request signature we calculated does not match the "
                          "signature you provided. Check your access key and signing method.")
        self._nonces.use(headers["x-acs-signature-nonce"], now)
        token = headers.get("x-acs-security-token")
        if record.is_sts and headers.get("x-acs-accesskey-id") != record.access_key_id:
            raise FcError(403, "InvalidSecurityToken", "x-acs-accesskey-id must name the key of the security token.")
        self._check_token(record, token)

    def _check_token(self, record: KeyRecord, token: str | None) -> None:
        if record.is_sts:
            if not token or not hmac.compare_digest(token, record.security_token or ""):
                raise FcError(403, "InvalidSecurityToken", "The security token is missing or does not belong "
                              "to this access key.")
            if record.expired():
                raise FcError(403, "InvalidSecurityToken", "The security token has expired.")
        elif token:
            raise FcError(403, "InvalidSecurityToken", "A security token was sent with a static access key.")
        if record.account_id != self.account_id:
            raise FcError(403, "AccessDenied", f"The caller has no access to account {self.account_id}.")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no async invocation is queued, running or waiting for a retry, and no handler thread
        is still running (a killed run's included). False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0 and self._running == 0, timeout=timeout)

    def records(self, function: str | None = None) -> list[Invocation]:
        with self._records_lock:
            return [r for r in self.invocations if function is None or r.function == function]

    @property
    def time_scale(self) -> float:
        return self.clock.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        self.clock.time_scale = value

    def configure(self, function: str, config: FunctionConfig | None = None, **knobs: Any) -> FunctionConfig:
        """One function's timeout and asyncInvokeConfig (``FunctionConfig`` fields), as s.yaml sets them."""
        base = config or self.config_for(function)
        self._configs[function] = FunctionConfig(**{**base.__dict__, **knobs})
        return self._configs[function]

    def configure_from_s_yaml(self, resources: Mapping[str, Any], **overrides: Any) -> None:
        """Every fc3 resource of a parsed s.yaml: ``runtime``, ``timeout`` and ``asyncInvokeConfig`` from its
        props."""
        for resource in resources.values():
            props = resource.get("props") or {}
            if props.get("functionName"):
                self._configs[props["functionName"]] = FunctionConfig.from_props(props, **overrides)

    def config_for(self, function: str) -> FunctionConfig:
        return self._configs.get(function) or FunctionConfig(
            timeout=self.timeout, max_async_retry_attempts=self.max_async_retry_attempts,
            max_async_event_age=self.max_async_event_age, async_task=self.async_task, runtime=self.runtime)

    # ---- authentication -----------------------------------------------------------------------------

    def _authenticate(self, method: str, path: str, query: str, headers: Mapping[str, str]) -> None:
        authorization, date = headers.get("authorization"), headers.get("date")
        for name, value in (("authorization", authorization), ("date", date)):
            if not value:
                raise FcError(400, "MissingRequiredHeader", f"The request is missing the required header {name!r}.")
        scheme, _, credential = (authorization or "").partition(" ")
        key_id, _, signature = credential.partition(":")
        if scheme != "FC" or not key_id or not signature:
            raise FcError(403, "InvalidAuthorization", "The authorization header must be 'FC <AccessKeyId>:<sig>'.")
        try:
            sent_at = parsedate_to_datetime(date or "")
        except (TypeError, ValueError):
            raise FcError(400, "InvalidArgument", f"The date header {date!r} is not an RFC 1123 date.") from None
        if sent_at.tzinfo is None or abs(utcnow() - sent_at) > MAX_CLOCK_SKEW:
            raise FcError(403, "RequestTimeTooSkewed", "The difference between the request time and the "
                          "server's time is too large.")
        record = self.keys.get(key_id)
        if record is None:
            raise FcError(403, "InvalidAccessKeyID", f"The access key id {key_id!r} does not exist.")
        expected = sign(record.access_key_secret, method, path, query, headers)
        if not hmac.compare_digest(expected, signature):
            raise FcError(403, "SignatureNotMatch", "The request signature we calculated does not match the "
                          "signature you provided. Check your access key and signing method.")
        self._check_token(record, headers.get("x-fc-security-token"))

    def _check_target(self, service: str | None, qualifier: str | None, function: str) -> None:
        if service is not None and self.services is not None and service not in self.services:
            raise FcError(404, "ServiceNotFound", f"service '{service}' does not exist")
        if qualifier is not None and qualifier not in self.qualifiers:
            code = "VersionNotFound" if qualifier.isdigit() else "AliasNotFound"
            raise FcError(404, code, f"qualifier '{qualifier}' of service '{service}' does not exist")
        if not (self.functions_dir / function / "index.py").is_file():
            where = f" in service '{service}'" if service is not None else ""
            raise FcError(404, "FunctionNotFound", f"function '{function}' does not exist{where}")

    # ---- running ------------------------------------------------------------------------------------

    def _answer_sync(self, invocation: Invocation) -> FcAnswer:
        self._run(invocation)
        headers = self._headers(invocation.request_id)
        headers["X-Fc-Invocation-Duration"] = str(int(invocation.duration_s * 1000))
        if invocation.error is not None:
            headers["x-fc-error-type"] = "UnhandledInvocationError"
            return FcAnswer(200, json.dumps(invocation.error).encode(), headers)
        return FcAnswer(200, _body_of(invocation.result), headers)

    def http_trigger(self, function: str, method: str, raw_path: str, query: str, headers: Mapping[str, str],
                     body: bytes, source_ip: str) -> FcAnswer:
        """An anonymous HTTP trigger (``/http/<function>/...``, standing in for ``https://<id>.<region>.fcapp.run``).

        FC 3.0 built-in runtimes get the request as a JSON event and answer ``{statusCode, headers, body}``
        (help.aliyun.com "HTTP触发器调用函数"). Header names are canonicalised (first letters upper case)."""
        from urllib.parse import parse_qsl

        request_id = new_request_id()
        text_body = body.decode("utf-8", errors="strict") if _is_text(body) else None
        event = {
            "version": "v1", "rawPath": raw_path,
            "body": text_body if text_body is not None else base64.b64encode(body).decode(),
            "isBase64Encoded": text_body is None,
            "headers": {"-".join(part.capitalize() for part in name.split("-")): value
                        for name, value in headers.items()},
            "queryParameters": dict(parse_qsl(query, keep_blank_values=True)),
            "requestContext": {"accountId": self.account_id, "domainName": "127.0.0.1",
                               "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                                        "sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
                               "requestId": request_id, "time": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "timeEpoch": str(int(time.time() * 1000))},
        }
        invocation = Invocation(function, "", None, "Sync", json.dumps(event).encode(), request_id, api="fc3-http")
        self._run(invocation)
        result = invocation.result if invocation.error is None else None
        if not isinstance(result, Mapping) or "statusCode" not in result:
            return FcAnswer(502, json.dumps(invocation.error or {"errorMessage": "not an HTTP response"}).encode(),
                            self._headers(request_id))
        answer_body = result.get("body") or ""
        data = base64.b64decode(answer_body) if result.get("isBase64Encoded") else str(answer_body).encode()
        headers_out = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return FcAnswer(int(result["statusCode"]), data, {"X-Fc-Request-Id": request_id, **headers_out})

    def _accept_async(self, invocation: Invocation) -> FcAnswer:
        if len(invocation.payload) > MAX_ASYNC_PAYLOAD:
            raise FcError(400, "InvalidArgument", f"An async payload may be at most {MAX_ASYNC_PAYLOAD} bytes.")
        with self._idle:
            self._pending += 1
        accepted_at = self.clock.now()
        thread = threading.Thread(target=self._run_async, args=(invocation, accepted_at), name="fc-async",
                                  daemon=True)
        thread.start()
        return FcAnswer(202, b"", self._headers(invocation.request_id))

    def _run_async(self, first: Invocation, accepted_at: float) -> None:
        """Attempt, and on failure replay later (fc_async.py): never before ``delay_before_replay`` after the
        previous attempt started; dropped when the event would be older than its max age; what finally
        failed goes to ``destinations``."""
        config = self.config_for(first.function)
        try:
            number, request_id = 1, first.request_id
            while True:
                attempt = Invocation(first.function, first.service, first.qualifier, "Async", first.payload,
                                     request_id, attempt=number, api=first.api, task_id=first.task_id)
                self._run(attempt, config)
                if attempt.error is None:
                    return
                if number > config.max_async_retry_attempts:
                    self._to_destination(config, first, "RetriesExhausted", number, attempt.error)
                    return
                due = attempt.started_at + config.delay_before_replay
                if due - accepted_at > config.max_async_event_age:
                    self._to_destination(config, first, "EventExpired", number, attempt.error)
                    return
                self.clock.sleep_until(due)
                number += 1
                request_id = first.request_id if self.replay_same_request_id else new_request_id()
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _to_destination(self, config: FunctionConfig, first: Invocation, condition: str, attempts: int,
                        error: dict[str, Any] | None) -> None:
        record = DestinationRecord(config.on_failure, first.function, condition, first.request_id, first.payload,
                                   attempts, error, self.clock.now())
        with self._records_lock:
            self.destinations.append(record)

    def _run(self, invocation: Invocation, config: FunctionConfig | None = None) -> None:
        """Run the handler in its own thread and stop waiting at the timeout.

        Python cannot kill a thread: a run past its timeout is recorded as killed (``FunctionTimeout``,
        as FC reports it) and the emulator moves on, but the thread runs to its end and whatever it does
        then still happens (like requests already on their way when a real instance is frozen). It keeps
        the run lock until it ends — handlers share ``os.environ`` — so the next run waits for it.
        """
        config = config or self.config_for(invocation.function)
        started, done = threading.Event(), threading.Event()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                run()
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        def run() -> None:
            with self._run_lock:
                invocation.started_at = self.clock.now()
                began = time.monotonic()
                started.set()
                try:
                    creds = self.function_credentials()  # read for each run: FC refreshes them between runs
                    context = self._context(invocation, config, creds)
                    with self._function_environment(invocation.function, creds):
                        handler = self._handler(invocation.function)
                        result = handler(invocation.payload, context)
                        _body_of(result)  # FC serialises the result: an unserialisable one fails here
                        outcome["result"] = result
                except Exception as error:  # noqa: BLE001 - reported as the function's error, as FC does
                    outcome["error"] = {
                        "errorMessage": str(error),
                        "errorType": type(error).__name__,
                        "stackTrace": traceback.format_exception(error)[-6:],
                    }
                outcome["duration"] = time.monotonic() - began
                done.set()

        with self._idle:
            self._running += 1
        worker = threading.Thread(target=work, name=f"fc-run-{invocation.function}", daemon=True)
        worker.start()
        started.wait()
        limit = self.clock.real_seconds(config.timeout) if self.enforce_timeout else None
        if done.wait(limit):
            invocation.result, invocation.error = outcome.get("result"), outcome.get("error")
            invocation.duration_s = outcome["duration"]
        else:
            invocation.killed = True
            invocation.duration_s = limit or 0.0
            invocation.error = {
                "errorMessage": f"Function timed out after {config.timeout:g} seconds",
                "errorType": "FunctionTimeout",
                "stackTrace": [],
            }
        with self._records_lock:
            self.invocations.append(invocation)

    def _handler(self, function: str) -> Callable[[bytes, Any], Any]:
        module = self._modules.get(function)
        if module is None:
            path = self.functions_dir / function / "index.py"
            spec = importlib.util.spec_from_file_location(f"fc_emulated_{function.replace('-', '_')}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[function] = module
        return module.handler

    def _context(self, invocation: Invocation, config: FunctionConfig,
                 creds: Credentials) -> InvocationContext | Py312Context:
        if config.runtime in CREDENTIALS_ON_CONTEXT:
            return InvocationContext(
                request_id=invocation.request_id,
                credentials=ContextCredentials(creds.access_key_id, creds.access_key_secret, creds.security_token),
                function=ContextFunction(invocation.function, "index.handler", self.memory, int(config.timeout)),
                service=ContextService(invocation.service, invocation.qualifier),
                region=self.region,
                account_id=self.account_id,
            )
        function = Py312Function(invocation.function, "index.handler", self.memory, int(config.timeout),
                                 qualifier=invocation.qualifier or "LATEST")
        return Py312Context(invocation.request_id, function, self.region, self.account_id)

    @contextlib.contextmanager
    def _function_environment(self, function: str, creds: Credentials) -> Iterator[None]:
        # What ecs-renewal reads from its environment: cleared for each run unless `environment` sets it,
        # so the host process's values cannot reach a function.
        from ecs_renewal.settings import ENVIRONMENT_VARIABLES

        values: dict[str, str | None] = dict.fromkeys(ENVIRONMENT_VARIABLES)
        values.update({
            "ALIBABA_CLOUD_ACCESS_KEY_ID": creds.access_key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": creds.access_key_secret,
            "ALIBABA_CLOUD_SECURITY_TOKEN": creds.security_token,
            "FC_FUNCTION_NAME": function,
            "FC_REGION": self.region,
            "FC_ACCOUNT_ID": self.account_id,
        })
        values.update(self.environment)
        saved = {name: os.environ.get(name) for name in values}
        try:
            _apply(values)
            yield
        finally:
            _apply(saved)

    def _headers(self, request_id: str) -> dict[str, str]:
        return {"X-Fc-Request-Id": request_id, "Content-Type": "application/json"}


def sign(secret: str, method: str, path: str, query: str, headers: Mapping[str, str]) -> str:
    """The signature aliyun-fc2 2.5.2 computes (``fc2/auth.py``, ``Auth.sign_request``)."""
    canonical_headers = "".join(
        f"{name}:{value}\n"
        for name, value in sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-fc-"))
    )
    resource = path
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        resource = path + "\n" + "\n".join(sorted(f"{k}={v}" for k, v in pairs))
    string_to_sign = "\n".join([
        method.upper(), headers.get("content-md5") or "", headers.get("content-type") or "",
        headers.get("date") or "", canonical_headers + resource,
    ])
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("utf-8")


def _body_of(result: Any) -> bytes:
    if isinstance(result, bytes):
        return result
    if isinstance(result, str):
        return result.encode("utf-8")
    return json.dumps(result, ensure_ascii=False).encode("utf-8")


def _apply(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
