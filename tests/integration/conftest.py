"""Fixtures for running the handlers against the local emulator through the real SDK over HTTP."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from ecs_emulator import Emulator
from ecs_renewal import logs
from tests.handlers import PROJECT_ENV, fc_context, invoke

pytestmark = pytest.mark.integration


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(fleet=None, renew_visibility_delay=1.0) as emu:
        yield emu


@pytest.fixture
def log_lines(monkeypatch) -> io.StringIO:
    stream = io.StringIO()
    monkeypatch.setattr(logs, "_default_stream", stream)
    return stream


@pytest.fixture
def env(monkeypatch, emulator) -> dict[str, str]:
    """The function's environment, pointing at the emulator; tests add to it with ``env.update``."""
    for name in PROJECT_ENV:
        monkeypatch.delenv(name, raising=False)
    values: dict[str, str] = {
        "REGIONS": "cn-hangzhou",
        "ECS_ENDPOINT": emulator.url,
        "STS_ENDPOINT": emulator.url,
    }

    class LiveEnv(dict):
        def __setitem__(self, key: str, value: str) -> None:
            super().__setitem__(key, value)
            monkeypatch.setenv(key, value)

        def update(self, *args: Any, **kwargs: Any) -> None:
            for key, value in dict(*args, **kwargs).items():
                self[key] = value

    live = LiveEnv()
    live.update(values)
    return live


@pytest.fixture
def run(emulator, env, log_lines):
    """``run("renew-batch", {...})`` → the handler's result, invoked with the emulator's STS credentials."""

    def _run(function: str, event: Any = None, *, credentials: Any = None, request_id: str = "req-1") -> dict:
        context = fc_context(credentials or emulator.function_credentials, request_id=request_id)
        return invoke(function, event, context)

    return _run
