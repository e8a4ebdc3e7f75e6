"""The stronger mode: DingTalk's enterprise-internal robot calls us when a member @-mentions it.

DingTalk sends the message to the robot's HTTP endpoint with two headers: ``timestamp`` (milliseconds)
and ``sign`` = Base64(HMAC-SHA256(app secret, ``timestamp + "\\n" + app secret``)) — the same scheme as
the group robot's signing, keyed with the *enterprise app's* AppSecret (``DINGTALK_APP_SECRET``). We
refuse a callback whose signature does not match or whose timestamp is more than an hour from our clock
(DingTalk's own window), so a replayed old callback is refused too. The body names the sender:
``senderStaffId`` (the organisation's staff id: what ``APPROVERS`` lists) and ``senderNick``.

Trust: a person is approving — DingTalk vouches for ``senderStaffId`` — and only those in ``APPROVERS``
count; ``APPROVALS_NEEDED`` distinct people must approve before the plan is applied (four-eyes: 2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .document import PlanRefused

MAX_SKEW_MS = 3600 * 1000
_COMMAND_RE = re.compile(r"\b(approve|reject)\s+([0-9a-f]{32})\b", re.IGNORECASE)


@dataclass(frozen=True)
class RobotCommand:
    action: str  # "approve" | "reject"
    plan_id: str
    staff_id: str
    nick: str
    session_webhook: str | None


def callback_sign(timestamp: str, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode("utf-8"), f"{timestamp}\n{app_secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) and value else str(value)
    return ""


def verify_callback(headers: Mapping[str, str], app_secret: str, *, now_ms: int) -> None:
    """Raise :class:`PlanRefused` unless DingTalk signed this callback within the last hour."""
    if not app_secret:
        raise PlanRefused("RobotNotConfigured", "DINGTALK_APP_SECRET is not set: robot callbacks are refused")
    timestamp, sign = _header(headers, "timestamp"), _header(headers, "sign")
    if not timestamp.isdigit() or not sign:
        raise PlanRefused("CallbackUnsigned", "the callback has no timestamp/sign headers")
    if abs(now_ms - int(timestamp)) > MAX_SKEW_MS:
        raise PlanRefused("CallbackExpired", "the callback's timestamp is more than an hour from our clock")
    if not hmac.compare_digest(sign.encode(), callback_sign(timestamp, app_secret).encode()):
        raise PlanRefused("CallbackSignatureMismatch", "the callback's signature does not match: refused")


def parse_command(body: bytes) -> RobotCommand:
    try:
        message = json.loads(body)
        content = str(message["text"]["content"])
        staff_id = str(message.get("senderStaffId") or "")
    except (ValueError, KeyError, TypeError):
        raise PlanRefused("CallbackMalformed", "the callback is not a DingTalk text message") from None
    match = _COMMAND_RE.search(content)
    if not match:
        raise PlanRefused("CommandUnknown", "say `approve <plan id>` or `reject <plan id>`")
    if not staff_id:
        raise PlanRefused("SenderUnknown", "the callback names no sender staff id (an external member?)")
    return RobotCommand(match.group(1).lower(), match.group(2), staff_id, str(message.get("senderNick") or ""),
                        message.get("sessionWebhook"))


def callback_headers_present(headers: Mapping[str, str]) -> bool:
    """A POST that carries DingTalk's headers is a robot callback (verified next); anything else is not."""
    return bool(_header(headers, "timestamp") or _header(headers, "sign"))
