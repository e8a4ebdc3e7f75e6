"""Per-instance renewal prices: one instance's type, disks, fixed bandwidth and paid image.

DescribeRenewalPrice prices ONE ResourceId with everything attached to it (API doc), so two instances
of one type do not cost the same: each instance gets a deterministic, seeded set of resources
(``seeded_resources``) unless a test or fleet file gives them. RenewInstance charges exactly
``Quote.total`` for the same instance and terms — the number DescribeRenewalPrice answered.

Model (a choice; real list prices vary by region and change):
  * instance type: ``MONTHLY_PRICE_CNY`` (fallback 300) per month;
  * system disk 1.0 CNY/GiB/month, data disks 0.7 CNY/GiB/month;
  * fixed public bandwidth 23 CNY/Mbps/month up to 5 Mbps, 80 CNY/Mbps/month above;
  * a paid Marketplace image: its own monthly price, quoted apart in
    ``RelatedPrice.MarketplaceImagePrice`` (not in ``Price``) and charged on top — a caller that reads
    only ``Price.TradePrice`` under-estimates what RenewInstance takes;
  * 12 months or more: 15 % off the ECS part ("Receive a 15% discount on a 1-year subscription", the
    DescribeRenewalPrice doc's example); never on the image;
  * a week costs 30 % of a month; a renewal to the unified expiry day costs days / 30 of a month;
  * intl site: the same numbers x ``USD_PER_CNY``, currency USD.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .billing import SITE_CURRENCY

if TYPE_CHECKING:
    from .model import InstanceRecord

MONTHLY_PRICE_CNY = {
    "ecs.t6-c1m2.large": 68.0,
    "ecs.c7.large": 292.0,
    "ecs.g7.large": 361.0,
    "ecs.r7.large": 476.0,
    "ecs.c7.xlarge": 584.0,
    "ecs.g7.xlarge": 722.0,
    "ecs.r7.xlarge": 952.0,
    "ecs.g7.2xlarge": 1444.0,
    "ecs.g8i.large": 389.0,
}
FALLBACK_MONTHLY_PRICE_CNY = 300.0
SYSTEM_DISK_CNY_PER_GIB = 1.0
DATA_DISK_CNY_PER_GIB = 0.7
BANDWIDTH_CNY_PER_MBPS_FIRST_5 = 23.0
BANDWIDTH_CNY_PER_MBPS_ABOVE_5 = 80.0
WEEK_FACTOR = 0.3  # one week costs 30 % of a month: short periods are dearer per day
YEAR_DISCOUNT = 0.15  # 12 months or more
YEAR_DISCOUNT_RULE_ID = 1234567890
YEAR_DISCOUNT_RULE = "Receive a 15% discount on a 1-year subscription."
USD_PER_CNY = 0.14


@dataclass(frozen=True)
class Resources:
    """What is attached to an instance and billed with it."""

    system_disk_gib: int
    data_disks_gib: tuple[int, ...]
    bandwidth_mbps: int  # fixed (PayByBandwidth) public bandwidth; 0 = none or pay-by-traffic
    image_monthly_cny: float  # paid Marketplace image; 0 = a free image


def seeded_resources(instance_id: str) -> Resources:
    """Deterministic per instance id (same id, same resources, in every process)."""
    rng = random.Random(f"ecs-emulator-price:{instance_id}")
    system = rng.choice((40, 40, 60, 80, 100, 200))
    disks = tuple(rng.choice((100, 200, 500, 1000, 2000)) for _ in range(rng.choice((0, 0, 1, 1, 2))))
    bandwidth = rng.choice((0, 0, 0, 1, 2, 5, 10, 20))
    image = rng.choice((30.0, 50.0, 99.0, 199.0)) if rng.random() < 0.1 else 0.0
    return Resources(system, disks, bandwidth, image)


def monthly_price(instance_type: str) -> float:
    """The instance type's own monthly list price (CNY), without disks, bandwidth or image."""
    return MONTHLY_PRICE_CNY.get(instance_type, FALLBACK_MONTHLY_PRICE_CNY)


def _bandwidth_monthly(mbps: int) -> float:
    return min(mbps, 5) * BANDWIDTH_CNY_PER_MBPS_FIRST_5 + max(mbps - 5, 0) * BANDWIDTH_CNY_PER_MBPS_ABOVE_5


@dataclass(frozen=True)
class PriceLine:
    resource: str  # DetailInfo.Resource: instanceType, systemDisk, dataDisk, internetMaxBandwidthOut, image
    original: float
    discount: float

    @property
    def trade(self) -> float:
        return round(self.original - self.discount, 2)

    def as_detail(self) -> dict:
        return {"Resource": self.resource, "OriginalPrice": self.original, "DiscountPrice": self.discount,
                "TradePrice": self.trade}  # fmt: skip


@dataclass(frozen=True)
class Quote:
    lines: tuple[PriceLine, ...]  # the ECS part (PriceInfo.Price)
    image: PriceLine | None  # PriceInfo.RelatedPrice.MarketplaceImagePrice
    currency: str
    discounted: bool

    @property
    def original(self) -> float:
        return round(sum(line.original for line in self.lines), 2)

    @property
    def discount(self) -> float:
        return round(sum(line.discount for line in self.lines), 2)

    @property
    def trade(self) -> float:
        return round(sum(line.trade for line in self.lines), 2)

    @property
    def total(self) -> float:
        """What RenewInstance charges: the ECS part plus the paid image."""
        return round(self.trade + (self.image.trade if self.image else 0.0), 2)

    def price_info(self) -> dict:
        """DescribeRenewalPrice's ``PriceInfo`` (wire names of the SDK's response model)."""
        rules = [{"RuleId": YEAR_DISCOUNT_RULE_ID, "Description": YEAR_DISCOUNT_RULE}] if self.discounted else []
        details = []
        for line in self.lines:
            detail = line.as_detail()
            detail["SubRules"] = {"Rule": list(rules) if line.discount else []}
            details.append(detail)
        info: dict = {
            "Price": {
                "OriginalPrice": self.original,
                "DiscountPrice": self.discount,
                "TradePrice": self.trade,
                "Currency": self.currency,
                "DetailInfos": {"DetailInfo": details},
            },
            "Rules": {"Rule": rules},
        }
        if self.image is not None:
            info["RelatedPrice"] = {
                "MarketplaceImagePrice": {
                    "OriginalPrice": self.image.original,
                    "DiscountPrice": self.image.discount,
                    "TradePrice": self.image.trade,
                    "Currency": self.currency,
                }
            }
        return info


def renewal_quote(record: InstanceRecord, *, months: int = 0, weeks: int = 0, days: int = 0,
                  site: str = "china") -> Quote:  # fmt: skip
    """The price of renewing ``record`` by exactly one of ``months``, ``weeks`` or ``days``."""
    if sum(1 for amount in (months, weeks, days) if amount) != 1:
        raise ValueError("give exactly one of months, weeks, days")
    if months:
        factor = float(months)
    elif weeks:
        factor = WEEK_FACTOR * weeks
    else:
        factor = days / 30.0
    rate = USD_PER_CNY if site == "intl" else 1.0
    discounted = months >= 12
    resources = record.resources
    monthly = [
        ("instanceType", monthly_price(record.instance_type)),
        ("systemDisk", resources.system_disk_gib * SYSTEM_DISK_CNY_PER_GIB),
    ]
    if resources.data_disks_gib:
        monthly.append(("dataDisk", sum(resources.data_disks_gib) * DATA_DISK_CNY_PER_GIB))
    if resources.bandwidth_mbps:
        monthly.append(("internetMaxBandwidthOut", _bandwidth_monthly(resources.bandwidth_mbps)))
    lines = []
    for name, per_month in monthly:
        original = round(per_month * rate * factor, 2)
        discount = round(original * YEAR_DISCOUNT, 2) if discounted else 0.0
        lines.append(PriceLine(name, original, discount))
    image = None
    if resources.image_monthly_cny:
        image = PriceLine("image", round(resources.image_monthly_cny * rate * factor, 2), 0.0)
    return Quote(tuple(lines), image, SITE_CURRENCY.get(site, "CNY"), discounted)
