"""``ecs-renewal plan --out`` and ``ecs-renewal apply``: a signed file, applied exactly; a tampered one: nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ecs_emulator import Emulator

SECRET = "cli-approval-secret-0123456789abcdef"


def add_expiring(emulator: Emulator, count: int) -> list[str]:
    return sorted(emulator.add_instance("cn-hangzhou", expired_time=datetime.now(UTC) + timedelta(days=3))
                  for _ in range(count))


@pytest.fixture
def signed(monkeypatch):
    monkeypatch.setenv("APPROVAL_SECRET", SECRET)
    monkeypatch.setenv("REGIONS", "cn-hangzhou")


def test_plan_writes_a_signed_file_with_a_table_and_totals_and_renews_nothing(cli, emulator, signed, tmp_path):
    ids = add_expiring(emulator, 2)
    out = tmp_path / "plan.json"
    done = cli("plan", "--out", str(out), "--quiet")
    assert done.code == 0, done.err
    document = json.loads(out.read_text())
    assert [e["instance_id"] for e in document["entries"]] == ids and len(document["signature"]) == 64
    assert all(i in done.out for i in ids) and "total" in done.out and document["plan_id"] in done.out
    assert not [c for c in emulator.calls if c.action == "RenewInstance"]


def test_apply_renews_exactly_the_file_then_nothing_twice(cli, emulator, signed, tmp_path, monkeypatch):
    planned = add_expiring(emulator, 2)
    out = tmp_path / "plan.json"
    assert cli("plan", "--out", str(out), "--quiet").code == 0
    outside = add_expiring(emulator, 1)[0]
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("APPROVAL_STORE_DIR", str(tmp_path / "store"))
    first = cli("apply", str(out))
    assert first.code == 0 and "2 renewed" in first.out, first.out + first.err
    assert sorted(c.params["InstanceId"] for c in emulator.calls if c.action == "RenewInstance") == planned
    assert emulator.renewal_count(outside) == 0
    second = cli("apply", str(out))
    assert "0 renewed, 2 already renewed" in second.out
    assert all(emulator.renewal_count(i) == 1 for i in planned)


def test_a_tampered_or_foreign_plan_file_applies_nothing(cli, emulator, signed, tmp_path, monkeypatch):
    add_expiring(emulator, 1)
    out = tmp_path / "plan.json"
    assert cli("plan", "--out", str(out), "--quiet").code == 0
    document = json.loads(out.read_text())
    document["entries"][0]["price"] = 0.5
    out.write_text(json.dumps(document))
    monkeypatch.setenv("DRY_RUN", "false")
    emulator.reset_calls()
    tampered = cli("apply", str(out))
    assert tampered.code == 2 and "PlanSignatureMismatch" in tampered.err
    assert emulator.calls == []
    missing = cli("apply", "0" * 32)
    assert missing.code == 2 and "no plan" in missing.err


def test_plan_without_a_secret_is_bad_input(cli, emulator, monkeypatch, tmp_path):
    monkeypatch.delenv("APPROVAL_SECRET", raising=False)
    done = cli("plan", "--out", str(tmp_path / "p.json"), "--region", "cn-hangzhou")
    assert done.code == 2 and "APPROVAL_SECRET" in done.err
