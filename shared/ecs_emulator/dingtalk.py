"""A DingTalk custom group robot: ``POST /robot/send?access_token=..&timestamp=..&sign=..``.

Verifies the access token and the signature (shared/reference/dingtalk.md section 2), enforces the
20-messages-a-minute limit with its 10-minute block, refuses a request body over 20,000 bytes (the
serialized JSON, @-mentions included: errcode 460101 "message too long, exceed 20000 bytes", the code
DingTalk's robot answers — issue 12; exact text unverified), validates the message, and records everything.
HTTP status is always 200; the outcome is in ``errcode``/``errmsg``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass

# msgtype -> fields its object must carry (a non-empty value each)
_REQUIRED_FIELDS = {
    "text": ("content",),
    "markdown": ("title", "text"),
    "link": ("title", "text", "messageUrl"),
    "actionCard": ("title", "text"),
    "feedCard": ("links",),
}
MAX_TIMESTAMP_SKEW_MS = 3600 * 1000
MAX_BODY_BYTES = 20_000


def dingtalk_sign(secret: str, timestamp_ms: int | str) -> str:
    """Base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")) — before URL-encoding."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class DingTalkAttempt:
    at: float
    errcode: int
    errmsg: str
    body: dict | None
    raw_body: bytes


class DingTalkRobot:
    def __init__(self, max_body_bytes: int | None = MAX_BODY_BYTES) -> None:
        self._lock = threading.Lock()
        # Generated per emulator, never hard-coded: 64 hex chars like a real token, "SEC"-prefixed secret.
        self.access_token = secrets.token_hex(32)
        self.secret = "SEC" + secrets.token_hex(32)
        # The enterprise-internal robot's AppSecret (robot mode of approve-renewal): signs its callbacks.
        self.app_secret = secrets.token_urlsafe(48)
        self.base_url = ""
        self.rate_limit_per_minute: int | None = 20
        self.block_seconds = 600.0  # what exceeding the limit costs
        self.max_body_bytes = max_body_bytes  # None = no size limit
        self.delay = 0.0  # seconds to wait before answering (client timeouts)
        self.messages: list[dict] = []  # accepted message bodies
        self.rejected: list[DingTalkAttempt] = []
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._scripted_failures: deque[tuple[int, str]] = deque()
        # Faults actually injected, by kind: scripted failures, rate-limit answers, slow answers.
        self.injected: Counter[str] = Counter()

    @property
    def action_cards(self) -> list[dict]:
        """The accepted ``actionCard`` messages (title, text, buttons), oldest first."""
        with self._lock:
            return [m["actionCard"] for m in self.messages if m.get("msgtype") == "actionCard"]

    def mention(self, callback_url: str, *, staff_id: str, text: str, nick: str = "",
                app_secret: str | None = None, timestamp_ms: int | None = None) -> tuple[int, bytes]:
        """A member @-mentions the enterprise-internal robot: DingTalk POSTs the message to the robot's HTTP
        callback, signed with the app's secret (headers ``timestamp`` and ``sign`` = Base64(HMAC-SHA256(secret,
        timestamp + "\n" + secret)), the group robot's scheme), naming the sender's staff id."""
        import urllib.error
        import urllib.request

        secret = self.app_secret if app_secret is None else app_secret
        timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
        digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        body = json.dumps({"msgtype": "text", "text": {"content": f"@ecs-renewal {text}"},
                           "msgId": secrets.token_hex(8),
                           "senderStaffId": staff_id, "senderNick": nick or staff_id, "conversationType": "2",
                           "chatbotUserId": "robot", "isAdmin": False}).encode()
        request = urllib.request.Request(callback_url, data=body, method="POST", headers={
            "Content-Type": "application/json", "timestamp": timestamp,
            "sign": base64.b64encode(digest).decode()})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/robot/send?access_token={self.access_token}"

    def fail_next(self, n: int = 1, errcode: int = -1, errmsg: str = "system busy") -> None:
        """The next ``n`` authenticated sends fail with this errcode (after token and signature pass)."""
        with self._lock:
            self._scripted_failures.extend([(errcode, errmsg)] * n)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.rejected.clear()
            self._sent.clear()
            self._blocked_until = 0.0
            self._scripted_failures.clear()

    def handle(self, query: dict[str, list[str]], content_type: str, raw_body: bytes) -> dict:
        body: dict | None = None
        try:
            parsed = json.loads(raw_body.decode("utf-8"))
            body = parsed if isinstance(parsed, dict) else None
        except (UnicodeDecodeError, ValueError):
            body = None
        errcode, errmsg = self._judge(query, content_type, body, len(raw_body))
        with self._lock:
            if self.delay > 0:
                self.injected["dingtalk_slow_answer"] += 1
            if errcode == 0:
                assert body is not None
                self.messages.append(body)
            else:
                self.rejected.append(DingTalkAttempt(time.time(), errcode, errmsg, body, raw_body))
        return {"errcode": errcode, "errmsg": errmsg}

    def _judge(
        self, query: dict[str, list[str]], content_type: str, body: dict | None, body_bytes: int
    ) -> tuple[int, str]:
        token = _single(query, "access_token")
        if token is None or not hmac.compare_digest(token, self.access_token):
            return 300001, "token is not exist"
        timestamp, signature = _single(query, "timestamp"), _single(query, "sign")
        if timestamp is None or not timestamp.isdigit():
            return 310000, "invalid timestamp"
        if abs(time.time() * 1000 - int(timestamp)) > MAX_TIMESTAMP_SKEW_MS:
            return 310000, "invalid timestamp"
        if signature is None or not hmac.compare_digest(signature, dingtalk_sign(self.secret, timestamp)):
            return 310000, "sign not match"

        with self._lock:
            now = time.monotonic()
            if now < self._blocked_until:
                self.injected["dingtalk_rate_limit"] += 1
                return 130101, "send too fast, exceed 20 times per minute"
            limit = self.rate_limit_per_minute
            if limit is not None:
                while self._sent and now - self._sent[0] >= 60.0:
                    self._sent.popleft()
                if len(self._sent) >= limit:
                    self._blocked_until = now + self.block_seconds
                    self.injected["dingtalk_rate_limit"] += 1
                    return 130101, "send too fast, exceed 20 times per minute"
            self._sent.append(now)
            if self._scripted_failures:
                errcode, errmsg = self._scripted_failures.popleft()
                self.injected["dingtalk_rate_limit" if errcode == 130101 else "dingtalk_error"] += 1
                return errcode, errmsg

        limit_bytes = self.max_body_bytes
        if limit_bytes is not None and body_bytes > limit_bytes:
            return 460101, f"message too long, exceed {limit_bytes} bytes"
        if "application/json" not in content_type.lower():
            return 43004, "invalid HTTP header Content-Type: application/json required"
        if body is None:
            return 40035, "missing parameter: the body must be a JSON object"
        msgtype = body.get("msgtype")
        if msgtype not in _REQUIRED_FIELDS:
            return 40035, f"missing parameter: unsupported msgtype {msgtype!r}"
        content = body.get(msgtype)
        if not isinstance(content, dict):
            return 40035, f"missing parameter: {msgtype}"
        for field in _REQUIRED_FIELDS[msgtype]:
            if not content.get(field):
                return 40035, f"missing parameter: {msgtype}.{field}"
        if msgtype == "actionCard" and not (content.get("singleURL") or content.get("btns")):
            return 40035, "missing parameter: actionCard.singleURL or actionCard.btns"
        return 0, "ok"


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values and len(values) == 1 else None
