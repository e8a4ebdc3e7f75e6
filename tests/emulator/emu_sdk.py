"""Helpers for the emulator's tests: call it through the real Alibaba Cloud SDK (or sign by hand)."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from datetime import datetime, timedelta

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.auth.composer import rpc_signature_composer
from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import RpcRequest

from ecs_emulator import Credentials, Emulator, StaticKey
from ecs_emulator.clock import to_minute, utcnow


def build(request_class: type[RpcRequest], **params: object) -> RpcRequest:
    """A request of the SDK's own class with query params set (what its set_X methods do)."""
    request = request_class()
    for name, value in params.items():
        request.add_query_param(name.replace("_", "."), value)
    return request


class Sdk:
    """Calls the emulator with the real SDK (no SDK retries unless asked)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def client(
        self,
        region: str = "cn-hangzhou",
        creds: Credentials | StaticKey | None = None,
        auto_retry: bool = False,
        **kwargs: object,
    ) -> AcsClient:
        creds = creds or self.emu.function_credentials
        if isinstance(creds, StaticKey):
            return AcsClient(creds.access_key_id, creds.access_key_secret, region, auto_retry=auto_retry, **kwargs)
        credential = StsTokenCredential(creds.access_key_id, creds.access_key_secret, creds.security_token)
        return AcsClient(region_id=region, credential=credential, auto_retry=auto_retry, **kwargs)

    def call(self, request: RpcRequest, region: str = "cn-hangzhou", client: AcsClient | None = None, **kw) -> dict:
        request.set_endpoint(self.emu.url)
        return json.loads((client or self.client(region, **kw)).do_action_with_exception(request))

    def error(self, request: RpcRequest, region: str = "cn-hangzhou", **kw) -> ServerException:
        with pytest.raises(ServerException) as caught:
            self.call(request, region, **kw)
        return caught.value

    def raw(
        self,
        params: dict[str, str],
        *,
        key_id: str | None = None,
        secret: str | None = None,
        method: str = "POST",
        tamper: dict[str, str] | None = None,
    ) -> tuple[int, dict, str]:
        """Sign with the SDK's own composer, optionally change params after signing, send by hand.

        Returns (HTTP status, body, the wire query that was sent).
        """
        creds = self.emu.function_credentials
        signed = dict(params)
        signed.setdefault("SecurityToken", creds.security_token)
        url, _ = rpc_signature_composer.get_signed_url(
            signed, key_id or creds.access_key_id, secret or creds.access_key_secret, "JSON", method, {}
        )
        if tamper:
            pairs = urllib.parse.parse_qsl(url[2:], keep_blank_values=True)
            pairs = [(k, tamper.get(k, v)) for k, v in pairs]
            url = "/?" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
        return (*self.send(method, url), url)

    def send(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, dict]:
        host, port = self.emu.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()


def ecs_params(action: str, region: str = "cn-hangzhou", **params: str) -> dict[str, str]:
    return {"Action": action, "Version": "2014-05-26", "RegionId": region, **params}


def in_minutes(minutes: int, base: datetime | None = None) -> datetime:
    return to_minute(base or utcnow()) + timedelta(minutes=minutes)
