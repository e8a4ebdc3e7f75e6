"""Issue 14's message parts: the all-clear line, the failed-deduction block at the top of the digest, and
the low-funds message. Pure: typed records in (an ``AllClear``, ``Expiring`` rows, a ``FundsForecast``),
lines or messages out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import markdown as md

if TYPE_CHECKING:
    from ..funds import FundsForecast
    from ..results import JobResult
    from ..results.scan import AllClear, Expiring

DEDUCTION_FAILED = "auto-renew deduction failed — check the balance"


def all_clear_message(checked: AllClear) -> md.Message:
    """One short line that says what a quiet night checked: silence itself then means something is wrong."""
    job = "scan-expiring"
    instances = md.plural(checked.prepaid_instances, "prepaid instance")
    regions = md.plural(checked.regions, "region")
    accounts = md.plural(checked.accounts or 1, "account")
    days = checked.as_dict()["window_days"]  # 7, or 1.5: a whole number of days is said without a fraction
    span = md.plural(days, "day") if isinstance(days, int) else f"{days} days"
    line = f"all clear — {instances} checked in {regions} ({accounts}), none expiring in {span}"
    return md.Message(title=md.message_title(job, "all clear"), text=f"{md.KEYWORD} · {job}: {line}")


def deduction_block(failed: list[Expiring], headline: str) -> tuple[str, list[str]]:
    """(the digest's new headline, the lines under it) when some rows have a failed deduction."""
    lines = ["", f"**{headline}**", "",
             f"**Failed deductions ({len(failed)}):** the platform's auto-renew could not charge these (it tries "
             "again daily at 08:00 UTC+8 until the expiry); top up the balance or renew them by hand"]
    for item in failed:
        instance = item.instance
        when = item.expires_local or instance.expired_time_text
        lines.append(f"- {md.shown(instance.instance_id)} · {md.shown(instance.region)} · expires "
                     f"{md.shown(when)}" + (f" · @{item.owner.value}" if item.owner else ""))
    return f"{DEDUCTION_FAILED.capitalize()}: {md.plural(len(failed), 'instance')}", lines


def _money(amount: float, currency: str) -> str:
    return f"{float(amount or 0):,.2f} {currency}".rstrip()


def funds_short_message(result: JobResult, funds: FundsForecast) -> md.Message:
    """Nothing renewed because cash + credit does not cover the horizon's charges (or, with nothing planned,
    the platform's own deductions will fail): how much is due, what is there, what is missing."""
    job = "renew-batch"
    currency = funds.balance.currency
    days = md.plural(funds.horizon_days, "day")
    lead = ("Nothing was renewed: low funds" if funds.renewal_count
            else "Low funds: auto-renew deductions will fail")
    headline = (f"{lead} — {_money(funds.balance.spendable, currency)} (balance + credit) does not cover the next "
                f"{days}' charges of {_money(funds.due, currency)}")
    advice = [
        f"- Renewals planned by this run: {md.plural(funds.renewal_count, 'instance')}, "
        f"{_money(funds.renewals, currency)}",
        f"- Auto-renew deductions due (each at 08:00 UTC+8, 9 days before expiry): "
        f"{md.plural(funds.deduction_count, 'instance')}, {_money(funds.deductions, currency)}",
        f"- Cash {_money(funds.balance.cash, currency)}, credit {_money(funds.balance.credit, currency)}; "
        f"short by {_money(funds.short_by, currency)}",
        "",
        "Any of these charges would fail for lack of money, so none was started. These instances still expire. "
        "Top up the account (or raise the credit line), then re-run renew-batch: it renews each once.",
    ]
    if funds.unknown:
        advice.append(f"Without a price (not counted): {', '.join(funds.as_dict()['unknown_instances'])}")
    title = md.message_title(job, f"NOTHING renewed, low funds (short by {_money(funds.short_by, currency)})")
    return md.Message(title=title, text=md.truncate_utf8(md.message_header(result, job, headline, advice),
                                                          md.MAX_MESSAGE_BYTES))
