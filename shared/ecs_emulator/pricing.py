"""Deterministic list prices (CNY) for renewals."""

from __future__ import annotations

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
WEEK_FACTOR = 0.3  # one week costs 30 % of a month: short periods are dearer per day
YEAR_DISCOUNT = 0.15  # DescribeRenewalPrice with PriceUnit=Year


def monthly_price(instance_type: str) -> float:
    return MONTHLY_PRICE_CNY.get(instance_type, FALLBACK_MONTHLY_PRICE_CNY)


def quote(instance_type: str, period: int, unit: str) -> tuple[float, float]:
    """(original price, discount) for ``period`` x ``unit`` (Month, Week or Year)."""
    month = monthly_price(instance_type)
    if unit == "Week":
        return round(month * WEEK_FACTOR * period, 2), 0.0
    if unit == "Year":
        original = round(month * 12 * period, 2)
        return original, round(original * YEAR_DISCOUNT, 2)
    return round(month * period, 2), 0.0
