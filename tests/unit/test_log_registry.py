"""The secret registry stays bounded in a long-lived (warm) process and still masks the newest secrets."""

from __future__ import annotations

from ecs_renewal import logs


def test_registry_is_bounded_and_keeps_the_newest(monkeypatch):
    monkeypatch.setattr(logs, "_SECRETS", {})
    monkeypatch.setattr(logs, "_PREFIXES", {})
    for n in range(2000):  # many invocations, each with fresh STS credentials
        logs.register_secret(f"token-{n:06d}-" + "x" * 40)
    assert len(logs._SECRETS) <= logs.MAX_SECRETS and len(logs._PREFIXES) <= logs.MAX_SECRETS
    newest = "token-001999-" + "x" * 40
    assert newest not in logs.redact(f"failed with {newest}")
