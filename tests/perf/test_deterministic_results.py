"""Results do not depend on the interleaving: 8 regions x 8 renewals at once give what 1 x 1 gives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ecs_emulator import Emulator

REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1")
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)


def populate(emulator: Emulator) -> None:
    """The same fleet, same ids, in any emulator: expiring, drifting, owner choices, tags, a failure."""
    for r, region in enumerate(REGIONS):
        for n in range(30):
            kind = n % 6
            emulator.add_instance(
                region, instance_id=f"i-{region.replace('-', '')[:6]}{n:08d}",
                expired_time=NOW + timedelta(days=1 + (n % 5), minutes=r) if kind != 5 else NOW + timedelta(days=90),
                renewal_status={1: "NotRenewal", 2: "AutoRenewal"}.get(kind, "Normal"),
                auto_renew_enabled=kind == 2, duration=1 if kind == 2 else 0,
                tags={"renewal": "manual"} if kind == 3 else None,
            )
    emulator.faults.add("RenewInstance", instance_id=f"i-{REGIONS[1].replace('-', '')[:6]}{4:08d}",
                        code="InvalidAccountStatus.NotEnoughBalance", status=403, times=None)
    emulator.faults.latency = 0.002  # calls overlap for real


def without_order_ids(result: dict[str, Any]) -> dict[str, Any]:
    copy = dict(result)
    copy["renewed"] = [{k: v for k, v in row.items() if k != "order_id"} for row in result.get("renewed", [])]
    return copy


def run_in_fresh_emulator(run_factory, concurrency: int, function: str, event: dict) -> dict[str, Any]:
    with Emulator(fleet=None, renew_visibility_delay=1.0) as emulator:
        populate(emulator)
        return run_factory(emulator, concurrency)(function, event)


@pytest.fixture
def run_with(env, monkeypatch):
    from tests.handlers import fc_context, invoke

    def factory(emulator: Emulator, concurrency: int):
        env.update(REGIONS=",".join(REGIONS), ECS_ENDPOINT=emulator.url, STS_ENDPOINT=emulator.url,
                   REGION_CONCURRENCY=str(concurrency), RENEW_CONCURRENCY=str(concurrency), MAX_RENEWALS="500")

        def call(function: str, event: dict) -> dict[str, Any]:
            return invoke(function, event, fc_context(emulator.function_credentials, request_id="same"))

        return call

    return factory


# An explicit window: two runs a minute apart would otherwise see different windows (and days left).
WINDOW = {"expired_start": NOW.strftime("%Y-%m-%dT%H:%MZ"),
          "expired_end": (NOW + timedelta(days=7)).strftime("%Y-%m-%dT%H:%MZ")}


@pytest.mark.parametrize(("function", "event"), [
    ("scan-expiring", WINDOW),
    ("renew-batch", {"dry_run": False, **WINDOW}),
    ("audit-autorenew", {"fix": True, "dry_run": False}),
])
def test_concurrency_8_gives_the_result_of_concurrency_1(run_with, function, event):
    one = run_in_fresh_emulator(run_with, 1, function, event)
    eight = run_in_fresh_emulator(run_with, 8, function, event)
    assert without_order_ids(eight) == without_order_ids(one)
    for key in ("renewed", "skipped", "failed", "drift", "fixed"):
        rows = one.get(key, [])
        assert rows == sorted(rows, key=lambda row: (row["region"] or "", row["instance_id"]))
    if function == "renew-batch":
        assert one["renewed"] and one["failed"] and one["skipped"]  # the fleet exercises every list
    if function == "audit-autorenew":
        assert one["drift"] and one["fixed"] and one["skipped"]
