"""Request authentication: signature v1, nonces, timestamps, STS tokens — through the real SDK."""

from __future__ import annotations

import http.client
import string
from datetime import timedelta

import pytest
from aliyunsdkcore.auth.composer import rpc_signature_composer
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest
from emu_sdk import Sdk, ecs_params
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_emulator import Credentials, Emulator, string_to_sign
from ecs_emulator.clock import format_second, utcnow
from ecs_emulator.signing import percent_encode, sign, signed_query

_KEYS = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=12)
_VALUES = st.text(max_size=30)  # any unicode: spaces, '*', '~', '/', CJK, emoji


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=8), st.sampled_from(["GET", "POST"]))
def test_string_to_sign_matches_the_sdk_byte_for_byte(params: dict[str, str], method: str) -> None:
    sdk_params = {k: v for k, v in params.items() if k != "Signature"}
    # The composer adds Timestamp, nonce, ... to the dict it is given, then signs the whole set.
    _, sdk_string = rpc_signature_composer.get_signed_url(sdk_params, "AKID", "secret", "JSON", method, {})
    assert string_to_sign(method, sdk_params) == sdk_string
    assert sign(sdk_string, "secret") == sdk_params["Signature"]


def test_valid_sts_signed_call_is_accepted_and_logged(sdk: Sdk, emu: Emulator) -> None:
    body = sdk.call(DescribeRegionsRequest())
    assert body["RequestId"]
    assert len(body["Regions"]["Region"]) >= 20
    record = emu.calls[-1]
    assert (record.action, record.http_status, record.code, record.applied) == ("DescribeRegions", 200, None, True)
    assert record.access_key_id == emu.function_credentials.access_key_id
    assert record.had_security_token and record.role_arn == emu.default_role_arn
    assert "Signature" not in record.params


def test_static_key_is_accepted_for_ecs_but_visible_in_the_call_log(sdk: Sdk, emu: Emulator) -> None:
    sdk.call(DescribeRegionsRequest(), creds=emu.static_key)
    record = emu.calls[-1]
    assert record.http_status == 200
    assert record.access_key_id.startswith("LTAI-emu-")
    assert not record.had_security_token and record.role_arn is None


def test_wrong_secret_surfaces_as_invalid_access_key_secret(sdk: Sdk, emu: Emulator) -> None:
    creds = emu.function_credentials
    wrong = Credentials(creds.access_key_id, "not-the-secret", creds.security_token, creds.expiration)
    error = sdk.error(DescribeRegionsRequest(), creds=wrong)
    # The server said SignatureDoesNotMatch with its string-to-sign; it equals the SDK's, so the SDK rewrites it.
    assert (error.http_status, error.error_code) == (400, "InvalidAccessKeySecret")
    assert emu.calls[-1].code == "SignatureDoesNotMatch"


def test_tampered_parameter_is_rejected_with_the_server_string_to_sign(sdk: Sdk, emu: Emulator) -> None:
    status, body, _ = sdk.raw(ecs_params("DescribeInstances", PageSize="10"), tamper={"PageSize": "100"})
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert body["Message"].split(":", 1)[1].startswith("POST&%2F&AccessKeyId%3D")
    assert "PageSize%3D100" in body["Message"]
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert emu.calls[-1].code == "SignatureDoesNotMatch" and not emu.calls[-1].applied


def hand_signed_params(creds: Credentials, nonce: str, timestamp: str | None = None) -> dict[str, str]:
    """DescribeRegions with every parameter the SDK would add, ready for ``signed_query``."""
    return {
        **ecs_params("DescribeRegions"),
        "AccessKeyId": creds.access_key_id,
        "SecurityToken": creds.security_token,
        "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce,
        "Timestamp": format_second(utcnow()) if timestamp is None else timestamp,
    }


def test_signature_covers_the_http_method(sdk: Sdk) -> None:
    params = hand_signed_params(sdk.emu.function_credentials, "n-method-test")
    query = signed_query("POST", params, sdk.emu.function_credentials.access_key_secret)
    status, body = sdk.send("GET", "/?" + query)  # signed for POST, sent as GET
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_get_and_form_body_params_are_signed_too(sdk: Sdk) -> None:
    creds = sdk.emu.function_credentials
    params = hand_signed_params(creds, "n-get-test")
    assert sdk.send("GET", "/?" + signed_query("GET", params, creds.access_key_secret))[0] == 200
    # The same request with AcceptLanguage moved into a form body: signed over query + body.
    params["SignatureNonce"] = "n-form-test"
    full = {**params, "AcceptLanguage": "en-US"}
    query = signed_query("POST", full, creds.access_key_secret)
    signature = query.rsplit("&Signature=", 1)[1]
    query_only = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
    status, body = sdk.send(
        "POST",
        f"/?{query_only}&Signature={signature}",
        body=b"AcceptLanguage=en-US",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200
    assert body["Regions"]["Region"][0]["LocalName"].isascii()


def test_replayed_nonce_is_rejected(sdk: Sdk) -> None:
    status, _, url = sdk.raw(ecs_params("DescribeRegions"))
    assert status == 200
    status, body = sdk.send("POST", url)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")


@pytest.mark.parametrize(
    ("timestamp", "code"),
    [
        (lambda: format_second(utcnow() - timedelta(minutes=16)), "InvalidTimeStamp.Expired"),
        (lambda: format_second(utcnow() + timedelta(minutes=16)), "InvalidTimeStamp.Expired"),
        (lambda: utcnow().strftime("%Y-%m-%dT%H:%MZ"), "InvalidTimeStamp.Format"),
    ],
)
def test_timestamp_must_be_current_and_well_formed(sdk: Sdk, timestamp, code: str) -> None:
    creds = sdk.emu.function_credentials
    params = hand_signed_params(creds, "n-" + code, timestamp())
    status, body = sdk.send("POST", "/?" + signed_query("POST", params, creds.access_key_secret))
    assert (status, body["Code"]) == (400, code)


def test_missing_signature_and_unknown_key(sdk: Sdk) -> None:
    status, body = sdk.send("POST", "/?Action=DescribeRegions&Version=2014-05-26&RegionId=cn-hangzhou")
    assert (status, body["Code"]) == (400, "MissingAccessKeyId")
    status, body, _ = sdk.raw(ecs_params("DescribeRegions"), key_id="STS.nobody")
    assert (status, body["Code"]) == (404, "InvalidAccessKeyId.NotFound")


def test_sts_key_without_security_token_is_rejected(sdk: Sdk, emu: Emulator) -> None:
    creds = emu.function_credentials
    # An AccessKey-pair client sends no SecurityToken (what happens when env keys win, trap 3).
    client = AcsClient(creds.access_key_id, creds.access_key_secret, "cn-hangzhou", auto_retry=False)
    error = sdk.error(DescribeRegionsRequest(), client=client)
    assert (error.http_status, error.error_code) == (400, "InvalidSecurityToken.Malformed")
    assert not emu.calls[-1].had_security_token


def test_sts_key_with_another_sessions_token_is_rejected(sdk: Sdk, emu: Emulator) -> None:
    mine, other = emu.function_credentials, emu.issue_sts_credentials()
    mixed = Credentials(mine.access_key_id, mine.access_key_secret, other.security_token, mine.expiration)
    error = sdk.error(DescribeRegionsRequest(), creds=mixed)
    assert (error.http_status, error.error_code) == (400, "InvalidSecurityToken.MismatchWithAccessKey")


def test_expired_sts_credentials(sdk: Sdk, emu: Emulator) -> None:
    expired = emu.issue_sts_credentials(ttl_seconds=-1)
    error = sdk.error(DescribeRegionsRequest(), creds=expired)
    assert (error.http_status, error.error_code) == (400, "InvalidSecurityToken.Expired")
    fresh = emu.issue_sts_credentials()
    sdk.call(DescribeRegionsRequest(), creds=fresh)
    emu.expire_credentials(fresh)
    assert sdk.error(DescribeRegionsRequest(), creds=fresh).error_code == "InvalidSecurityToken.Expired"


def test_format_xml_is_refused(sdk: Sdk) -> None:
    creds = sdk.emu.function_credentials
    url, _ = rpc_signature_composer.get_signed_url(
        {**ecs_params("DescribeRegions"), "SecurityToken": creds.security_token},
        creds.access_key_id,
        creds.access_key_secret,
        "XML",
        "POST",
        {},
    )
    status, body = sdk.send("POST", url)
    assert (status, body["Code"]) == (400, "InvalidParameter.Format")


def test_unknown_region_action_and_version(sdk: Sdk) -> None:
    assert sdk.error(DescribeRegionsRequest(), region="cn-atlantis").error_code == "InvalidRegionId.NotFound"
    status, body, _ = sdk.raw(ecs_params("RebootEverything"))
    assert (status, body["Code"]) == (404, "InvalidAction.NotFound")
    status, body, _ = sdk.raw({**ecs_params("DescribeRegions"), "Version": "2099-01-01"})
    assert (status, body["Code"]) == (400, "InvalidVersion")


def test_response_headers_and_keep_alive(sdk: Sdk) -> None:
    host, port = sdk.emu.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        for _ in range(3):  # one connection, several requests
            connection.request("POST", _fresh_url(sdk))
            response = connection.getresponse()
            payload = response.read()
            assert response.status == 200
            assert response.getheader("Content-Type") == "application/json;charset=utf-8"
            assert int(response.getheader("Content-Length")) == len(payload)
            assert response.getheader("Connection") == "keep-alive"
    finally:
        connection.close()


def _fresh_url(sdk: Sdk) -> str:
    creds = sdk.emu.function_credentials
    url, _ = rpc_signature_composer.get_signed_url(
        {**ecs_params("DescribeRegions"), "SecurityToken": creds.security_token},
        creds.access_key_id,
        creds.access_key_secret,
        "JSON",
        "POST",
        {},
    )
    return url


def test_describe_instances_rejects_a_duplicated_parameter(sdk: Sdk) -> None:
    status, body = sdk.send("POST", _fresh_url(sdk) + "&RegionId=cn-shanghai")
    assert (status, body["Code"]) == (400, "InvalidParameter.Duplicate")


def test_every_request_is_logged_even_rejected_ones(sdk: Sdk, emu: Emulator) -> None:
    emu.reset_calls()
    sdk.call(DescribeInstancesRequest())
    sdk.send("POST", "/?Action=DescribeInstances")
    sdk.error(DescribeInstancesRequest(), creds=emu.issue_sts_credentials(ttl_seconds=-5))
    assert emu.calls_by_action() == {"DescribeInstances": 3}
    assert [c.http_status for c in emu.calls] == [200, 400, 400]
