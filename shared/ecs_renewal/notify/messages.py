"""Job result → DingTalk markdown messages. Pure functions: data in, messages out, no I/O.

Rules every message follows:

* title and text both contain :data:`KEYWORD` — a robot secured by "custom keywords" rejects a message
  without its keyword (errcode 310000), and which fields DingTalk scans is not documented;
* failures get a message of their own, so they are never buried at the end of a long success list;
* DingTalk markdown has no tables, so everything is a list, short enough to read on a phone;
* nothing to report → no message (a quiet night stays quiet).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .advice import advice_for
from .wording import auto_renew_phrase, instance_status_phrase, period_phrase, reason_phrase, terms_phrase

KEYWORD = "ECS renewal"

# DingTalk documents no per-message size limit; reports say long content is truncated or rejected.
# 18,000 bytes of UTF-8 is a conservative guess that has worked, not a documented number.
MAX_MESSAGE_BYTES = 18000

ELLIPSIS = "…"


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    at_mobiles: tuple[str, ...] = ()
    at_user_ids: tuple[str, ...] = ()


# ---------------------------------------------------------------- size handling


def byte_length(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, ending in "…" when something was cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max_bytes - byte_length(ELLIPSIS)
    if room <= 0:
        return ""
    # errors="ignore" drops a multi-byte character cut in half instead of producing garbage.
    return encoded[:room].decode("utf-8", errors="ignore") + ELLIPSIS


def _part_label(index: int, total: int) -> str:
    return f" (part {index}/{total})"


def _label_first_line(header: str, label: str) -> str:
    first, newline, rest = header.partition("\n")
    return first + label + newline + rest


def split_into_messages(title: str, header: str, lines: list[str], max_bytes: int = MAX_MESSAGE_BYTES) -> list[Message]:
    """``header`` + ``lines`` as one message, or as several "(part i/n)" messages when too long.

    Every part repeats the header (so each stands on its own in the chat), lines keep their order and
    appear exactly once, and a single line too long for any message is shortened with "…", never dropped.
    """
    # Reserve room for the widest label any split could need (there are never more parts than lines),
    # so packing does not have to be redone once the number of parts is known.
    widest_label = _part_label(max(len(lines), 1), max(len(lines), 1))
    header = truncate_utf8(header, max_bytes // 2 - byte_length(widest_label))
    separator = "\n\n"
    line_budget = max_bytes - byte_length(header) - byte_length(widest_label) - byte_length(separator)

    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for raw_line in lines:
        line = truncate_utf8(raw_line, line_budget)
        cost = byte_length(line) + (1 if current else 0)  # +1: the "\n" joining it to the previous line
        if current and used + cost > line_budget:
            chunks.append(current)
            current, cost = [], byte_length(line)
            used = 0
        current.append(line)
        used += cost
    if current or not chunks:
        chunks.append(current)

    total = len(chunks)
    messages = []
    for index, chunk in enumerate(chunks, start=1):
        label = _part_label(index, total) if total > 1 else ""
        text = _label_first_line(header, label)
        if chunk:
            text += separator + "\n".join(chunk)
        messages.append(Message(title=title + label, text=text))
    return messages


# ---------------------------------------------------------------- formatting helpers


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _text(value: Any, default: str = "-") -> str:
    return default if value is None or value == "" else str(value)


def _sort_key(*fields: str):
    # None-safe: a missing field sorts first instead of raising TypeError.
    return lambda item: tuple(_text(item.get(field), "") for field in fields)


def _context_lines(result: Mapping[str, Any]) -> list[str]:
    """Where this happened: account (when the job reports one), regions, window, mode."""
    lines = []
    account = result.get("account") or result.get("account_id")
    if account:
        lines.append(f"- Account: {account}")
    lines.append(f"- Regions: {', '.join(map(str, result.get('regions') or [])) or '-'}")
    window = result.get("window") or {}
    if window.get("start") or window.get("end"):
        lines.append(f"- Window: {_text(window.get('start'))} → {_text(window.get('end'))} (UTC)")
    if result.get("dry_run") and result.get("job") != "scan-expiring":  # a scan never changes anything
        lines.append("- Mode: DRY RUN, nothing was changed")
    return lines


def _header(
    result: Mapping[str, Any], job: str, headline: str, extra: Iterable[str] = (), list_heading: str = ""
) -> str:
    # The first line carries the keyword and the job; split_into_messages appends "(part i/n)" to it.
    details = "\n".join([*_context_lines(result), *extra])
    header = f"### {KEYWORD} · {job}\n\n**{headline}**\n\n{details}"
    # A heading between the details and the item list keeps markdown from merging the two lists.
    return f"{header}\n\n{list_heading}" if list_heading else header


def _title(job: str, summary: str) -> str:
    return f"{KEYWORD} · {job}: {summary}"


def _problem(item: Mapping[str, Any]) -> str:
    code, message = _text(item.get("code"), "Error"), _text(item.get("message"), "")
    return f"{code}: {message}" if message else code


def _failure_line(item: Mapping[str, Any]) -> str:
    return f"- {_text(item.get('instance_id'))} · {_text(item.get('region'))} · {_problem(item)}"


def _region_error_line(item: Mapping[str, Any]) -> str:
    return f"- region {_text(item.get('region'))} · {_problem(item)}"


def _failure_messages(
    result: Mapping[str, Any], job: str, failed_what: str, extra: Iterable[str] = ()
) -> list[Message]:
    """One message (or parts) for per-instance failures and region-level errors, [] when there are none."""
    failed = sorted(result.get("failed") or [], key=_sort_key("region", "instance_id"))
    errors = sorted(result.get("errors") or [], key=_sort_key("region"))
    if not failed and not errors:
        return []
    problems = []
    if failed:
        problems.append(f"{_plural(len(failed), 'instance')} {failed_what}")
    if errors:
        problems.append(f"{_plural(len(errors), 'region')} could not be processed")
    headline = "FAILED: " + ", ".join(problems)
    lines = [_failure_line(item) for item in failed] + [_region_error_line(item) for item in errors]
    title = _title(job, f"{len(failed) + len(errors)} FAILED")
    advice = _advice_lines([*failed, *errors])
    return split_into_messages(title, _header(result, job, headline, [*extra, *advice], "Failures:"), lines)


def _advice_lines(items: list[Mapping[str, Any]]) -> list[str]:
    """Per distinct error code: what it means and what to do next (the failure list follows)."""
    codes = Counter(_text(item.get("code"), "Error") for item in items)
    lines = ["", "What it means and what to do:"] if codes else []
    for code, count in sorted(codes.items(), key=lambda pair: (-pair[1], pair[0])):
        meaning, action = advice_for(code)
        lines.append(f"- **{code}** ({count}): {meaning}. Next: {action}.")
    return lines


# ---------------------------------------------------------------- per job


def _scan_messages(result: Mapping[str, Any]) -> list[Message]:
    job = "scan-expiring"
    expiring = sorted(result.get("expiring") or [], key=_sort_key("expired_time", "region", "instance_id"))
    window = result.get("window") or {}
    start, end = _text(window.get("start")), _text(window.get("end"))
    messages = []
    if expiring:
        verb = "expires" if len(expiring) == 1 else "expire"
        headline = f"{_plural(len(expiring), 'instance')} {verb} between {start} and {end}"
        extra = []
        cost = result.get("estimated_cost") or {}
        if cost.get("amount") is not None and (cost.get("priced") or cost.get("unknown")):
            unknown = f", {cost['unknown']} unknown" if cost.get("unknown") else ""
            extra.append(f"- Estimated renewal cost: {cost['amount']:,.2f} {_text(cost.get('currency'), '')}{unknown}")
        lines = _tiered_lines(expiring) if any("tier" in item for item in expiring) else [
            _expiring_line(item) for item in expiring]
        title = _title(job, f"{_plural(len(expiring), 'instance')} expiring")
        header = _header(result, job, headline, extra, list_heading="Most urgent first:")
        mobiles, user_ids = _mentions(expiring)
        messages += [
            Message(m.title, m.text, at_mobiles=mobiles, at_user_ids=user_ids)
            for m in split_into_messages(title, header, lines)
        ]
    # The scan's errors mean some regions were not looked at: the list above may be incomplete.
    found = _plural(len(expiring), "instance")
    incomplete = [f"- The list of expiring instances is incomplete ({found} found)."]
    messages += _failure_messages(result, job, "could not be read", incomplete)
    return messages


def _expiring_line(item: Mapping[str, Any]) -> str:
    name = item.get("instance_name")
    named = f" ({name})" if name and name != item.get("instance_id") else ""
    when = item.get("expires_local") or item.get("expired_time")
    parts = [f"- {_text(when)} · {_text(item.get('instance_id'))}{named} · {_text(item.get('region'))}"]
    if item.get("auto_renew"):
        parts.append(auto_renew_phrase(item["auto_renew"]))
    if "price" in item:
        price = item.get("price")
        currency = _text(item.get("currency"), "")
        parts.append(f"{price:,.2f} {currency}".strip() if price is not None else "price unknown")
    if item.get("owner"):
        parts.append(f"@{item['owner']}")
    if not item.get("auto_renew") and "price" not in item:
        parts.append(instance_status_phrase(item.get("status")))
    return " · ".join(parts)


def _tiered_lines(expiring: list[Mapping[str, Any]]) -> list[str]:
    """Groups by reminder tier, most urgent first (expired, then ≤1 day, ≤3 days, ...)."""
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for item in expiring:
        groups.setdefault(int(item.get("tier") if item.get("tier") is not None else 10_000), []).append(item)
    lines: list[str] = []
    for tier in sorted(groups):
        items = groups[tier]
        label = "Already expired" if tier < 0 else "Later" if tier == 10_000 else f"Within {_plural(tier, 'day')}"
        lines.append(f"**{label} ({len(items)})**")
        lines.extend(_expiring_line(item) for item in items)
    return lines


def _mentions(items: list[Mapping[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    owners = sorted({str(item["owner"]) for item in items if item.get("owner")})
    mobiles = tuple(o for o in owners if o.isdigit())
    return mobiles, tuple(o for o in owners if not o.isdigit())


def _skipped_summary(skipped: list[Mapping[str, Any]]) -> list[str]:
    if not skipped:
        return []
    reasons = Counter(reason_phrase(_text(item.get("reason"), "no reason given")) for item in skipped)
    ordered = sorted(reasons.items(), key=lambda pair: (-pair[1], pair[0]))
    return [f"- Skipped: {len(skipped)} ({', '.join(f'{reason}: {count}' for reason, count in ordered)})"]


def _renewed_line(item: Mapping[str, Any]) -> str:
    line = (
        f"- {_text(item.get('instance_id'))} · {_text(item.get('region'))} · expiry {_text(item.get('expired_time'))}"
    )
    if item.get("terms"):
        line += f" · {terms_phrase(item['terms'])}"
    if item.get("price") is not None:
        line += f" · {item['price']:,.2f} {_text(item.get('currency'), '')}".rstrip()
    if item.get("order_id"):
        line += f" · order {item['order_id']}"
    return line


def _cost_lines(result: Mapping[str, Any]) -> list[str]:
    cost = result.get("estimated_cost") or {}
    if cost.get("amount") is None or not (cost.get("priced") or cost.get("unknown")):
        return []
    unknown = f" ({cost['unknown']} with no price available)" if cost.get("unknown") else ""
    return [f"- Estimated cost: {cost['amount']:,.2f} {_text(cost.get('currency'), '')}{unknown}".rstrip()]


def _budget_exceeded_message(result: Mapping[str, Any], budget: Mapping[str, Any]) -> Message:
    job = "renew-batch"
    currency = _text(budget.get("currency"), "")
    amount, limit, unknown = budget.get("amount") or 0, budget.get("max_cost") or 0, budget.get("unknown") or 0
    reason = (f"estimated {amount:,.2f} {currency} is over the budget of {limit:,.2f} {currency}".replace("  ", " ")
              if amount > limit else f"{unknown} prices could not be determined, so the cost is unknown")
    headline = f"Nothing was renewed: {reason}"
    advice = [
        "",
        "The budget (max_cost / MAX_COST) is a second safety cap. These instances still expire. To proceed:",
        "",
        "1. Renew them by hand in the ECS console, or",
        "2. raise `max_cost` deliberately for one run, or renew a subset with `instance_ids`.",
    ]
    if budget.get("unknown_instances"):
        advice.append(f"Without a price: {', '.join(map(str, budget['unknown_instances']))}")
    title = _title(job, "NOTHING renewed, over budget" if amount > limit else "NOTHING renewed, cost unknown")
    return Message(title=title, text=truncate_utf8(_header(result, job, headline, advice), MAX_MESSAGE_BYTES))


def _cap_exceeded_message(result: Mapping[str, Any], cap: Mapping[str, Any]) -> Message:
    job = "renew-batch"
    candidates, limit = _text(cap.get("candidates"), "?"), _text(cap.get("max_instances"), "?")
    headline = f"Nothing was renewed: {candidates} instances are due, more than the safety cap of {limit}"
    # Why the cap exists and the three ways forward: whoever reads this has to act before the expiry.
    advice = [
        "",
        "The cap stops a wrong window or region list from renewing (and paying for) a whole fleet at once. "
        "These instances still expire. To proceed, choose one:",
        "",
        "1. Renew them by hand in the ECS console.",
        f"2. Raise the cap deliberately: run once with `max_instances` >= {candidates} in the event, "
        "or set MAX_RENEWALS.",
        "3. Renew a subset: pass `instance_ids` in the event.",
    ]
    title = _title(job, f"NOTHING renewed, {candidates} due > cap {limit}")
    return Message(title=title, text=truncate_utf8(_header(result, job, headline, advice), MAX_MESSAGE_BYTES))


def _renew_messages(result: Mapping[str, Any]) -> list[Message]:
    job = "renew-batch"
    renewed = sorted(result.get("renewed") or [], key=_sort_key("expired_time", "region", "instance_id"))
    skipped = list(result.get("skipped") or [])
    cap = result.get("cap_exceeded")
    dry_run = bool(result.get("dry_run"))
    messages = []
    budget = result.get("budget_exceeded")
    if cap:
        messages.append(_cap_exceeded_message(result, cap))
    if budget:
        messages.append(_budget_exceeded_message(result, budget))
        cap = cap or budget  # the budget message already explains why nothing was renewed
    # Skipped-only runs still get a message (people want to know why nothing was renewed), except when
    # the cap message already explains it.
    if renewed or (skipped and not cap):
        count = _plural(len(renewed), "instance")
        period = result.get("period")
        unit = result.get("period_unit")
        length = f" for {period_phrase(period, unit)}" if period and unit else ""
        if dry_run:
            headline = f"DRY RUN: would renew {count}{length}"
            summary = f"DRY RUN, would renew {len(renewed)}"
        else:
            headline, summary = f"Renewed {count}{length}", f"renewed {len(renewed)}"
        heading = ("Would renew:" if dry_run else "Renewed:") if renewed else ""
        header = _header(result, job, headline, [*_cost_lines(result), *_skipped_summary(skipped)], heading)
        messages += split_into_messages(_title(job, summary), header, [_renewed_line(i) for i in renewed])
    messages += _failure_messages(result, job, "failed to renew")
    return messages


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
    drift = sorted(result.get("drift") or [], key=_sort_key("region", "instance_id"))
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
            where = f"{_text(instance_id)} · {_text(item.get('region'))}"
            lines.append(f"- {where} · {_actual_setting(item)}{outcome}")
        headline = f"{_plural(len(drift), 'instance')} differ from the expected auto-renew setting"
        extra = [_expected_line(result.get("expected"))]
        if fixed_ids:
            extra.append(f"- Fixed: {len(fixed_ids)} of {len(drift)}")
        summary = f"{len(drift)} drift" + (f", {len(fixed_ids)} fixed" if fixed_ids else "")
        header = _header(result, job, headline, extra, "Drift:")
        messages += split_into_messages(_title(job, summary), header, lines)
    messages += _failure_messages(result, job, "could not be fixed")
    return messages


def _generic_messages(result: Mapping[str, Any]) -> list[Message]:
    return _failure_messages(result, _text(result.get("job"), "unknown job"), "failed")


_BY_JOB = {
    "scan-expiring": _scan_messages,
    "renew-batch": _renew_messages,
    "audit-autorenew": _audit_messages,
}


def messages_for_result(result: Mapping[str, Any]) -> list[Message]:
    """The messages to send for one job result ([] when there is nothing worth telling anyone)."""
    return _BY_JOB.get(result.get("job"), _generic_messages)(result)
