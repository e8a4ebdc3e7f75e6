"""Function Compute's asynchronous-invocation rules in the emulator (``ecs_emulator/fc_async.py``).

A run past its timeout is killed; a failed or killed invocation is replayed up to maxAsyncRetryAttempts
times with the same event, never before the timeout has passed since the previous attempt started; an
event older than maxAsyncEventAgeInSeconds is dropped; onFailure receives what finally failed; the
replay's request id is a knob. FC's timers run on the emulator's FcClock (``time_scale``), so a 900 s
timeout takes a fraction of a second here while the order of events stays the cloud's.
"""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import pytest
import yaml

from ecs_emulator import Emulator
from ecs_emulator.fc_async import FunctionConfig
from ecs_renewal import logs
from tests.emulator.fc3_wire import sdk_request, send

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _quiet_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_default_stream", io.StringIO())


def async_call(emu: Emulator, function: str = "scan-expiring", body: bytes = b"{}"):
    answer = send(emu, sdk_request(emu, function, body, invocation_type="Async"))
    assert answer.status == 202, answer.body
    return answer


def test_defaults_are_the_documented_ones(emu: Emulator) -> None:
    config = emu.fc.config_for("renew-batch")
    assert (config.max_async_retry_attempts, config.max_async_event_age, config.async_task) == (3, 86400, False)
    assert emu.fc.enforce_timeout and not emu.fc.replay_same_request_id and emu.fc.time_scale == 1.0
    with pytest.raises(ValueError):
        FunctionConfig(max_async_retry_attempts=9)  # the API's range is 0..8


def test_a_failed_invocation_is_replayed_later_each_time_with_the_same_event(emu: Emulator) -> None:
    emu.fc.time_scale = 600
    emu.fc.configure("scan-expiring", timeout=60, max_async_retry_attempts=3)
    accepted = async_call(emu, body=b'{"window_days": 3}')  # no REGIONS configured: the handler raises
    assert emu.fc.wait_idle(30)
    runs = emu.fc.records("scan-expiring")
    assert [r.attempt for r in runs] == [1, 2, 3, 4] and {r.payload for r in runs} == {b'{"window_days": 3}'}
    assert all(later.started_at - earlier.started_at >= 60 for earlier, later in itertools.pairwise(runs))
    assert runs[0].request_id == accepted.headers["X-Fc-Request-Id"]
    assert len({r.request_id for r in runs}) == 4  # by default a replay has its own request id
    (final,) = emu.fc.destinations
    assert (final.condition, final.attempts, final.request_id) == ("RetriesExhausted", 4, runs[0].request_id)
    assert final.error["errorType"] == "InvalidEventError"


def test_replays_may_keep_the_request_id(emu: Emulator) -> None:
    emu.fc.time_scale = 600
    emu.fc.replay_same_request_id = True
    emu.fc.configure("scan-expiring", timeout=60, max_async_retry_attempts=1)
    async_call(emu)
    assert emu.fc.wait_idle(30)
    assert len({r.request_id for r in emu.fc.records("scan-expiring")}) == 1


def test_no_retries_means_one_attempt_and_the_destination(emu: Emulator) -> None:
    emu.fc.configure("scan-expiring", timeout=60, max_async_retry_attempts=0,
                     on_failure="acs:mns:cn-hangzhou:1234567890123456:/queues/failed/messages")
    async_call(emu)
    assert emu.fc.wait_idle(30)
    assert len(emu.fc.records()) == 1
    (final,) = emu.fc.destinations
    assert final.destination.endswith("/queues/failed/messages") and final.attempts == 1


def test_an_event_older_than_its_max_age_is_dropped(emu: Emulator) -> None:
    emu.fc.time_scale = 600
    # Attempt 1 at ~0 s, attempt 2 due at 60 s (age 60 <= 100), attempt 3 would be due at 120 s: dropped.
    emu.fc.configure("scan-expiring", timeout=60, max_async_retry_attempts=3, max_async_event_age=100)
    async_call(emu)
    assert emu.fc.wait_idle(30)
    assert [r.attempt for r in emu.fc.records()] == [1, 2]
    (final,) = emu.fc.destinations
    assert (final.condition, final.attempts) == ("EventExpired", 2)


def test_a_run_past_its_timeout_is_killed_and_replayed_after_the_timeout(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    emu.fc.time_scale = 100  # timeout 20 s = 0.2 s here
    emu.fc.configure("scan-expiring", timeout=20, max_async_retry_attempts=1)
    emu.faults.add("DescribeInstances", "delay", delay=0.6)  # the first run's only call: 60 emulated seconds
    async_call(emu)
    assert emu.fc.wait_idle(30)
    first, replay = emu.fc.records("scan-expiring")
    assert first.killed and first.error["errorType"] == "FunctionTimeout" and first.result is None
    assert replay.error is None and replay.started_at - first.started_at >= 20
    # The killed run's calls still reached ECS (its thread ran on). An empty fleet costs a scan three
    # DescribeInstances (the window, the all-clear's count, the DryRun that proves the empty answer): six in all.
    assert [c.action for c in emu.calls].count("DescribeInstances") == 2 * 3
    assert emu.fc.destinations == []


def test_a_sync_run_past_its_timeout_answers_the_timeout(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    emu.fc.time_scale = 100
    emu.fc.configure("scan-expiring", timeout=20)
    emu.faults.add("DescribeInstances", "delay", delay=0.5)
    answer = send(emu, sdk_request(emu))
    assert answer.status == 200 and answer.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert json.loads(answer.body)["errorType"] == "FunctionTimeout"
    assert emu.fc.wait_idle(30)  # the killed run's thread, still running, ends too
    assert emu.fc.records()[0].killed and len(emu.fc.records()) == 1


def test_the_timeout_can_be_left_unenforced(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    emu.fc.time_scale = 100
    emu.fc.enforce_timeout = False
    emu.fc.configure("scan-expiring", timeout=20)
    emu.faults.add("DescribeInstances", "delay", delay=0.3)
    assert json.loads(send(emu, sdk_request(emu)).body)["job"] == "scan-expiring"


def test_functions_are_configured_from_s_yaml(emu: Emulator) -> None:
    resources = yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8"))["resources"]
    emu.fc.configure_from_s_yaml(resources)
    renew = emu.fc.config_for("renew-batch")
    props = resources["renew-batch"]["props"]
    assert renew.timeout == props["timeout"] and renew.async_task is props["asyncInvokeConfig"]["asyncTask"]
    assert renew.max_async_retry_attempts == props["asyncInvokeConfig"]["maxAsyncRetryAttempts"]
    assert renew.max_async_event_age == props["asyncInvokeConfig"]["maxAsyncEventAgeInSeconds"]
    assert renew.delay_before_replay == renew.timeout
