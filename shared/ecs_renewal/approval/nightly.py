"""APPROVAL=required: the nightly renew-batch's plan is signed, stored and put to the group as a card.

Nothing is renewed by the nightly run in this mode. The card says what would be renewed, for how long, at
what price, the total and until when; its Approve / Reject buttons are signed links to approve-renewal.
Every problem (no secret, no store, no URL) is in the result's ``errors`` and so in the run's alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ..logs import JsonLogger, register_secret
from ..settings import Settings
from ..timeutil import utc_now
from . import document, links
from .document import Plan, PlanEntry, PlanRefused, make_plan
from .store import open_store

PLAN_PREFIX = "plans/"


def plan_key(plan_id: str) -> str:
    return f"{PLAN_PREFIX}{plan_id}.json"


def card_text(plan: Plan, *, robot_mode: bool) -> tuple[str, str]:
    """The card's title and markdown: each renewal (what, how long, price), the total, the deadline."""
    totals = ", ".join(f"{amount:.2f} {currency}" for currency, amount in plan.totals.items()) or "no price"
    title = f"Approve renewal: {len(plan.entries)} instance(s), {totals}"
    lines = [f"### {title}", ""]
    for entry in plan.entries:
        price = f"{entry.price:.2f} {entry.currency}" if entry.price is not None else "price unknown"
        owner = f", owner {entry.owner}" if entry.owner else ""
        lines.append(f"- **{entry.name or entry.instance_id}** ({entry.instance_id}, {entry.region}{owner}): expires "
                     f"{entry.expired_time}, renew {entry.terms}, **{price}**")
    lines += ["", f"**Total: {totals}**", "",
              f"Plan `{plan.plan_id}`, valid until {plan.valid_until} (UTC). Approving renews exactly these "
              "instances, only if each still has this expiry and price."]
    if robot_mode:
        lines.append(f"Approve in the group: @robot approve {plan.plan_id}")
    return title, "\n".join(lines)


def candidates(result: Any, account: str, owner_tag: str) -> list[PlanEntry]:
    """The plan's entries from renew-batch's typed plan (``RenewResult.plan``): one per planned renewal."""
    entries = []
    for item in result.plan.items:
        instance, terms = item.instance, item.terms
        by_day = terms.expected_renew_day is not None
        entries.append(PlanEntry(
            account=account, region=instance.region, instance_id=instance.instance_id, name=instance.instance_name,
            owner=instance.tags.get(owner_tag, ""), expired_time=instance.expired_time_text,
            period=None if by_day else terms.period, unit=None if by_day else terms.unit,
            expected_renew_day=terms.expected_renew_day, client_token=item.client_token,
            price=item.price.amount if item.price else None, currency=item.price.currency if item.price else None))
    return entries


def propose(result: Any, settings: Settings, environ: Mapping[str, str], log: JsonLogger,
            *, credentials: Any = None) -> Any:
    """The run's result with its plan signed, stored and put to the group (``approval`` says how it went)."""
    from dataclasses import replace

    from ..records import RegionError
    from ..results.approval import ApprovalOutcome

    account = str(getattr(result, "account_id", None) or environ.get("FC_ACCOUNT_ID") or "")
    secret = environ.get("APPROVAL_SECRET", "")
    register_secret(secret)
    entries = candidates(result, account, settings.tag_names.owner)
    approval = ApprovalOutcome(len(entries))
    if not entries:
        return replace(result, approval=approval)
    try:
        plan = make_plan(entries, now=utc_now(), ttl=timedelta(hours=settings.approval_ttl),
                         caps={"max_instances": settings.max_instances, "max_cost": settings.max_cost},
                         dry_run_at_planning=settings.dry_run)
        raw = document.dumps(plan, secret)
        store = open_store(environ, credentials)
        if store is None:
            raise PlanRefused("ApprovalStoreMissing", "APPROVAL=required needs APPROVAL_BUCKET (or APPROVAL_STORE_DIR)")
        store.put(plan_key(plan.plan_id), raw)
    except Exception as error:  # noqa: BLE001 - no secret, no store, OSS down: reported and alerted
        code = str(getattr(error, "code", None) or type(error).__name__)
        log.error("approval_plan_failed", code=code)
        problem = RegionError(None, code, f"no plan to approve: {str(error)[:200]}")
        return replace(result, approval=replace(approval, error=code), errors=(*result.errors, problem))
    approval = approval.planned(plan_id=plan.plan_id, valid_until=plan.valid_until, totals=plan.totals,
                                stored=plan_key(plan.plan_id))
    log.info("approval_planned", plan_id=plan.plan_id, entries=len(plan.entries), totals=plan.totals)
    return replace(result, approval=replace(approval, card_sent=send_card(plan, environ, log)))


def send_card(plan: Plan, environ: Mapping[str, str], log: JsonLogger) -> bool:
    webhook = environ.get("DINGTALK_WEBHOOK", "").strip()
    url = environ.get("APPROVAL_URL", "").strip()
    if not webhook:
        return False
    from ..notify.dingtalk import DingTalkNotifier

    secret = environ.get("APPROVAL_SECRET", "")
    robot_mode = bool(environ.get("APPROVERS", "").strip())
    title, text = card_text(plan, robot_mode=robot_mode)
    until = plan.valid_until_time()
    buttons = []
    if url:
        if not robot_mode:  # robot mode: approving names a person, so the card offers no approve link
            buttons.append(("Approve", links.signed_link(url, plan.plan_id, "approve", until, secret)))
        buttons.append(("Reject", links.signed_link(url, plan.plan_id, "reject", until, secret)))
    else:
        text += "\n\nAPPROVAL_URL is not set: apply by hand (`ecs-renewal apply`)."
        log.error("approval_url_missing")
    notifier = DingTalkNotifier(webhook, environ.get("DINGTALK_SECRET", "").strip() or None, logger=log,
                                shared_budget=True)
    return notifier.send_action_card(title, text, buttons) if buttons else bool(notifier.send_markdown(title, text))
