"""Job result → DingTalk markdown messages. Pure functions: data in, messages out, no I/O.

Rules every message follows:

* title and text both contain :data:`KEYWORD` — a robot secured by "custom keywords" rejects a message
  without its keyword (errcode 310000), and which fields DingTalk scans is not documented;
* failures get a message of their own, so they are never buried at the end of a long success list;
* DingTalk markdown has no tables, so everything is a list, short enough to read on a phone;
* nothing to report → no message, except a scan's one-line all-clear that says what it checked
  (silence then means the scan did not run).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..contract import to_contract
from .markdown import (
    KEYWORD,
    MAX_MESSAGE_BYTES,
    Mention,
    Message,
    by_fields,
    failure_messages,
    message_header,
    message_title,
    plural,
    shown,
    split_into_messages,
)
from .renew_messages import renew_messages
from .silent_messages import all_clear_message, deduction_block
from .wording import auto_renew_phrase, instance_status_phrase

if TYPE_CHECKING:
    from ..results import JobResult

__all__ = ["KEYWORD", "MAX_MESSAGE_BYTES", "Message", "messages_for_result", "split_into_messages"]


def _scan_messages(result: Mapping[str, Any], *, all_clear: bool = True) -> list[Message]:
    job = "scan-expiring"
    expiring = sorted(result.get("expiring") or [], key=by_fields("expired_time", "region", "instance_id"))
    window = result.get("window") or {}
    start, end = shown(window.get("start")), shown(window.get("end"))
    if all_clear and result.get("all_clear") and not expiring and not result.get("errors"):
        return [all_clear_message(result["all_clear"])]
    messages = []
    if expiring:
        verb = "expires" if len(expiring) == 1 else "expire"
        headline = f"{plural(len(expiring), 'instance')} {verb} between {start} and {end}"
        extra = []
        failed_deductions = [item for item in expiring if item.get("deduction_failed")]
        if failed_deductions:  # at the top: the one thing on this list that is already failing
            headline, block = deduction_block(failed_deductions, headline)
            extra += block
        cost = result.get("estimated_cost") or {}
        if cost.get("amount") is not None and (cost.get("priced") or cost.get("unknown")):
            unknown = f", {cost['unknown']} unknown" if cost.get("unknown") else ""
            # One price per instance type (disks, bandwidth and images differ): renew-batch prices each instance.
            extra.append(f"- Estimated renewal cost: {cost['amount']:,.2f} {shown(cost.get('currency'), '')}{unknown}"
                         " (per instance type)")
        rows = _tiered_lines(expiring) if any("tier" in item for item in expiring) else [
            (_expiring_line(item), _mentions(item)) for item in expiring]
        summary = f"{plural(len(expiring), 'instance')} expiring"
        if failed_deductions:
            summary = f"{len(failed_deductions)} auto-renew deduction FAILED, {summary}"
        title = message_title(job, summary)
        header = message_header(result, job, headline, extra, list_heading="Most urgent first:")
        # Each part @-mentions only the owners its own lines name: 400 instances and 150 owners with every
        # owner in every part made a body DingTalk refuses (460101, over 20,000 bytes).
        messages += split_into_messages(title, header, [line for line, _ in rows],
                                        mentions=[people for _, people in rows])
    # The scan's errors mean some regions were not looked at: the list above may be incomplete.
    found = plural(len(expiring), "instance")
    incomplete = [f"- The list of expiring instances is incomplete ({found} found)."]
    messages += failure_messages(result, job, "could not be read", incomplete)
    return messages


def _expiring_line(item: Mapping[str, Any]) -> str:
    name = item.get("instance_name")
    named = f" ({name})" if name and name != item.get("instance_id") else ""
    when = item.get("expires_local") or item.get("expired_time")
    parts = [f"- {shown(when)} · {shown(item.get('instance_id'))}{named} · {shown(item.get('region'))}"]
    if item.get("auto_renew"):
        parts.append(auto_renew_phrase(item["auto_renew"]))
    if "price" in item:
        price = item.get("price")
        currency = shown(item.get("currency"), "")
        parts.append(f"{price:,.2f} {currency}".strip() if price is not None else "price unknown")
    if item.get("deduction_failed"):
        parts.append("auto-renew deduction FAILED")
    if item.get("owner"):
        parts.append(f"@{item['owner']}")
    if not item.get("auto_renew") and "price" not in item:
        parts.append(instance_status_phrase(item.get("status")))
    return " · ".join(parts)


def _tiered_lines(expiring: list[Mapping[str, Any]]) -> list[tuple[str, tuple[Mention, ...]]]:
    """Groups by reminder tier, most urgent first (expired, then ≤1 day, ≤3 days, ...); whom each line names."""
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for item in expiring:
        groups.setdefault(int(item.get("tier") if item.get("tier") is not None else 10_000), []).append(item)
    lines: list[tuple[str, tuple[Mention, ...]]] = []
    for tier in sorted(groups):
        items = groups[tier]
        label = "Already expired" if tier < 0 else "Later" if tier == 10_000 else f"Within {plural(tier, 'day')}"
        lines.append((f"**{label} ({len(items)})**", ()))
        lines.extend((_expiring_line(item), _mentions(item)) for item in items)
    return lines


def _mentions(item: Mapping[str, Any]) -> tuple[Mention, ...]:
    """Whom a line @-mentions, as the scan typed the owner tag (``owner_kind``): a numeric DingTalk userId
    stays a user id."""
    return ((str(item["owner"]), item.get("owner_kind")),) if item.get("owner") else ()


def _expected_line(expected: Mapping[str, Any] | None) -> str:
    if not expected:
        return "- Expected setting: not reported"
    if not expected.get("auto_renew"):
        return "- Expected: auto-renew off"
    return f"- Expected: {auto_renew_phrase(True, expected.get('duration'))}"


def _actual_setting(item: Mapping[str, Any]) -> str:
    return auto_renew_phrase(item.get("auto_renew_enabled"), item.get("duration"))


def _audit_messages(result: Mapping[str, Any]) -> list[Message]:
    job = "audit-autorenew"
    drift = sorted(result.get("drift") or [], key=by_fields("region", "instance_id"))
    fixed_ids = {item.get("instance_id") for item in result.get("fixed") or []}
    failed_ids = {item.get("instance_id") for item in result.get("failed") or []}
    dry_run = bool(result.get("dry_run"))
    messages = []
    if drift or fixed_ids:
        lines = []
        for item in drift:
            instance_id = item.get("instance_id")
            if instance_id in fixed_ids:
                outcome = " → fixed"
            elif instance_id in failed_ids:
                outcome = " → fix FAILED"
            elif dry_run:
                outcome = " → not changed (dry run)"
            else:
                outcome = ""
            where = f"{shown(instance_id)} · {shown(item.get('region'))}"
            lines.append(f"- {where} · {_actual_setting(item)}{outcome}")
        headline = f"{plural(len(drift), 'instance')} differ from the expected auto-renew setting"
        extra = [_expected_line(result.get("expected"))]
        if fixed_ids:
            extra.append(f"- Fixed: {len(fixed_ids)} of {len(drift)}")
        summary = f"{len(drift)} drift" + (f", {len(fixed_ids)} fixed" if fixed_ids else "")
        header = message_header(result, job, headline, extra, "Drift:")
        messages += split_into_messages(message_title(job, summary), header, lines)
    messages += failure_messages(result, job, "could not be fixed")
    return messages


def _generic_messages(result: Mapping[str, Any]) -> list[Message]:
    return failure_messages(result, shown(result.get("job"), "unknown job"), "failed")


_BY_JOB = {
    "scan-expiring": _scan_messages,
    "audit-autorenew": _audit_messages,
}


def messages_for_result(result: JobResult | Mapping[str, Any], *, all_clear: bool = True) -> list[Message]:
    """The messages to send for one job result ([] when there is nothing worth telling anyone).

    ``result``: the typed result (what ``notify/alerts.py`` passes), or the contract's dict (a result read
    back from a run, hand-made shapes in tests), which is rendered as before.

    ``all_clear``: a scan that found nothing (and failed nowhere) says so in one line (``SCAN_ALL_CLEAR``).
    """
    typed = None if isinstance(result, Mapping) else result
    # The contract's dict, made once here: renew-batch's limits and period are read from the typed result;
    # every other line still reads this dict (a later step types the rest).
    contract = result if typed is None else to_contract(typed)
    job = contract.get("job")
    if job == "scan-expiring":
        return _scan_messages(contract, all_clear=all_clear)
    if job == "renew-batch":
        return renew_messages(contract, typed)
    return _BY_JOB.get(job, _generic_messages)(contract)
