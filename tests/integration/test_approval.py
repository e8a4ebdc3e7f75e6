"""Issue 15 end to end against the emulator: plan → card → approve link → applied exactly; refusals; quorum."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from ecs_renewal.approval import robot
from tests.handlers import fc_context, invoke

SECRET = "integration-approval-secret-0123456789"
APP_SECRET = "enterprise-robot-app-secret"


def soon(days: float = 3) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


@pytest.fixture
def approval_env(env, emulator, tmp_path):
    emulator.dingtalk.base_url = emulator.url
    env.update(APPROVAL="required", APPROVAL_SECRET=SECRET, APPROVAL_STORE_DIR=str(tmp_path / "store"),
               APPROVAL_URL="https://approve.example/approve", DRY_RUN="false",
               DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url, DINGTALK_SECRET=emulator.dingtalk.secret)
    return env


def renewals(emulator) -> list:
    return [call for call in emulator.calls if call.action == "RenewInstance"]


def card(emulator) -> dict:
    cards = [m for m in emulator.dingtalk.messages if m.get("msgtype") == "actionCard"]
    assert cards, f"no action card among {[m.get('msgtype') for m in emulator.dingtalk.messages]}"
    return cards[-1]["actionCard"]


def button(emulator, title: str) -> dict[str, str]:
    (url,) = [b["actionURL"] for b in card(emulator)["btns"] if b["title"] == title]
    return dict(parse_qsl(urlsplit(url).query))


def http_event(query: dict[str, str], *, method: str = "GET", headers: dict | None = None, body: str = "") -> dict:
    return {"version": "v1", "rawPath": "/approve", "body": body, "isBase64Encoded": False,
            "headers": headers or {}, "queryParameters": query,
            "requestContext": {"http": {"method": method, "path": "/approve", "sourceIp": "10.0.0.7",
                                        "userAgent": "DingTalk"}, "requestId": "r-1"}}


def click(emulator, query: dict[str, str]) -> dict:
    return invoke("approve-renewal", http_event(query), fc_context(emulator.function_credentials))


def test_the_nightly_run_plans_renews_nothing_and_sends_a_card_with_both_buttons(run, emulator, approval_env):
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon(), name=f"web-{n}") for n in range(3))
    result = run("renew-batch")
    assert renewals(emulator) == [] and all(emulator.renewal_count(i) == 0 for i in ids)
    approval = result["approval"]
    assert approval["entries"] == 3 and approval["card_sent"] is True and len(approval["plan_id"]) == 32
    shown = card(emulator)
    assert [b["title"] for b in shown["btns"]] == ["Approve", "Reject"]
    for instance_id in ids:
        assert instance_id in shown["text"]
    assert "Total:" in shown["text"] and "1 Month" in shown["text"] and approval["plan_id"] in shown["text"]
    query = button(emulator, "Approve")
    assert query["plan"] == approval["plan_id"] and query["action"] == "approve"


def test_approval_applies_exactly_the_plan_and_a_second_click_changes_nothing(run, emulator, approval_env):
    planned = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3))
    run("renew-batch")
    later = emulator.add_instance("cn-hangzhou", expired_time=soon())  # appeared after planning: not in the plan
    answer = click(emulator, button(emulator, "Approve"))
    assert answer["statusCode"] == 200 and "3 renewed" in answer["body"]
    assert sorted(call.params["InstanceId"] for call in renewals(emulator)) == planned
    assert emulator.renewal_count(later) == 0
    outcome = emulator.dingtalk.messages[-1]["markdown"]["text"]
    assert "3 renewed" in outcome and all(i in outcome for i in planned) and "order" in outcome
    before = len(emulator.calls)
    again = click(emulator, button(emulator, "Approve"))
    assert again["statusCode"] == 200 and "applied already" in again["body"]
    assert len(emulator.calls) == before  # the second click reads nothing and renews nothing
    assert all(emulator.renewal_count(i) == 1 for i in planned)


def test_an_instance_changed_after_planning_is_refused_with_its_reason(run, emulator, approval_env):
    emulator.renew_visibility_delay = 0.0
    keep, renewed_by_hand, locked, now_postpaid = (emulator.add_instance("cn-hangzhou", expired_time=soon())
                                                    for _ in range(4))
    run("renew-batch")
    approval_env["APPROVAL"] = "off"
    run("renew-batch", {"instance_ids": [renewed_by_hand]})  # someone renews it by other means
    approval_env["APPROVAL"] = "required"
    emulator.instance(locked).operation_locks.append("financial")
    emulator.instance(now_postpaid).charge_type = "PostPaid"
    emulator.reset_calls()
    answer = click(emulator, button(emulator, "Approve"))
    assert "1 renewed" in answer["body"] and "3 refused" in answer["body"]
    assert [call.params["InstanceId"] for call in renewals(emulator)] == [keep]
    assert emulator.renewal_count(renewed_by_hand) == 1  # by hand, never a second time
    text = emulator.dingtalk.messages[-1]["markdown"]["text"]
    assert f"refused** {renewed_by_hand}" in text and "expiry moved" in text
    assert f"refused** {locked}" in text and "locked" in text
    assert f"refused** {now_postpaid}" in text and "PostPaid" in text


@pytest.mark.parametrize("change", [{"plan": "f" * 32}, {"action": "approve", "expires": "9999999999"},
                                    {"sig": "0" * 64}], ids=["other-plan", "later-expiry", "forged-signature"])
def test_a_forged_or_altered_link_gets_a_page_and_changes_nothing(run, emulator, approval_env, change):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    run("renew-batch")
    emulator.reset_calls()
    answer = click(emulator, {**button(emulator, "Approve"), **change})
    assert answer["statusCode"] == 403 and "Nothing was done" in answer["body"]
    assert emulator.calls == []  # refused before any read


def test_an_altered_stored_plan_applies_nothing(run, emulator, approval_env, tmp_path):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    result = run("renew-batch")
    query = button(emulator, "Approve")
    emulator.reset_calls()
    first = click(emulator, query)
    assert first["statusCode"] == 200  # the link works; then someone edits the stored plan (a cheaper price)
    stored = tmp_path / "store" / "plans" / f"{result['approval']['plan_id']}.json"
    document = json.loads(stored.read_text())
    document["entries"][0]["price"] = 0.01
    stored.write_text(json.dumps(document))
    (tmp_path / "store" / "outcomes" / f"{result['approval']['plan_id']}.json").unlink()
    emulator.reset_calls()
    altered = click(emulator, query)
    assert altered["statusCode"] == 403 and "changed after it was signed" in altered["body"]
    assert renewals(emulator) == []


def test_a_link_past_the_plans_ttl_is_refused(run, emulator, approval_env):
    from ecs_renewal.approval import http

    emulator.add_instance("cn-hangzhou", expired_time=soon())
    run("renew-batch")
    emulator.reset_calls()
    late = http.handle(http_event(button(emulator, "Approve")), fc_context(emulator.function_credentials),
                       now=datetime.now(UTC) + timedelta(hours=12, minutes=1))
    assert late["statusCode"] == 403 and "expired" in late["body"]
    assert emulator.calls == []


def test_rejection_is_recorded_posted_and_then_approval_renews_nothing(run, emulator, approval_env):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    run("renew-batch")
    rejected = click(emulator, button(emulator, "Reject"))
    assert rejected["statusCode"] == 200 and "rejected" in rejected["body"]
    assert "10.0.0.7" in emulator.dingtalk.messages[-1]["markdown"]["text"]  # who, as far as known
    approved = click(emulator, button(emulator, "Approve"))
    assert approved["statusCode"] == 409 and renewals(emulator) == []


# --- robot mode ------------------------------------------------------------------------------------------


def robot_call(emulator, plan_id: str, staff: str, *, secret: str = APP_SECRET, text: str | None = None) -> dict:
    timestamp = str(int(datetime.now(UTC).timestamp() * 1000))
    body = json.dumps({"msgtype": "text", "text": {"content": text or f"approve {plan_id}"},
                       "senderStaffId": staff, "senderNick": staff.upper()})
    headers = {"Timestamp": timestamp, "Sign": robot.callback_sign(timestamp, secret)}
    return invoke("approve-renewal", http_event({}, method="POST", headers=headers, body=body),
                  fc_context(emulator.function_credentials))


def test_quorum_counts_distinct_approvers_and_a_bad_signature_is_refused(run, emulator, approval_env):
    approval_env.update(APPROVERS="alice,bob,carol", APPROVALS_NEEDED="2", DINGTALK_APP_SECRET=APP_SECRET)
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    plan_id = run("renew-batch")["approval"]["plan_id"]
    assert [b["title"] for b in card(emulator)["btns"]] == ["Reject"]  # approving names a person
    forged = robot_call(emulator, plan_id, "alice", secret="not-the-app-secret")
    assert forged["statusCode"] == 403
    first = json.loads(robot_call(emulator, plan_id, "alice")["body"])["text"]["content"]
    twice = json.loads(robot_call(emulator, plan_id, "alice")["body"])["text"]["content"]
    assert "1 of 2" in first and "1 of 2" in twice and renewals(emulator) == []  # the same person counts once
    stranger = json.loads(robot_call(emulator, plan_id, "mallory")["body"])["text"]["content"]
    assert "not in APPROVERS" in stranger and renewals(emulator) == []
    done = json.loads(robot_call(emulator, plan_id, "bob")["body"])["text"]["content"]
    assert "1 renewed" in done and emulator.renewal_count(instance) == 1
    link = click(emulator, {**button(emulator, "Reject"), "action": "approve"})
    assert link["statusCode"] == 403 and emulator.renewal_count(instance) == 1


# --- through the emulator: the HTTP trigger, OSS and DingTalk's robot callback ---------------------------


@pytest.fixture
def deployed(emulator, env, monkeypatch):
    """What `s deploy` makes: the bucket (created by the user), approve-renewal behind its HTTP trigger."""
    emulator.oss.create_bucket("approvals")
    emulator.dingtalk.base_url = emulator.url
    settings = {"REGIONS": "cn-hangzhou", "ECS_ENDPOINT": emulator.url, "STS_ENDPOINT": emulator.url,
                "APPROVAL": "required", "APPROVAL_SECRET": SECRET, "APPROVAL_BUCKET": "approvals",
                "OSS_ENDPOINT": emulator.url, "APPROVAL_URL": f"{emulator.url}/http/approve-renewal/approve",
                "DRY_RUN": "false", "DINGTALK_WEBHOOK": emulator.dingtalk.webhook_url,
                "DINGTALK_SECRET": emulator.dingtalk.secret, "DINGTALK_APP_SECRET": emulator.dingtalk.app_secret}
    emulator.fc.environment.update(settings)
    env.update(settings)
    return settings


def test_the_round_trip_through_oss_and_the_http_trigger(run, emulator, deployed):
    import urllib.error
    import urllib.request

    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(2))
    plan_id = run("renew-batch")["approval"]["plan_id"]
    assert emulator.oss.object("approvals", f"plans/{plan_id}.json") is not None  # stored in OSS
    (approve,) = [b["actionURL"] for b in emulator.dingtalk.action_cards[-1]["btns"] if b["title"] == "Approve"]
    assert approve.startswith(f"{emulator.url}/http/approve-renewal/approve?")
    with urllib.request.urlopen(approve, timeout=30) as answer:
        page = answer.read().decode()
    assert "2 renewed" in page and all(emulator.renewal_count(i) == 1 for i in ids)
    forged = approve.replace("action=approve", "action=reject")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=30)
    assert refused.value.code == 403 and b"Nothing was done" in refused.value.read()


def test_the_robot_callback_signed_as_dingtalk_signs_reaches_the_quorum(run, emulator, deployed):
    emulator.fc.environment.update(APPROVERS="alice,bob", APPROVALS_NEEDED="2")
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    plan_id = run("renew-batch")["approval"]["plan_id"]
    callback = f"{emulator.url}/http/approve-renewal/robot"
    status, _ = emulator.dingtalk.mention(callback, staff_id="alice", text=f"approve {plan_id}",
                                            app_secret="a-forger-s-guess")
    assert status == 403 and emulator.renewal_count(instance) == 0
    for staff in ("alice", "alice", "bob"):
        status, reply = emulator.dingtalk.mention(callback, staff_id=staff, text=f"approve {plan_id}")
        assert status == 200
    assert "1 renewed" in json.loads(reply)["text"]["content"] and emulator.renewal_count(instance) == 1


def test_the_digest_links_the_expiry_page_in_oss_and_is_sent_once_across_instances(run, emulator, deployed,
                                                                                   tmp_path, monkeypatch):
    import urllib.request

    from ecs_renewal.idempotency import reminders

    env = deployed
    env_update = {"APPROVAL": "off"}
    emulator.fc.environment.update(env_update)
    monkeypatch.setenv("APPROVAL", "off")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.function_credentials.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.function_credentials.access_key_secret)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", emulator.function_credentials.security_token)
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon(2)) for _ in range(2))
    first = run("scan-expiring")
    assert first["alerts"]["sent"] >= 1 and env["APPROVAL_BUCKET"] == "approvals"
    digest = [m["markdown"]["text"] for m in emulator.dingtalk.messages if "markdown" in m][-1]
    link = digest.rsplit("[Open the expiry timeline](", 1)[1].rstrip(")")
    with urllib.request.urlopen(link, timeout=30) as answer:  # a signed URL, opened from the message
        page = answer.read().decode()
    assert all(i in page for i in ids)
    reminders.use_default_directory(str(tmp_path / "a-new-instance"))  # a new FC instance: an empty /tmp
    sent_before = len(emulator.dingtalk.messages)
    again = run("scan-expiring")
    assert again["alerts"]["already_reported"] == 2 and len(emulator.dingtalk.messages) == sent_before


def test_what_proposing_came_to_is_typed_and_reads_back_exactly(run, emulator, approval_env):
    """``approval`` in the result is an ApprovalOutcome (made a dict once, by to_contract): planned, and not
    stored for want of a store (its error code also among the result's errors)."""
    import json

    from ecs_renewal.contract import from_contract, to_contract
    from ecs_renewal.results.approval import ApprovalOutcome

    for n in range(2):
        emulator.add_instance("cn-hangzhou", expired_time=soon(), name=f"web-{n}")
    planned = json.loads(json.dumps(run("renew-batch")))
    typed = from_contract(planned).approval
    assert isinstance(typed, ApprovalOutcome) and typed.entries == 2 and typed.card_sent is True
    assert typed.stored == f"plans/{typed.plan_id}.json" and to_contract(from_contract(planned)) == planned
    del approval_env["APPROVAL_STORE_DIR"]
    refused = json.loads(json.dumps(run("renew-batch", request_id="req-no-store")))
    assert refused["approval"] == {"entries": 2, "plan_id": None, "error": "ApprovalStoreMissing"}
    assert "ApprovalStoreMissing" in {row["code"] for row in refused["errors"]}
    assert to_contract(from_contract(refused)) == refused
