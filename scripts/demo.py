"""`make demo`: the nightly cycle against the bundled ECS emulator, as Function Compute would run it.

Starts the emulator with a seeded fleet in three regions, then invokes the three handlers with event
bytes and a python3.12 context, the role's STS credentials in the environment (as Function Compute
does): scan → renew (dry run) → renew → renew again (a replay) → the same event hours later → audit →
audit with fix → audit again → what is never silent (a broken setting, a missing permission, low funds;
the failed auto-renew deductions are at the top of step 1's digest) → the approval round trip (plan → card
→ click → applied exactly). Prints a summary per step and the DingTalk messages received.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from ecs_emulator import Emulator, FleetSpec  # noqa: E402
from ecs_renewal import logs  # noqa: E402
from ecs_renewal.cli.output import html_page  # noqa: E402
from ecs_renewal.contract import from_contract  # noqa: E402
from ecs_renewal.notify.wording import audited_state, reason_phrase  # noqa: E402
from tests.handlers import PROJECT_ENV, fc_context, invoke  # noqa: E402

REGIONS = ("cn-hangzhou", "cn-shanghai", "ap-southeast-1")
SEED = 2026
INSTANCES_PER_REGION = 150
VISIBILITY_DELAY = 3.0  # seconds before a renewal shows in DescribeInstances (about 10 s in the real cloud)
LOG_FILE = ROOT / "build" / "demo-logs.jsonl"

BOLD, DIM, GREEN, RED, YELLOW, RESET = (
    ("\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[33m", "\033[0m") if sys.stdout.isatty() else ("",) * 6
)


def heading(number: int, text: str) -> None:
    print(f"\n{BOLD}{number}. {text}{RESET}")


def table(rows: list[dict[str, Any]], columns: list[str], limit: int = 6) -> None:
    if not rows:
        print(f"   {DIM}(none){RESET}")
        return
    cells = [[str(row.get(c, "") if row.get(c) is not None else "-") for c in columns] for row in rows[:limit]]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("   " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("   " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
    if len(rows) > limit:
        print(f"   {DIM}... and {len(rows) - limit} more{RESET}")


def counts(result: dict[str, Any], *keys: str | tuple[str, str]) -> str:
    """The result's lists counted; a (key, label) pair shows the key under an operator's label."""
    labelled = [key if isinstance(key, tuple) else (key, key) for key in keys]
    parts = [f"{label}: {len(result[key])}" for key, label in labelled]
    parts.append(f"region errors: {len(result['errors'])}")
    calls = ", ".join(f"{action} x{n}" for action, n in result["api_calls"].items())
    return "   " + " | ".join(parts) + f"\n   {DIM}API calls: {calls}{RESET}"


def main() -> int:
    LOG_FILE.parent.mkdir(exist_ok=True)
    # Each demo is a new night: forget what the last one reported, or a second run would show no digest.
    (LOG_FILE.parent / "demo-notified" / "notified.json").unlink(missing_ok=True)
    started = time.monotonic()
    print(f"{BOLD}ecs-renewal demo{RESET}: the nightly cycle against the local ECS emulator (no cloud account).")
    fleet = FleetSpec(seed=SEED, regions=REGIONS, instances_per_region=INSTANCES_PER_REGION)
    with Emulator(fleet=fleet, renew_visibility_delay=VISIBILITY_DELAY) as emu, LOG_FILE.open("w") as log_file:
        logs.set_stream(log_file)
        prepaid = sum(1 for i in emu.instances() if i.charge_type == "PrePaid")
        print(f"Emulator at {emu.url}: {len(emu.instances())} instances ({prepaid} prepaid) in {', '.join(REGIONS)}, "
              f"seed {SEED}.")
        for name in PROJECT_ENV:
            os.environ.pop(name, None)
        os.environ.update({
            "REGIONS": ",".join(REGIONS), "ECS_ENDPOINT": emu.url, "STS_ENDPOINT": emu.url,
            "DINGTALK_WEBHOOK": emu.dingtalk.webhook_url, "DINGTALK_SECRET": emu.dingtalk.secret,
            "MAX_RENEWALS": "100", "NOTIFY_STATE_DIR": str(LOG_FILE.parent / "demo-notified"),
        })
        print(f"{DIM}Settings: REGIONS={os.environ['REGIONS']} WINDOW_DAYS=7 (default) MAX_RENEWALS=100 "
              f"RENEW_EXCLUDE_TAG=renewal=manual (default). Handler logs: {LOG_FILE.relative_to(ROOT)}{RESET}")
        request = iter(range(1, 100))

        def run(function: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
            # Exactly what Function Compute (python3.12) passes: the event as bytes and a context; the role's
            # STS keys are in the environment for the call (tests/handlers.py).
            context = fc_context(emu.function_credentials, request_id=f"demo-{next(request):02d}")
            return invoke(function, json.dumps(event or {}).encode(), context)

        heading(1, "scan-expiring: what expires in the next 7 days")
        scan = run("scan-expiring")
        print(f"   {scan['count']} prepaid instances expire between {scan['window']['start']} and "
              f"{scan['window']['end']} (UTC).")
        table(scan["expiring"], ["instance_id", "instance_name", "region", "expired_time", "days_left"])
        print(counts(scan, "expiring"))
        cost = scan["estimated_cost"]
        print(f"   Estimated renewal cost: {cost['amount']:,.2f} {cost['currency'] or ''} "
              f"({cost['priced']} priced, {cost['unknown']} unknown).")
        print(f"   {YELLOW}Failed auto-renew deductions: {scan['failed_deductions']}{RESET} (auto-renew on, inside the "
              "last 9 days after the platform's 08:00 UTC+8 attempt: not paid) — at the top of the digest.")
        tiers = Counter(row["tier"] for row in scan["expiring"])
        print("   By reminder tier: " + ", ".join(f"≤{t}d: {tiers[t]}" for t in sorted(t for t in tiers if t)))
        html = ROOT / "build" / "expiries.html"
        html.write_text(html_page(from_contract(scan)), encoding="utf-8")
        print(f"   The same as a page (timeline + table): {html.relative_to(ROOT)} — for your own account, "
              "`.venv/bin/ecs-renewal scan --format html > expiries.html` (README, Command line).")

        heading(2, "renew-batch, dry run (the default): what would be renewed")
        dry = run("renew-batch")
        untouched = "RenewInstance" not in dry["api_calls"]
        print(f"   would renew {len(dry['renewed'])}, skip {len(dry['skipped'])} — "
              + ("nothing changed: no RenewInstance call was made." if untouched
                 else f"{RED}RenewInstance was called in a dry run{RESET}."))
        for reason, n in Counter(s["reason"] for s in dry["skipped"]).most_common():
            print(f"   skipped {n}: {reason_phrase(reason)}")
        print(counts(dry, ("renewed", "would renew"), "skipped", "failed"))

        heading(3, 'renew-batch for real ({"dry_run": false})')
        short = dry["renewed"][0]["instance_id"]
        # One renewal answered "balance too low" by the emulator, to show what a failure looks like.
        emu.faults.add(action="RenewInstance", kind="error", status=403, instance_id=short, times=None,
                       code="InvalidAccountStatus.NotEnoughBalance", message="The account balance is insufficient.")
        print(f"   {DIM}(the emulator is told to refuse {short}: balance too low){RESET}")
        real = run("renew-batch", {"dry_run": False})
        print(f"   {GREEN}renewed {len(real['renewed'])}{RESET} for 1 month each; "
              "order ids are in the result and the log.")
        print(f"   {DIM}Each renewal: its own DescribeRenewalPrice (the exact charge), the ledger's intent tag, "
              f"RenewInstance, the outcome tag.{RESET}")
        table(real["renewed"], ["instance_id", "region", "expired_time", "order_id"])
        if real["failed"]:
            print(f"   {RED}failed {len(real['failed'])}{RESET}")
            table(real["failed"], ["instance_id", "region", "code", "message"])
        print(counts(real, "renewed", "skipped", "failed"))

        heading(4, "renew-batch again at once, as a Function Compute retry would")
        replay = run("renew-batch", {"dry_run": False})
        named = {s["instance_id"]: s["ledger"].get("order_id") for s in replay["skipped"] if s.get("ledger")}
        same = named == {r["instance_id"]: r["order_id"] for r in real["renewed"]}
        twice = [r["instance_id"] for r in real["renewed"] if emu.renewal_count(r["instance_id"]) != 1]
        print(f"   Step 3 wrote a renewal ledger into each instance's own tags (`ecs-renewal:intent` before "
              f"RenewInstance, `ecs-renewal:renewed` after it). The replay read it: {len(named)} skipped as done,")
        print(f"   naming step 3's orders: {'yes' if same else RED + 'no' + RESET}. RenewInstance calls: "
              f"{replay['api_calls'].get('RenewInstance', 0)} (only the refused one, tried again).")
        example = next((s["reason"] for s in replay["skipped"] if s.get("ledger")), "")
        print(f"   {DIM}e.g. {example}{RESET}")

        heading(5, "the same event hours later (new expiries visible, every ClientToken forgotten)")
        time.sleep(VISIBILITY_DELAY)
        emu.state.client_token_ttl = 0.001  # the cloud forgets tokens after hours: only the ledger is left
        ids = [r["instance_id"] for r in real["renewed"]]
        late = run("renew-batch", {"dry_run": False, "instance_ids": ids})  # named: no window protects them
        twice += [i for i in ids if emu.renewal_count(i) != 1]
        print(f"   {len(late['renewed'])} renewed, {len(late['skipped'])} skipped: "
              f"{late['skipped'][0]['reason'] if late['skipped'] else '-'}")
        print(f"   Instances extended more than once: {GREEN if not twice else RED}{len(twice)}{RESET} "
              f"(`force: true` in the event would renew them again, logged and alerted).")

        heading(6, "audit-autorenew: who is not set to auto-renew 1 month")
        audit = run("audit-autorenew")
        print(f"   drift on {len(audit['drift'])} prepaid instances; {len(audit['skipped'])} left alone "
              "(the owner is letting it expire, or tagged renewal=manual).")
        table([{**row, "auto_renew": audited_state(row["auto_renew_enabled"], row["duration"], row["renewal_status"])}
               for row in audit["drift"]], ["instance_id", "region", "auto_renew"])
        print(counts(audit, "drift", "skipped"))

        heading(7, 'audit-autorenew with fix ({"fix": true, "dry_run": false})')
        fixed = run("audit-autorenew", {"fix": True, "dry_run": False})
        print(f"   {GREEN}fixed {len(fixed['fixed'])}{RESET} in "
              f"{fixed['api_calls'].get('ModifyInstanceAutoRenewAttribute', 0)} ModifyInstanceAutoRenewAttribute "
              f"calls (≤100 ids each); failed {len(fixed['failed'])}.")
        print(counts(fixed, "drift", "fixed", "failed"))

        heading(8, "audit-autorenew again")
        again = run("audit-autorenew")
        print(f"   drift: {len(again['drift'])} {'(all fixed)' if not again['drift'] else ''}")

        heading(9, f"DingTalk: the {len(emu.dingtalk.messages)} messages the group robot received (signed)")
        shown_failure = False
        for message in emu.dingtalk.messages:
            body = message.get("markdown") or {}
            title = body.get("title", message.get("msgtype"))
            print(f"   {YELLOW}■ {title}{RESET}")
            is_failure = "FAILED" in title and not shown_failure
            if not (is_failure or "expiring" in title):
                continue
            shown_failure = shown_failure or is_failure
            lines = [line for line in body.get("text", "").splitlines() if line.strip()]
            for line in lines[:14]:
                print(textwrap.fill(line, 150, initial_indent="     ", subsequent_indent="       "))
            if len(lines) > 14:
                print(f"     {DIM}... {len(lines) - 14} more lines{RESET}")
        print(f"   {DIM}(the replays in steps 4 and 5 reported one line each instead of the whole report; the "
              f"scan's digest is not repeated for the same instance and tier on the same day){RESET}")

        silent = never_silent(emu, run)
        approval_problems = approval_round_trip(emu, run)

        logs.set_stream(None)
        problems = (twice or not same or [f["instance_id"] for f in real["failed"]] != [short] or again["drift"]
                    or silent or approval_problems)
    print(f"\n{BOLD}Done in {time.monotonic() - started:.1f} s.{RESET} Next: `make test`, "
          "`.venv/bin/ecs-renewal --help` (the command), README.md for configuration and deployment.")
    return 1 if problems else 0


def show_messages(emu: Emulator, since: int, lines: int = 6) -> None:
    for message in emu.dingtalk.messages[since:]:
        body = message.get("markdown") or {}
        print(f"   {YELLOW}■ {body.get('title', message.get('msgtype'))}{RESET}")
        for line in [line for line in body.get("text", "").splitlines() if line.strip()][1:1 + lines]:
            print(f"     {line[:150]}")


def never_silent(emu: Emulator, run: Any) -> list[str]:
    """Step 9: what must never pass in silence — a broken setting, a missing permission, low funds. Returns
    what did not behave (empty when all did)."""
    from ecs_renewal.errors import InvalidSettingError

    problems: list[str] = []
    heading(10, "Never silent: a broken setting, a role that may not read, low funds")
    print(f"   {DIM}a) renew-batch with WINDOW_DAYS=0: the handler raises before any call, after telling the "
          f"group{RESET}")
    before = len(emu.dingtalk.messages)
    os.environ["WINDOW_DAYS"] = "0"
    try:
        run("renew-batch")
        problems.append("WINDOW_DAYS=0 did not raise")
    except InvalidSettingError as error:
        print(f"   {RED}raised{RESET} {type(error).__name__}: {error}")
    finally:
        del os.environ["WINDOW_DAYS"]
    show_messages(emu, before)
    problems += [] if len(emu.dingtalk.messages) == before + 1 else ["no configuration message"]

    print(f"   {DIM}b) scan-expiring with a role lacking ecs:DescribeInstances (ECS answers it an EMPTY list){RESET}")
    before = len(emu.dingtalk.messages)
    lacking = emu.issue_credentials_with_policy({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "ecs:DescribeRenewalPrice", "Resource": "*"}]}, name="ecs-renewal-no-describe")
    context = fc_context(lacking, request_id="demo-no-describe")
    denied = invoke("scan-expiring", b"{}", context)
    for error in denied["errors"]:
        print(f"   {RED}{error['region']}: {error['code']}{RESET} (missing {error.get('missing_action')}) — not an "
              "all-clear")
    show_messages(emu, before, lines=12)
    problems += [] if {e.get("missing_action") for e in denied["errors"]} == {"ecs:DescribeInstances"} and (
        "all_clear" not in denied) else ["the missing permission was not reported"]

    print(f"   {DIM}c) renew-batch with a balance of 100.00 CNY: the plan and the auto-renew deductions due in 9 "
          f"days cost more{RESET}")
    before = len(emu.dingtalk.messages)
    emu.add_instance("cn-hangzhou", name="demo-low-funds", expired_time=datetime.now(timezone.utc) + timedelta(days=2))
    emu.balance = 100.0
    low = run("renew-batch", {"dry_run": False})
    funds = low.get("funds_short") or {}
    print(f"   {RED}nothing renewed{RESET}: due {funds.get('due', 0):,.2f} (renewals {funds.get('renewals', 0):,.2f}, "
          f"deductions {funds.get('deductions', 0):,.2f}) > {funds.get('spendable', 0):,.2f} {funds.get('currency')}; "
          f"RenewInstance calls: {low['api_calls'].get('RenewInstance', 0)}")
    show_messages(emu, before, lines=7)
    problems += [] if funds and not low["renewed"] else ["low funds did not stop the run"]
    print(f"   {DIM}(and a scan that finds nothing sends one line: \"all clear — N prepaid instances checked in R "
          f"regions (A accounts), none expiring in D days\"; a crash or timeout goes to the MNS topic of s.yaml's "
          f"onFailure){RESET}")
    return problems


def _get(url: str) -> tuple[int, str]:
    """A person's click on a card's button: a GET of the link, answered by approve-renewal's HTTP trigger."""
    import html
    import re
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            status, page = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, page = error.code, error.read().decode()
    shown = " — ".join(html.unescape(part) for part in re.findall(r"<h1>(.*?)</h1><p>(.*?)</p>", page)[0])
    return status, shown


def approval_round_trip(emu: Emulator, run: Any) -> bool:
    """Issue 15: plan → card with buttons → a click → applied exactly; a changed instance refused; a second
    click changes nothing; a forged link refused. True when something did not go as it must."""
    heading(11, "Approval (APPROVAL=required): plan → card → click → applied exactly")
    emu.balance = 1_000_000.0  # funds again after step 9's low balance
    emu.oss.create_bucket("ecs-renewal-approvals")  # created by the user (ram/README.md), as in the cloud
    approval = {"APPROVAL": "required", "APPROVAL_SECRET": "demo-approval-secret-" + "x" * 16,
                "APPROVAL_BUCKET": "ecs-renewal-approvals", "OSS_ENDPOINT": emu.url,
                "APPROVAL_URL": f"{emu.url}/http/approve-renewal/approve", "DRY_RUN": "false"}
    os.environ.update(approval)
    emu.fc.environment.update({name: os.environ[name] for name in (
        "REGIONS", "ECS_ENDPOINT", "STS_ENDPOINT", "DINGTALK_WEBHOOK", "DINGTALK_SECRET")}, **approval)
    soon = datetime.now(timezone.utc) + timedelta(days=3)
    ids = sorted(emu.add_instance("cn-hangzhou", expired_time=soon, name=f"shop-db-{n}", tags={"owner": "13800000000"})
                 for n in range(3))
    planned = run("renew-batch", {"instance_ids": ids})
    plan_id = planned["approval"]["plan_id"]
    print(f"   renew-batch planned {planned['approval']['entries']} renewals and renewed none: plan {plan_id}, "
          f"stored in OSS as {planned['approval']['stored']} (oss2, signature checked by the emulator)")
    card = emu.dingtalk.action_cards[-1]
    print(f"   {YELLOW}■ actionCard: {card['title']}{RESET}")
    for line in [line for line in card["text"].splitlines() if line.strip()][1:]:
        print(f"     {line[:150]}")
    buttons = {b["title"]: b["actionURL"] for b in card["btns"]}
    for title, url in buttons.items():
        print(f"     [{title}] {DIM}{url[:110]}...{RESET}")

    changed = ids[1]
    emu.instance(changed).operation_locks.append("financial")  # after planning: an overdue payment locks it
    print(f"   after planning, {changed} is locked (overdue payment)")
    status, page = _get(buttons["Approve"])
    print(f"   click Approve → HTTP {status}: {page}")
    outcome = emu.dingtalk.messages[-1].get("markdown", {}).get("text", "")
    for line in [line for line in outcome.splitlines() if line.startswith("- ")]:
        print(f"     {line[:160]}")
    renewed_once = [emu.renewal_count(i) for i in ids] == [1, 0, 1]

    calls_before = len(emu.calls)
    status, page = _get(buttons["Approve"])
    print(f"   click Approve again → HTTP {status}: {page}")
    second_is_noop = len(emu.calls) == calls_before and [emu.renewal_count(i) for i in ids] == [1, 0, 1]
    forged_url = buttons["Approve"].replace(plan_id, "f" * 32)
    status, page = _get(forged_url)
    print(f"   a forged link (another plan id) → HTTP {status}: {page}")
    forged_refused = status == 403 and [emu.renewal_count(i) for i in ids] == [1, 0, 1]
    verdict = renewed_once and second_is_noop and forged_refused
    print(f"   {GREEN if verdict else RED}renewed exactly the plan less the changed instance: {renewed_once}; "
          f"second click changed nothing: {second_is_noop}; forged link refused: {forged_refused}{RESET}")
    for name in approval:
        os.environ.pop(name, None)
    return not verdict


if __name__ == "__main__":
    sys.exit(main())
