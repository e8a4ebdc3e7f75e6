"""Deterministic fleet generation, instance ids, and the fleet JSON file."""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .autorenew import mark_failed_deductions
from .clock import UTC, add_months, format_minute, to_minute, utcnow
from .model import POSTPAID_EXPIRY, InstanceRecord
from .regions import REGIONS, get_region

FLEET_FORMAT = "ecs-emulator-fleet/1"

_ID_ALPHABET = string.ascii_lowercase + string.digits
_TEAMS = ("payments", "search", "infra", "data", "web", "ml")
_ROLES = ("api", "worker", "db", "cache", "batch", "gateway")
_INSTANCE_TYPES = (
    "ecs.g7.large",
    "ecs.g7.large",
    "ecs.c7.large",
    "ecs.r7.large",
    "ecs.g7.xlarge",
    "ecs.c7.xlarge",
    "ecs.t6-c1m2.large",
    "ecs.g8i.large",
)


@dataclass(frozen=True)
class FleetSpec:
    """What to generate. Same spec (with a fixed ``now``) = same fleet, byte for byte."""

    seed: int = 1
    regions: tuple[str, ...] = ("cn-hangzhou", "cn-shanghai", "cn-beijing")
    instances_per_region: int = 120
    now: datetime | None = None  # reference time for expiries; None = the current minute
    # Extra AutoRenewal instances per region, 1-8 days before expiry, whose auto-renew deductions failed
    # (balance short at 08:00 UTC+8 since nine days before expiry; autorenew.py). 0 keeps the fleet as it was.
    failed_auto_renew: int = 0


def new_instance_id(region_id: str, rng: random.Random | None = None) -> str:
    """``i-`` + the region's 3-char prefix + 17 lowercase alnum = 22 chars, like ``i-bp1g6zv0ce8oghu7k2m9``."""
    region = get_region(region_id)
    prefix = region.id_prefix if region else "emu"
    rng = rng or random.SystemRandom()
    return "i-" + prefix + "".join(rng.choice(_ID_ALPHABET) for _ in range(17))


def generate_fleet(spec: FleetSpec, account_id: str) -> list[InstanceRecord]:
    now = to_minute(spec.now if spec.now is not None else utcnow())
    records: list[InstanceRecord] = []
    for region_id in spec.regions:
        if region_id not in REGIONS:
            raise ValueError(f"unknown region {region_id!r}; known: {', '.join(sorted(REGIONS))}")
        # A string seed is hashed with SHA-512 by random.seed: stable across processes.
        rng = random.Random(f"ecs-emulator:{spec.seed}:{region_id}")
        for index in range(spec.instances_per_region):
            records.append(_generate_instance(rng, region_id, index, now, account_id))
        failing = random.Random(f"ecs-emulator:{spec.seed}:{region_id}:failed-auto-renew")
        for extra in range(spec.failed_auto_renew):
            records.append(_failed_auto_renew_instance(failing, region_id, spec.instances_per_region + extra, now,
                                                       account_id))  # fmt: skip
    for record in records:  # AutoRenewal inside its last nine days: its deductions must have failed
        mark_failed_deductions(record, now)
    return records


def _failed_auto_renew_instance(
    rng: random.Random, region_id: str, index: int, now: datetime, account_id: str
) -> InstanceRecord:
    record = _generate_instance(rng, region_id, index, now, account_id)
    expiry = (now + timedelta(days=rng.randint(1, 8))).replace(hour=16, minute=0)  # midnight Beijing time
    record.charge_type, record.status, record.operation_locks = "PrePaid", "Running", []
    record.reset_expiry(expiry)
    record.creation_time = add_months(expiry, -12)
    record.auto_renew_enabled, record.duration, record.period_unit = True, 1, "Month"
    record.renewal_status = "AutoRenewal"
    record.instance_name = record.instance_name.rsplit("-", 1)[0] + f"-{index:03d}"
    return record


def _generate_instance(
    rng: random.Random, region_id: str, index: int, now: datetime, account_id: str
) -> InstanceRecord:
    region = REGIONS[region_id]
    instance_id = new_instance_id(region_id, rng)
    env = rng.choices(("prod", "staging", "dev"), weights=(4, 3, 3))[0]
    team = rng.choice(_TEAMS)
    role = rng.choice(_ROLES)
    prepaid = rng.random() < 0.8
    status = "Stopped" if rng.random() < 0.12 else "Running"
    locks: list[str] = []

    if prepaid:
        bucket = rng.random()
        if bucket < 0.04:  # already expired (up to 2 days ago): stopped and locked for overdue payment
            expiry = now - timedelta(minutes=rng.randint(1, 2 * 24 * 60))
            status, locks = "Stopped", ["financial"]
        elif bucket < 0.22:  # the interesting slice: inside the next 7 days
            expiry = now + timedelta(minutes=rng.randint(1, 7 * 24 * 60))
        else:
            expiry = now + timedelta(minutes=rng.randint(7 * 24 * 60, 120 * 24 * 60))
        if not locks and rng.random() < 0.7:
            # Most subscriptions end at midnight Beijing time (16:00 UTC): many equal expiry values.
            expiry = expiry.replace(hour=16, minute=0)
            if expiry <= now:
                expiry += timedelta(days=1)
        creation = add_months(expiry, -rng.choice((1, 3, 6, 12, 24, 36)))
        if creation >= now:
            creation = now - timedelta(days=rng.randint(1, 30))
    else:
        expiry = POSTPAID_EXPIRY
        creation = now - timedelta(minutes=rng.randint(60, 3 * 365 * 24 * 60))

    tags: dict[str, str] = {}
    if rng.random() >= 0.08:  # a few untagged instances
        tags = {"env": env, "team": team}
        if rng.random() < 0.12:
            tags["renewal"] = "manual"
        if rng.random() < 0.3:
            tags["owner"] = "138" + "".join(rng.choice(string.digits) for _ in range(8))

    auto_renew, duration, renewal_status = False, 0, "Normal"
    if prepaid:
        roll = rng.random()
        if roll < 0.3:
            auto_renew, duration, renewal_status = True, rng.choice((1, 1, 1, 2, 3, 6, 12)), "AutoRenewal"
        elif roll < 0.4:
            renewal_status = "NotRenewal"

    return InstanceRecord(
        instance_id=instance_id,
        instance_name=f"{team}-{env}-{role}-{index:03d}",
        region_id=region_id,
        zone_id=rng.choice(region.zone_ids),
        instance_type=rng.choice(_INSTANCE_TYPES),
        charge_type="PrePaid" if prepaid else "PostPaid",
        true_expired_time=to_minute(expiry),
        creation_time=to_minute(creation),
        status=status,
        tags=tags,
        operation_locks=locks,
        auto_renew_enabled=auto_renew,
        duration=duration,
        period_unit="Month",
        renewal_status=renewal_status,
        account_id=account_id,
    )


def save_fleet_file(path: str | Path, records: list[InstanceRecord], account_id: str) -> None:
    document = {
        "format": FLEET_FORMAT,
        "account_id": account_id,
        "saved_at": format_minute(datetime.now(UTC)),
        "instances": [record.to_fleet_json() for record in records],
    }
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_fleet_file(path: str | Path) -> tuple[str | None, list[InstanceRecord]]:
    """Returns (account id stored in the file or None, instances)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(document, list):  # a bare list of instances is accepted too
        document = {"instances": document}
    if document.get("format", FLEET_FORMAT) != FLEET_FORMAT:
        raise ValueError(f"{path}: unsupported fleet format {document.get('format')!r}")
    account_id = document.get("account_id")
    default_account = account_id or ""
    records = [InstanceRecord.from_fleet_json(item, default_account) for item in document["instances"]]
    for record in records:
        if record.region_id not in REGIONS:
            raise ValueError(f"{path}: instance {record.instance_id} is in unknown region {record.region_id!r}")
    return account_id, records
