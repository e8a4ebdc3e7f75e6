"""Promise 6 — alerts survive: a robot answering errors, rate-limit codes (130101) or timing out never fails
a job; alerts are retried within limits, kept under 20 messages a minute, and what was not sent is logged.

Mechanism: ``notify/dingtalk.py`` (``send_markdown`` never raises; "system busy", 5xx and network errors
retried with a short jittered backoff, 130101 never retried and stops further sends; a per-robot budget
of 19 sends a minute shared by the process's runs; a time budget for a run's alerts; undelivered text in
the log) and ``runtime._alert`` (any alert problem is logged, never raised).
"""

from __future__ import annotations

import time

import pytest

from ecs_renewal.notify import dingtalk as notifier
from ecs_renewal.notify.messages import Message
from tests.reliability.conftest import log_records, soon

pytestmark = pytest.mark.promise(6)


@pytest.fixture(autouse=True)
def quick_alerts(monkeypatch):
    monkeypatch.setattr(notifier, "_BACKOFF_BASE_SECONDS", 0.02)
    monkeypatch.setattr(notifier, "DEFAULT_TIMEOUT_SECONDS", 0.3)


def renewal_with_a_failure(emulator) -> tuple[str, str]:
    """Two instances, one of which fails: renew-batch then sends two messages (renewed; FAILED)."""
    ok, bad = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(2))
    emulator.faults.add(action="RenewInstance", kind="error", status=403, code="InstanceLockedForSecurity",
                        instance_id=bad, times=None)
    return ok, bad


def events(log_lines, *names: str) -> list[dict]:
    return [r for r in log_records(log_lines) if r["event"] in names]


def test_a_busy_robot_is_retried_and_the_alert_arrives(run, emulator, dingtalk, log_lines):
    ok, bad = renewal_with_a_failure(emulator)
    dingtalk.fail_next(2, errcode=-1, errmsg="system busy")
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [ok]
    assert result["alerts"] == {"messages": 2, "sent": 2}
    assert len(events(log_lines, "dingtalk send failed, retrying")) == 2
    assert any(bad in m["markdown"]["text"] for m in dingtalk.messages)


def test_a_robot_that_keeps_failing_is_tried_three_times_per_message_and_logged(run, emulator, dingtalk,
                                                                                 log_lines):
    ok, bad = renewal_with_a_failure(emulator)
    dingtalk.fail_next(100, errcode=-1, errmsg="system busy")
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [ok]
    assert result["alerts"] == {"messages": 2, "sent": 0}
    undelivered = events(log_lines, "dingtalk message not delivered")
    assert [r["attempts"] for r in undelivered] == [3, 3]
    assert any(bad in r["text"] for r in undelivered)  # the failure report itself is in the log


def test_a_rate_limited_robot_130101_is_not_retried_and_the_rest_is_logged(run, emulator, dingtalk, log_lines):
    ok, bad = renewal_with_a_failure(emulator)
    dingtalk.rate_limit_per_minute = 1  # the second message of the run gets 130101
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [ok]
    assert result["alerts"] == {"messages": 2, "sent": 1}
    (refused,) = events(log_lines, "dingtalk message not delivered")
    assert refused["errcode"] == 130101 and refused["attempts"] == 1 and bad in refused["text"]
    assert dingtalk.injected["dingtalk_rate_limit"] == 1

    again = run("renew-batch", {"dry_run": False})  # the next run in this instance: the block is remembered
    # (A replay of a run already done: the renewal ledger makes it one line, naming the one still failing.)
    assert again["alerts"] == {"messages": 1, "sent": 0}
    assert dingtalk.injected["dingtalk_rate_limit"] == 1  # no call was made into the block
    dropped = events(log_lines, "dingtalk messages dropped")
    assert dropped and "130101" in dropped[-1]["reason"] and len(dropped[-1]["texts"]) == 1
    assert bad in dropped[-1]["texts"][0]


def test_a_robot_that_times_out_costs_bounded_time(run, emulator, dingtalk, log_lines, monkeypatch):
    monkeypatch.setattr(notifier, "SEND_ALL_BUDGET_SECONDS", 0.5)
    ok, bad = renewal_with_a_failure(emulator)
    dingtalk.delay = 1.0  # longer than the 0.3 s timeout of every attempt
    started = time.monotonic()
    result = run("renew-batch", {"dry_run": False})
    assert time.monotonic() - started < 1.5  # without the budget: 2 messages x 3 attempts x 0.3 s and more
    assert [r["instance_id"] for r in result["renewed"]] == [ok]
    assert result["alerts"]["sent"] == 0
    logged = events(log_lines, "dingtalk message not delivered", "dingtalk messages dropped")
    assert logged and any(bad in str(r.get("text", "")) + str(r.get("texts", "")) for r in logged)


def test_many_runs_in_one_instance_stay_under_20_messages_a_minute(run, emulator, dingtalk, log_lines):
    """25 runs in a row (replays, one function after another) share one robot: 19 go out, none is refused.
    (renew-batch dry runs: each reports; the scan's digest would not repeat the same reminders anyway.)"""
    for _ in range(2):  # few instances: 25 runs inside a minute (each prices its instances one by one)
        emulator.add_instance("cn-hangzhou", expired_time=soon())
    for n in range(25):
        result = run("renew-batch", request_id=f"req-{n}")
        assert result["errors"] == []
    assert len(dingtalk.messages) == notifier.SENDS_PER_MINUTE
    assert dingtalk.injected["dingtalk_rate_limit"] == 0  # DingTalk never had to block the robot
    dropped = events(log_lines, "dingtalk messages dropped")
    assert len(dropped) == 25 - notifier.SENDS_PER_MINUTE


def test_one_run_with_more_messages_than_the_limit_sends_19_and_logs_the_rest(emulator, log_lines):
    sender = notifier.DingTalkNotifier(emulator.dingtalk.webhook_url, emulator.dingtalk.secret)
    messages = [Message(f"ECS renewal part {n}", f"ECS renewal text {n}") for n in range(25)]
    assert sender.send_all(messages) == notifier.SENDS_PER_MINUTE
    assert emulator.dingtalk.injected["dingtalk_rate_limit"] == 0
    (dropped,) = events(log_lines, "dingtalk messages dropped")
    assert dropped["dropped"] == [m.title for m in messages[notifier.SENDS_PER_MINUTE:]]


def test_a_broken_alert_path_never_fails_the_job(run, env, emulator, log_lines, monkeypatch):
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    env["DINGTALK_WEBHOOK"] = "not a url"
    assert [r["instance_id"] for r in run("renew-batch", {"dry_run": False})["renewed"]] == [instance]

    env["DINGTALK_WEBHOOK"] = emulator.dingtalk.webhook_url

    def explode(result, **options):
        raise RuntimeError("message builder bug")

    from ecs_renewal.notify import messages

    monkeypatch.setattr(messages, "messages_for_result", explode)
    another = emulator.add_instance("cn-hangzhou", expired_time=soon())  # the first is in the ledger now
    result = run("renew-batch", {"dry_run": False})
    assert result["alerts"]["error"] == "RuntimeError" and [r["instance_id"] for r in result["renewed"]] == [another]
    assert events(log_lines, "alert_failed")
