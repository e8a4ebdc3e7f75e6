"""The funds forecast: can the balance pay for what is charged in the next ``FUNDS_HORIZON_DAYS``?

Two kinds of charges are coming: the renewals this run plans (at the prices DescribeRenewalPrice quotes,
which RenewInstance charges exactly) and the platform's own auto-renew deductions that fall due in the
horizon (each at 08:00 UTC+8 of expiry − 9 days, ``deductions.py``; a failed one is retried daily, so it
is due now). When the account's cash plus credit is below their sum, a renewal or a deduction will fail
for lack of money: better to say so, before any charge, than instance by instance afterwards.

Pure: the caller reads the balance and the prices, this adds them up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gateway.bss import Balance
    from .records import Price


@dataclass(frozen=True)
class FundsForecast:
    horizon_days: int
    balance: Balance
    renewals: float  # this run's plan
    renewal_count: int
    deductions: float  # auto-renew deductions due in the horizon
    deduction_count: int
    unknown: tuple[str, ...]  # charges whose price could not be known (or is in another currency)

    @property
    def due(self) -> float:
        return round(self.renewals + self.deductions, 2)

    @property
    def short_by(self) -> float:
        return round(max(self.due - self.balance.spendable, 0.0), 2)

    @property
    def is_short(self) -> bool:
        return self.due > self.balance.spendable

    def as_dict(self) -> dict[str, Any]:
        return {
            "horizon_days": self.horizon_days, "currency": self.balance.currency,
            "cash": self.balance.cash, "credit": self.balance.credit, "spendable": self.balance.spendable,
            "due": self.due, "renewals": self.renewals, "renewal_count": self.renewal_count,
            "deductions": self.deductions, "deduction_count": self.deduction_count,
            "short_by": self.short_by, "unknown_prices": len(self.unknown),
            "unknown_instances": sorted(self.unknown)[:20],
        }


def _total(charges: Iterable[tuple[str, Price | None]], currency: str, unknown: list[str]) -> tuple[float, int]:
    total, count = 0.0, 0
    for instance_id, price in charges:
        count += 1
        if price is None or (currency and price[1] and price[1] != currency):
            unknown.append(instance_id)  # not added: said apart, never guessed
            continue
        total += price[0]
    return round(total, 2), count


def forecast(
    balance: Balance, horizon_days: int, renewals: Iterable[tuple[str, Price | None]],
    deductions: Iterable[tuple[str, Price | None]],
) -> FundsForecast:
    unknown: list[str] = []
    planned, planned_count = _total(renewals, balance.currency, unknown)
    due, due_count = _total(deductions, balance.currency, unknown)
    return FundsForecast(horizon_days, balance, planned, planned_count, due, due_count, tuple(unknown))
