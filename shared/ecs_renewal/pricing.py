"""Renewal cost estimates: ``DescribeRenewalPrice``, cached within a run.

The cache key is region + instance type + period: instances of one type in one region renew at one
list price, so a fleet of a few types costs a few calls, not one per instance. It is an *estimate*:
disks and per-instance discounts can make the real order differ; the order itself is authoritative.
A price that cannot be had (a period ``DescribeRenewalPrice`` does not offer, such as weeks or 48
months, or an API error) is *unknown* — never a guessed zero.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from .gateway.client import Caller
from .gateway.ecs import describe_renewal_price
from .gateway.models import Instance
from .tag_rules import RenewalTerms


def price_query(terms: RenewalTerms) -> tuple[int, str] | None:
    """RenewInstance's (period, unit) as DescribeRenewalPrice's (Period, PriceUnit), if it offers it."""
    if terms.unit == "Month" and terms.period is not None:
        if 1 <= terms.period <= 9:
            return terms.period, "Month"
        if terms.period in (12, 24, 36):
            return terms.period // 12, "Year"
    return None  # Week, 48/60 months: not offered by DescribeRenewalPrice


@dataclass
class CostEstimate:
    total: float = 0.0
    currency: str = ""
    priced: int = 0
    unknown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"amount": round(self.total, 2), "currency": self.currency or None, "priced": self.priced,
                "unknown": len(self.unknown)}


class PriceBook:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        self._cache: dict[tuple[str, str, int, str], tuple[float, str] | None] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, str, int, str], threading.Lock] = {}

    def price(self, instance: Instance, terms: RenewalTerms) -> tuple[float, str] | None:
        """(amount, currency) for renewing this instance on these terms, or None when unknown."""
        if terms.expected_renew_day is not None:
            return self._ask(instance, None, None, terms.expected_renew_day)  # depends on the instance's dates
        query = price_query(terms)
        if query is None:
            return None
        key = (instance.region, instance.instance_type, *query)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one call per key even when many threads ask at once
            if key not in self._cache:
                self._cache[key] = self._ask(instance, *query, None)
            return self._cache[key]

    def _ask(
        self, instance: Instance, period: int | None, unit: str | None, day: int | None
    ) -> tuple[float, str] | None:
        try:
            quote = describe_renewal_price(self._caller, instance.region, instance.instance_id, period=period,
                                           price_unit=unit, expected_renew_day=day)
        except Exception:  # noqa: BLE001 - an unavailable price is "unknown", and the caller says so
            return None
        return quote.trade_price, quote.currency


def estimate(prices: Iterable[tuple[str, tuple[float, str] | None]]) -> CostEstimate:
    result = CostEstimate()
    for instance_id, price in prices:
        if price is None:
            result.unknown.append(instance_id)
            continue
        amount, currency = price
        result.total += amount
        result.currency = result.currency or currency
        result.priced += 1
    return result
