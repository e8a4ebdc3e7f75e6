"""Signature V3 (``ACS3-HMAC-SHA256``), exactly as alibabacloud-tea-openapi 0.4.6 signs a ROA request.

What the client does (``alibabacloud_tea_openapi/client.py`` ``do_request``, ``utils.py``
``get_authorization``; used by ``alibabacloud_fc20230330`` 4.8.3 for ``InvokeFunction``):

* headers ``host`` (the endpoint), ``x-acs-version``, ``x-acs-action``, ``x-acs-date``
  (``%Y-%m-%dT%H:%M:%SZ``, UTC), ``x-acs-signature-nonce``, ``x-acs-content-sha256`` (hex SHA-256 of the
  body), ``content-type``, ``user-agent``, ``accept``, the call's own ``x-fc-*``; with a security token also
  ``x-acs-accesskey-id`` and ``x-acs-security-token``.
* canonical request = ``METHOD\\n<pathname as sent>\\n<canonical query>\\n<canonical headers>\\n<signed
  header names>\\n<hex sha256(body)>``; the canonical query is the sorted ``key=quote(value, safe='~')``
  joined with ``&``; canonical headers are *every header it set*, lower-cased, sorted, ``name:value\\n``
  (values stripped; repeated names joined with ``,``); signed header names are those names joined by ``;``.
* ``Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<hex
  HMAC-SHA256(secret, "ACS3-HMAC-SHA256\\n" + hex sha256(canonical request))>``.

The server side here rebuilds the canonical request from what it received and the ``SignedHeaders``
list, and requires that list to cover ``host``, ``content-type`` and every ``x-acs-*`` / ``x-fc-*`` header
sent (an unsigned one could be changed on the way). ``verify`` answers the *reason* a request is refused;
the caller maps it to the API's error shape.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

ALGORITHM = "ACS3-HMAC-SHA256"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)
_AUTHORIZATION = re.compile(r"^(?P<algorithm>\S+) Credential=(?P<key>[^,]+),SignedHeaders=(?P<signed>[^,]*),"
                            r"Signature=(?P<signature>[0-9a-f]+)$")


@dataclass(frozen=True)
class Acs3Authorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


class Acs3Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def lower_headers(headers: Mapping[str, str] | object) -> dict[str, str]:
    """Received headers, names lower-cased; a repeated name's values joined as the client joins them."""
    items = headers.items() if hasattr(headers, "items") else []  # dict or http.client.HTTPMessage
    values: dict[str, list[str]] = {}
    for name, value in items:
        values.setdefault(name.lower(), []).append(str(value).strip())
    return {name: ",".join(sorted(parts)) for name, parts in values.items()}


def parse_authorization(value: str | None) -> Acs3Authorization:
    if not value:
        raise Acs3Error(400, "MissingRequiredHeader", "The request is missing the required header 'authorization'.")
    match = _AUTHORIZATION.match(value)
    if not match:
        raise Acs3Error(403, "InvalidAuthorization", "The authorization header must be 'ACS3-HMAC-SHA256 "
                        "Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<hex>'.")
    if match["algorithm"] != ALGORITHM:
        raise Acs3Error(400, "InvalidAuthorization", f"Unsupported signature algorithm {match['algorithm']!r}.")
    return Acs3Authorization(match["key"], tuple(match["signed"].split(";")) if match["signed"] else (),
                             match["signature"])


def check_date(headers: Mapping[str, str], now: datetime) -> None:
    text = headers.get("x-acs-date")
    if not text:
        raise Acs3Error(400, "MissingRequiredHeader", "The request is missing the required header 'x-acs-date'.")
    try:
        sent_at = datetime.strptime(text, DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise Acs3Error(400, "InvalidArgument", f"x-acs-date {text!r} is not yyyy-MM-ddTHH:mm:ssZ (UTC).") from None
    if abs(now - sent_at) > MAX_CLOCK_SKEW:
        raise Acs3Error(403, "RequestTimeTooSkewed", "The difference between the request time and the server's "
                        "time is too large.")


def check_signed_header_list(auth: Acs3Authorization, headers: Mapping[str, str]) -> None:
    signed = set(auth.signed_headers)
    if list(auth.signed_headers) != sorted(signed):
        raise Acs3Error(403, "SignatureNotMatch", "SignedHeaders must be lower-case names, sorted, without repeats.")
    for name in ("x-acs-content-sha256", "x-acs-signature-nonce"):
        if name not in headers:
            raise Acs3Error(400, "MissingRequiredHeader", f"The request is missing the required header {name!r}.")
    must = {"host"} | {n for n in headers if n.startswith(("x-acs-", "x-fc-")) or n == "content-type"}
    missing = sorted(must - signed)
    if missing:
        raise Acs3Error(403, "SignatureNotMatch", f"These headers must be signed: {', '.join(missing)}.")
    absent = sorted(n for n in signed if n not in headers)
    if absent:
        raise Acs3Error(403, "SignatureNotMatch", f"Signed headers missing from the request: {', '.join(absent)}.")


def canonical_query(query: str) -> str:
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{key}={urllib.parse.quote(value, safe='~', encoding='utf-8')}" for key, value in sorted(pairs))


def expected_signature(secret: str, method: str, raw_path: str, query: str, headers: Mapping[str, str],
                       signed_headers: tuple[str, ...], body: bytes) -> str:
    canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in signed_headers)
    canonical_request = "\n".join([
        method.upper(), raw_path or "/", canonical_query(query), canonical_headers, ";".join(signed_headers),
        hashlib.sha256(body).hexdigest(),  # the body received, not what the client claims it hashed
    ])
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class NonceCache:
    """A signature nonce is good once within the skew window (a replayed request is refused)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, datetime] = {}

    def use(self, nonce: str, now: datetime) -> None:
        with self._lock:
            horizon = now - 2 * MAX_CLOCK_SKEW
            if len(self._seen) > 10_000:
                self._seen = {n: t for n, t in self._seen.items() if t > horizon}
            if nonce in self._seen and self._seen[nonce] > horizon:
                raise Acs3Error(400, "SignatureNonceUsed", "The signature nonce has been used.")
            self._seen[nonce] = now
