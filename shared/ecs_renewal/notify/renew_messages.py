"""renew-batch's messages, from the typed :class:`~ecs_renewal.results.renew.RenewResult`: what was renewed
(for how long), and why nothing was when a limit stopped it.

Every line reads a typed field: the limits (``plan.cap`` a :class:`CapExceeded`, ``plan.budget`` a
:class:`BudgetExceeded`, ``plan.funds_short`` a ``FundsForecast``), the candidates a limit held back
(``plan.items``, :class:`PlannedRenewal`), the period (``period``/``period_unit``), the rows
(:class:`Renewal`, :class:`Skip`, :class:`Failure`), the cost (a ``CostEstimate``) and the renewal
ledger's alerts (a ``LedgerSummary``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import markdown as md
from .wording import period_phrase, reason_phrase, terms_phrase

if TYPE_CHECKING:
    from ..plan import BudgetExceeded, CapExceeded, PlannedRenewal, Renewal
    from ..records import CostEstimate, Failure, Skip
    from ..results.renew import LedgerSummary, RenewResult

JOB = "renew-batch"
LEDGER_PHRASES = {  # the renewal ledger's skips, counted together (their reasons name times and orders)
    "renewed": "renewed earlier by ecs-renewal (the renewal ledger)",
    "pending": "renewed moments ago by ecs-renewal, not visible yet",
    "moved_otherwise": "renewed by ecs-renewal, then moved again: see the ledger alert",
    "unconfirmed": "renewed by ecs-renewal, expiry not moved: see the ledger alert",
}


def _skip_phrase(skip: Skip) -> str:
    if skip.ledger is not None:
        return LEDGER_PHRASES.get(skip.ledger.status, "in the renewal ledger")
    return reason_phrase(md.shown(skip.detail, "no reason given"))


def _skipped_summary(skipped: Sequence[Skip]) -> list[str]:
    if not skipped:
        return []
    reasons = Counter(_skip_phrase(item) for item in skipped)
    ordered = sorted(reasons.items(), key=lambda pair: (-pair[1], pair[0]))
    return [f"- Skipped: {len(skipped)} ({', '.join(f'{reason}: {count}' for reason, count in ordered)})"]


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}".rstrip()


def _renewed_line(renewal: Renewal) -> str:
    item = renewal.planned
    line = (f"- {md.shown(item.instance.instance_id)} · {md.shown(item.instance.region)} · "
            f"expiry {md.shown(item.instance.expired_time_text)}")
    terms = item.terms.describe()
    if terms:
        line += f" · {terms_phrase(terms)}"
    if item.price is not None:
        line += f" · {_money(item.price.amount, item.price.currency)}"
    if renewal.order_id:
        line += f" · order {renewal.order_id}"
    return line


def _cost_lines(cost: CostEstimate | None) -> list[str]:
    if cost is None or not (cost.priced or cost.unknown):
        return []
    amount = round(cost.total, 2)  # in cents, as it is charged and as the contract shows it
    if not cost.unknown:  # every instance priced on its own: what RenewInstance charges
        return [f"- Cost: {amount:,.2f} {cost.currency} (each instance priced)".replace("  ", " ")]
    return [f"- Estimated cost: {amount:,.2f} {cost.currency} ({len(cost.unknown)} with no price available)"]


def _budget_exceeded_message(result: RenewResult, budget: BudgetExceeded) -> md.Message:
    cost = budget.cost
    currency, amount, limit = cost.currency, round(cost.total, 2), budget.max_cost
    reason = (f"estimated {amount:,.2f} {currency} is over the budget of {limit:,.2f} {currency}".replace("  ", " ")
              if amount > limit else f"{len(cost.unknown)} prices could not be determined, so the cost is unknown")
    advice = [
        "",
        "The budget (max_cost / MAX_COST) is a second safety cap. These instances still expire. To proceed:",
        "",
        "1. Renew them by hand in the ECS console, or",
        "2. raise `max_cost` deliberately for one run, or renew a subset with `instance_ids`.",
    ]
    without_price = sorted(cost.unknown)[:20]  # as the contract's unknown_instances
    if without_price:
        advice.append(f"Without a price: {', '.join(without_price)}")
    summary = "NOTHING renewed, over budget" if amount > limit else "NOTHING renewed, cost unknown"
    return _stopped_message(result, f"Nothing was renewed: {reason}", advice, summary)


def _cap_exceeded_message(result: RenewResult, cap: CapExceeded) -> md.Message:
    candidates, limit = cap.candidates, cap.max_instances
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


def _stopped_message(result: RenewResult, headline: str, advice: list[str], summary: str) -> md.Message:
    """One message: why nothing was renewed, the ways forward, then the selected candidates, as many as fit
    (the operator decides from this list; the run's result has all of them under ``selected``)."""
    selected = sorted(result.plan.items, key=lambda p: (p.instance.expired_time_text, p.instance.region,
                                                        p.instance.instance_id))
    text = md.message_header(result, JOB, headline, advice, "Selected, soonest first:" if selected else "")
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
    return md.Message(title=md.message_title(JOB, summary), text=md.truncate_utf8(text, md.MAX_MESSAGE_BYTES))


def _candidate_line(item: PlannedRenewal) -> str:
    cost = _money(item.price.amount, item.price.currency) if item.price is not None else "price not asked"
    return (f"- {md.shown(item.instance.instance_id)} · {md.shown(item.instance.region)} · expiry "
            f"{md.shown(item.instance.expired_time_text)} · {terms_phrase(item.terms.describe())} · {cost}")


def _length(result: RenewResult) -> str:
    """" for 1 month": the run's period (each line says an instance's own terms when its tags chose them)."""
    return f" for {period_phrase(result.period, result.period_unit)}" if result.period and result.period_unit else ""


def _replay_message(earlier: int, repeated: Sequence[Failure]) -> md.Message:
    """A run that finds everything done already: one line, not the whole report again."""
    line = f"replay: nothing new, {earlier} renewed earlier"
    if repeated:  # named, with their codes: a refusal whose first report was lost is still seen here
        named = ", ".join(f"{md.shown(item.instance_id)} ({md.shown(item.code, 'Error')})"
                          for item in sorted(repeated, key=lambda f: (f.region or "", f.instance_id))[:20])
        line += f"; {len(repeated)} still failing as reported earlier: {named}"
    return md.Message(title=md.message_title(JOB, line), text=f"### {md.KEYWORD} · {JOB}\n\n{line}")


def _ledger_messages(result: RenewResult, ledger: LedgerSummary | None) -> list[md.Message]:
    """What the renewal ledger found that a person must check (with the order ids), and forced renewals."""
    alerts = sorted(ledger.alerts if ledger else (), key=lambda a: (a.region, a.instance_id))
    if not alerts:
        return []
    lines = [f"- {md.shown(a.instance_id)} · {md.shown(a.region)} · {md.shown(a.detail)}" for a in alerts]
    advice = ["", "Check these orders in the Billing console (Orders) and the instances' expiry before anything "
              "else is renewed by hand; the ledger is the instances' `ecs-renewal:intent` / `ecs-renewal:renewed` "
              "tags."]
    headline = f"Renewal ledger: {len(alerts)} {'entry' if len(alerts) == 1 else 'entries'} to check"
    header = md.message_header(result, JOB, headline, advice, "Entries:")
    return md.split_into_messages(md.message_title(JOB, f"LEDGER: {len(alerts)} to check"), header, lines)


def _limit_messages(result: RenewResult) -> list[md.Message]:
    """Why nothing was renewed: the count cap, the budget, the funds (each a message of its own)."""
    messages = []
    if result.cap:
        messages.append(_cap_exceeded_message(result, result.cap))
    if result.budget:
        messages.append(_budget_exceeded_message(result, result.budget))
    if result.funds_short:
        from .silent_messages import funds_short_message

        messages.append(funds_short_message(result, result.funds_short))
    return messages


def renew_messages(result: RenewResult) -> list[md.Message]:
    renewed = sorted(result.renewed, key=lambda r: (r.planned.instance.expired_time_text, r.planned.instance.region,
                                                    r.planned.instance.instance_id))
    repeated = [item for item in result.failed if item.reported_at]  # the same refusal, reported before
    fresh = [item for item in result.failed if not item.reported_at]
    earlier = [item for item in result.skipped if item.ledger]
    stopped = result.plan.stopped
    if earlier and not (renewed or fresh or result.errors or stopped or result.dry_run):
        return [_replay_message(len(earlier), repeated), *_ledger_messages(result, result.ledger)]
    messages = _limit_messages(result)
    # Skipped-only runs still get a message (people want to know why nothing was renewed), except when
    # a limit's message already explains it.
    if renewed or (result.skipped and not stopped):
        count = md.plural(len(renewed), "instance")
        length = _length(result)
        if result.dry_run:
            headline = f"DRY RUN: would renew {count}{length}"
            summary = f"DRY RUN, would renew {len(renewed)}"
        else:
            headline, summary = f"Renewed {count}{length}", f"renewed {len(renewed)}"
        heading = ("Would renew:" if result.dry_run else "Renewed:") if renewed else ""
        still = [f"- Still failing, reported earlier: {len(repeated)}"] if repeated else []
        header = md.message_header(result, JOB, headline,
                                   [*_cost_lines(result.cost), *_skipped_summary(result.skipped), *still], heading)
        messages += md.split_into_messages(md.message_title(JOB, summary), header, [_renewed_line(i) for i in renewed])
    messages += md.failure_messages(result, JOB, "failed to renew", failed=fresh)
    messages += _ledger_messages(result, result.ledger)
    return messages
