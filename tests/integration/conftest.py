"""Fixtures for running the handlers against the local emulator through the real SDK over HTTP."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from ecs_emulator import Emulator
from tests.handlers import LiveEnv, capture_logs, fc_context, invoke, live_env

pytestmark = pytest.mark.integration


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(fleet=None, renew_visibility_delay=1.0) as emu:
        yield emu


@pytest.fixture
def log_lines(monkeypatch) -> io.StringIO:
    return capture_logs(monkeypatch)


@pytest.fixture
def env(monkeypatch, emulator) -> LiveEnv:
    """The function's environment, pointing at the emulator; tests add to it with ``env.update``."""
    return live_env(monkeypatch, REGIONS="cn-hangzhou", ECS_ENDPOINT=emulator.url, STS_ENDPOINT=emulator.url)


@pytest.fixture
def run(emulator, env, log_lines):
    """``run("renew-batch", {...})`` → the handler's result, invoked with the emulator's STS credentials."""

    def _run(function: str, event: Any = None, *, credentials: Any = None, request_id: str = "req-1") -> dict:
        context = fc_context(credentials or emulator.function_credentials, request_id=request_id)
        return invoke(function, event, context)

    return _run


@pytest.fixture
def robot(env, emulator):
    """The emulator's DingTalk group robot, with the function's webhook and secret pointing at it."""
    env.update(DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url, DINGTALK_SECRET=emulator.dingtalk.secret)
    return emulator.dingtalk
