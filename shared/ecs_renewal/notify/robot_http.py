"""One HTTP attempt to a DingTalk group robot, and what it came to (``dingtalk.py`` retries and paces them).

Standard library only (a cold start pays for every imported package). The signing ("加签") parameter is
made here; the URL with its ``access_token`` never reaches a log line (the notifier registered it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

ERRCODE_OK = 0
ERRCODES_RETRYABLE = frozenset({-1})  # "system busy": DingTalk's side, may pass
_MAX_RESPONSE_BYTES = 64 * 1024


def sign(secret: str, timestamp_ms: int) -> str:
    """The URL-encoded ``sign`` parameter for a robot with the signing ("加签") security setting."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


class Outcome:
    """What one HTTP attempt came to: delivered, worth retrying, or a final failure (with log fields)."""

    def __init__(self, ok: bool, retryable: bool = False, **fields: object) -> None:
        self.ok = ok
        self.retryable = retryable
        self.fields = fields


def post_once(url: str, body: bytes, timeout: float) -> Outcome:
    """POST the body once; DingTalk's answer (HTTP status, errcode) as an :class:`Outcome`. Never raises for
    what the network or the robot does."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            raw = response.read(_MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:  # before URLError: HTTPError is a subclass of it
        # 5xx: DingTalk's side, may pass. 4xx: our request is wrong, the same request stays wrong.
        exc.close()
        return Outcome(False, retryable=exc.code >= 500, http_status=exc.code)
    except (OSError, http.client.HTTPException) as exc:
        # URLError, timeouts, refused/reset connections are all OSError; a truncated or garbled
        # response is an HTTPException. A timed-out POST may have been delivered anyway: a duplicate
        # chat message is a better failure than a lost alert.
        reason = getattr(exc, "reason", exc)
        return Outcome(False, retryable=True, error=type(exc).__name__, detail=str(reason))

    if status != 200:
        return Outcome(False, http_status=status)
    try:
        reply = json.loads(raw.decode("utf-8"))
        errcode, errmsg = int(reply.get("errcode", -1)), str(reply.get("errmsg", ""))
    except (ValueError, AttributeError, TypeError):
        return Outcome(False, http_status=status, error="response is not the expected JSON")
    if errcode == ERRCODE_OK:
        return Outcome(True)
    return Outcome(False, retryable=errcode in ERRCODES_RETRYABLE, errcode=errcode, errmsg=errmsg)
