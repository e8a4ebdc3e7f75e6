"""DingTalk robot sink, the admin endpoint, and the standalone CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from emu_sdk import Sdk

from ecs_emulator import Emulator, dingtalk_sign

TEXT = {"msgtype": "text", "text": {"content": "3 instances renewed"}}
ROOT = Path(__file__).resolve().parents[2]


def post(emu: Emulator, message: object, *, timestamp: int | None = None, secret: str | None = None,
         token: str | None = None, content_type: str = "application/json", signed: bool = True) -> dict:  # fmt: skip
    timestamp = int(time.time() * 1000) if timestamp is None else timestamp
    url = f"{emu.url}/robot/send?access_token={token or emu.dingtalk.access_token}"
    if signed:
        sign = urllib.parse.quote_plus(dingtalk_sign(secret or emu.dingtalk.secret, timestamp))
        url += f"&timestamp={timestamp}&sign={sign}"
    data = message if isinstance(message, bytes) else json.dumps(message).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200  # always, even on failure
        return json.loads(response.read())


def test_reference_test_vector() -> None:
    assert dingtalk_sign("SEC0123456789abcdef", 1700000000000) == "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk="


def test_signed_message_is_accepted_and_recorded(emu: Emulator) -> None:
    assert emu.dingtalk.webhook_url.startswith(f"{emu.url}/robot/send?access_token=")
    assert emu.dingtalk.secret.startswith("SEC")
    assert post(emu, TEXT) == {"errcode": 0, "errmsg": "ok"}
    markdown = {"msgtype": "markdown", "markdown": {"title": "renewals", "text": "## done"}, "at": {"isAtAll": False}}
    assert post(emu, markdown)["errcode"] == 0
    assert emu.dingtalk.messages == [TEXT, markdown]


@pytest.mark.parametrize(
    ("kwargs", "errcode", "errmsg"),
    [
        ({"secret": "SECwrong"}, 310000, "sign not match"),
        ({"timestamp": int(time.time() * 1000) - 2 * 3600 * 1000}, 310000, "invalid timestamp"),
        ({"signed": False}, 310000, "invalid timestamp"),
        ({"token": "0" * 10}, 300001, "token is not exist"),
    ],
)
def test_auth_failures(emu: Emulator, kwargs: dict, errcode: int, errmsg: str) -> None:
    assert post(emu, TEXT, **kwargs) == {"errcode": errcode, "errmsg": errmsg}
    assert emu.dingtalk.messages == [] and emu.dingtalk.rejected[-1].errcode == errcode


def test_unencoded_sign_is_rejected(emu: Emulator) -> None:
    # A raw base64 sign with '+' turns into a space once the server URL-decodes the query.
    now = int(time.time() * 1000)
    timestamp = next(t for t in range(now, now + 1000) if "+" in dingtalk_sign(emu.dingtalk.secret, t))
    raw = dingtalk_sign(emu.dingtalk.secret, timestamp)
    url = f"{emu.dingtalk.webhook_url}&timestamp={timestamp}&sign={raw}"
    request = urllib.request.Request(url, data=json.dumps(TEXT).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"errcode": 310000, "errmsg": "sign not match"}


@pytest.mark.parametrize(
    ("message", "content_type", "errcode"),
    [
        (TEXT, "text/plain", 43004),
        (b"{not json", "application/json", 40035),
        ({"msgtype": "voice", "voice": {}}, "application/json", 40035),
        ({"msgtype": "markdown", "markdown": {"text": "no title"}}, "application/json", 40035),
    ],
)
def test_message_validation(emu: Emulator, message: object, content_type: str, errcode: int) -> None:
    assert post(emu, message, content_type=content_type)["errcode"] == errcode
    assert emu.dingtalk.messages == []


def test_rate_limit_blocks_and_knobs(emu: Emulator) -> None:
    emu.dingtalk.rate_limit_per_minute = 3
    codes = [post(emu, TEXT)["errcode"] for _ in range(5)]
    assert codes == [0, 0, 0, 130101, 130101]
    emu.dingtalk.reset()
    emu.dingtalk.rate_limit_per_minute = None
    assert all(post(emu, TEXT)["errcode"] == 0 for _ in range(25))
    emu.dingtalk.fail_next(2, errcode=-1, errmsg="system busy")
    assert [post(emu, TEXT)["errcode"] for _ in range(3)] == [-1, -1, 0]
    emu.dingtalk.delay = 0.2
    started = time.monotonic()
    post(emu, TEXT)
    assert time.monotonic() - started >= 0.2


def test_admin_state_and_unknown_path(sdk: Sdk, emu: Emulator) -> None:
    emu.add_instance("cn-hangzhou", expired_time="2030-01-01T16:00Z")
    post(emu, TEXT)
    status, state = sdk.send("GET", "/_emulator/state")
    assert status == 200
    assert state["instance_counts"] == {"cn-hangzhou": {"PrePaid": 1}}
    assert state["dingtalk_messages"] == [TEXT] and state["url"] == emu.url
    status, body = sdk.send("GET", "/nowhere")
    assert (status, body["Code"]) == (404, "InvalidPath.NotFound")


def test_cli_prints_exports_and_serves(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.json"
    Emulator(fleet=None).save_fleet(fleet)  # an empty fleet file loads too
    process = subprocess.Popen(
        [sys.executable, "-m", "ecs_emulator", "--port", "0", "--fleet", str(fleet), "--renew-delay", "0"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "shared"), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        while not any(line.startswith("Ctrl-C") for line in lines):
            lines.append(process.stdout.readline().strip())
            assert lines[-1] or process.poll() is None
        url = lines[0].rsplit(" ", 1)[1]
        text = "\n".join(lines)
        for name in ("ECS_ENDPOINT", "STS_ENDPOINT", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_SECURITY_TOKEN",
                     "DINGTALK_WEBHOOK", "DINGTALK_SECRET"):  # fmt: skip
            assert f"{name}=" in text
        with urllib.request.urlopen(f"{url}/_emulator/state", timeout=5) as response:
            assert json.loads(response.read())["instances"] == []
    finally:
        process.terminate()
        process.wait(timeout=5)
