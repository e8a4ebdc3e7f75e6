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

from typing import TYPE_CHECKING

from .markdown import (
    KEYWORD,
    MAX_MESSAGE_BYTES,
    Mention,
    Message,
    failure_messages,
    message_header,
    message_title,
    plural,
    shown,
    split_into_messages,
)
from .silent_messages import all_clear_message, deduction_block
from .wording import auto_renew_phrase, instance_status_phrase

if TYPE_CHECKING:
    from ..results import JobResult
    from ..results.audit import AuditResult, Drift
    from ..results.scan import Expiring, ScanResult

__all__ = ["KEYWORD", "MAX_MESSAGE_BYTES", "Message", "messages_for_result", "split_into_messages"]


def _scan_messages(result: ScanResult, *, all_clear: bool = True) -> list[Message]:
    job = "scan-expiring"
    expiring = sorted(result.expiring, key=lambda e: (e.instance.expired_time_text, e.instance.region,
                                                       e.instance.instance_id))
    window = result.window.as_dict() if result.window is not None else {}
    start, end = shown(window.get("start")), shown(window.get("end"))
    if all_clear and result.all_clear and not expiring and not result.errors:
        return [all_clear_message(result.all_clear)]
    messages = []
    if expiring:
        verb = "expires" if len(expiring) == 1 else "expire"
        headline = f"{plural(len(expiring), 'instance')} {verb} between {start} and {end}"
        extra = []
        failed_deductions = [item for item in expiring if item.deduction_failed]
        if failed_deductions:  # at the top: the one thing on this list that is already failing
            headline, block = deduction_block(failed_deductions, headline)
            extra += block
        cost = result.estimated_cost
        if cost.priced or cost.unknown:
            unknown = f", {len(cost.unknown)} unknown" if cost.unknown else ""
            # One price per instance type (disks, bandwidth and images differ): renew-batch prices each instance.
            extra.append(f"- Estimated renewal cost: {round(cost.total, 2):,.2f} {cost.currency}{unknown}"
                         " (per instance type)")
        rows = _tiered_lines(expiring)
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


def _expiring_line(item: Expiring) -> str:
    instance = item.instance
    name = instance.instance_name
    named = f" ({name})" if name and name != instance.instance_id else ""
    when = item.expires_local or instance.expired_time_text
    parts = [f"- {shown(when)} · {shown(instance.instance_id)}{named} · {shown(instance.region)}"]
    if item.auto_renew:
        parts.append(auto_renew_phrase(item.auto_renew))
    if item.price_asked:
        price = item.price
        parts.append(f"{price.amount:,.2f} {price.currency}".strip() if price is not None else "price unknown")
    if item.deduction_failed:
        parts.append("auto-renew deduction FAILED")
    if item.owner:
        parts.append(f"@{item.owner.value}")
    if not item.auto_renew and not item.price_asked:
        parts.append(instance_status_phrase(instance.status))
    return " · ".join(parts)


def _tiered_lines(expiring: list[Expiring]) -> list[tuple[str, tuple[Mention, ...]]]:
    """Groups by reminder tier, most urgent first (expired, then ≤1 day, ≤3 days, ...); whom each line names."""
    groups: dict[int, list[Expiring]] = {}
    for item in expiring:
        groups.setdefault(int(item.tier if item.tier is not None else 10_000), []).append(item)
    lines: list[tuple[str, tuple[Mention, ...]]] = []
    for tier in sorted(groups):
        items = groups[tier]
        label = "Already expired" if tier < 0 else "Later" if tier == 10_000 else f"Within {plural(tier, 'day')}"
        lines.append((f"**{label} ({len(items)})**", ()))
        lines.extend((_expiring_line(item), _mentions(item)) for item in items)
    return lines


def _mentions(item: Expiring) -> tuple[Mention, ...]:
    """Whom a line @-mentions, as the scan typed the owner tag (an ``Owner``): a numeric DingTalk userId
    stays a user id."""
    return ((item.owner.value, item.owner.kind),) if item.owner else ()


def _expected_line(result: AuditResult) -> str:
    if result.expected_auto_renew is None:  # a result read back that does not say (many accounts' merge)
        return "- Expected setting: not reported"
    if not result.expected_auto_renew:
        return "- Expected: auto-renew off"
    return f"- Expected: {auto_renew_phrase(True, result.duration)}"


def _actual_setting(item: Drift) -> str:
    return auto_renew_phrase(item.attribute.enabled, item.attribute.duration)


def _audit_messages(result: AuditResult) -> list[Message]:
    job = "audit-autorenew"
    drift = sorted(result.drift, key=lambda d: (d.region, d.attribute.instance_id))
    fixed_ids = {item.instance_id for item in result.fixed}
    failed_ids = {item.instance_id for item in result.failed}
    messages = []
    if drift or fixed_ids:
        lines = []
        for item in drift:
            instance_id = item.attribute.instance_id
            if instance_id in fixed_ids:
                outcome = " → fixed"
            elif instance_id in failed_ids:
                outcome = " → fix FAILED"
            elif result.dry_run:
                outcome = " → not changed (dry run)"
            else:
                outcome = ""
            where = f"{shown(instance_id)} · {shown(item.region)}"
            lines.append(f"- {where} · {_actual_setting(item)}{outcome}")
        headline = f"{plural(len(drift), 'instance')} differ from the expected auto-renew setting"
        extra = [_expected_line(result)]
        if fixed_ids:
            extra.append(f"- Fixed: {len(fixed_ids)} of {len(drift)}")
        summary = f"{len(drift)} drift" + (f", {len(fixed_ids)} fixed" if fixed_ids else "")
        header = message_header(result, job, headline, extra, "Drift:")
        messages += split_into_messages(message_title(job, summary), header, lines)
    messages += failure_messages(result, job, "could not be fixed", failed=result.failed)
    return messages


def messages_for_result(result: JobResult, *, all_clear: bool = True) -> list[Message]:
    """The messages to send for one typed job result ([] when there is nothing worth telling anyone).

    Many accounts' result is read as one (``as_one``: their rows together); a dict read back from a run
    is typed first (``contract.from_contract``). ``all_clear``: a scan that found nothing (and failed
    nowhere) says so in one line (``SCAN_ALL_CLEAR``).
    """
    result = result.as_one()
    if result.job == "scan-expiring":
        from ..results.scan import ScanResult  # loaded already: the scan's own result

        if isinstance(result, ScanResult):
            return _scan_messages(result, all_clear=all_clear)
    elif result.job == "renew-batch":
        from ..results.renew import RenewResult  # only renew-batch's alerts load renew's messages (cold start)
        from .renew_messages import renew_messages

        if isinstance(result, RenewResult):
            return renew_messages(result)
    elif result.job == "audit-autorenew":
        from ..results.audit import AuditResult

        if isinstance(result, AuditResult):
            return _audit_messages(result)
    # A fan-out's dispatch errors, an account whose role failed, a job this module does not know.
    return failure_messages(result, shown(result.job, "unknown job"), "failed")
