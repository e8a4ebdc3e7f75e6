"""renew-batch under Function Compute's real replay rules: killed at its timeout, replayed *later*.

The emulator's Function Compute is configured from s.yaml (renew-batch: timeout 900 s, 2 retries) and
its clock runs 1800x, so the 900 s timeout is half a second here. A RenewInstance answer held back
for 1.5 s (the renewal is applied at once) keeps the run past its timeout: it is killed after renewing,
and replayed no earlier than 900 (emulated) seconds after it started — by when every renewal it made
is visible. The replay must see that state and renew nothing again.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from ecs_emulator import Emulator
from ecs_renewal import logs
from tests.emulator.fc3_wire import sdk_request, send

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 900  # s.yaml's renew-batch timeout (checked below)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    monkeypatch.setattr(logs, "_default_stream", io.StringIO())
    with Emulator(fleet=None, renew_visibility_delay=0.1) as emulator:
        resources = yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8"))["resources"]
        emulator.fc.configure_from_s_yaml(resources)
        assert emulator.fc.config_for("renew-batch").timeout == TIMEOUT
        emulator.fc.time_scale = 1800
        emulator.fc.environment["REGIONS"] = "cn-hangzhou"
        yield emulator


def killed_then_replayed(emu: Emulator, *, name_the_instances: bool) -> tuple[list, list[str]]:
    soon = datetime.now(timezone.utc) + timedelta(days=3)
    ids = [emu.add_instance("cn-hangzhou", expired_time=soon) for _ in range(3)]
    emu.faults.add("RenewInstance", "delay", delay=1.5, after=2)  # the 3rd renewal's answer: 2700 emulated s
    event = {"dry_run": False, **({"instance_ids": ids} if name_the_instances else {"window_days": 7})}
    assert send(emu, sdk_request(emu, "renew-batch", json.dumps(event).encode(), invocation_type="Async")).status \
        == 202
    assert emu.fc.wait_idle(60)
    runs = emu.fc.records("renew-batch")
    first, replay = runs[0], runs[1]
    assert first.killed and first.error["errorType"] == "FunctionTimeout"
    assert replay.started_at - first.started_at >= TIMEOUT and replay.error is None
    return runs, ids


@pytest.mark.parametrize("same_request_id", [False, True], ids=["new-request-id", "same-request-id"])
def test_a_late_replay_of_a_timer_run_sees_the_renewals_and_renews_nothing_again(emu: Emulator,
                                                                                 same_request_id: bool) -> None:
    emu.fc.replay_same_request_id = same_request_id  # the docs don't say which: the product holds either way
    runs, ids = killed_then_replayed(emu, name_the_instances=False)
    assert (runs[1].request_id == runs[0].request_id) is same_request_id
    assert len(runs) == 2  # the replay succeeded: no third attempt
    assert runs[1].result["renewed"] == []  # every instance's new expiry is visible: out of the window
    assert [emu.renewal_count(i) for i in ids] == [1, 1, 1]


def test_a_late_replay_of_an_explicit_instance_list_renews_nothing_again(emu: Emulator) -> None:
    # Named instances are renewed whatever their expiry; the replay sees the new expiry, derives a new
    # ClientToken from it: only the renewal ledger (the instances' tags) stops it from paying again.
    runs, ids = killed_then_replayed(emu, name_the_instances=True)
    assert [emu.renewal_count(i) for i in ids] == [1, 1, 1]
    replay = runs[1].result
    assert replay["renewed"] == [] and sorted(s["instance_id"] for s in replay["skipped"]) == sorted(ids)
    assert all(s["reason"].startswith("renewed by ecs-renewal at ") for s in replay["skipped"])
