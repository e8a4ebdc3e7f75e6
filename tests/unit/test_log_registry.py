"""The secret registry stays bounded in a long-lived (warm) process and still masks the newest secrets."""

from __future__ import annotations

import io
import json

from ecs_renewal import redaction
from ecs_renewal.logs import JsonLogger
from ecs_renewal.redaction import MAX_SECRETS, SecretRegistry


def test_registry_is_bounded_and_keeps_the_newest():
    registry = SecretRegistry()
    for n in range(2000):  # many invocations, each with fresh STS credentials
        registry.register_secret(f"token-{n:06d}-" + "x" * 40)
    assert len(registry) <= MAX_SECRETS and registry.prefix_count <= MAX_SECRETS
    newest = "token-001999-" + "x" * 40
    assert newest not in registry.redact(f"failed with {newest}")


def test_a_short_secret_registered_after_the_registry_is_full_is_redacted():
    """Once full, the registry's size stops changing: a cache keyed on the size kept the old shortest
    length, and a new short secret in a shorter text was printed in clear."""
    registry = SecretRegistry()
    for n in range(600):
        registry.register_secret(f"secret-{n:04d}-" + "y" * 60)
        registry.redact("a line logged between two invocations")  # the shortest length gets computed
    short = "Zq7Yp3Wx9Kd2M"  # 13 characters
    registry.register_secret(short)
    assert registry.redact(short) == "***"
    assert registry.redact(f"token={short}") == "token=***"


def test_the_process_registry_redacts_a_late_short_secret_in_logs_and_results(monkeypatch):
    monkeypatch.setattr(redaction, "REGISTRY", SecretRegistry())  # a fresh process registry for this test
    for n in range(600):
        redaction.register_secret(f"secret-{n:04d}-" + "z" * 120)
        redaction.redact("warm-up")
    short = "Hq2Rt8Lm4Vb6N"
    redaction.register_secret(short)
    stream = io.StringIO()
    JsonLogger(stream).info("x", v=short)
    assert short not in stream.getvalue() and json.loads(stream.getvalue())["v"] == "***"
    assert redaction.redact_value({"message": short}) == {"message": "***"}


def test_observers_see_what_leaves_and_can_stop():
    seen: list[tuple[str, str]] = []
    stop = redaction.observe_output(lambda kind, text: seen.append((kind, text)))
    try:
        JsonLogger(io.StringIO()).info("hello")
    finally:
        stop()
    JsonLogger(io.StringIO()).info("after")
    assert [kind for kind, _ in seen] == ["log"] and '"hello"' in seen[0][1]


def test_the_suite_guard_sees_logs_messages_and_exceptions(_reliability_watch):
    """tests/conftest.py's guard watches through the public hook: a log line, a DingTalk body and an
    exception message all reach it (a guard that saw nothing would pass every leak)."""
    from ecs_renewal.errors import InvalidSettingError
    from ecs_renewal.notify.dingtalk import DingTalkNotifier

    JsonLogger(io.StringIO()).info("guard-sees-this-line")
    InvalidSettingError("SOME_VARIABLE", "guard-sees-this-problem")
    notifier = DingTalkNotifier("http://127.0.0.1:9/robot/send?access_token=guard-token-123", None)
    body = notifier._payload("title", "guard-sees-this-message", (), ())  # what a send posts
    kinds = {kind for kind, text in _reliability_watch.texts if "guard-sees-this" in text}
    assert kinds == {"log", "exception", "DingTalk message"}
    assert body.decode("utf-8") in [text for _, text in _reliability_watch.texts]
