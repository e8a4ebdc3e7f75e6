"""A plan is a value: canonical form, id = hash of it, HMAC signature, validity window; links and callbacks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ecs_renewal.approval import document, links, robot
from ecs_renewal.approval.document import PlanEntry, PlanRefused, make_plan, verify
from ecs_renewal.approval.store import FolderStore

SECRET = "approval-secret-for-tests-0123456789"
NOW = datetime(2026, 1, 14, 17, 30, tzinfo=UTC)


def entry(instance_id: str = "i-aaa", price: float | None = 120.0, **changes) -> PlanEntry:
    base = PlanEntry(account="1234567890123456", region="cn-hangzhou", instance_id=instance_id, name="web-1",
                     owner="13800000000", expired_time="2026-01-20T16:00Z", period=1, unit="Month",
                     expected_renew_day=None, client_token=f"ecsrenew-{instance_id}", price=price, currency="CNY")
    return replace(base, **changes)


def signed(*entries: PlanEntry) -> dict:
    plan = make_plan(entries or (entry(),), now=NOW, caps={"max_instances": 50, "max_cost": None})
    return json.loads(document.dumps(plan, SECRET))


def test_the_canonical_form_and_id_do_not_depend_on_order_or_process() -> None:
    one = make_plan([entry("i-b"), entry("i-a")], now=NOW)
    two = make_plan([entry("i-a"), entry("i-b")], now=NOW)
    assert document.canonical(one.body()) == document.canonical(two.body())
    assert one.plan_id == two.plan_id and len(one.plan_id) == 32
    assert [e.instance_id for e in one.entries] == ["i-a", "i-b"]
    assert one.totals == {"CNY": 240.0}
    assert one.valid_until == "2026-01-15T05:30:00Z"  # APPROVAL_TTL's default: 12 hours


def test_a_signed_plan_verifies_and_round_trips() -> None:
    plan = verify(signed(entry("i-a"), entry("i-b")), SECRET, now=NOW + timedelta(hours=1))
    assert [e.instance_id for e in plan.entries] == ["i-a", "i-b"]
    assert verify(document.dumps(plan, SECRET), SECRET, now=NOW).plan_id == plan.plan_id


@pytest.mark.parametrize("tamper", [
    lambda d: d["entries"][0].update(price=1.0),
    lambda d: d["entries"][0].update(expired_time="2026-02-20T16:00Z"),
    lambda d: d["entries"][0].update(period=12),
    lambda d: d["entries"].append({**d["entries"][0], "instance_id": "i-extra", "client_token": "x"}),
    lambda d: d["entries"].pop(),
    lambda d: d.update(valid_until="2027-01-01T00:00:00Z"),
    lambda d: d.update(totals={"CNY": 1.0}),
    lambda d: d.update(plan_id="0" * 32),
    lambda d: d.update(signature="0" * 64),
], ids=["price", "expiry", "terms", "added", "removed", "ttl", "totals", "id", "signature"])
def test_an_altered_plan_is_refused(tamper) -> None:
    doc = signed(entry("i-a"), entry("i-b"))
    tamper(doc)
    with pytest.raises(PlanRefused) as refused:
        verify(doc, SECRET, now=NOW)
    assert refused.value.code in {"PlanSignatureMismatch", "PlanMalformed"}


def test_another_secret_is_refused_and_a_short_secret_signs_nothing() -> None:
    with pytest.raises(PlanRefused, match="changed after it was signed"):
        verify(signed(), "another-secret-of-enough-length", now=NOW)
    with pytest.raises(PlanRefused) as missing:
        document.dumps(make_plan([entry()], now=NOW), "short")
    assert missing.value.code == "ApprovalSecretMissing"


def test_an_expired_plan_is_refused() -> None:
    doc = signed()
    verify(doc, SECRET, now=NOW + timedelta(hours=11, minutes=59))
    with pytest.raises(PlanRefused) as expired:
        verify(doc, SECRET, now=NOW + timedelta(hours=12))
    assert expired.value.code == "PlanExpired"


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"format": "other"}',
                                 json.dumps({"format": document.FORMAT, "entries": [{"instance_id": "i"}]}).encode()])
def test_a_malformed_plan_is_refused(raw: bytes) -> None:
    with pytest.raises(PlanRefused) as refused:
        verify(raw, SECRET, now=NOW)
    assert refused.value.code == "PlanMalformed"


def test_an_instance_twice_is_not_a_plan() -> None:
    with pytest.raises(PlanRefused):
        make_plan([entry("i-a"), entry("i-a")], now=NOW)


# --- links --------------------------------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


def test_a_link_names_plan_action_expiry_and_verifies() -> None:
    url = links.signed_link("https://fc.example/approve", "a" * 32, "approve", NOW + timedelta(hours=12), SECRET)
    request = links.verify_link(_query(url), SECRET, now=NOW)
    assert (request.plan_id, request.action) == ("a" * 32, "approve")


@pytest.mark.parametrize("change", [
    {"plan": "b" * 32}, {"action": "reject"}, {"expires": "9999999999"}, {"sig": "0" * 64},
], ids=["plan", "action", "expiry", "signature"])
def test_a_forged_or_altered_link_is_refused(change: dict[str, str]) -> None:
    query = _query(links.signed_link("https://x/a", "a" * 32, "approve", NOW + timedelta(hours=1), SECRET))
    with pytest.raises(PlanRefused) as refused:
        links.verify_link({**query, **change}, SECRET, now=NOW)
    assert refused.value.code == "LinkSignatureMismatch"


def test_an_expired_or_incomplete_link_is_refused() -> None:
    query = _query(links.signed_link("https://x/a", "a" * 32, "reject", NOW + timedelta(hours=1), SECRET))
    with pytest.raises(PlanRefused) as expired:
        links.verify_link(query, SECRET, now=NOW + timedelta(hours=1))
    assert expired.value.code == "LinkExpired"
    with pytest.raises(PlanRefused) as malformed:
        links.verify_link({"plan": "a" * 32}, SECRET, now=NOW)
    assert malformed.value.code == "LinkMalformed"


# --- the enterprise robot's callback --------------------------------------------------------------------

APP_SECRET = "app-secret-of-the-enterprise-robot"
NOW_MS = 1_768_411_800_000


def callback(text: str = f"approve {'a' * 32}", staff: str = "staff-1") -> bytes:
    return json.dumps({"msgtype": "text", "text": {"content": f"@robot {text}"}, "senderStaffId": staff,
                       "senderNick": "Li Lei", "sessionWebhook": "http://127.0.0.1/session"}).encode()


def test_a_callback_signed_as_dingtalk_signs_is_accepted() -> None:
    headers = {"timestamp": str(NOW_MS), "sign": robot.callback_sign(str(NOW_MS), APP_SECRET)}
    robot.verify_callback(headers, APP_SECRET, now_ms=NOW_MS + 1000)
    command = robot.parse_command(callback())
    assert (command.action, command.plan_id, command.staff_id) == ("approve", "a" * 32, "staff-1")


def test_the_signature_matches_dingtalks_documented_vector() -> None:
    # The group robot's documented vector: the enterprise robot signs the same way with its app secret.
    assert robot.callback_sign("1700000000000", "SEC0123456789abcdef") == "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk="


@pytest.mark.parametrize(("headers", "code"), [
    ({"timestamp": str(NOW_MS), "sign": robot.callback_sign(str(NOW_MS), "wrong-secret")}, "CallbackSignatureMismatch"),
    ({"timestamp": str(NOW_MS + 1), "sign": robot.callback_sign(str(NOW_MS), APP_SECRET)}, "CallbackSignatureMismatch"),
    ({"timestamp": str(NOW_MS - 3_700_000), "sign": robot.callback_sign(str(NOW_MS - 3_700_000), APP_SECRET)},
     "CallbackExpired"),
    ({}, "CallbackUnsigned"),
], ids=["wrong-secret", "changed-timestamp", "replayed-old", "unsigned"])
def test_a_callback_with_a_bad_signature_is_refused(headers: dict[str, str], code: str) -> None:
    with pytest.raises(PlanRefused) as refused:
        robot.verify_callback(headers, APP_SECRET, now_ms=NOW_MS)
    assert refused.value.code == code


def test_a_callback_without_a_command_or_sender_is_refused() -> None:
    with pytest.raises(PlanRefused, match="approve <plan id>"):
        robot.parse_command(callback("hello"))
    with pytest.raises(PlanRefused) as anonymous:
        robot.parse_command(callback(staff=""))
    assert anonymous.value.code == "SenderUnknown"


# --- the folder store ------------------------------------------------------------------------------------


def test_the_folder_store_keeps_objects_and_the_first_writer_wins(tmp_path) -> None:
    store = FolderStore(tmp_path)
    assert store.get("plans/x.json") is None
    store.put("plans/x.json", b"{}")
    assert store.get("plans/x.json") == b"{}"
    assert store.put_if_absent("approvals/p/staff-1", b"1") is True
    assert store.put_if_absent("approvals/p/staff-1", b"2") is False
    assert store.get("approvals/p/staff-1") == b"1"
    assert store.signed_url("plans/x.json", 60).startswith("file://") and not store.shareable
    with pytest.raises(ValueError):
        store.get("../outside")


def test_a_page_link_is_ours_or_refused() -> None:
    url = links.signed_page_link("https://x/approve", "expiry-2026-01-14", NOW + timedelta(days=7), SECRET)
    assert "security-token" not in url and "OSSAccessKeyId" not in url  # no cloud credential in the group
    query = _query(url)
    assert links.verify_page_link(query, SECRET, now=NOW) == "expiry-2026-01-14"
    for change in ({"page": "expiry-2026-01-15"}, {"expires": "9999999999"}, {"page": "../plans/x"}):
        with pytest.raises(PlanRefused):
            links.verify_page_link({**query, **change}, SECRET, now=NOW)
    with pytest.raises(PlanRefused):
        links.verify_page_link(query, SECRET, now=NOW + timedelta(days=7))


def test_the_reminder_ledger_in_the_store_is_shared_and_forgets_after_a_day(tmp_path) -> None:
    from ecs_renewal.idempotency.persistence.objects import ObjectKeyStore

    clock = [1000.0]
    one = ObjectKeyStore(FolderStore(tmp_path), "ledgers/reminders.json", clock=lambda: clock[0])
    other = ObjectKeyStore(FolderStore(tmp_path), "ledgers/reminders.json", clock=lambda: clock[0])  # another instance
    assert one.put_all_if_absent(["i-a|7|2026-01-14", "i-b|7|2026-01-14"]) == {"i-a|7|2026-01-14", "i-b|7|2026-01-14"}
    assert other.absent(["i-a|7|2026-01-14", "i-c|7|2026-01-14"]) == {"i-c|7|2026-01-14"}
    clock[0] += 24 * 3600
    assert other.absent(["i-a|7|2026-01-14"]) == {"i-a|7|2026-01-14"}
