"""Fixtures for the emulator's own tests: every call goes through the real Alibaba Cloud SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emu_sdk import Sdk

from ecs_emulator import Emulator


@pytest.fixture(autouse=True)
def _clean_sdk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Static keys in the environment would silently replace the STS credential (sdk-core.md section 1).
    for name in ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(renew_visibility_delay=0.3) as emulator:
        yield emulator


@pytest.fixture
def sdk(emu: Emulator) -> Sdk:
    return Sdk(emu)
