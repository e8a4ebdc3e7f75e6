"""Fixtures for the command line: ``main([...])`` in-process against the emulator, as an operator runs it.

The CLI reads everything from the environment: the emulator's STS credentials, ECS/STS endpoints and
its Function Compute endpoint (``FC_ENDPOINT``) — never a real host.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from ecs_emulator import Emulator
from ecs_renewal import logs
from ecs_renewal.cli import main
from tests.handlers import PROJECT_ENV

CLI_ENV = ("FC_API", "FC_ENDPOINT", "FC_ACCOUNT_ID", "FC_DEPLOY_REGION", "FC_SERVICE_NAME", "FC_QUALIFIER",
           "ALIBABA_CLOUD_ACCOUNT_ID", "ALIBABA_CLOUD_REGION_ID", "FUNCTION_TIMEOUT_SECONDS")


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _no_aliyun_profile(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty HOME: the operator's own ~/.aliyun/config.json never reaches a test (tests that need one
    write it under this HOME)."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("ALIBABA_CLOUD_PROFILE", raising=False)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(fleet=None, renew_visibility_delay=1.0) as emu:
        emu.fc.environment["REGIONS"] = "cn-hangzhou"
        yield emu


@pytest.fixture
def handler_logs(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The handlers' JSON lines (those the emulator's Function Compute runs): kept out of the CLI's stdout."""
    stream = io.StringIO()
    monkeypatch.setattr(logs, "_default_stream", stream)
    return stream


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> None:
    """An operator's shell after `eval` of the export lines `python -m ecs_renewal emulator` prints."""
    for name in (*PROJECT_ENV, *CLI_ENV):
        monkeypatch.delenv(name, raising=False)
    creds = emulator.function_credentials
    monkeypatch.setenv("ECS_ENDPOINT", emulator.url)
    monkeypatch.setenv("STS_ENDPOINT", emulator.url)
    monkeypatch.setenv("FC_ENDPOINT", emulator.url)
    monkeypatch.setenv("FC_ACCOUNT_ID", emulator.account_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", creds.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", creds.access_key_secret)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", creds.security_token)


@pytest.fixture
def cli(operator_env: None, handler_logs: io.StringIO, capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """``cli("scan", "--region", "cn-hangzhou")`` → exit status, stdout, stderr."""

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
