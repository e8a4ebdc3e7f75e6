"""approve-renewal: the HTTP trigger behind the card's links and the enterprise robot's callback.

Every request is authenticated here (the trigger is anonymous: a DingTalk button cannot sign FC's way):

- **link mode** (``GET ?plan&action&expires&sig``): the link's HMAC (``links.py``). Trust: *anyone who has
  the link before it expires*. The decision records what is known of the clicker (source IP, user agent).
- **robot mode** (``POST`` from DingTalk's enterprise-internal robot, ``APPROVERS`` set): DingTalk's
  signature (``robot.py``) and the sender's staff id; ``APPROVALS_NEEDED`` distinct approvers apply the
  plan. In this mode a link can only reject (rejecting never spends money).

A forged, altered or expired link or callback gets a clear page and changes nothing. Approval applies the
stored plan exactly (``apply.py``) and posts the outcome to the group; a second approval shows the first
outcome and calls nothing; a rejection is recorded (who/when) and posted.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..logs import JsonLogger, get_logger, register_secret
from ..timeutil import utc_now
from . import decisions, document, links, robot
from .document import PlanRefused
from .nightly import plan_key
from .store import ObjectStore, open_store

FUNCTION = "approve-renewal"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    source_ip: str
    user_agent: str

    @classmethod
    def from_event(cls, event: Any) -> HttpRequest:
        """FC 3.0's HTTP trigger event (built-in runtimes): JSON with rawPath, headers, queryParameters, body."""
        raw = json.loads(event) if isinstance(event, bytes | bytearray | str) else event
        if not isinstance(raw, Mapping):
            raise PlanRefused("RequestMalformed", "not an HTTP trigger event")
        http = (raw.get("requestContext") or {}).get("http") or {}
        body = raw.get("body") or ""
        data = base64.b64decode(body) if raw.get("isBase64Encoded") else str(body).encode("utf-8")
        return cls(method=str(http.get("method") or "GET").upper(),
                   query={str(k): str(v) for k, v in (raw.get("queryParameters") or {}).items()},
                   headers={str(k): str(v) for k, v in (raw.get("headers") or {}).items()}, body=data,
                   source_ip=str(http.get("sourceIp") or ""), user_agent=str(http.get("userAgent") or "")[:200])


def page(status: int, title: str, detail: str) -> dict[str, Any]:
    body = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<body style='font-family:sans-serif;max-width:40em;margin:2em auto'><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(detail)}</p></body></html>")
    return {"statusCode": status, "headers": {"Content-Type": "text/html; charset=utf-8",
                                              "Cache-Control": "no-store"}, "isBase64Encoded": False, "body": body}


def robot_reply(text: str) -> dict[str, Any]:
    body = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "isBase64Encoded": False, "body": body}


def handle(event: Any, context: Any = None, *, environ: Mapping[str, str] | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    log = get_logger(job=FUNCTION, request_id=getattr(context, "request_id", None))
    secret = environ.get("APPROVAL_SECRET", "")
    register_secret(secret)
    register_secret(environ.get("DINGTALK_APP_SECRET"))
    now = now or utc_now()
    try:
        request = HttpRequest.from_event(event)
        if request.method == "POST" and robot.callback_headers_present(request.headers):
            return _robot(request, context, environ, log, now)
        return _link(request, context, environ, log, now, secret)
    except PlanRefused as refused:
        log.warning("approval_refused", code=refused.code)
        return page(403 if "Signature" in refused.code or "Expired" in refused.code else 400,
                    "Nothing was done", refused.message)
    except ValueError as error:  # a bad setting (APPROVERS...): nothing done, said so
        log.error("approval_failed", error=type(error).__name__)
        return page(500, "Nothing was done", f"approve-renewal is not configured correctly: {error}")


# --- link mode -------------------------------------------------------------------------------------------


def _page(request: HttpRequest, context: Any, environ: Mapping[str, str], now: datetime,
          secret: str) -> dict[str, Any]:
    """A stored expiry page, for the digest's link (signed by us: the link carries no cloud credential)."""
    page_name = links.verify_page_link(request.query, secret, now=now)
    raw = _store(environ, context).get(f"pages/{page_name}.html")
    if raw is None:
        return page(404, "No such page", "This night's page is no longer stored.")
    return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
            "isBase64Encoded": False, "body": raw.decode("utf-8")}


def _link(request: HttpRequest, context: Any, environ: Mapping[str, str], log: JsonLogger, now: datetime,
          secret: str) -> dict[str, Any]:
    if "page" in request.query:
        return _page(request, context, environ, now, secret)
    asked = links.verify_link(request.query, secret, now=now)  # before any read: a forged link reads nothing
    store = _store(environ, context)
    plan = _stored_plan(store, asked.plan_id, secret, now)
    who = {"via": "link", "source_ip": request.source_ip, "user_agent": request.user_agent,
           "at": document.format_time(now)}
    if asked.action == "approve" and _approvers(environ):
        return page(403, "Approve in the group", f"This team approves by name: @-mention the robot with "
                    f"\"approve {plan.plan_id}\". Links can only reject.")
    if asked.action == "reject":
        return _reject(store, plan, who, environ, log)
    return _approve(store, plan, who, context, environ, log)


# --- robot mode ------------------------------------------------------------------------------------------


def _robot(request: HttpRequest, context: Any, environ: Mapping[str, str], log: JsonLogger,
           now: datetime) -> dict[str, Any]:
    robot.verify_callback(request.headers, environ.get("DINGTALK_APP_SECRET", ""), now_ms=int(now.timestamp() * 1000))
    command = robot.parse_command(request.body)
    approvers = _approvers(environ)
    if command.staff_id not in approvers:
        log.warning("approval_not_an_approver", staff_id=command.staff_id)
        return robot_reply(f"{command.nick or command.staff_id} is not in APPROVERS: nothing was done.")
    secret = environ.get("APPROVAL_SECRET", "")
    store = _store(environ, context)
    plan = _stored_plan(store, command.plan_id, secret, now)
    who = {"via": "robot", "staff_id": command.staff_id, "nick": command.nick, "at": document.format_time(now)}
    if command.action == "reject":
        _reject(store, plan, who, environ, log)
        return robot_reply(f"Plan {plan.plan_id} rejected by {command.nick or command.staff_id}: nothing renewed.")
    decisions.add_approval(store, plan.plan_id, command.staff_id, who)
    have = decisions.approvers_so_far(store, plan.plan_id, approvers)
    needed = _approvals_needed(environ)
    if len(have) < needed:
        return robot_reply(f"Approval {len(have)} of {needed} for plan {plan.plan_id} "
                           f"({', '.join(have)}); waiting for another approver.")
    answer = _approve(store, plan, {**who, "approvers": have}, context, environ, log)
    return robot_reply(f"Plan {plan.plan_id}: {answer['x-summary']}")


# --- shared ----------------------------------------------------------------------------------------------


def _approvers(environ: Mapping[str, str]) -> list[str]:
    names = [name.strip() for name in environ.get("APPROVERS", "").split(",") if name.strip()]
    for name in names:
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"APPROVERS: {name!r} is not a staff id")
    return names


def _approvals_needed(environ: Mapping[str, str]) -> int:
    text = environ.get("APPROVALS_NEEDED", "").strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise ValueError("APPROVALS_NEEDED must be 1..10")
    needed = int(text)
    if needed > len(_approvers(environ)):
        raise ValueError(f"APPROVALS_NEEDED is {needed} but APPROVERS names {len(_approvers(environ))}")
    return needed


def _store(environ: Mapping[str, str], context: Any) -> ObjectStore:
    from ..credentials import from_context

    store = open_store(environ, from_context(context))
    if store is None:
        raise ValueError("no store: set APPROVAL_BUCKET (or APPROVAL_STORE_DIR)")
    return store


def _stored_plan(store: ObjectStore, plan_id: str, secret: str, now: datetime) -> document.Plan:
    raw = store.get(plan_key(plan_id))
    if raw is None:
        raise PlanRefused("PlanNotFound", f"there is no plan {plan_id} in the store: nothing was done")
    plan = document.verify(raw, secret, now=now)  # the stored copy is verified too: a changed object is refused
    if plan.plan_id != plan_id:
        raise PlanRefused("PlanSignatureMismatch", "the stored plan is not the one the link names")
    return plan


def _reject(store: ObjectStore, plan: document.Plan, who: dict[str, Any], environ: Mapping[str, str],
            log: JsonLogger) -> dict[str, Any]:
    record = decisions.decide(store, plan.plan_id, "rejected", who)
    if record["decision"] != "rejected":
        return page(409, "Already approved", f"Plan {plan.plan_id} was approved at {record.get('at')}: see the "
                    "group for what was renewed.")
    log.info("approval_rejected", plan_id=plan.plan_id, via=who["via"])
    _post(environ, log, f"Renewal plan rejected: {plan.plan_id}",
          f"### Renewal plan rejected\n\nPlan `{plan.plan_id}` ({len(plan.entries)} instance(s)) was rejected "
          f"{_by(record)} at {record.get('at')} UTC. Nothing was renewed.")
    return page(200, "Rejected", f"Plan {plan.plan_id} is rejected {_by(record)}: nothing will be renewed.")


def _by(record: Mapping[str, Any]) -> str:
    if record.get("via") == "robot":
        return f"by {record.get('nick') or record.get('staff_id')} (staff id {record.get('staff_id')})"
    return f"through its link (from {record.get('source_ip') or 'an unknown address'}; a link may be forwarded)"


def _approve(store: ObjectStore, plan: document.Plan, who: dict[str, Any], context: Any,
             environ: Mapping[str, str], log: JsonLogger) -> dict[str, Any]:
    record = decisions.decide(store, plan.plan_id, "approved", who)
    if record["decision"] == "rejected":
        answer = page(409, "Rejected earlier", f"Plan {plan.plan_id} was rejected {_by(record)}: nothing renewed.")
        answer["x-summary"] = "rejected earlier, nothing renewed"
        return answer
    earlier = decisions.outcome_of(store, plan.plan_id)
    if earlier is not None:  # a second click: show the first outcome, call nothing
        answer = page(200, "Already applied", f"Plan {plan.plan_id} was applied already: {summary(earlier)}")
        answer["x-summary"] = f"already applied: {summary(earlier)}"
        return answer
    from .apply import apply_with_environment

    outcome = apply_with_environment(plan, store, context, environ, log)
    decisions.save_outcome(store, plan.plan_id, outcome)
    _post(environ, log, f"Renewal plan applied: {plan.plan_id}", outcome_text(plan, outcome, record))
    answer = page(200, "Applied", f"Plan {plan.plan_id}: {summary(outcome)}")
    answer["x-summary"] = summary(outcome)
    return answer


def summary(outcome: Mapping[str, Any]) -> str:
    spent = ", ".join(f"{v:.2f} {k}" for k, v in (outcome.get("spent") or {}).items()) or "nothing"
    dry = " (dry run: nothing ordered)" if outcome.get("dry_run") else ""
    return (f"{len(outcome.get('renewed', []))} renewed, {len(outcome.get('already', []))} already renewed, "
            f"{len(outcome.get('refused', []))} refused, {len(outcome.get('failed', []))} failed; spent {spent}{dry}")


def outcome_text(plan: document.Plan, outcome: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    lines = [f"### Renewal plan applied: {summary(outcome)}", "",
             f"Plan `{plan.plan_id}`, approved {_by(record)} at {record.get('at')} UTC.", ""]
    lines += [f"- renewed {row['instance_id']} ({row['region']}) {row['terms']}: order {row['order_id']}, "
              f"{row['price']:.2f} {row['currency']}" for row in outcome.get("renewed", [])]
    lines += [f"- **refused** {row['instance_id']} ({row['region']}): {row['reason']}"
              for row in outcome.get("refused", [])]
    lines += [f"- **failed** {row['instance_id']} ({row['region']}): {row['code']} {row['message']}"
              for row in outcome.get("failed", [])]
    lines += [f"- already renewed {row['instance_id']}: order {row['order_id']}" for row in outcome.get("already", [])]
    return "\n".join(lines)


def _post(environ: Mapping[str, str], log: JsonLogger, title: str, text: str) -> None:
    webhook = environ.get("DINGTALK_WEBHOOK", "").strip()
    if not webhook:
        return
    from ..notify.dingtalk import DingTalkNotifier

    DingTalkNotifier(webhook, environ.get("DINGTALK_SECRET", "").strip() or None, logger=log,
                     shared_budget=True).send_markdown(title, text)
