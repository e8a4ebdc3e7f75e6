"""Signature v1 (HMAC-SHA1) for RPC requests, exactly as aliyun-python-sdk-core 2.16.1 computes it.

See ``shared/reference/sdk-core.md`` section 6. The server rebuilds the string-to-sign from the
parameters it received (query + form body, without ``Signature``) and the real HTTP method.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8: only ``A-Za-z0-9-_.~`` stay; space is %20, ``*`` is %2A."""
    return urllib.parse.quote(value, safe="-_.~", encoding="utf-8")


def canonical_query(params: Mapping[str, str]) -> str:
    # The SDK sorts by the raw key (code point order) before encoding.
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    signed = {k: v for k, v in params.items() if k != "Signature"}
    return f"{method.upper()}&%2F&{percent_encode(canonical_query(signed))}"


def sign(string: str, access_key_secret: str) -> str:
    digest = hmac.new(f"{access_key_secret}&".encode(), string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_query(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """A complete wire query string (handy for tests and raw clients): params + ``Signature``."""
    signature = sign(string_to_sign(method, params), access_key_secret)
    pairs = [*params.items(), ("Signature", signature)]
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def signatures_equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
