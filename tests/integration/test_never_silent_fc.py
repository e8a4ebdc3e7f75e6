"""Issue 14 under Function Compute's rules: a nightly run that fails for good is heard twice over — the
group gets ONE configuration message however often FC replays it, and what finally failed is delivered to
s.yaml's onFailure destination (the MNS topic a person subscribes to)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ecs_emulator import Emulator
from ecs_renewal import logs
from tests.deploy.serverless_yaml import render
from tests.emulator.fc3_wire import sdk_request, send

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"AccountID": "1234567890123456", "AccessKeyID": "placeholder", "AccessKeySecret": "placeholder"}


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.setattr(logs, "_default_stream", io.StringIO())
    with Emulator(fleet=None, renew_visibility_delay=0.1) as emulator:
        rendered = render(yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8")), {}, CONFIG)
        emulator.fc.configure_from_s_yaml(rendered["resources"])
        emulator.fc.time_scale = 3600  # replays come no earlier than the timeout: 900 s is 0.25 s here
        emulator.fc.environment.update(REGIONS="cn-hangzhou", DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url,
                                       DINGTALK_SECRET=emulator.dingtalk.secret)
        yield emulator


def test_a_broken_setting_is_one_message_and_the_last_failure_reaches_the_topic(emu: Emulator, tmp_path) -> None:
    emu.fc.environment.update(WINDOW_DAYS="0", NOTIFY_STATE_DIR=str(tmp_path))
    retries = emu.fc.config_for("renew-batch").max_async_retry_attempts
    assert send(emu, sdk_request(emu, "renew-batch", b"{}", invocation_type="Async")).status == 202
    assert emu.fc.wait_idle(60)
    runs = emu.fc.records("renew-batch")
    assert len(runs) == 1 + retries and all(r.error["errorType"] == "InvalidSettingError" for r in runs)
    (message,) = emu.dingtalk.messages  # every replay failed the same way: the group heard it once
    assert "WINDOW_DAYS" in message["markdown"]["text"]
    (final,) = emu.fc.destinations
    assert final.condition == "RetriesExhausted" and final.attempts == 1 + retries
    assert final.destination == "acs:mns:cn-hangzhou:1234567890123456:/topics/ecs-renewal-failures/messages"
