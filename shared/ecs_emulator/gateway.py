"""The RPC gateway: parse, authenticate (signature v1), throttle, authorise (RAM), inject faults, dispatch, log.

Independent of HTTP: ``RpcGateway.handle`` takes the method and raw parameter pairs and returns an
``RpcOutcome`` that the HTTP layer writes (or drops).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from .bss import BSS_ACTIONS, BSS_HOSTS, BSS_NO_PERMISSION_MESSAGE, BSS_PRODUCT, BSS_RAM_ACTIONS, BSS_VERSION
from .calls import CallLog, CallRecord
from .clock import parse_second, utcnow
from .context import RpcContext
from .ecs_actions import ECS_ACTIONS
from .errors import ApiError, error_body, missing, new_request_id
from .faults import Faults
from .keys import KeyRecord, KeyRegistry
from .permissions import FORBIDDEN_RAM_MESSAGE, Permissions
from .regions import REGIONS
from .signing import sign, signatures_equal, string_to_sign
from .state import EmulatorState
from .sts_actions import STS_ACTIONS

log = logging.getLogger("ecs_emulator")

ECS_VERSION = "2014-05-26"
STS_VERSION = "2015-04-01"
PRODUCTS: dict[str, tuple[str, dict[str, Callable[[RpcContext], dict]]]] = {
    ECS_VERSION: ("Ecs", ECS_ACTIONS),
    STS_VERSION: ("Sts", STS_ACTIONS),
    BSS_VERSION: (BSS_PRODUCT, BSS_ACTIONS),
}
RAM_SERVICE = {ECS_VERSION: "ecs", STS_VERSION: "sts"}  # the prefix of a RAM action: ecs:DescribeInstances
STS_NO_PERMISSION_MESSAGE = "You are not authorized to do this action. You should be authorized by RAM."
# Without permission this action answers an empty list, not an error (DescribeInstances doc).
EMPTY_WHEN_FORBIDDEN = frozenset({"DescribeInstances"})
MAX_CLOCK_SKEW = timedelta(minutes=15)
NONCE_MEMORY_SECONDS = 30 * 60.0  # covers the whole +-15 min window in which a Timestamp is accepted
_AUTH_PARAMS = ("AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp")


@dataclass
class RpcOutcome:
    status: int  # 0 with drop=True: close the connection without an answer
    body: dict | None
    request_id: str
    drop: bool = False
    delay_before_answer: float = 0.0


class NonceStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}

    def use(self, nonce: str) -> bool:
        """False when this nonce was already used within the memory window."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 50_000:
                self._seen = {n: t for n, t in self._seen.items() if now - t < NONCE_MEMORY_SECONDS}
            seen_at = self._seen.get(nonce)
            if seen_at is not None and now - seen_at < NONCE_MEMORY_SECONDS:
                return False
            self._seen[nonce] = now
            return True


class RpcGateway:
    def __init__(
        self,
        state: EmulatorState,
        keys: KeyRegistry,
        faults: Faults,
        calls: CallLog,
        permissions: Permissions | None = None,
    ) -> None:
        self.state = state
        self.keys = keys
        self.faults = faults
        self.calls = calls
        self.permissions = permissions if permissions is not None else Permissions(enforced=False)
        self.nonces = NonceStore()

    def handle(self, method: str, pairs: list[tuple[str, str]], parse_error: ApiError | None = None) -> RpcOutcome:
        """Answer one RPC request. ``parse_error``: the HTTP layer could not read the parameters."""
        request_id = new_request_id()
        record = CallRecord(
            action="", version="", region=None, params={}, access_key_id=None, had_security_token=False,
            role_arn=None, http_status=0, code=None, applied=False, at=time.time(), request_id=request_id,
            method=method,
        )  # fmt: skip
        host_id, product = "ecs.aliyuncs.com", "Ecs"
        outcome: RpcOutcome
        try:
            if parse_error is not None:
                raise parse_error
            params = _to_dict(pairs)
            record.params = {k: v for k, v in params.items() if k != "Signature"}
            record.action = params.get("Action", "")
            record.version = params.get("Version", "")
            record.region = params.get("RegionId")
            record.access_key_id = params.get("AccessKeyId")
            record.had_security_token = bool(params.get("SecurityToken"))
            is_ecs = record.version not in (STS_VERSION, BSS_VERSION)
            if record.version == STS_VERSION:
                host_id, product = "sts.aliyuncs.com", "Sts"
            elif record.version == BSS_VERSION:  # central, not regional (bss.py)
                host_id, product = BSS_HOSTS.get(self.state.site, BSS_HOSTS["china"]), BSS_PRODUCT
            elif record.region in REGIONS:
                host_id = f"ecs.{record.region}.aliyuncs.com"

            if self.faults.latency > 0:
                time.sleep(self.faults.latency)
            if is_ecs and self.faults.is_region_down(record.region):
                record.fault = "region_down"
                return self._finish(record, RpcOutcome(0, None, request_id, drop=True))

            key = self._authenticate(method, params)
            record.account_id = key.account_id
            record.role_arn = key.role_arn
            body = self._dispatch(params, key, record, request_id)
            if isinstance(body, RpcOutcome):
                return self._finish(record, body)
            outcome = RpcOutcome(200, {"RequestId": request_id, **body}, request_id)
        except ApiError as error:
            record.code = error.code
            outcome = RpcOutcome(error.status, error_body(error, request_id, host_id, product), request_id)
        except Exception:  # an emulator bug: answer loudly and keep it in the call log
            log.exception("emulator bug while handling %s", record.action or "<no action>")
            bug = ApiError(500, "Emulator.Bug", "The ECS emulator failed on this request; see its log.")
            record.code = bug.code
            outcome = RpcOutcome(500, error_body(bug, request_id, host_id, product), request_id)
        return self._finish(record, outcome)

    def _finish(self, record: CallRecord, outcome: RpcOutcome) -> RpcOutcome:
        record.http_status = outcome.status
        record.duration = time.time() - record.at
        self.calls.append(record)  # logged before the answer is written: a test never races its own call
        return outcome

    # ---- authentication ---------------------------------------------------------------------

    def _authenticate(self, method: str, params: dict[str, str]) -> KeyRecord:
        for name in _AUTH_PARAMS:
            if not params.get(name):
                raise missing(name)
        if params["SignatureMethod"] != "HMAC-SHA1":
            raise ApiError(
                400, "InvalidSignatureMethod", "Specified signature method is not supported (use HMAC-SHA1)."
            )
        if params["SignatureVersion"] != "1.0":
            raise ApiError(400, "InvalidSignatureVersion", "Specified signature version is not supported (use 1.0).")
        timestamp = parse_second(params["Timestamp"])
        if timestamp is None:
            raise ApiError(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted (use YYYY-MM-DDTHH:MM:SSZ, UTC).",
            )
        if abs(utcnow() - timestamp) > MAX_CLOCK_SKEW:
            raise ApiError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")

        key = self.keys.get(params["AccessKeyId"])
        if key is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        token = params.get("SecurityToken")
        if key.is_sts:
            if not token:
                raise ApiError(
                    400,
                    "InvalidSecurityToken.Malformed",
                    "An STS AccessKeyId must come with its SecurityToken, and none was sent.",
                )
            if not signatures_equal(key.security_token or "", token):
                raise ApiError(
                    400,
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "Specified SecurityToken mismatch with the AccessKey.",
                )
            if key.expired():
                raise ApiError(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
        elif token:
            raise ApiError(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "A SecurityToken was sent with an AccessKey that is not an STS key.",
            )

        server_string = string_to_sign(method, params)
        if not signatures_equal(sign(server_string, key.access_key_secret), params["Signature"]):
            # The SDK compares the text after the first ':' with its own string-to-sign.
            raise ApiError(
                400,
                "SignatureDoesNotMatch",
                f"Specified signature is not matched with our calculation. server string to sign is:{server_string}",
            )
        if not self.nonces.use(params["SignatureNonce"]):
            raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        if params.get("Format", "XML").upper() != "JSON":
            raise ApiError(400, "InvalidParameter.Format", "The ECS emulator answers Format=JSON only.")
        return key

    # ---- routing, flow control, faults ------------------------------------------------------

    def _dispatch(
        self, params: dict[str, str], key: KeyRecord, record: CallRecord, request_id: str
    ) -> dict | RpcOutcome:
        action, version = params.get("Action"), params.get("Version")
        if not action:
            raise missing("Action")
        if not version:
            raise missing("Version")
        if version not in PRODUCTS:
            raise ApiError(400, "InvalidVersion", f"Specified parameter Version is not valid: {version}.")
        handler = PRODUCTS[version][1].get(action)
        if handler is None:
            raise ApiError(
                404,
                "InvalidAction.NotFound",
                f"Specified api is not found, please check your url and method: {action}.",
            )
        region = params.get("RegionId")
        if version == ECS_VERSION:
            if not region:
                raise missing("RegionId")
            if region not in REGIONS:
                raise ApiError(404, "InvalidRegionId.NotFound", f"The specified RegionId does not exist: {region}.")

        # Per account (ParentUid), region, action; STS is region-less.
        if not self.faults.admit(action, key.account_id, region if version == ECS_VERSION else None):
            record.fault = "throttled"
            throttle = self.faults.throttle
            raise ApiError(400, throttle.code, throttle.error_message())
        ram_action = BSS_RAM_ACTIONS.get(action, "") if version == BSS_VERSION else f"{RAM_SERVICE[version]}:{action}"
        permitted = self.permissions.allows(principal_of(key), ram_action, session=key.session_policy)
        if not permitted and action not in EMPTY_WHEN_FORBIDDEN:
            record.notes["ram"] = "denied"
            if version == STS_VERSION:
                raise ApiError(403, "NoPermission", STS_NO_PERMISSION_MESSAGE)
            if version == BSS_VERSION:
                raise ApiError(400, "NoPermission", BSS_NO_PERMISSION_MESSAGE)
            raise ApiError(403, "Forbidden.RAM", FORBIDDEN_RAM_MESSAGE)
        rule = self.faults.take(action, region, _instance_ids_in(params))
        if rule is not None:
            record.fault = rule.kind
            if rule.kind in ("error", "throttle", "expire_token"):
                raise rule.error()

        ctx = RpcContext(action, version, params, key, region, self.state, self.keys, request_id, permitted=permitted)
        if not permitted:
            record.notes["ram"] = "denied"
        body = handler(ctx)
        record.applied = True
        record.replayed = ctx.replayed
        if rule is not None:
            if rule.kind == "apply_then_error":
                raise rule.error()
            if rule.kind == "apply_then_drop":
                return RpcOutcome(0, None, request_id, drop=True)
            if rule.kind == "delay":
                return RpcOutcome(200, {"RequestId": request_id, **body}, request_id, delay_before_answer=rule.delay)
        return body


def principal_of(key: KeyRecord) -> str:
    """Whose policies apply: the role of an STS session, else the RAM user of a static key."""
    return key.role_arn if key.is_sts and key.role_arn else f"user:{key.access_key_id}"


def _to_dict(pairs: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise ApiError(400, "InvalidParameter.Duplicate", f"Parameter {name!r} was sent more than once.")
        params[name] = value
    return params


def _instance_ids_in(params: dict[str, str]) -> set[str]:
    """Instance ids a call is about, for fault rules that target one instance."""
    ids: set[str] = set()
    for name, value in params.items():  # InstanceId, ResourceId, and the tag APIs' ResourceId.N
        if value and (name in ("InstanceId", "ResourceId") or name.startswith("ResourceId.")):
            ids.update(value.split(","))
    if params.get("InstanceIds"):
        try:
            listed = json.loads(params["InstanceIds"])
        except ValueError:
            listed = []
        if isinstance(listed, list):
            ids.update(str(item) for item in listed)
    return ids
