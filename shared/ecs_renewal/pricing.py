"""Renewal cost estimates: ``DescribeRenewalPrice`` (through the gateway), cached within a run.

The cache key is region + instance type + period: instances of one type in one region renew at one
list price, so a fleet of a few types costs a few calls, not one per instance. It is an *estimate*:
disks and per-instance discounts can make the real order differ; the order itself is authoritative.
A price that cannot be had (a period ``DescribeRenewalPrice`` does not offer, such as weeks or 48
months, or an API error) is *unknown* — never a guessed zero.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Sequence

from .gateway.ecs import EcsGateway
from .gateway.models import Instance
from .records import CostEstimate, Price
from .tag_rules import RenewalTerms

Priced = tuple[Instance, RenewalTerms]
Mapper = Callable[[Callable[[Priced], "Price | None"], list[Priced]], list["Price | None"]]
"""``map(ask, items)`` → the answers in order (the job's bounded thread pool)."""


def price_query(terms: RenewalTerms) -> tuple[int, str] | None:
    """RenewInstance's (period, unit) as DescribeRenewalPrice's (Period, PriceUnit), if it offers it."""
    if terms.unit == "Month" and terms.period is not None:
        if 1 <= terms.period <= 9:
            return terms.period, "Month"
        if terms.period in (12, 24, 36):
            return terms.period // 12, "Year"
    return None  # Week, 48/60 months: not offered by DescribeRenewalPrice


def price_key(instance: Instance, terms: RenewalTerms) -> Hashable:
    """Instances with one key renew at one price: (region, type, query); a unified-day price is per instance."""
    if terms.expected_renew_day is not None:
        return instance.instance_id  # depends on the instance's own dates
    return instance.region, instance.instance_type, price_query(terms)


class PriceBook:
    """Prices asked through the gateway, each key once, even when many threads ask at once."""

    def __init__(self, gateway: EcsGateway) -> None:
        self._gateway = gateway
        self._cache: dict[Hashable, Price | None] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def price(self, instance: Instance, terms: RenewalTerms) -> Price | None:
        """What renewing this instance on these terms costs, or None when unknown."""
        if terms.expected_renew_day is None and price_query(terms) is None:
            return None
        key = price_key(instance, terms)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._cache:
                self._cache[key] = self._ask(instance, terms)
            return self._cache[key]

    def prices(self, items: Sequence[Priced], map_: Mapper) -> dict[str, Price | None]:
        """Each item's price by instance id; one item per key goes to ``map_`` (the others would only wait)."""
        first: dict[Hashable, Priced] = {}
        for item in items:
            first.setdefault(price_key(*item), item)
        found = dict(zip(first, map_(lambda item: self.price(*item), list(first.values())), strict=True))
        return {instance.instance_id: found[price_key(instance, terms)] for instance, terms in items}

    def _ask(self, instance: Instance, terms: RenewalTerms) -> Price | None:
        query = price_query(terms) if terms.expected_renew_day is None else (None, None)
        period, unit = query or (None, None)
        try:
            quote = self._gateway.renewal_price(instance.region, instance.instance_id, period=period,
                                                price_unit=unit, expected_renew_day=terms.expected_renew_day)
        except Exception:  # noqa: BLE001 - an unavailable price is "unknown", and the caller says so
            return None
        return Price(quote.trade_price, quote.currency)


def estimate(prices: Iterable[tuple[str, Price | tuple[float, str] | None]]) -> CostEstimate:
    """The total of known prices; ``(amount, currency)`` pairs are accepted as prices too."""
    return CostEstimate.of([(instance_id, Price(*price) if isinstance(price, tuple) else price)
                            for instance_id, price in prices])


def exact_price(gateway: EcsGateway, region: str, instance_id: str, terms: RenewalTerms) -> Price | None:
    """This instance's own DescribeRenewalPrice for these terms (None: not offered, or unreadable): what
    RenewInstance charges (disks, bandwidth, a paid image). renew-batch plans with it, applying an approved
    plan compares against it; here, not in ``approval/``, so that a renewal never loads the approval code."""
    query = price_query(terms) if terms.expected_renew_day is None else (None, None)
    if query is None:
        return None
    try:
        quote = gateway.renewal_price(region, instance_id, period=query[0], price_unit=query[1],
                                      expected_renew_day=terms.expected_renew_day)
    except Exception:  # noqa: BLE001 - unknown: refused (applying), planned as unknown, or counted apart (funds)
        return None
    return Price(quote.trade_price, quote.currency)
