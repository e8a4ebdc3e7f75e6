"""Issue 14's message parts: the all-clear line, the failed-deduction block at the top of the digest, and
the low-funds message. Pure: the contract's dict in, lines or messages out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import markdown as md

DEDUCTION_FAILED = "auto-renew deduction failed — check the balance"


def all_clear_message(checked: Mapping[str, Any]) -> md.Message:
    """One short line that says what a quiet night checked: silence itself then means something is wrong."""
    job = "scan-expiring"
    instances = md.plural(int(checked.get("prepaid_instances") or 0), "prepaid instance")
    regions = md.plural(int(checked.get("regions") or 0), "region")
    accounts = md.plural(int(checked.get("accounts") or 1), "account")
    days = checked.get("window_days")
    span = md.plural(days, "day") if isinstance(days, int) else f"{days} days"
    line = f"all clear — {instances} checked in {regions} ({accounts}), none expiring in {span}"
    return md.Message(title=md.message_title(job, "all clear"), text=f"{md.KEYWORD} · {job}: {line}")


def deduction_block(failed: list[Mapping[str, Any]], headline: str) -> tuple[str, list[str]]:
    """(the digest's new headline, the lines under it) when some rows have a failed deduction."""
    lines = ["", f"**{headline}**", "",
             f"**Failed deductions ({len(failed)}):** the platform's auto-renew could not charge these (it tries "
             "again daily at 08:00 UTC+8 until the expiry); top up the balance or renew them by hand"]
    for item in failed:
        when = item.get("expires_local") or item.get("expired_time")
        lines.append(f"- {md.shown(item.get('instance_id'))} · {md.shown(item.get('region'))} · expires "
                     f"{md.shown(when)}" + (f" · @{item['owner']}" if item.get("owner") else ""))
    return f"{DEDUCTION_FAILED.capitalize()}: {md.plural(len(failed), 'instance')}", lines


def _money(amount: Any, currency: Any) -> str:
    return f"{float(amount or 0):,.2f} {md.shown(currency, '')}".rstrip()


def funds_short_message(result: Mapping[str, Any], funds: Mapping[str, Any]) -> md.Message:
    """Nothing renewed because cash + credit does not cover the horizon's charges (or, with nothing planned,
    the platform's own deductions will fail): how much is due, what is there, what is missing."""
    job = "renew-batch"
    currency = funds.get("currency")
    days = md.plural(int(funds.get("horizon_days") or 0), "day")
    lead = ("Nothing was renewed: low funds" if funds.get("renewal_count")
            else "Low funds: auto-renew deductions will fail")
    headline = (f"{lead} — {_money(funds.get('spendable'), currency)} (balance + credit) does not cover the next "
                f"{days}' charges of {_money(funds.get('due'), currency)}")
    advice = [
        f"- Renewals planned by this run: {md.plural(int(funds.get('renewal_count') or 0), 'instance')}, "
        f"{_money(funds.get('renewals'), currency)}",
        f"- Auto-renew deductions due (each at 08:00 UTC+8, 9 days before expiry): "
        f"{md.plural(int(funds.get('deduction_count') or 0), 'instance')}, {_money(funds.get('deductions'), currency)}",
        f"- Cash {_money(funds.get('cash'), currency)}, credit {_money(funds.get('credit'), currency)}; "
        f"short by {_money(funds.get('short_by'), currency)}",
        "",
        "Any of these charges would fail for lack of money, so none was started. These instances still expire. "
        "Top up the account (or raise the credit line), then re-run renew-batch: it renews each once.",
    ]
    if funds.get("unknown_prices"):
        advice.append(f"Without a price (not counted): {', '.join(map(str, funds.get('unknown_instances') or []))}")
    title = md.message_title(job, f"NOTHING renewed, low funds (short by {_money(funds.get('short_by'), currency)})")
    return md.Message(title=title, text=md.truncate_utf8(md.message_header(result, job, headline, advice),
                                                          md.MAX_MESSAGE_BYTES))
