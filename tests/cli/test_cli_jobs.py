"""``python -m ecs_renewal scan | renew | audit`` against the emulator: the same job code, run here."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ecs_emulator import Emulator
from ecs_renewal.cli import build_parser, main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SOON = datetime.now(timezone.utc) + timedelta(days=3)


def add_expiring(emulator: Emulator, count: int, region: str = "cn-hangzhou", **kwargs) -> list[str]:
    return [emulator.add_instance(region, expired_time=SOON + timedelta(hours=i), **kwargs) for i in range(count)]


def test_scan_prints_a_table_and_progress(cli, emulator: Emulator) -> None:
    ids = add_expiring(emulator, 3)
    add_expiring(emulator, 2, region="cn-shanghai")
    outcome = cli("scan", "--region", "cn-hangzhou")
    assert outcome.code == 0
    assert "expiring (3)" in outcome.out and all(i in outcome.out for i in ids)
    assert "instance_id" in outcome.out.splitlines()[3]  # a header row under the headline and the title
    assert "cn-hangzhou: 3 expiring" in outcome.err and "done in" in outcome.err
    assert '"event"' not in outcome.out + outcome.err  # the JSON log lines stay out of the operator's way


def test_tables_say_auto_renew_in_plain_words_json_and_csv_keep_the_api_values(cli, emulator: Emulator) -> None:
    [on] = add_expiring(emulator, 1, auto_renew_enabled=True, duration=3)
    [off] = add_expiring(emulator, 1)
    [lapsing] = add_expiring(emulator, 1, renewal_status="NotRenewal")

    scan = cli("scan", "--region", "cn-hangzhou").out
    header, *rows = [re.split(r"\s{2,}", line.strip()) for line in scan.splitlines()[3:7]]
    column = header.index("auto_renew")
    assert {row[0]: row[column] for row in rows} == {on: "on", off: "off", lapsing: "letting it expire"}
    assert not {"AutoRenewal", "Normal", "NotRenewal"} & set(scan.split())

    audit = cli("audit", "--region", "cn-hangzhou").out  # expected: on, 1 month
    assert "expected auto-renew on, 1 month" in audit
    drift_part, skipped_part = audit.split("\nskipped (1)\n")
    drift = {line.split()[0]: line.split(None, 2)[2] for line in drift_part.splitlines() if line.startswith("  i-")}
    assert drift == {on: "on, 3 months", off: "off"}
    # the owner's NotRenewal is left alone, and the table says why in words
    assert f"{lapsing}  cn-hangzhou  the owner is letting it expire on purpose" in skipped_part
    assert "letting it expire" in cli("renew", "--region", "cn-hangzhou").out  # skipped, and why

    as_json = json.loads(cli("scan", "--region", "cn-hangzhou", "--format", "json").out)
    assert {row["instance_id"]: row["auto_renew"] for row in as_json["expiring"]} == {
        on: "AutoRenewal", off: "Normal", lapsing: "NotRenewal"}
    as_csv = list(csv.DictReader(io.StringIO(cli("audit", "--region", "cn-hangzhou", "--format", "csv").out)))
    drifted = {(r["instance_id"], r["auto_renew_enabled"], r["renewal_status"])
               for r in as_csv if r["outcome"] == "drift"}
    assert drifted == {(on, "true", "AutoRenewal"), (off, "false", "Normal")}


def test_scan_json_is_the_contracts_result(cli, emulator: Emulator) -> None:
    ids = add_expiring(emulator, 2)
    outcome = cli("scan", "--region", "cn-hangzhou,cn-shanghai", "--days", "5", "--format", "json")
    result = json.loads(outcome.out)
    assert outcome.code == 0
    assert {"job", "dry_run", "regions", "window", "errors", "expiring", "count"} <= set(result)
    assert result["job"] == "scan-expiring" and result["regions"] == ["cn-hangzhou", "cn-shanghai"]
    assert [row["instance_id"] for row in result["expiring"]] == ids and result["count"] == 2
    assert {"instance_id", "instance_name", "region", "expired_time", "status"} <= set(result["expiring"][0])


def test_csv_is_the_main_list(cli, emulator: Emulator) -> None:
    ids = add_expiring(emulator, 2)
    add_expiring(emulator, 1, tags={"renewal": "manual"})
    outcome = cli("renew", "--region", "cn-hangzhou", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(outcome.out)))
    assert sorted(r["instance_id"] for r in rows if r["outcome"] == "renewed") == sorted(ids)
    assert [r["outcome"] for r in rows].count("skipped") == 1


def test_renew_is_a_dry_run_unless_told(cli, emulator: Emulator) -> None:
    ids = add_expiring(emulator, 2)
    dry = cli("renew", "--region", "cn-hangzhou")
    assert dry.code == 0 and "DRY RUN" in dry.out and "would renew (2)" in dry.out
    assert "RenewInstance" not in emulator.calls_by_action()

    real = cli("renew", "--region", "cn-hangzhou", "--no-dry-run", "--format", "json")
    result = json.loads(real.out)
    assert real.code == 0 and result["dry_run"] is False
    assert sorted(r["instance_id"] for r in result["renewed"]) == sorted(ids)
    assert all(r["order_id"] for r in result["renewed"])
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    assert "renewed " in real.err  # progress: one line per renewal


def test_exit_1_when_an_instance_fails(cli, emulator: Emulator, monkeypatch) -> None:
    add_expiring(emulator, 1)
    monkeypatch.setenv("FUNDS_HORIZON_DAYS", "0")  # no forecast: the renewal itself meets the empty balance
    emulator.balance = 0  # RenewInstance answers InvalidAccountStatus.NotEnoughBalance
    outcome = cli("renew", "--region", "cn-hangzhou", "--no-dry-run")
    assert outcome.code == 1
    assert "failed (1)" in outcome.out and "NotEnoughBalance" in outcome.out


def test_exit_1_and_nothing_renewed_when_the_funds_do_not_cover_the_plan(cli, emulator: Emulator) -> None:
    add_expiring(emulator, 1)
    emulator.balance = 0
    outcome = cli("renew", "--region", "cn-hangzhou", "--no-dry-run")
    assert outcome.code == 1 and "LOW FUNDS" in outcome.out and "nothing was renewed" in outcome.out
    assert "RenewInstance" not in emulator.calls_by_action()


def test_exit_1_when_the_safety_cap_stops_the_run(cli, emulator: Emulator) -> None:
    add_expiring(emulator, 3)
    outcome = cli("renew", "--region", "cn-hangzhou", "--no-dry-run", "--max-instances", "2")
    assert outcome.code == 1 and "SAFETY CAP" in outcome.out
    assert "RenewInstance" not in emulator.calls_by_action()


def test_exit_1_when_a_region_fails(cli, emulator: Emulator) -> None:
    add_expiring(emulator, 1)
    # A refusal our retry policy does not retry: the region fails at once, the other goes on.
    emulator.faults.add("DescribeInstances", "error", region="cn-shanghai", status=403, code="Forbidden.RAM")
    outcome = cli("scan", "--region", "cn-hangzhou", "--region", "cn-shanghai")
    assert outcome.code == 1 and "region errors (1)" in outcome.out and "cn-shanghai: FAILED" in outcome.err


def test_audit_fix_corrects_drift(cli, emulator: Emulator) -> None:
    ids = add_expiring(emulator, 2)
    outcome = cli("audit", "--region", "cn-hangzhou", "--fix", "--no-dry-run", "--format", "json")
    result = json.loads(outcome.out)
    assert outcome.code == 0 and sorted(r["instance_id"] for r in result["fixed"]) == sorted(ids)
    assert all(emulator.instance(i).auto_renew_enabled for i in ids)


def test_event_file_then_flags(cli, emulator: Emulator, tmp_path: Path) -> None:
    add_expiring(emulator, 1)
    timer = json.dumps({"triggerTime": "2026-01-01T00:00:00Z", "triggerName": "nightly-renew",
                        "payload": json.dumps({"regions": ["cn-shanghai"], "window_days": 1})})
    (tmp_path / "timer.json").write_text(timer)
    outcome = cli("renew", "--event", str(tmp_path / "timer.json"), "--region", "cn-hangzhou", "--days", "5",
                  "--format", "json")
    result = json.loads(outcome.out)
    assert result["regions"] == ["cn-hangzhou"] and len(result["renewed"]) == 1  # the flags won


def test_alerts_go_to_the_webhook_unless_told_not_to(cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    add_expiring(emulator, 1)
    monkeypatch.setenv("DINGTALK_WEBHOOK", emulator.dingtalk.webhook_url)
    monkeypatch.setenv("DINGTALK_SECRET", emulator.dingtalk.secret)
    cli("scan", "--region", "cn-hangzhou", "--no-alerts")
    assert emulator.dingtalk.messages == []
    cli("scan", "--region", "cn-hangzhou")
    assert len(emulator.dingtalk.messages) >= 1


def test_log_file_keeps_the_json_lines(cli, emulator: Emulator, tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    cli("scan", "--region", "cn-hangzhou", "--log-file", str(log), "--quiet")
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events[0] == "job_started" and events[-1] == "job_finished"


@pytest.mark.parametrize("args, names", [
    (["scan", "--region", "nowhere-1"], "--region"),
    (["scan", "--region", "cn-hangzhou", "--days", "0"], "--days"),
    (["renew", "--region", "cn-hangzhou", "--period", "5", "--period-unit", "Week"], "--period"),
    (["audit", "--region", "cn-hangzhou", "--instance-id", "not-an-id"], "--instance-id"),
    (["scan", "--region", "cn-hangzhou", "--expired-start", "2026-01-01T00:00Z"], "expired_end"),
    (["scan", "--region", "cn-hangzhou", "--event", "/nonexistent/event.json"], "event file"),
])
def test_bad_input_exits_2_before_any_call(cli, emulator: Emulator, args: list[str], names: str) -> None:
    outcome = cli(*args)
    assert outcome.code == 2 and names in outcome.err and outcome.out == ""
    assert emulator.calls == []


def test_missing_credentials_exit_2(cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN")
    outcome = cli("scan", "--region", "cn-hangzhou")
    assert outcome.code == 2 and "security token" in outcome.err and emulator.calls == []


def test_argparse_errors_exit_2(cli) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli("scan", "--days", "many")
    assert stopped.value.code == 2


@pytest.mark.parametrize("command", ["scan", "renew", "audit", "invoke"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    assert stopped.value.code == 0 and f"ecs-renewal {command}" in capsys.readouterr().out


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in ("scan", "renew", "audit", "invoke", "emulator"))


def test_emulator_help_is_the_emulators(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["emulator", "--help"])
    assert stopped.value.code == 0 and "--port" in capsys.readouterr().out


def test_emulator_missing_is_said_clearly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ecs_emulator.__main__", None)  # as in a package without the emulator
    assert main(["emulator"]) == 2
    assert "never packaged for Function Compute" in capsys.readouterr().err


def test_python_dash_m_prints_a_table_and_the_handlers_never_import_the_cli(operator_env, emulator) -> None:
    ids = add_expiring(emulator, 1)
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "shared")}
    scan = subprocess.run([sys.executable, "-m", "ecs_renewal", "scan", "--region", "cn-hangzhou"],
                          capture_output=True, text=True, env=environment, timeout=60, check=False)
    assert scan.returncode == 0 and "expiring (1)" in scan.stdout and ids[0] in scan.stdout
    probe = ("import importlib.util, sys\n"
             "for name in ('scan-expiring', 'renew-batch', 'audit-autorenew'):\n"
             "    spec = importlib.util.spec_from_file_location('h', f'functions/{name}/index.py')\n"
             "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
             "print(sorted(m for m in sys.modules if m.startswith(('ecs_renewal.cli', 'fc2', 'ecs_emulator'))))\n")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                            env=environment, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"


def test_a_local_run_is_shown_from_its_typed_result_not_read_back_from_its_dict(cli, emulator: Emulator,
                                                                                  monkeypatch) -> None:
    """The contract's dict is made once, at the boundary: a local run's table, CSV and exit status come from
    the run's typed result (only a function's answer, which arrives as JSON, is read back)."""
    import ecs_renewal.contract as contract

    def no_read_back(_: object) -> None:
        raise AssertionError("a local run must not be read back from its dict")

    monkeypatch.setattr(contract, "from_contract", no_read_back)
    ids = add_expiring(emulator, 2)
    for fmt in ("table", "csv", "json"):
        outcome = cli("renew", "--region", "cn-hangzhou", "--format", fmt)
        assert outcome.code == 0 and all(i in outcome.out for i in ids), fmt
