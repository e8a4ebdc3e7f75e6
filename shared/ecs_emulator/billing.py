"""The account's money: cash balance, credit line, the unified expiry day, and every charge made.

Renewals (RenewInstance) and the platform's auto-renew deductions draw on the same wallet; BSS
``QueryAccountBalance`` reads it. Every successful charge is a ``Charge`` so tests can add up what was
spent (``emu.charges()``, ``emu.total_charged()``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Which ECS site the emulator plays: renewal terms and the currency differ (RenewInstance doc, <props="intl">).
SITES = ("china", "intl")
SITE_CURRENCY = {"china": "CNY", "intl": "USD"}
# RenewInstance with cash + credit short of the price. Documented for ECS order APIs (ModifyInstanceSpec,
# CreateInstance); RenewInstance's own table does not list a balance code (unverified). Other codes seen:
# 400 Account.Arrearage, 400 PAY.INSUFFICIENT_BALANCE — set ``emu.insufficient_funds_error`` to play them.
INSUFFICIENT_FUNDS_ERROR = (403, "InvalidAccountStatus.NotEnoughBalance", "Your account does not have enough balance.")


@dataclass(frozen=True)
class Charge:
    """One amount taken from an account: what, on which terms, for how much, under which order."""

    account_id: str
    instance_id: str
    region_id: str
    kind: str  # "renewal" (RenewInstance) or "auto_renew" (the platform's deduction)
    period: int | None
    period_unit: str | None
    expected_renew_day: int | None
    amount: float
    currency: str
    order_id: str
    at: float  # time.time()
    client_token: str | None = None

    def as_dict(self) -> dict:
        return {
            "AccountId": self.account_id,
            "InstanceId": self.instance_id,
            "RegionId": self.region_id,
            "Kind": self.kind,
            "Period": self.period,
            "PeriodUnit": self.period_unit,
            "ExpectedRenewDay": self.expected_renew_day,
            "Amount": self.amount,
            "Currency": self.currency,
            "OrderId": self.order_id,
            "At": self.at,
            "ClientToken": self.client_token,
        }


@dataclass
class Wallet:
    """Per account. ``Account.balance`` (state.py) is the cash; this holds the rest of the money side."""

    credit_limit: float = 0.0  # credit line ("信控额度"); spent after the cash
    credit_used: float = 0.0
    mybank_credit: float = 0.0  # reported by QueryAccountBalance only, never spent by the emulator
    unified_expiry_day: int | None = None  # the account's unified expiry day (1..28); None = not set
    charges: list[Charge] = field(default_factory=list)

    @property
    def credit_available(self) -> float:
        return round(max(self.credit_limit - self.credit_used, 0.0), 2)


def spendable(cash: float, wallet: Wallet) -> float:
    """What a charge may draw: cash plus the unused credit line."""
    return round(max(cash, 0.0) + wallet.credit_available, 2)


def draw(cash: float, wallet: Wallet, amount: float) -> float:
    """Take ``amount`` (cash first, then credit). Returns the new cash. Caller checked ``spendable``."""
    from_cash = min(max(cash, 0.0), amount)
    wallet.credit_used = round(wallet.credit_used + (amount - from_cash), 2)
    return round(cash - from_cash, 2)
