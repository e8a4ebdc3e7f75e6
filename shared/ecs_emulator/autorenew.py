"""The platform's auto-renew deductions (what happens to ``AutoRenewal`` instances without any API call).

Documented (ModifyInstanceAutoRenewAttribute doc; reference ``ecs-api.md`` §6): the platform charges an
auto-renewing instance at 08:00 (UTC+8) nine days before it expires, and retries daily until it succeeds
or the instance is locked. A deduction that fails (the balance plus credit is short) leaves the expiry
where it was — so an ``AutoRenewal`` instance still inside its last nine days after that hour is one
whose deduction failed. Nothing in DescribeInstances says so; the emulator keeps the failed attempts in
``InstanceRecord.auto_renew_failures`` (and ``GET /_emulator/state``).

The emulator runs the schedule only when asked (``emu.run_auto_renew_deductions(now)``): instances that
a fleet or a test puts inside the window are, as in the real world, ones whose deductions failed
(``mark_failed_deductions``), and ``FleetSpec(failed_auto_renew=N)`` adds N such instances per region.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .billing import Charge, draw, spendable
from .clock import add_months, add_weeks
from .model import InstanceRecord, RenewalRecord
from .pricing import renewal_quote

DEDUCTION_DAYS_BEFORE = 9
BEIJING = timezone(timedelta(hours=8))
DEDUCTION_HOUR_BEIJING = 8  # 08:00 UTC+8 = 00:00 UTC


def deduction_attempts(expiry: datetime, since: datetime | None, now: datetime) -> list[datetime]:
    """The daily 08:00 (UTC+8) attempts from nine days before ``expiry`` up to ``now`` (and before the
    expiry), later than ``since``."""
    local_day = (expiry.astimezone(BEIJING) - timedelta(days=DEDUCTION_DAYS_BEFORE)).date()
    moment = datetime(local_day.year, local_day.month, local_day.day, DEDUCTION_HOUR_BEIJING, tzinfo=BEIJING)
    attempts = []
    while moment <= now and moment < expiry:
        if since is None or moment > since:
            attempts.append(moment)
        moment += timedelta(days=1)
    return attempts


def is_deducting(record: InstanceRecord) -> bool:
    return (
        record.charge_type == "PrePaid"
        and record.renewal_status == "AutoRenewal"
        and not {"security", "recycling", "refunded"} & set(record.operation_locks)
    )


def mark_failed_deductions(record: InstanceRecord, now: datetime) -> None:
    """Record the attempts that must have failed for ``record`` to be where it is at ``now``."""
    if is_deducting(record):
        record.auto_renew_failures = [a.timestamp() for a in deduction_attempts(record.true_expired_time, None, now)]


@dataclass(frozen=True)
class Deduction:
    instance_id: str
    at: datetime  # the attempt's 08:00 (UTC+8)
    amount: float
    succeeded: bool
    order_id: str | None = None


def _term(record: InstanceRecord) -> dict[str, int]:
    duration = record.duration or 1
    if record.period_unit == "Week":
        return {"weeks": duration}
    return {"months": duration * 12 if record.period_unit == "Year" else duration}


def run_deductions(state, now: datetime) -> list[Deduction]:  # state: EmulatorState (no import cycle)
    """Every attempt due by ``now`` that was not made yet, in time order per instance."""
    results: list[Deduction] = []
    with state.lock:
        for record in list(state.instances.values()):
            while is_deducting(record):
                done = [datetime.fromtimestamp(t, timezone.utc) for t in record.auto_renew_failures]
                last = max([*done, *(datetime.fromtimestamp(r.at, timezone.utc) for r in record.renewals)],
                           default=None)  # fmt: skip
                attempts = deduction_attempts(record.true_expired_time, last, now)
                if not attempts:
                    break
                attempt = attempts[0]
                term = _term(record)
                quote = renewal_quote(record, site=state.site, **term)
                account = state.account(record.account_id)
                if spendable(account.balance, account.wallet) < quote.total:
                    record.auto_renew_failures.append(attempt.timestamp())
                    results.append(Deduction(record.instance_id, attempt, quote.total, False))
                    continue
                order_id = state.next_order_id()
                account.balance = draw(account.balance, account.wallet, quote.total)
                old = record.true_expired_time
                new = add_weeks(old, term["weeks"]) if "weeks" in term else add_months(old, term["months"])
                unit = "Week" if "weeks" in term else "Month"
                period = term.get("weeks") or term["months"]
                account.wallet.charges.append(Charge(
                    account_id=account.account_id, instance_id=record.instance_id, region_id=record.region_id,
                    kind="auto_renew", period=period, period_unit=unit, expected_renew_day=None,
                    amount=quote.total, currency=quote.currency, order_id=order_id, at=attempt.timestamp(),
                ))  # fmt: skip
                record.set_true_expiry(new, state.renew_visibility_delay)
                record.renewals.append(RenewalRecord(
                    order_id=order_id, period=period, period_unit=unit, expected_renew_day=None, client_token=None,
                    at=attempt.timestamp(), old_expired_time=old, new_expired_time=new, price=quote.total,
                    access_key_id="auto-renew",
                ))  # fmt: skip
                results.append(Deduction(record.instance_id, attempt, quote.total, True, order_id))
    return results
