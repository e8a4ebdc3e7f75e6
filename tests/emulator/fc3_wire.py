"""FC 3.0 requests exactly as ``alibabacloud_fc20230330`` builds and signs them, captured at the transport
(``DaraCore.do_action``) instead of sent, so a test can hand them to the emulator as they are or tampered."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import pytest

from ecs_emulator import Emulator
from ecs_renewal.credentials import Credentials
from ecs_renewal.gateway.fc import Fc3Client, FcInvokeError


class Captured(Exception):
    pass


@dataclass
class Wire:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


def sdk_request(emu: Emulator, function: str = "scan-expiring",
                body: bytes = b"{}", *, key=None, secret=None, token=None, invocation_type="Sync",
                qualifier=None, task_id=None) -> Wire:
    """What the real client would put on the wire (captured instead of sent)."""
    from darabonba.core import DaraCore

    creds = emu.function_credentials
    seen: list[Wire] = []

    def capture(request, runtime=None):
        query = urllib.parse.urlencode({k: str(v) for k, v in (request.query or {}).items() if v is not None})
        payload = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        seen.append(Wire(request.method, request.pathname, query, dict(request.headers), payload))
        raise Captured

    client = Fc3Client(Credentials(key or creds.access_key_id, secret or creds.access_key_secret,
                                   creds.security_token if token is None else (token or None), "test"),
                       emu.url, 30)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(FcInvokeError):
        patch.setattr(DaraCore, "do_action", staticmethod(capture))
        client.invoke(function, body, invocation_type=invocation_type, qualifier=qualifier, task_id=task_id)
    (wire,) = seen
    return wire


def send(emu: Emulator, wire: Wire, **changes):
    headers = {**wire.headers, **changes.pop("headers", {})}
    for name in changes.pop("drop", ()):
        headers.pop(name)
    return emu.fc.handle(wire.method, changes.get("path", wire.path), changes.get("query", wire.query), headers,
                         changes.get("body", wire.body))


