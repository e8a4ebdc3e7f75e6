"""The emulator's OSS subset, driven by oss2 itself: PutObject, GetObject, signed URLs, signatures checked."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import oss2
import pytest

from ecs_emulator.oss import sign_v1
from ecs_renewal.approval.store import OssStore

BUCKET = "ecs-renewal-approvals"


@pytest.fixture
def store(emu) -> OssStore:
    emu.oss.create_bucket(BUCKET)
    return OssStore(BUCKET, emu.url, emu.function_credentials)


def test_put_get_and_put_if_absent_through_oss2(store, emu) -> None:
    assert store.get("plans/a.json") is None
    store.put("plans/a.json", b'{"a": 1}')
    assert store.get("plans/a.json") == b'{"a": 1}'
    assert store.put_if_absent("decisions/a.json", b"first") is True
    assert store.put_if_absent("decisions/a.json", b"second") is False  # 409 FileAlreadyExists
    assert store.get("decisions/a.json") == b"first"
    assert emu.oss.object(BUCKET, "plans/a.json").content_type == "application/json"


def test_a_signed_url_reads_the_object_until_it_expires(store) -> None:
    store.put("pages/expiry.html", b"<html>timeline</html>", content_type="text/html")
    url = store.signed_url("pages/expiry.html", 60)
    assert "security-token=" in url and "Signature=" in url  # STS: the token travels in the URL
    with urllib.request.urlopen(url, timeout=5) as answer:
        assert answer.read() == b"<html>timeline</html>"
    with pytest.raises(urllib.error.HTTPError) as forged:
        urllib.request.urlopen(url.replace("Expires=", "Expires=1"), timeout=5)
    assert forged.value.code == 403
    expired = store.bucket.sign_url("GET", "pages/expiry.html", -1, slash_safe=True)
    with pytest.raises(urllib.error.HTTPError) as late:
        urllib.request.urlopen(expired, timeout=5)
    assert late.value.code == 403 and b"expired" in late.value.read()


def test_wrong_secret_wrong_token_and_missing_bucket_are_refused(store, emu) -> None:
    creds = emu.function_credentials
    wrong = OssStore(BUCKET, emu.url, SimpleNamespace(access_key_id=creds.access_key_id,
                                                      access_key_secret="not-the-secret",
                                                      security_token=creds.security_token))
    with pytest.raises(oss2.exceptions.ServerError) as bad_signature:
        wrong.put("x", b"1")
    assert bad_signature.value.code == "SignatureDoesNotMatch"
    no_token = oss2.Bucket(oss2.Auth(creds.access_key_id, creds.access_key_secret), emu.url, BUCKET)
    with pytest.raises(oss2.exceptions.ServerError) as missing_token:
        no_token.put_object("x", b"1")
    assert missing_token.value.code == "InvalidSecurityToken"
    elsewhere = OssStore("not-created", emu.url, creds)
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        elsewhere.put("x", b"1")
    assert emu.oss.object(BUCKET, "x") is None


def test_our_v1_string_to_sign_agrees_with_oss2s_signer() -> None:
    """The emulator computes the signature itself (oss.py, from the documented string to sign): it must agree
    with what oss2 sends, x-oss-* headers and the security-token sub-resource included."""
    auth = oss2.StsAuth("STS.key", "secret-of-the-key", "token-of-the-session")
    request = oss2.http.Request("PUT", "http://127.0.0.1/b/plans/x.json", data=b"{}",
                                headers={"Content-Type": "application/json", "x-oss-forbid-overwrite": "true",
                                         "Content-MD5": "mZFLkyvTelC5g8XnyQrpOw=="})
    auth._sign_request(request, "b", "plans/x.json")
    headers = {name.lower(): value for name, value in request.headers.items()}
    signature = headers["authorization"].rsplit(":", 1)[1]
    assert sign_v1("secret-of-the-key", "PUT", "b", "plans/x.json", {}, headers, headers["date"]) == signature
    url = auth._sign_url(oss2.http.Request("GET", "http://127.0.0.1/b/p.html"), "b", "p.html", 60)
    from urllib.parse import parse_qsl, urlsplit

    params = dict(parse_qsl(urlsplit(url).query))
    assert sign_v1("secret-of-the-key", "GET", "b", "p.html", params, {}, params["Expires"]) == params["Signature"]


def test_a_request_dated_far_from_the_clock_is_refused(emu, store, monkeypatch) -> None:
    monkeypatch.setattr(oss2.utils, "http_date", lambda: time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                                                       time.gmtime(time.time() - 3600)))
    with pytest.raises(oss2.exceptions.ServerError) as skewed:
        store.put("late", b"1")
    assert skewed.value.code == "RequestTimeTooSkewed"
