"""renew-batch's messages: what was renewed (for how long), and why nothing was when a limit stopped it.

The limits and the period come from the typed result (``RenewResult.plan.cap`` a :class:`CapExceeded`,
``plan.budget`` a :class:`BudgetExceeded`, ``RenewResult.period``/``period_unit``); every other line still
reads the contract's dict (a later step types the rest). Given only a dict (a result read back, a test's
hand-made shape), the same fields are read from its ``cap_exceeded``/``budget_exceeded``/``period`` keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from . import markdown as md
from .wording import period_phrase, reason_phrase, terms_phrase

if TYPE_CHECKING:  # a scan's alerts import this module too: it needs no plan (cold start)
    from ..plan import BudgetExceeded, CapExceeded
    from ..results import JobResult

LEDGER_PHRASES = {  # the renewal ledger's skips, counted together (their reasons name times and orders)
    "renewed": "renewed earlier by ecs-renewal (the renewal ledger)",
    "pending": "renewed moments ago by ecs-renewal, not visible yet",
    "moved_otherwise": "renewed by ecs-renewal, then moved again: see the ledger alert",
    "unconfirmed": "renewed by ecs-renewal, expiry not moved: see the ledger alert",
}


def _skip_phrase(item: Mapping[str, Any]) -> str:
    ledger = item.get("ledger")
    if isinstance(ledger, Mapping):
        return LEDGER_PHRASES.get(str(ledger.get("status")), "in the renewal ledger")
    return reason_phrase(md.shown(item.get("reason"), "no reason given"))


def _skipped_summary(skipped: list[Mapping[str, Any]]) -> list[str]:
    if not skipped:
        return []
    reasons = Counter(_skip_phrase(item) for item in skipped)
    ordered = sorted(reasons.items(), key=lambda pair: (-pair[1], pair[0]))
    return [f"- Skipped: {len(skipped)} ({', '.join(f'{reason}: {count}' for reason, count in ordered)})"]


def _renewed_line(item: Mapping[str, Any]) -> str:
    line = (f"- {md.shown(item.get('instance_id'))} · {md.shown(item.get('region'))} · "
            f"expiry {md.shown(item.get('expired_time'))}")
    if item.get("terms"):
        line += f" · {terms_phrase(item['terms'])}"
    if item.get("price") is not None:
        line += f" · {item['price']:,.2f} {md.shown(item.get('currency'), '')}".rstrip()
    if item.get("order_id"):
        line += f" · order {item['order_id']}"
    return line


def _cost_lines(result: Mapping[str, Any]) -> list[str]:
    cost = result.get("estimated_cost") or {}
    if cost.get("amount") is None or not (cost.get("priced") or cost.get("unknown")):
        return []
    unknown = f" ({cost['unknown']} with no price available)" if cost.get("unknown") else ""
    if cost.get("exact"):  # every instance priced on its own: what RenewInstance charges
        currency = md.shown(cost.get("currency"), "")
        return [f"- Cost: {cost['amount']:,.2f} {currency} (each instance priced)".replace("  ", " ")]
    return [f"- Estimated cost: {cost['amount']:,.2f} {md.shown(cost.get('currency'), '')}{unknown}".rstrip()]


class _Budget(NamedTuple):
    """What the budget message says: from a :class:`BudgetExceeded`, or from a contract's ``budget_exceeded``."""

    amount: float
    currency: str
    max_cost: float
    unknown: int
    without_price: list[str]

    @classmethod
    def of(cls, budget: BudgetExceeded) -> _Budget:
        cost = budget.cost  # rounded to cents, as the contract shows it and as it is charged
        return cls(round(cost.total, 2), cost.currency, budget.max_cost, len(cost.unknown), sorted(cost.unknown)[:20])

    @classmethod
    def from_contract(cls, budget: Mapping[str, Any]) -> _Budget:
        return cls(budget.get("amount") or 0, md.shown(budget.get("currency"), ""), budget.get("max_cost") or 0,
                   budget.get("unknown") or 0, list(budget.get("unknown_instances") or []))


def _budget_exceeded_message(result: Mapping[str, Any], budget: _Budget) -> md.Message:
    currency = budget.currency or ""
    amount, limit, unknown = budget.amount or 0, budget.max_cost or 0, budget.unknown or 0
    reason = (f"estimated {amount:,.2f} {currency} is over the budget of {limit:,.2f} {currency}".replace("  ", " ")
              if amount > limit else f"{unknown} prices could not be determined, so the cost is unknown")
    advice = [
        "",
        "The budget (max_cost / MAX_COST) is a second safety cap. These instances still expire. To proceed:",
        "",
        "1. Renew them by hand in the ECS console, or",
        "2. raise `max_cost` deliberately for one run, or renew a subset with `instance_ids`.",
    ]
    if budget.without_price:
        advice.append(f"Without a price: {', '.join(map(str, budget.without_price))}")
    summary = "NOTHING renewed, over budget" if amount > limit else "NOTHING renewed, cost unknown"
    return _stopped_message(result, f"Nothing was renewed: {reason}", advice, summary)


def _cap_exceeded_message(result: Mapping[str, Any], cap: CapExceeded) -> md.Message:
    candidates, limit = md.shown(cap.candidates, "?"), md.shown(cap.max_instances, "?")
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
    headline = f"Nothing was renewed: {candidates} instances are due, more than the safety cap of {limit}"
    return _stopped_message(result, headline, advice, f"NOTHING renewed, {candidates} due > cap {limit}")


def _stopped_message(result: Mapping[str, Any], headline: str, advice: list[str], summary: str) -> md.Message:
    """One message: why nothing was renewed, the ways forward, then the selected candidates, as many as fit
    (the operator decides from this list; the run's result has all of them under ``selected``)."""
    job = "renew-batch"
    selected = sorted(result.get("selected") or [], key=md.by_fields("expired_time", "region", "instance_id"))
    text = md.message_header(result, job, headline, advice, "Selected, soonest first:" if selected else "")
    room = md.MAX_MESSAGE_BYTES - md.byte_length(text) - 200  # 200: the "and N more" line and the mentions
    lines: list[str] = []
    for item in selected:
        line = _candidate_line(item)
        if md.byte_length(line) + 1 > room:
            lines.append(f"- … and {len(selected) - len(lines)} more (the run's result lists them all)")
            break
        lines.append(line)
        room -= md.byte_length(line) + 1
    if lines:
        text += "\n\n" + "\n".join(lines)
    return md.Message(title=md.message_title(job, summary), text=md.truncate_utf8(text, md.MAX_MESSAGE_BYTES))


def _candidate_line(item: Mapping[str, Any]) -> str:
    price = item.get("price")
    cost = f"{price:,.2f} {md.shown(item.get('currency'), '')}".rstrip() if price is not None else "price not asked"
    return (f"- {md.shown(item.get('instance_id'))} · {md.shown(item.get('region'))} · expiry "
            f"{md.shown(item.get('expired_time'))} · {terms_phrase(item.get('terms'))} · {cost}")


class _Limits(NamedTuple):
    """The run's count cap, budget and period: what stopped it, and how long what it renewed was renewed for."""

    cap: CapExceeded | None
    budget: _Budget | None
    period: Any
    unit: Any

    @classmethod
    def of(cls, typed: JobResult) -> _Limits:
        """From the typed result: ``plan.cap``/``plan.budget`` (an AccountsResult's are every account's)."""
        from ..results.renew import RenewResult  # loaded already: only renew-batch runs get here

        budget = _Budget.of(typed.budget) if typed.budget is not None else None
        if isinstance(typed, RenewResult):  # the event's period (each line says its own tag-chosen terms)
            return cls(typed.plan.cap, budget, typed.period, typed.period_unit)
        return cls(typed.cap, budget, None, None)  # many accounts: no one period to state

    @classmethod
    def from_contract(cls, result: Mapping[str, Any]) -> _Limits:
        from ..plan import CapExceeded

        cap, budget = result.get("cap_exceeded"), result.get("budget_exceeded")
        period, unit = result.get("period"), result.get("period_unit")
        if isinstance(period, Mapping):  # as renew-batch writes it: {"period": 1, "unit": "Month"}
            period, unit = period.get("period"), period.get("unit")
        return cls(CapExceeded(cap.get("candidates"), cap.get("max_instances")) if cap else None,
                   _Budget.from_contract(budget) if budget else None, period, unit)


def _length(limits: _Limits) -> str:
    """" for 1 month": the run's period (each line says an instance's own terms when its tags chose them)."""
    return f" for {period_phrase(limits.period, limits.unit)}" if limits.period and limits.unit else ""


def _replay_message(earlier: int, repeated: list[Mapping[str, Any]]) -> md.Message:
    """A run that finds everything done already: one line, not the whole report again."""
    line = f"replay: nothing new, {earlier} renewed earlier"
    if repeated:  # named, with their codes: a refusal whose first report was lost is still seen here
        named = ", ".join(f"{md.shown(item.get('instance_id'))} ({md.shown(item.get('code'), 'Error')})"
                          for item in sorted(repeated, key=md.by_fields("region", "instance_id"))[:20])
        line += f"; {len(repeated)} still failing as reported earlier: {named}"
    return md.Message(title=md.message_title("renew-batch", line), text=f"### {md.KEYWORD} · renew-batch\n\n{line}")


def _ledger_messages(result: Mapping[str, Any]) -> list[md.Message]:
    """What the renewal ledger found that a person must check (with the order ids), and forced renewals."""
    alerts = sorted((result.get("ledger") or {}).get("alerts") or [], key=md.by_fields("region", "instance_id"))
    if not alerts:
        return []
    job = "renew-batch"
    lines = [f"- {md.shown(a.get('instance_id'))} · {md.shown(a.get('region'))} · {md.shown(a.get('detail'))}"
             for a in alerts]
    advice = ["", "Check these orders in the Billing console (Orders) and the instances' expiry before anything "
              "else is renewed by hand; the ledger is the instances' `ecs-renewal:intent` / `ecs-renewal:renewed` "
              "tags."]
    headline = f"Renewal ledger: {len(alerts)} {'entry' if len(alerts) == 1 else 'entries'} to check"
    header = md.message_header(result, job, headline, advice, "Entries:")
    return md.split_into_messages(md.message_title(job, f"LEDGER: {len(alerts)} to check"), header, lines)


def renew_messages(result: Mapping[str, Any], typed: JobResult | None = None) -> list[md.Message]:
    """``result``: the contract's dict; ``typed``: the same result typed, when there is one (the limits and
    the period are read from it)."""
    job = "renew-batch"
    limits = _Limits.of(typed) if typed is not None else _Limits.from_contract(result)
    renewed = sorted(result.get("renewed") or [], key=md.by_fields("expired_time", "region", "instance_id"))
    skipped = list(result.get("skipped") or [])
    failed = list(result.get("failed") or [])
    repeated = [item for item in failed if item.get("reported_at")]  # the same refusal, reported before
    fresh = {**result, "failed": [item for item in failed if not item.get("reported_at")]}
    cap, budget = limits.cap, limits.budget
    dry_run = bool(result.get("dry_run"))
    messages = []
    earlier = [item for item in skipped if item.get("ledger")]
    if earlier and not (renewed or fresh["failed"] or result.get("errors") or cap or budget or dry_run):
        return [_replay_message(len(earlier), repeated), *_ledger_messages(result)]
    if cap:
        messages.append(_cap_exceeded_message(result, cap))
    if budget:
        messages.append(_budget_exceeded_message(result, budget))
    funds = result.get("funds_short")
    stopped = bool(cap or budget)  # the budget message already explains why nothing was renewed
    if funds:
        from .silent_messages import funds_short_message

        messages.append(funds_short_message(result, funds))
        stopped = True
    # Skipped-only runs still get a message (people want to know why nothing was renewed), except when
    # the cap message already explains it.
    if renewed or (skipped and not stopped):
        count = md.plural(len(renewed), "instance")
        length = _length(limits)
        if dry_run:
            headline = f"DRY RUN: would renew {count}{length}"
            summary = f"DRY RUN, would renew {len(renewed)}"
        else:
            headline, summary = f"Renewed {count}{length}", f"renewed {len(renewed)}"
        heading = ("Would renew:" if dry_run else "Renewed:") if renewed else ""
        still = [f"- Still failing, reported earlier: {len(repeated)}"] if repeated else []
        header = md.message_header(result, job, headline, [*_cost_lines(result), *_skipped_summary(skipped), *still],
                                   heading)
        messages += md.split_into_messages(md.message_title(job, summary), header, [_renewed_line(i) for i in renewed])
    messages += md.failure_messages(fresh, job, "failed to renew")
    messages += _ledger_messages(result)
    return messages
