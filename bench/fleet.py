"""The benchmark's fleet: exact shares, so that every job's lower bound of API calls is known in advance.

Every instance is prepaid and running. Per region, exactly ``expiring_share`` of them expire inside the
window (1 to 6 days from now; the rest 30 to 300 days out) and exactly ``drift_share`` have auto-renew
off (``Normal``) while the audit expects it on for 1 month; the others auto-renew monthly. No tags, no
locks, no ``NotRenewal``: both the naive script and ecs-renewal act on exactly the same instances.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ecs_emulator.model import InstanceRecord
from ecs_emulator.regions import REGIONS

ACCOUNT_ID = "1234567890123456"
WINDOW_DAYS = 7
FUNDS_LOOK_AHEAD_DAYS = 9 + 9 + 1  # FUNDS_HORIZON_DAYS (default) + the deduction's lead + a day's slack
FAR_EXPIRY_DAYS = 30  # the instances that do not expire soon expire this many days out, or later
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class BenchFleet:
    regions: int = 20
    instances_per_region: int = 1000
    expiring_share: float = 0.10
    drift_share: float = 0.30
    seed: int = 2026

    @property
    def region_ids(self) -> tuple[str, ...]:
        if not 1 <= self.regions <= len(REGIONS):
            raise ValueError(f"regions must be 1..{len(REGIONS)} (the emulator's catalogue)")
        return tuple(REGIONS)[: self.regions]

    @property
    def expiring_per_region(self) -> int:
        return round(self.instances_per_region * self.expiring_share)

    @property
    def drift_per_region(self) -> int:
        return round(self.instances_per_region * self.drift_share)

    @property
    def in_union_window_per_region(self) -> int:
        """What renew's one read of the union window (its 7 days; the funds look ahead's 9 + 9 + 1 days
        from now) lists per region: the expiring ones (1-6 days out); the rest expire 30 days out or later."""
        assert FUNDS_LOOK_AHEAD_DAYS < FAR_EXPIRY_DAYS and WINDOW_DAYS < FAR_EXPIRY_DAYS
        return self.expiring_per_region

    @property
    def total(self) -> int:
        return self.regions * self.instances_per_region

    def lower_bounds(self) -> dict[str, dict[str, int]]:
        """The fewest calls each job can make, by action (one region's list can't share a call with another's).

        scan lists the expiring instances and, for its columns, reads their owners' auto-renew choice (100
        ids a call) and one renewal price per region, instance type and period (the fleet has one type);
        renew lists them, prices each planned instance on its own, reads the ledger's open intents and
        renews each once between its two ledger tags — its re-check of the owners' choices (100 ids a call)
        is the overhead the issue allows (≤ 5 %); audit lists
        every instance, reads every setting 100 ids a call and fixes the drift 100 ids a call.
        """
        n, expiring, drift = self.instances_per_region, self.expiring_per_region, self.drift_per_region
        priced = 1 if expiring else 0
        per_region = {
            "scan": {"DescribeInstances": pages(expiring),
                     "DescribeInstanceAutoRenewAttribute": math.ceil(expiring / 100),
                     "DescribeRenewalPrice": priced},
            # + one QueryAccountBalance per run for the funds forecast (issue 13; not regional, added below).
            # Its look ahead for auto-renew deductions shares the window's list: ONE read of the union of
            # the two windows per region (issue 12), which holds exactly the expiring instances here.
            # The renewal ledger (issue 13) adds what exactly-once at any delay needs: one exact
            # DescribeRenewalPrice per planned instance (the budget is a ceiling on what is charged), one
            # DescribeInstances by the ledger's tag key per region (open intents whose instance has left the
            # window), and two TagResources per renewal (intent before, outcome after: each value differs,
            # so they cannot share a call).
            "renew": {"DescribeInstances": pages(self.in_union_window_per_region) + 1,
                      "DescribeRenewalPrice": expiring, "RenewInstance": expiring, "TagResources": 2 * expiring},
            "audit": {
                "DescribeInstances": pages(n),
                "DescribeInstanceAutoRenewAttribute": math.ceil(n / 100),
                "ModifyInstanceAutoRenewAttribute": math.ceil(drift / 100),
            },
        }
        bounds = {
            job: {action: count * self.regions for action, count in actions.items() if count}
            for job, actions in per_region.items()
        }
        bounds["renew"]["QueryAccountBalance"] = 1
        return bounds


def pages(items: int) -> int:
    """A list of n items costs ceil(n/100) pages of 100, and an empty list still one call."""
    return max(1, math.ceil(items / 100))


def window(now: datetime) -> tuple[str, str]:
    start = now.replace(second=0, microsecond=0)
    end = start + timedelta(days=WINDOW_DAYS)
    return start.strftime("%Y-%m-%dT%H:%MZ"), end.strftime("%Y-%m-%dT%H:%MZ")


def generate(spec: BenchFleet, now: datetime | None = None) -> list[InstanceRecord]:
    now = (now or datetime.now(timezone.utc)).replace(second=0, microsecond=0)
    records: list[InstanceRecord] = []
    for region_id in spec.region_ids:
        rng = random.Random(f"bench:{spec.seed}:{region_id}")
        region = REGIONS[region_id]
        # Which positions expire and which drift: exact counts, shuffled so pages mix them.
        positions = list(range(spec.instances_per_region))
        expiring = set(rng.sample(positions, spec.expiring_per_region))
        drifting = set(rng.sample(positions, spec.drift_per_region))
        for index in positions:
            if index in expiring:
                expiry = now + timedelta(days=1, minutes=rng.randint(0, 5 * 24 * 60))
            else:
                expiry = now + timedelta(days=FAR_EXPIRY_DAYS, minutes=rng.randint(0, 270 * 24 * 60))
            auto_renew = index not in drifting
            records.append(InstanceRecord(
                instance_id="i-" + region.id_prefix + "".join(rng.choice(_ID_ALPHABET) for _ in range(17)),
                instance_name=f"bench-{region_id}-{index:05d}",
                region_id=region_id,
                zone_id=region.zone_ids[index % len(region.zone_ids)],
                instance_type="ecs.g7.large",
                charge_type="PrePaid",
                true_expired_time=expiry,
                creation_time=now - timedelta(days=400, minutes=index),
                status="Running",
                auto_renew_enabled=auto_renew,
                duration=1 if auto_renew else 0,
                renewal_status="AutoRenewal" if auto_renew else "Normal",
                account_id=ACCOUNT_ID,
            ))
    return records
