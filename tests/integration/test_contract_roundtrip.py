"""``from_contract`` is ``to_contract``'s inverse over REAL job results (each job run against the emulator):
what the CLI's ``invoke`` reads back from Function Compute renders exactly as the run's own result."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ecs_renewal.contract import from_contract, to_contract
from ecs_renewal.records import SkipCode
from ecs_renewal.results.renew import RenewResult

PROD, STAGING = "2000000000000001", "2000000000000002"


def soon(hours: int = 48) -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=hours)


def round_trips(result: dict) -> None:
    data = json.loads(json.dumps(result))  # as it comes back from Function Compute
    assert to_contract(from_contract(data)) == data
    assert to_contract(from_contract(to_contract(from_contract(data)))) == data


def test_scan_results_round_trip(run, env, emulator):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    round_trips(run("scan-expiring"))  # nothing expires: the all-clear
    emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"owner": "13800138000"})
    emulator.add_instance("cn-shanghai", expired_time=soon(100), tags={"owner": "0123456789"})
    emulator.add_instance("cn-hangzhou", expired_time=soon(30), auto_renew_enabled=True, duration=1,
                          renewal_status="AutoRenewal")
    emulator.add_instance("cn-hangzhou", expired_time=soon(20), renewal_status="NotRenewal")
    emulator.faults.add(action="DescribeInstances", kind="error", status=403, code="Forbidden.RAM",
                        region="cn-shanghai", times=None)
    result = run("scan-expiring")
    assert result["expiring"] and result["errors"]
    round_trips(result)


def test_renew_results_round_trip(run, emulator):
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3))
    emulator.add_instance("cn-hangzhou", expired_time=soon(), renewal_status="NotRenewal")
    emulator.faults.add(action="RenewInstance", kind="error", status=403,
                        code="InvalidAccountStatus.NotEnoughBalance", instance_id=ids[1], times=None)
    round_trips(run("renew-batch", {"period": 2}))  # a dry run
    round_trips(run("renew-batch", {"dry_run": False, "max_instances": 2}))  # capped: the selected candidates
    round_trips(run("renew-batch", {"dry_run": False, "max_cost": 1}))  # over budget, each priced
    first = run("renew-batch", {"dry_run": False})
    assert first["renewed"] and first["failed"] and first["skipped"] and first["ledger"]
    round_trips(first)
    replay = run("renew-batch", {"dry_run": False}, request_id="req-2")  # the ledger's skips, the same refusal
    assert any(row.get("reported_at") for row in replay["failed"]) and any(r.get("ledger") for r in replay["skipped"])
    round_trips(replay)
    typed = from_contract(replay)
    assert isinstance(typed, RenewResult) and typed.failed[0].reported_at is not None
    assert {s.code for s in typed.skipped} == {SkipCode.RENEWED_EARLIER, SkipCode.OWNER_LETS_GO}


def test_a_low_funds_result_round_trips(run, emulator):
    for _ in range(2):
        emulator.add_instance("cn-hangzhou", expired_time=soon())
    emulator.set_balance(0.5)
    result = run("renew-batch", {"dry_run": False})
    assert result["funds_short"]
    round_trips(result)


def test_audit_results_round_trip(run, emulator):
    later = soon(24 * 60)
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=later) for _ in range(3))
    emulator.add_instance("cn-hangzhou", expired_time=later, renewal_status="NotRenewal")
    emulator.faults.add(action="ModifyInstanceAutoRenewAttribute", kind="error", status=403, code="Forbidden.RAM",
                        instance_id=ids[0], times=None)
    round_trips(run("audit-autorenew"))
    result = run("audit-autorenew", {"fix": True, "dry_run": False})
    assert result["drift"] and (result["fixed"] or result["failed"])
    round_trips(result)


@pytest.fixture
def accounts(emulator, env):
    roles = [(account, emulator.add_role("ecs-renewal-target", account_id=account)) for account in (PROD, STAGING)]
    missing = {"account_id": "2000000000000003", "role_arn": "acs:ram::2000000000000003:role/none"}  # no such role
    env["ACCOUNTS"] = json.dumps([*({"account_id": a, "role_arn": r} for a, r in roles), missing])


@pytest.mark.parametrize("job", ["scan-expiring", "renew-batch", "audit-autorenew"])
def test_multi_account_results_round_trip(run, emulator, accounts, job):
    for account in (PROD, PROD, PROD, STAGING):
        emulator.add_instance("cn-hangzhou", expired_time=soon(24 * 60 if job == "audit-autorenew" else 48),
                              account_id=account)
    result = run(job, {"dry_run": False, "max_instances": 2} if job == "renew-batch" else None)
    assert [entry["ok"] for entry in result["accounts"]] == [True, True, False]  # the third: no role
    assert job != "renew-batch" or result["cap_exceeded"]["accounts"] == [PROD]
    round_trips(result)


def test_a_fan_out_and_its_shards_round_trip(run, emulator, env, accounts):
    env.update(REGIONS="cn-hangzhou,cn-shanghai,cn-beijing", SHARD_SIZE="2", FC_ENDPOINT=emulator.url)
    emulator.fc.environment = {key: env[key] for key in ("REGIONS", "ECS_ENDPOINT", "STS_ENDPOINT", "ACCOUNTS",
                                                         "SHARD_SIZE", "FC_ENDPOINT")}
    for region in ("cn-hangzhou", "cn-beijing"):
        emulator.add_instance(region, expired_time=soon(), account_id=PROD)
    coordinator = run("renew-batch", {"dry_run": False}, request_id="coord-1")
    assert coordinator["coordinator"] is True and coordinator["shards"]
    round_trips(coordinator)
    assert emulator.fc.wait_idle(30)
    shards = [r.result for r in emulator.fc.records("renew-batch")]
    assert shards and all(shard.get("shard") for shard in shards)
    for shard in shards:
        round_trips(shard)


def csv_from_the_dict(result: dict) -> list[list[str]]:
    """The sheet as the contract's dict alone gives it: each list's rows, the section's columns."""
    from ecs_renewal.cli.output import SECTIONS

    sections = SECTIONS[result["job"]]
    columns = list(dict.fromkeys(c for _, section in sections for c in section))
    shown = [["outcome", *columns] if len(sections) > 1 else columns]
    for key, _ in sections:
        for row in result.get(key) or []:
            cells = ["" if row.get(c) is None else str(row.get(c)).lower() if isinstance(row.get(c), bool)
                     else str(row.get(c)) for c in columns]
            shown.append([key, *cells] if len(sections) > 1 else cells)
    return shown


def shown_from_typed_fields(run, emulator, job: str, accounts: tuple[str, ...]) -> int:
    """The CLI's CSV, table and exit status of a result read back, against what its dict says."""
    import csv
    import io

    from ecs_renewal.cli.output import exit_status, render

    later = 24 * 60 if job == "audit-autorenew" else 48
    ids = [emulator.add_instance("cn-hangzhou", expired_time=soon(later), account_id=account) for account in accounts]
    emulator.add_instance("cn-hangzhou", expired_time=soon(later), account_id=accounts[0], renewal_status="NotRenewal")
    result = json.loads(json.dumps(run(job, {"dry_run": True})))
    typed = from_contract(result)
    sheet = io.StringIO()
    render(typed, "csv", sheet)
    assert list(csv.reader(io.StringIO(sheet.getvalue()))) == csv_from_the_dict(result)  # every account's rows
    table = io.StringIO()
    render(typed, "table", table)
    main_list = {"scan-expiring": "expiring", "renew-batch": "renewed", "audit-autorenew": "drift"}[job]
    label = "would renew" if job == "renew-batch" else main_list
    assert f"{label} ({len(result[main_list])})" in table.getvalue()
    assert all(instance_id in table.getvalue() for instance_id in ids)
    return exit_status(typed)


@pytest.mark.parametrize("job", ["scan-expiring", "renew-batch", "audit-autorenew"])
def test_the_cli_shows_a_read_back_result_from_its_typed_fields(run, emulator, job):
    assert shown_from_typed_fields(run, emulator, job, ("1234567890123456",) * 3) == 0


@pytest.mark.parametrize("job", ["scan-expiring", "renew-batch", "audit-autorenew"])
def test_the_cli_shows_every_account_of_a_read_back_result(run, emulator, accounts, job):
    # 1: the third account's role cannot be assumed
    assert shown_from_typed_fields(run, emulator, job, (PROD, STAGING, STAGING)) == 1
