"""``plan`` and ``apply``: the approval flow on the command line, the same code the functions run.

    ecs-renewal plan --out plan.json     renew-batch's selection, priced per instance, signed (APPROVAL_SECRET):
                                         a table, the totals, and the file; nothing is renewed
    ecs-renewal apply plan.json          verify the file (a tampered or expired one applies nothing), re-read
                                         every instance, renew only what still matches, say what was refused
    ecs-renewal apply PLAN_ID            the same with a plan the function stored (APPROVAL_BUCKET / _STORE_DIR)

``apply`` follows DRY_RUN like every job: set DRY_RUN=false to order. Exit status: 0 all renewed, 1 some
entry refused or failed, 2 bad input (a tampered, expired or missing plan: nothing was called).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from .jobs import KEYS_OF, add_flag, bad_input, flag_settings

_PLAN_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def add_parsers(commands: Any) -> None:
    plan = commands.add_parser("plan", help="sign a plan of what renew would buy (nothing is renewed)",
                               description=__doc__.split("\n\n")[1])
    plan.add_argument("--out", type=Path, required=True, metavar="FILE", help="write the signed plan here")
    plan.add_argument("--event", metavar="FILE", help="start from this event file; flags override its keys")
    for setting in flag_settings("renew-batch"):
        if setting.name != "dry_run":
            add_flag(plan, setting)
    plan.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    plan.set_defaults(run=run_plan, job="renew-batch", keys=tuple(k for k in KEYS_OF["renew"] if k != "dry_run"),
                      log_file=None, no_alerts=True)
    apply = commands.add_parser("apply", help="apply a signed plan exactly (DRY_RUN=false to order)",
                                description=__doc__.split("\n\n")[1])
    apply.add_argument("plan", metavar="PLAN", help="the plan file, or the id of a plan in the store")
    apply.add_argument("--json", action="store_true", help="print the outcome as JSON")
    apply.set_defaults(run=run_apply)


def _secret() -> str:
    return os.environ.get("APPROVAL_SECRET", "")


def run_plan(args: argparse.Namespace) -> int:
    from ..approval.document import PlanRefused, secret_key
    from ..errors import CredentialsError, InvalidSettingError
    from ..runtime import run_job_result
    from .jobs import event_from_args
    from .progress import progress_logging

    try:
        secret_key(_secret())
        event = event_from_args(args)
    except (PlanRefused, InvalidSettingError, OSError) as error:
        return bad_input(str(error))
    with tempfile.TemporaryDirectory(prefix="ecs-renewal-plan-") as folder:
        environ = {**os.environ, "APPROVAL": "required", "APPROVAL_STORE_DIR": folder}
        for name in ("APPROVAL_BUCKET", "DINGTALK_WEBHOOK"):  # a local plan goes to the file, not to the group
            environ.pop(name, None)
        try:
            with progress_logging(sys.stderr, log_file=None, quiet=args.quiet):
                result = run_job_result("renew-batch", json.dumps(event).encode(), None, environ=environ)
        except (InvalidSettingError, CredentialsError) as error:
            return bad_input(str(error))
        approval = getattr(result, "approval", None)  # a RenewResult's ApprovalOutcome
        stored = Path(folder) / ((approval.stored if approval else None) or "-")
        if not stored.is_file():
            for error in result.errors:
                print(f"error: {error.code}: {error.message}", file=sys.stderr)
            selected = approval.entries if approval else 0
            print("nothing to plan: no instance is selected" if not selected else "no plan written", file=sys.stderr)
            return 1 if result.errors else 0
        args.out.write_bytes(stored.read_bytes())
    print(plan_table(json.loads(args.out.read_text())))
    print(f"\nwrote {args.out} — apply with: ecs-renewal apply {args.out}  (DRY_RUN=false to order)")
    return 1 if result.errors else 0


def plan_table(document: dict[str, Any]) -> str:
    rows = [("instance", "region", "name", "expires", "terms", "price")]
    from ..approval.document import PlanEntry

    for raw in document["entries"]:
        entry = PlanEntry.from_dict(raw)
        price = "unknown" if entry.price is None else f"{entry.price:.2f} {entry.currency}"
        rows.append((entry.instance_id, entry.region, entry.name[:24], entry.expired_time, entry.terms, price))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    totals = ", ".join(f"{v:.2f} {k}" for k, v in document["totals"].items()) or "no price"
    lines += ["", f"plan {document['plan_id']}: {len(document['entries'])} instance(s), total {totals}, "
              f"valid until {document['valid_until']} UTC"]
    return "\n".join(lines)


def _load(name: str) -> bytes | None:
    path = Path(name)
    if path.is_file():
        return path.read_bytes()
    if _PLAN_ID_RE.match(name):
        from ..approval.nightly import plan_key
        from ..approval.store import open_store

        store = open_store(os.environ)
        return store.get(plan_key(name)) if store else None
    return None


def run_apply(args: argparse.Namespace) -> int:
    from ..approval import document
    from ..approval.apply import apply_with_environment
    from ..approval.http import summary
    from ..approval.store import open_store
    from ..errors import CredentialsError, InvalidSettingError
    from ..logs import get_logger
    from ..timeutil import utc_now

    raw = _load(args.plan)
    if raw is None:
        return bad_input(f"no plan file or stored plan named {args.plan!r}")
    try:
        plan = document.verify(raw, _secret(), now=utc_now())
        outcome = apply_with_environment(plan, open_store(os.environ), None, os.environ,
                                         get_logger(job="apply-plan"))
    except document.PlanRefused as refused:
        return bad_input(f"{refused.code}: {refused.message}")
    except (InvalidSettingError, CredentialsError, ValueError) as error:
        return bad_input(str(error))
    if args.json:
        print(json.dumps(outcome, indent=2, sort_keys=True))
    else:
        for row in outcome["renewed"]:
            print(f"renewed  {row['instance_id']}  {row['region']}  {row['terms']}  order {row['order_id']}")
        for row in outcome["already"]:
            print(f"already  {row['instance_id']}  order {row['order_id']}")
        for row in outcome["refused"]:
            print(f"REFUSED  {row['instance_id']}  {row['code']}: {row['reason']}")
        for row in outcome["failed"]:
            print(f"FAILED   {row['instance_id']}  {row['code']}: {row['message']}")
        print(summary(outcome))
    return 1 if outcome["refused"] or outcome["failed"] else 0
